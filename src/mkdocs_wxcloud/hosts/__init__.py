"""Adapters from a host's build to the publishing core: thin, and nothing imports them.

- :mod:`.mkdocs`: the ``wxcloud`` MkDocs plugin (MkDocs 1.6, ProperDocs).
- :mod:`.markdown`: the ``wxcloud`` Python-Markdown extension (Zensical, plain Python-Markdown).

Each may import :mod:`..publishing` and the layers below it, and its own host's API.
"""
