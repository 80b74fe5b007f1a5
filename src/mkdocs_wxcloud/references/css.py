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

# One quote of each kind, as CSS writes it and, in an HTML attribute as written, as a reference
_LITERAL = {'"': re.compile('"'), "'": re.compile("'")}
_ENCODED = {'"': re.compile(r'"|&(?:quot|#0*34|#x0*22);', re.IGNORECASE),
            "'": re.compile(r"'|&(?:#0*39|#x0*27|apos);", re.IGNORECASE)}  # fmt: skip
# What the scanner stops at: a comment, a url( (not the end of another function's name), a quote
_TOKEN = re.compile(r"/\*|(?<![\w\\-])url\(\s*|[\"']|&(?:quot|#0*34|#x0*22|#0*39|#x0*27|apos);", re.IGNORECASE)
_SPACE = " \t\r\n\f"


def url_spans(text: str, *, encoded: bool = False) -> list[tuple[int, int]]:
    """Spans of the URLs of every ``url(…)`` in ``text``, never inside a comment or a string
    (``content: "url(x)"`` is text); ``encoded``: quotes may be character references (an HTML
    attribute value as written)."""
    quotes = _ENCODED if encoded else _LITERAL
    spans: list[tuple[int, int]] = []
    at = 0
    while (match := _TOKEN.search(text, at)) is not None:
        token, at = match.group(), match.end()
        if token == "/*":
            close = text.find("*/", at)
            at = len(text) if close < 0 else close + 2
        elif token.lower().startswith("url("):
            opened = next(((q, m) for q in quotes.values() if (m := q.match(text, at)) is not None), None)
            if opened is not None:
                quote, start = opened[0], opened[1].end()
                close, at = _closing(text, start, quote)
                if close >= 0 and text[at:].lstrip(_SPACE).startswith(")"):
                    spans.append((start, close))
                continue
            end = at
            while end < len(text) and text[end] not in ")'\"\\" + _SPACE:
                end += 1
            if end > at and text[end:].lstrip(_SPACE).startswith(")"):
                spans.append((at, end))
            at = end
        else:  # a quote opens a string, and nothing in it is a reference
            quote = next((q for q in quotes.values() if q.fullmatch(token)), None)
            if quote is not None:
                _, at = _closing(text, at, quote)
    return spans


def _closing(text: str, start: int, quote: re.Pattern[str]) -> tuple[int, int]:
    """``(where the closing quote starts, where the string ends)`` for a string whose text starts at
    ``start``; ``(-1, end of the line)`` when it has none: CSS ends such a string with its line. A
    quote after an odd number of backslashes is escaped, so it is text."""
    line = text.find("\n", start)
    limit = len(text) if line < 0 else line
    at = start
    while (found := quote.search(text, at, limit)) is not None:
        backslashes = len(text[start : found.start()]) - len(text[start : found.start()].rstrip("\\"))
        if backslashes % 2 == 0:
            return found.start(), found.end()
        at = found.end()
    return -1, limit


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
