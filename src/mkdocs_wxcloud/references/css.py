"""``url(…)`` references in CSS: in ``style`` attributes, ``<style>`` elements and stylesheets.

Found with a small scanner that follows CSS's own tokenizer for ``url()``: a quoted or unquoted URL,
spaces around it, comments and strings skipped, escapes (``\\(``, ``\\31 ``) read as CSS reads
them. Inside HTML attributes the quotes may be written as character references (``&quot;``), which
count as quotes. Every step is one regular expression from where the last one ended: linear in the
text, whatever it holds. Only the URL's own characters change.
"""

from __future__ import annotations

import re
from typing import Callable, NamedTuple

STYLESHEET = "stylesheet"
"""Where a ``url(…)`` of a stylesheet is: resolved against the stylesheet's own URL, which mirrors its
docs path (a ``where`` of :data:`~.treeprocessor.ReplaceIn`, as ``markdown``, ``tree`` and ``raw``)."""

_WS = " \t\r\n\f"
# One quote of each kind, as CSS writes it and, in an HTML attribute as written, as a reference
_LITERAL = {'"': '"', "'": "'"}
_ENCODED = {'"': r'"|&(?:quot|#0*34|#x0*22);', "'": r"'|&(?:#0*39|#x0*27|apos);"}


def _string_ends(quotes: dict[str, str]) -> dict[str, re.Pattern[str]]:
    """Per quote: a string's text (escapes, and a backslash before a quote in any form, included) then
    its closing quote (group 1), or nothing when a newline or the end comes first."""
    return {
        q: re.compile(rf"(?:(?!{p})[^\\\n\r\f]|\\(?:{p}|[\s\S]))*+({p})?", re.IGNORECASE) for q, p in quotes.items()
    }


_STRING = {False: _string_ends(_LITERAL), True: _string_ends(_ENCODED)}
# A quote opening a string: group 1 a double quote, group 2 a single one (in any form, when encoded)
_QUOTE = {e: "(" + q['"'] + ")|(" + q["'"] + ")" for e, q in ((False, _LITERAL), (True, _ENCODED))}
_OPENING = {e: re.compile(p, re.IGNORECASE) for e, p in _QUOTE.items()}
# What the scanner stops at: a comment, a url( (not the end of another function's name), a quote
_TOKEN = {e: re.compile(r"/\*|(?<![\w\\-])url\([ \t\r\n\f]*|" + p, re.IGNORECASE) for e, p in _QUOTE.items()}
_CLOSE = re.compile(r"[ \t\r\n\f]*\)")
_HEX_ESCAPE = r"\\[0-9a-fA-F]{1,6}(?:\r\n|[ \t\r\n\f])?"
# An unquoted URL: no space, quote, parenthesis or control character, unless escaped
_UNQUOTED = re.compile(rf"(?:[^\\)\"'( \t\r\n\f\x00-\x08\x0b\x0e-\x1f\x7f]|{_HEX_ESCAPE}|\\[^\r\n\f0-9a-fA-F])+")
_BAD_URL_REST = re.compile(r"(?:[^\\)]|\\[\s\S])*\)?")  # what CSS skips of a malformed url(…)
_ESCAPE = re.compile(rf"{_HEX_ESCAPE}|\\(\r\n|[\n\r\f])|\\([\s\S])|\\$")


class CssUrl(NamedTuple):
    """One ``url(…)``: the span of its URL as written, its quote (``""`` if none) and the URL as CSS reads
    it (escapes decoded; character references are left to the caller, who knows whether there are any)."""

    start: int
    end: int
    quote: str
    written: str


def urls(text: str, *, encoded: bool = False) -> list[CssUrl]:
    """Every ``url(…)`` of ``text``, never inside a comment or a string (``content: "url(x)"`` is
    text); ``encoded``: quotes may be character references (an HTML attribute value as written)."""
    strings, tokens, openings = _STRING[encoded], _TOKEN[encoded], _OPENING[encoded]
    found: list[CssUrl] = []
    at = 0
    while (match := tokens.search(text, at)) is not None:
        token, at = match.group(), match.end()
        if token == "/*":
            comment_end = text.find("*/", at)
            at = len(text) if comment_end < 0 else comment_end + 2
        elif token[0] in "uU":
            opened = openings.match(text, at)
            if opened is not None:
                quote = '"' if opened.group(1) is not None else "'"
                start = opened.end()
                string = _always(strings[quote], text, start)
                at = string.end()
                if string.group(1) is not None:
                    close = _CLOSE.match(text, at)
                    if close is not None:
                        found.append(CssUrl(start, string.start(1), quote, text[start : string.start(1)]))
                        at = close.end()
                continue
            bare = _UNQUOTED.match(text, at)
            end = bare.end() if bare is not None else at
            close = _CLOSE.match(text, end)
            if bare is not None and close is not None:
                found.append(CssUrl(at, end, "", text[at:end]))
                at = close.end()
            else:
                at = _always(_BAD_URL_REST, text, end).end()
        else:  # a quote opens a string, and nothing in it is a reference
            quote = '"' if match.group(1) is not None else "'"
            at = _always(strings[quote], text, at).end()
    return found


def _always(pattern: re.Pattern[str], text: str, at: int) -> re.Match[str]:
    """The match of a pattern that matches the empty string, so anywhere."""
    match = pattern.match(text, at)
    assert match is not None
    return match


def url_spans(text: str, *, encoded: bool = False) -> list[tuple[int, int]]:
    """Spans of the URLs of every ``url(…)`` in ``text``, as written (see :func:`urls`)."""
    return [(found.start, found.end) for found in urls(text, encoded=encoded)]


def unescape(value: str) -> str:
    """``value`` as CSS reads it: ``\\`` + 1-6 hex digits (+ one space) is that code point, ``\\`` +
    newline continues a string, ``\\`` + any other character is that character."""
    if "\\" not in value:
        return value
    return _ESCAPE.sub(_unescaped, value)


def _unescaped(match: re.Match[str]) -> str:
    escape = match.group()
    if match.group(1) is not None:
        return ""
    if match.group(2) is not None:
        return match.group(2)
    if escape == "\\":
        return "\ufffd"
    code = int(escape[1:].rstrip(_WS), 16)
    return chr(code) if 0 < code <= 0x10FFFF and not 0xD800 <= code <= 0xDFFF else "\ufffd"


def escape(url: str, quote: str) -> str:
    """``url`` written so that CSS reads it back inside a ``url(…)`` quoted with ``quote`` (``""``:
    unquoted). A URL that needs no escape (any cloud URL) is returned as it is."""
    special = f"\\\n\r\f{quote}" if quote else "\\\"'() \t\n\r\f\x7f"
    if not any(ch in special or (not quote and ch < " ") for ch in url):
        return url
    return "".join(
        f"\\{ord(ch):x} " if ch in "\n\r\f" or ch < " " or ch == "\x7f" else f"\\{ch}" if ch in special else ch
        for ch in url
    )


def rewrite_css(text: str, replace: Callable[[str], "str | None"]) -> str:
    """A stylesheet with the URL of each ``url(…)`` passed through ``replace`` (None keeps it): it
    gets the URL as CSS reads it, and what it returns replaces the URL as written."""
    out, last = [], 0
    for found in urls(text):
        new = replace(unescape(found.written))
        if new is not None:
            out += [text[last : found.start], escape(new, found.quote)]
            last = found.end
    out.append(text[last:])
    return "".join(out)


def references(text: str) -> list[tuple[str, str, str]]:
    """A stylesheet's ``url(…)`` references as ``(url, "style", STYLESHEET)``, like a page's."""
    return [(unescape(found.written), "style", STYLESHEET) for found in urls(text)]
