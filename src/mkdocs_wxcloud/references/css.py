"""``url(…)`` references in CSS: in ``style`` attributes and in the site's stylesheets.

Found with a small scanner that follows CSS's own rules for ``url()``: a quoted or unquoted URL,
spaces around it, comments and strings skipped. Inside HTML attributes the quotes may be written
as character references (``&quot;``), which count as quotes. Only the URL's own characters change.
"""

from __future__ import annotations

import re
from typing import Callable

STYLESHEET = "stylesheet"
"""Where a ``url(…)`` of a stylesheet is: resolved against the stylesheet's own URL, which mirrors its
docs path (a ``where`` of :data:`~.treeprocessor.ReplaceIn`, as ``markdown``, ``tree`` and ``raw``)."""

_DOUBLE = ('"', "&quot;", "&#34;", "&#x22;")
_SINGLE = ("'", "&#39;", "&#x27;", "&apos;")
# What the scanner stops at: a comment, a url( (not the end of another function's name), a quote
_TOKEN = re.compile(r"/\*|(?<![\w\\-])url\(\s*|[\"']|&(?:quot|#34|#x22|#39|#x27|apos);", re.IGNORECASE)


def url_spans(text: str, *, encoded: bool = False) -> list[tuple[int, int]]:
    """Spans of the URLs of every ``url(…)`` in ``text``, never inside a comment or a string
    (``content: "url(x)"`` is text); ``encoded``: quotes may be character references (an HTML
    attribute value as written)."""
    quotes = _DOUBLE + _SINGLE if encoded else ('"', "'")
    spans: list[tuple[int, int]] = []
    at = 0
    while (match := _TOKEN.search(text, at)) is not None:
        token, at = match.group(), match.end()
        if token == "/*":
            close = text.find("*/", at)
            at = len(text) if close < 0 else close + 2
        elif token.lower().startswith("url("):
            opening = next((q for q in quotes if text.startswith(q, at)), None)
            if opening is not None:
                start = at + len(opening)
                close, closer = _closing(text, start, opening, encoded)
                if close < 0:
                    break
                at = close + len(closer)
                if text[at:].lstrip(" \t\r\n\f").startswith(")"):
                    spans.append((start, close))
                continue
            end = at
            while end < len(text) and text[end] not in ") \t\r\n\f'\"\\":
                end += 1
            if end > at and text[end:].lstrip(" \t\r\n\f").startswith(")"):
                spans.append((at, end))
            at = end
        elif token.lower() in quotes:  # a string: nothing in it is a reference
            close, closer = _closing(text, at, token.lower(), encoded)
            line_end = text.find("\n", at)
            at = len(text) if close < 0 and line_end < 0 else (close + len(closer) if close >= 0 else line_end)
    return spans


def _closing(text: str, start: int, opening: str, encoded: bool) -> tuple[int, str]:
    """Where the string opened by ``opening`` ends (``-1`` if it does not) and its closing quote."""
    closers = (_DOUBLE if opening in _DOUBLE else _SINGLE) if encoded else (opening,)
    found = [(text.find(q, start), q) for q in closers]
    found = [(at, q) for at, q in found if at >= 0]
    return min(found) if found else (-1, opening)


def rewrite_css(text: str, replace: Callable[[str], "str | None"]) -> str:
    """A stylesheet with the URL of each ``url(…)`` passed through ``replace`` (None keeps it)."""
    out, last = [], 0
    for start, end in url_spans(text):
        new = replace(text[start:end])
        if new is not None:
            out += [text[last:start], new]
            last = end
    out.append(text[last:])
    return "".join(out)


def references(text: str) -> list[tuple[str, str, str]]:
    """A stylesheet's ``url(…)`` references as ``(url, "style", STYLESHEET)``, like a page's."""
    return [(text[start:end], "style", STYLESHEET) for start, end in url_spans(text)]
