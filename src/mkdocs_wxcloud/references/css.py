"""``url(…)`` references in CSS: in ``style`` attributes and in the site's stylesheets.

Found with a small scanner that follows CSS's own rules for ``url()``: a quoted or unquoted URL,
spaces around it, comments skipped in stylesheets. Inside HTML attributes the quotes may be written
as character references (``&quot;``), which count as quotes. Only the URL's own characters change.
"""

from __future__ import annotations

import re
from typing import Callable

STYLESHEET = "stylesheet"
"""Where a ``url(…)`` of a stylesheet is: resolved against the stylesheet's own URL, which mirrors its
docs path (a ``where`` of :data:`~.treeprocessor.ReplaceIn`, as ``markdown``, ``tree`` and ``raw``)."""

_OPEN = re.compile(r"url\(\s*", re.IGNORECASE)
_COMMENT = re.compile(r"/\*.*?(?:\*/|\Z)", re.DOTALL)
_DOUBLE = ('"', "&quot;", "&#34;", "&#x22;")
_SINGLE = ("'", "&#39;", "&#x27;", "&apos;")


def url_spans(text: str, *, encoded: bool = False, comments: bool = False) -> list[tuple[int, int]]:
    """Spans of the URLs of every ``url(…)`` in ``text``; ``encoded``: quotes may be character
    references (an HTML attribute value); ``comments``: skip ``/* … */`` (a stylesheet)."""
    skipped = [m.span() for m in _COMMENT.finditer(text)] if comments else []
    spans = []
    for match in _OPEN.finditer(text):
        start = match.end()
        if any(a <= match.start() < b for a, b in skipped):
            continue
        opening = next((q for q in (_DOUBLE + _SINGLE if encoded else ('"', "'")) if text.startswith(q, start)), None)
        if opening is not None:
            closers = (_DOUBLE if opening in _DOUBLE else _SINGLE) if encoded else (opening,)
            ends = [e for e in (text.find(q, start + len(opening)) for q in closers) if e >= 0]
            if ends:
                spans.append((start + len(opening), min(ends)))
            continue
        end = start
        while end < len(text) and text[end] not in ") \t\r\n\f'\"":
            end += 1
        rest = text[end:].lstrip(" \t\r\n\f")
        if end > start and rest.startswith(")"):
            spans.append((start, end))
    return spans


def rewrite_css(text: str, replace: Callable[[str], "str | None"]) -> str:
    """A stylesheet with the URL of each ``url(…)`` passed through ``replace`` (None keeps it)."""
    out, last = [], 0
    for start, end in url_spans(text, comments=True):
        new = replace(text[start:end])
        if new is not None:
            out += [text[last:start], new]
            last = end
    out.append(text[last:])
    return "".join(out)


def references(text: str) -> list[tuple[str, str, str]]:
    """A stylesheet's ``url(…)`` references as ``(url, "style", STYLESHEET)``, like a page's."""
    return [(text[start:end], "style", STYLESHEET) for start, end in url_spans(text, comments=True)]
