"""The ``wxcloud`` Python-Markdown extension, for hosts that run no MkDocs plugins."""
