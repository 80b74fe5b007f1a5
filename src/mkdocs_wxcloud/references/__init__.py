"""Finding what a rendered page shows: image references in Markdown and raw HTML.

Python-Markdown itself decides what is a reference (:mod:`.treeprocessor`), raw HTML is tokenized
by :mod:`.tokenizer` (:mod:`.rawhtml`), which also reads built pages (:mod:`.htmlpage`, with
:mod:`.charset` for their bytes and :mod:`.css` for ``url(…)``), URLs resolve the way a build
resolves them (:mod:`.urls`), and :mod:`.sourcemap` maps references back to the exact bytes of the
source for ``rewrite``. Imports only :mod:`mkdocs_wxcloud.errors` (and Python-Markdown): no host, no network.
"""
