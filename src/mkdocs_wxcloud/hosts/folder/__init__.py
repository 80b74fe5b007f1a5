"""Any generator's built site: the folder of HTML and CSS that the reader's browser gets.

MkDocs 2.0, Zensical, Hugo, Hexo, VitePress and Docusaurus share no plugin API, but each builds a
folder, and what the reader loads is what that folder holds. :mod:`.site` walks it and resolves each
URL as the browser does (against the page's URL, ``<base href>`` and the site's base path);
:mod:`.publish` publishes what the pages load through one run and rewrites, in place, only the
bytes of each URL. Imports :mod:`...publishing` and below, and no generator at all.
"""
