"""The ``wxcloud`` MkDocs plugin: :mod:`.config` (its typed options) and :mod:`.plugin` (the events)."""
