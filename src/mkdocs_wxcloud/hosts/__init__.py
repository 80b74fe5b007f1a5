"""Adapters from a host's build to the publishing core: thin, and no core layer imports them.

- :mod:`.mkdocs`: the ``wxcloud`` MkDocs plugin (MkDocs 1.6, ProperDocs).
- :mod:`.markdown`: the ``wxcloud`` Python-Markdown extension (Zensical, plain Python-Markdown).
- :mod:`.folder`: any generator's built folder (``mkdocs-wxcloud publish``, which :mod:`..cli` runs).

Each may import :mod:`..publishing` and the layers below it, and its own host's API.
"""
