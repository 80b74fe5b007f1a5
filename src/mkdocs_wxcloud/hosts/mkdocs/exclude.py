"""``exclude_uploaded``: leave out of site_dir the files that nothing in the built site may load.

Only what the site finally contains can tell: a theme template, ``extra_css`` (``url(…)``), an
inline ``style``, ``<video poster>`` or a page we could not rewrite may still load an uploaded
image from site_dir. So the decision is taken after the build, by reading every text file of the
site: a candidate goes only when its file name appears in none of them, written any way (HTML
references, percent-encoding, CSS escapes, any case). Mentions are looked for where a name can end, at each
occurrence of a candidate's extension, so one pass over the site suffices for thousands of files.
"""

from __future__ import annotations

import html
import logging
import os
import posixpath
import re
from pathlib import Path
from typing import Iterable
from urllib.parse import unquote

from mkdocs.structure.files import File, Files

from ...references import css
from ...references.assets import Assets

log = logging.getLogger("mkdocs.plugins.wxcloud")
TEXT_SUFFIXES = frozenset(".html .htm .xhtml .css .js .mjs .json .xml .svg .txt .webmanifest .map".split())


def unmentioned(site_dir: Path, candidates: Iterable[Path]) -> list[Path]:
    """The candidate files (in ``site_dir``) whose name no text file of the built site mentions."""
    by_name: dict[str, list[Path]] = {}
    for path in candidates:
        by_name.setdefault(path.name.lower(), []).append(path)
    if not by_name:
        return []
    suffixes = sorted({posixpath.splitext(name)[1] for name in by_name}, key=len, reverse=True)
    ending = re.compile("|".join(re.escape(s) for s in suffixes if s))
    lengths = sorted({len(name) for name in by_name})
    mentioned: set[str] = set()
    for folder, _, names in os.walk(site_dir):
        for name in names:
            if posixpath.splitext(name)[1].lower() in TEXT_SUFFIXES:
                text = (Path(folder) / name).read_text(encoding="utf-8", errors="replace").lower()
                forms = {text, html.unescape(text), unquote(html.unescape(text))}
                for form in forms | {css.unescape(form) for form in forms if "\\" in form}:
                    mentioned.update(_names_in(form, ending, lengths, by_name))
    return sorted(path for name, paths in by_name.items() if name not in mentioned for path in paths)


def _names_in(text: str, ending: re.Pattern[str], lengths: list[int], names: dict[str, list[Path]]) -> set[str]:
    """The names that end where an extension does and start where a name can (``a.png`` is not in
    ``a.43af3347ad1a.png``, nor ``图.png`` in ``大图.png``)."""
    found = set()
    for match in ending.finditer(text):
        end = match.end()
        for size in lengths:
            start = end - size
            if start >= 0 and text[start:end] in names and (start == 0 or not _in_name(text[start - 1])):
                found.add(text[start:end])
    return found


def _in_name(char: str) -> bool:
    return char.isalnum() or char in "._-~"


def unreadable(files: Files, assets: Assets) -> list[File]:
    """The files of a published kind that nobody can read (a symlink loop, no read permission): named,
    and left out of the site, since MkDocs' copy of them would end the build with a traceback. An
    access check each, no read."""
    found = []
    for file in files.media_files():
        path = file.abs_src_path
        if path is None or getattr(file, "generated_by", None) or not assets.publishes(file.src_uri, ""):
            continue
        if not os.access(path, os.R_OK):  # one call for the readable many; why not, for the rest
            try:
                os.stat(path)
                reason = "no read permission"
            except OSError as error:
                reason = error.strerror or type(error).__name__
            log.warning("wxcloud: %s cannot be read (%s): it is left out of the site; fix the file or its permissions",
                        file.src_uri, reason)  # fmt: skip
            found.append(file)
    return found
