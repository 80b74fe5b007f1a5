"""The start tags of an HTML text that may reference a file, with the exact offsets of their values.

A compact tokenizer over :mod:`re` that follows the HTML tokenizer's states (WHATWG, section 13.2.5)
for what decides where markup is: tags and their attributes (quoted, unquoted, missing values, a
``>`` inside quotes), comments (``<!-->``, ``--!>``, unclosed), bogus comments and doctypes, end
tags, the text-only content of ``<script>``, ``<style>``, ``<textarea>``, ``<title>``, ``<xmp>``,
``<iframe>``, ``<noembed>``, ``<noframes>`` (up to their end tag) and ``<plaintext>`` (to the end);
an unfinished tag at the end is no tag. Escaped text (``&lt;img&gt;``, code blocks) has no ``<``.
Simplified: a ``<script>``'s ``<!--<script>`` escape states, and CDATA sections, which are read as
text everywhere (they are text in SVG and MathML). ``<noscript>`` is read as markup: what it shows
is loaded when scripts are off.

Speed is the point: built pages are mostly tags nobody references a file from (highlighted code is a
``<span>`` per token). One expression skips, in C, all text, comments, end tags and start tags that
are not in :data:`TAGS` and have no ``style`` attribute, and stops at the next tag worth a look.
"""

from __future__ import annotations

import html
import re
from html.entities import html5
from typing import Iterator, NamedTuple

TAGS = ("img", "source", "video", "audio", "track", "object", "embed", "input", "link", "a", "base", "style")
"""Start tags always reported (any other tag is reported when it has a ``style`` attribute)."""
RAWTEXT = ("script", "style", "textarea", "title", "xmp", "iframe", "noembed", "noframes")
"""Elements whose content is text up to their end tag: no tag in it is one."""

_WS = r"\t\n\f\r "
_NAME_END = rf"(?=[{_WS}/>])"
# After a name, an "=" and a value (quoted: up to its quote, however far), or no "=" at all
_VALUE = rf"""(?:[{_WS}]*=[{_WS}]*(?:"[^"]*"|'[^']*'|[^{_WS}>"'][^{_WS}>]*|(?=>))|(?![{_WS}]*=))"""


def _attributes(plain: bool) -> str:
    """Attributes up to a tag's ``>``; ``plain``: none of them is a ``style``."""
    no_style = rf"(?!(?i:style)[{_WS}/>=])" if plain else ""
    return rf"(?:[{_WS}/]+|{no_style}[^{_WS}/>][^{_WS}/>=]*{_VALUE})*+"


def _names(names: list[str]) -> str:
    """Any of ``names``, in any case, grouped by first letter (a tag that starts with no such letter
    is done with after one comparison; it is the pattern's hottest spot)."""
    initials = sorted({name[0] for name in names})
    groups = (c + "(?:" + "|".join(sorted({n[1:] for n in names if n[0] == c})) + ")" for c in initials)
    return "(?i:" + "|".join(groups) + ")"


_PLAIN = _attributes(plain=True)
# the attributes of an <a> that links to a fragment of this page (or to nothing): a heading's
# permalink, a line of highlighted code, the table of contents
_TO_THIS_PAGE = (
    rf"(?:[{_WS}/]+|(?!(?i:style|href)[{_WS}/>=])[^{_WS}/>][^{_WS}/>=]*{_VALUE}"
    rf"""|(?i:href)[{_WS}]*=[{_WS}]*(?:"#[^"]*"|'#[^']*'|#[^{_WS}>]*))*+"""
)
# In order of frequency in built pages; one of them matches anything but a start tag worth a look
_SKIPPED = "|".join(
    [
        r"[^<]++",
        rf"</[a-zA-Z][^{_WS}/>]*+{_attributes(plain=False)}>",  # an end tag
        # a start tag without a style attribute, not named in TAGS and not holding text
        rf"<(?=[a-zA-Z])(?!{_names([*TAGS, *RAWTEXT, 'plaintext'])}{_NAME_END})[a-zA-Z][^{_WS}/>]*+{_PLAIN}>",
        rf"<(?i:a){_NAME_END}{_TO_THIS_PAGE}>",
        # the elements whose content is text, when nothing in their start tag counts
        *(rf"<(?i:{name}){_NAME_END}{_PLAIN}>(?:[^<]++|<(?!/(?i:{name})[{_WS}/>]))*+"
          for name in RAWTEXT if name not in TAGS),
        rf"<(?i:plaintext){_NAME_END}{_PLAIN}>[\s\S]*+",
        r"<!--(?:-?>|(?:[^-]++|-(?!-!?>))*+(?:--!?>)?)",  # a comment, maybe unclosed
        r"<!\[CDATA\[(?:[^\]]++|\](?!\]>))*+(?:\]\]>)?",
        r"<[!?][^>]*+>?",  # a doctype, a bogus comment
        r"</(?![a-zA-Z])[^>]*+>?",
        r"<(?![a-zA-Z!/?])",  # a '<' that opens nothing is text
    ]
)  # fmt: skip
_NEXT = re.compile(rf"(?:{_SKIPPED})*+<(?P<name>[a-zA-Z][^{_WS}/>]*)(?P<attributes>{_attributes(plain=False)})>")
_ATTRIBUTE = re.compile(
    rf"""(?P<name>[^{_WS}/>][^{_WS}/>=]*)(?:[{_WS}]*=[{_WS}]*(?:"(?P<dq>[^"]*)"|'(?P<sq>[^']*)'|(?P<uq>[^{_WS}>"'][^{_WS}>]*)|))?"""
)
_RAW_END = {name: re.compile(rf"</(?i:{name})[{_WS}/>]") for name in (*RAWTEXT, "plaintext")}


class Attribute(NamedTuple):
    """An attribute as written: its lower-case name, the span of its value inside the quotes (empty,
    at the end of the name, when it has none) and its quote (``'"'``, ``"'"``, or ``""``)."""

    name: str
    start: int
    end: int
    quote: str


class Tag(NamedTuple):
    """A start tag: its lower-case name, its span (``<`` to ``>``), its attributes in order, and the
    span of its text content for the elements of :data:`RAWTEXT` (else None)."""

    name: str
    start: int
    end: int
    attributes: tuple[Attribute, ...]
    content: tuple[int, int] | None


def start_tags(text: str) -> Iterator[Tag]:
    """The start tags of ``text`` named in :data:`TAGS`, or with a ``style`` attribute, in order; an
    ``<a>`` whose every ``href`` is a fragment (``#top``: permalinks, code line anchors) is left out."""
    at = 0
    while (match := _NEXT.match(text, at)) is not None:
        name, at = match.group("name").lower(), match.end()
        found = attributes(text, *match.span("attributes"))
        content = None
        if name in _RAW_END:
            end = len(text) if name == "plaintext" else _end_of_text(text, name, at)
            content, at = (at, end), end
        yield Tag(name, match.start("name") - 1, match.end(), found, content)


def _end_of_text(text: str, name: str, at: int) -> int:
    close = _RAW_END[name].search(text, at)
    return len(text) if close is None else close.start()


def attributes(text: str, start: int, end: int) -> tuple[Attribute, ...]:
    """The attributes written in ``text[start:end]`` (what follows a tag's name, up to its ``>``)."""
    return tuple(_attribute(found) for found in _ATTRIBUTE.finditer(text, start, end))


def _attribute(found: re.Match[str]) -> Attribute:
    name = found.group("name").lower()
    for group, quote in (("dq", '"'), ("sq", "'"), ("uq", "")):
        if found.group(group) is not None:
            return Attribute(name, *found.span(group), quote)
    return Attribute(name, found.end(), found.end(), "")


_REFERENCE = re.compile(r"&(?:#[xX]?[0-9a-fA-F]*;?|([a-zA-Z][a-zA-Z0-9]*)(;?))")


def unescape(value: str) -> str:
    """An attribute value as the browser reads it: character references decoded, except a named one
    without ``;`` followed by ``=`` or a letter or digit (``?a=1&copy=2`` keeps its ``&copy=``)."""
    if "&" not in value:
        return value
    return _REFERENCE.sub(lambda m: _decoded(m, value), value)


def _decoded(match: re.Match[str], value: str) -> str:
    name, semicolon = match.group(1), match.group(2)
    if name is None:
        return html.unescape(match.group())
    if semicolon and f"{name};" in html5:
        return html5[f"{name};"]
    for size in range(min(len(name), 6), 1, -1):  # the legacy names, without ';', have 2 to 6 letters
        if name[:size] in html5:
            rest = name[size:] + semicolon
            after = rest[:1] or value[match.end() : match.end() + 1]
            return match.group() if after == "=" or after.isalnum() else html5[name[:size]] + rest
    return match.group()


def escape(value: str, quote: str) -> str:
    """``value`` written into an attribute value with ``quote``: character references for ``&<>"'``,
    and for white space when unquoted."""
    written = html.escape(value, quote=True)
    if not quote and any(ch in written for ch in "\t\n\f\r "):
        written = "".join(f"&#{ord(ch)};" if ch in "\t\n\f\r " else ch for ch in written)
    return written


def srcset_spans(value: str) -> list[tuple[int, int]]:
    """Spans of the URLs in a ``srcset`` value, following the HTML parsing algorithm."""
    spans: list[tuple[int, int]] = []
    i, n = 0, len(value)
    while True:
        while i < n and (value[i].isspace() or value[i] == ","):
            i += 1
        if i >= n:
            return spans
        start = i
        while i < n and not value[i].isspace():
            i += 1
        end = i
        while end > start and value[end - 1] == ",":
            end -= 1
        if end == i:  # descriptors follow, up to a comma outside parentheses
            depth = 0
            while i < n:
                ch = value[i]
                i += 1
                if ch == "(":
                    depth += 1
                elif ch == ")":
                    depth = max(0, depth - 1)
                elif ch == "," and depth == 0:
                    break
        spans.append((start, end))
