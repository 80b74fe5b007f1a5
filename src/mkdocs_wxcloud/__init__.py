"""Publish the assets of documentation sites to WeChat cloud storage and link the pages to them.

The package is layered; each layer imports only the ones below it (``tests/test_architecture.py``
enforces it):

- :mod:`.cli` and :mod:`.hosts`: the ``mkdocs-wxcloud`` command, the MkDocs plugin and the
  Python-Markdown extension; thin adapters that parse options and report.
- :mod:`.publishing`: one run put together: settings, deciding what to upload, uploading, linking.
- :mod:`.references` (what a page shows), :mod:`.manifest` (what was uploaded, safely on disk),
  :mod:`.wechat` (the service's HTTP API) and :mod:`.optimize` (fewer bytes for the same
  pictures): independent of each other and of every host.
- :mod:`.errors`: the one-line, secret-free errors every layer raises.

:mod:`.emulator`, a local stand-in of the WeChat API, stands apart: it imports nothing of ours,
and only the ``emulator`` command, :mod:`.publishing.connection` and the tests import it.
"""
