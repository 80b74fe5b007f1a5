"""Zensical, which runs Python-Markdown extensions but no MkDocs plugins: what its pages tell us.

:mod:`.context` reads the page being rendered and the project's folders from Zensical's per-page
rendering context; the ``wxcloud`` Markdown extension (:mod:`..markdown`) is what Zensical runs.
Imports nothing of Zensical: it is read by duck typing, so a missing or moved piece fails soft.
"""
