"""The site's own stylesheets whose ``url(…)`` references are published: ``extra_css`` in docs_dir.

A background image that a stylesheet names by a relative URL is loaded by every page; it is
published like a page's assets (so is a font, when ``assets`` lists its extension), and the
stylesheet's built copy is rewritten to load it from the cloud. Remote stylesheets, generated
files and those outside docs_dir are left alone.
"""

from __future__ import annotations

from typing import Iterable, Protocol


class _Files(Protocol):
    def get_file_from_path(self, path: str) -> object | None: ...  # a File, with src_uri


def stylesheets(extra_css: Iterable[object], files: _Files) -> list[str]:
    """The docs paths (``src_uri``: ``./css/a.css`` is ``css/a.css``) of the ``extra_css`` entries that
    are CSS files of docs_dir."""
    found = []
    for entry in extra_css:
        path = str(entry)
        file = files.get_file_from_path(path) if path.lower().endswith(".css") and "://" not in path else None
        if file is not None and getattr(file, "generated_by", None) is None and getattr(file, "abs_src_path", None):
            found.append(str(getattr(file, "src_uri", path)))
    return found
