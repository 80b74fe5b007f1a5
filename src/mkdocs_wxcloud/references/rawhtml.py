"""Rewrite asset URLs inside raw HTML, changing no other byte.

Python-Markdown passes raw HTML through untouched (it stashes it), so the tree never shows these
``<img>``/``<video>``/``<a>``/… tags; this module finds them with the standard HTML tokenizer, which
knows comments, ``<script>`` and ``<style>``, and rewrites attribute values in place: the URL
attributes of :data:`URL_ATTRIBUTES`, and ``url(…)`` in any tag's ``style``.
"""

from __future__ import annotations

import html
import re
from html.parser import HTMLParser
from typing import Callable

from .css import url_spans

# tag -> attributes whose values are (lists of) URLs of files a reader loads or follows
URL_ATTRIBUTES: dict[str, tuple[str, ...]] = {
    "img": ("src", "srcset"),
    "source": ("src", "srcset"),  # in <picture> (srcset), in <video>/<audio> (src)
    "a": ("href",),
    "video": ("src", "poster"),
    "audio": ("src",),
    "track": ("src",),
    "object": ("data",),
    "embed": ("src",),
}
_OPENINGS = tuple(f"<{tag}" for tag in URL_ATTRIBUTES if tag != "a")

Replace = Callable[[str, str], "str | None"]
"""``replace(url, tag)`` returns the new URL, or None to keep the reference as it is."""
Sized = Callable[[str], "dict[str, str] | None"]
"""``sized(src)``: attributes to add to an ``<img>`` that has neither width nor height, or None."""

_LINK = re.compile(r"\bhref\s*=\s*+(?![\"']?#)")  # an href that is not a fragment alone


def _worth_parsing(text: str) -> bool:
    """Whether ``text`` may hold a reference to a file: a tag of :data:`URL_ATTRIBUTES` but ``<a>`` (a
    tag has its name right after ``<``), a ``url(`` (in a style), or an href that is not a fragment
    alone. Highlighted code with line anchors is full of ``<a href="#__codelineno-…">``: such blocks
    are skipped without tokenizing, after a few passes in C. A false positive only costs time; this
    never misses a reference."""
    lowered = text.lower()
    if any(opening in lowered for opening in _OPENINGS) or "url(" in lowered:
        return True
    links = lowered.count("href")
    fragments = lowered.count('href="#') + lowered.count("href='#") + lowered.count("href=#")
    return links > fragments and bool(_LINK.search(lowered))


_ATTRIBUTE = re.compile(
    r"""([^\s/>"'=]+)(?:\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'=<>`]+)))?""",
)


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


def rewrite_value(tag: str, attribute: str, value: str, replace: Replace, *, encoded: bool) -> str:
    """Rewrite one attribute value; ``encoded`` values hold HTML character references."""

    # a style's url() is CSS, whatever the element: published by extension, as in stylesheets; a
    # srcset lists images, whatever they are called (``<picture><source srcset="a.jxl">``)
    who = {"style": "style", "srcset": "img"}.get(attribute, tag)

    def one(url: str) -> str | None:
        if url.startswith("#"):  # a fragment of this page: never a file (TOC permalinks, line anchors)
            return None
        new = replace(html.unescape(url) if encoded else url, who)
        if new is None:
            return None
        return html.escape(new, quote=True) if encoded else new

    if attribute not in ("srcset", "style"):
        new = one(value)
        return value if new is None else new
    out, last = [], 0
    for start, end in srcset_spans(value) if attribute == "srcset" else url_spans(value, encoded=encoded):
        new = one(value[start:end])
        if new is not None:
            out.append(value[last:start])
            out.append(new)
            last = end
    out.append(value[last:])
    return "".join(out)


class _StartTags(HTMLParser):
    """Collects the start tags worth rewriting with their position in the text."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=False)
        self.found: list[tuple[int, int, str]] = []  # (line, column, tag text)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:  # type: ignore[override]
        if tag in URL_ATTRIBUTES or any(name == "style" and value and "url(" in value.lower() for name, value in attrs):
            text = self.get_starttag_text()
            if text:
                line, column = self.getpos()
                self.found.append((line, column, text))


def _rewrite_tag(text: str, replace: Replace, sized: Sized | None) -> str:
    name = re.match(r"<\s*([^\s/>]+)", text)
    if not name:
        return text
    tag = name.group(1).lower()
    wanted = (*URL_ATTRIBUTES.get(tag, ()), "style")
    out, last, pos = [], 0, name.end()
    present: dict[str, str] = {}
    for match in _ATTRIBUTE.finditer(text, pos):
        group = next((g for g in (2, 3, 4) if match.group(g) is not None), None)
        attribute = match.group(1).lower()
        present.setdefault(attribute, match.group(group) if group is not None else "")
        if group is None or attribute not in wanted:
            continue
        start, end = match.span(group)
        new = rewrite_value(tag, attribute, text[start:end], replace, encoded=True)
        out.append(text[last:start])
        out.append(new)
        last = end
    tail = text[last:]
    if tag == "img" and sized is not None and "src" in present and not {"width", "height"} & present.keys():
        extra = "".join(
            f' {k}="{html.escape(v, quote=True)}"' for k, v in (sized(html.unescape(present["src"])) or {}).items()
        )
        if extra:
            closing = "/>" if tail.endswith("/>") else ">"
            tail = tail[: -len(closing)].rstrip() + extra + (" " if closing == "/>" else "") + closing
    out.append(tail)
    return "".join(out)


def rewrite_html(text: str, replace: Replace, sized: Sized | None = None) -> str:
    """Return ``text`` with the URLs of image-bearing tags passed through ``replace``, and images
    without a size given the attributes ``sized(src)`` answers."""
    if not _worth_parsing(text):  # most stashed blocks (highlighted code) hold no such tag
        return text
    parser = _StartTags()
    try:
        parser.feed(text)
        parser.close()
    except Exception:  # noqa: BLE001 - the tokenizer is tolerant; be safe on pathological input
        return text
    if not parser.found:
        return text
    line_starts = [0]
    line_starts.extend(i + 1 for i, ch in enumerate(text) if ch == "\n")
    out, last = [], 0
    for line, column, tag_text in parser.found:
        start = line_starts[line - 1] + column
        if text.startswith(tag_text, start) and start >= last:
            out.append(text[last:start])
            out.append(_rewrite_tag(tag_text, replace, sized))
            last = start + len(tag_text)
    out.append(text[last:])
    return "".join(out)
