"""Rewrite image URLs in Markdown source, changing no byte outside them.

Python-Markdown does not say where in the source an element came from, so the rewrite works by
elimination: each place where a referenced URL is written (escapes allowed) is replaced by a
unique marker, the page is rendered once more, and only the markers that come back as image
URLs are real references; the others were in code, comments or text. A final render checks that
the result renders exactly as the original does through the plugin, before anything is returned:
a page that cannot be rewritten safely is an error, never a corrupted file.
"""

from __future__ import annotations

import html
import secrets
from typing import Callable

import markdown

from ..errors import WxCloudError
from .treeprocessor import RAW, ReplaceIn, collect
from .urls import source_pattern

Decide = Callable[[str, str, str], "str | None"]
"""``decide(url, tag, where)``: the new URL for a reference, or None to keep it."""


class RewriteError(WxCloudError):
    """The page's references could not be mapped back to its source unambiguously."""


def rewrite_source(text: str, make: Callable[[ReplaceIn], markdown.Markdown], decide: Decide, page: str) -> str:
    """Return ``text`` with every reference that ``decide`` maps replaced by its new URL."""
    references = collect(make, text)
    wanted = {url for url, tag, where in references if decide(url, tag, where) is not None}
    if not wanted:
        return text
    spans = _candidate_spans(text, wanted)
    nonce = secrets.token_hex(4)
    markers = {f"wxcloudmark{nonce}x{i}": i for i in range(len(spans))}
    marked, last = [], 0
    for (start, end, _), marker in zip(spans, markers):
        marked += [text[last:start], marker]
        last = end
    marked.append(text[last:])
    found = collect(make, "".join(marked))
    real = {markers[u]: (t, r) for u, t, r in found if u in markers}
    if [(spans[markers[u]][2] if u in markers else u, t, r) for u, t, r in found] != references:
        # A marker changed the syntax around it (a definition that was not one, text in a srcset):
        # mark one place at a time and keep the places whose marking changes nothing else.
        real = {}
        for index, (start, end, url) in enumerate(spans):
            marker = f"wxcloudmark{nonce}x{index}"
            found = collect(make, text[:start] + marker + text[end:])
            if [(url if u == marker else u, t, r) for u, t, r in found] == references:
                real.update((index, (t, r)) for u, t, r in found if u == marker)
    out, last = [], 0
    for index, (start, end, url) in enumerate(spans):
        if index in real:
            tag, where = real[index]
            new = decide(url, tag, where)
            if new is not None:
                out += [text[last:start], html.escape(new) if where == RAW else new]
                last = end
    out.append(text[last:])
    result = "".join(out)
    # The oracle itself: the rewritten page must render exactly as the original does through the
    # plugin's treeprocessor. Anything else (a marker that moved text, a URL Python-Markdown shows as
    # prose) refuses the page rather than write a wrong one.
    if make(lambda ref, page: decide(*ref)).convert(text) != make(lambda *_: None).convert(result):
        raise RewriteError(
            f"{page}: the image references could not be rewritten without touching other text; "
            "the page was left unchanged (please report this page to mkdocs-wxcloud)"
        )
    return result


def _candidate_spans(text: str, urls: set[str]) -> list[tuple[int, int, str]]:
    """Non-overlapping places where one of ``urls`` is written; the longest wins an overlap."""
    found = []
    for url in urls:
        found += [(m.start(), m.end(), url) for m in source_pattern(url).finditer(text)]
    found.sort(key=lambda s: (s[0], s[0] - s[1]))
    spans, end = [], -1
    for span in found:
        if span[0] >= end:
            spans.append(span)
            end = span[1]
    return spans
