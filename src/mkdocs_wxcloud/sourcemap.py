"""Rewrite image URLs in Markdown source, changing no byte outside them.

Python-Markdown does not say where in the source an element came from, so the rewrite works by
elimination: each place where a referenced URL is written (escapes allowed) is replaced by a
unique marker, the page is rendered once more, and only the markers that come back as image
URLs are real references; the others were in code, comments or text. A final render checks that
the result references exactly what the original did, with the new URLs, before anything is
returned: a page that cannot be rewritten safely is an error, never a corrupted file.
"""

from __future__ import annotations

import html
import secrets
from typing import Callable

import markdown

from .errors import WxCloudError
from .references import ReplaceIn, collect
from .urls import source_pattern

Decide = Callable[[str, str, bool], "str | None"]
"""``decide(url, tag, raw)``: the new URL for a reference, or None to keep it."""


class RewriteError(WxCloudError):
    """The page's references could not be mapped back to its source unambiguously."""


def rewrite_source(text: str, make: Callable[[ReplaceIn], markdown.Markdown], decide: Decide, page: str) -> str:
    """Return ``text`` with every reference that ``decide`` maps replaced by its new URL."""
    references = collect(make, text)
    wanted = {url for url, tag, raw in references if decide(url, tag, raw) is not None}
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
    real: dict[int, tuple[str, bool]] = {}
    for url, tag, raw in collect(make, "".join(marked)):
        if url in markers:
            real[markers[url]] = (tag, raw)
    out, last = [], 0
    for index, (start, end, url) in enumerate(spans):
        if index in real:
            tag, raw = real[index]
            new = decide(url, tag, raw)
            if new is not None:
                out += [text[last:start], html.escape(new) if raw else new]
                last = end
    out.append(text[last:])
    result = "".join(out)
    _verify(references, collect(make, result), decide, page)
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


def _verify(before: list, after: list, decide: Decide, page: str) -> None:
    expected = [(decide(url, tag, raw) or url, tag, raw) for url, tag, raw in before]
    if expected != after:
        raise RewriteError(
            f"{page}: the image references could not be rewritten without touching other text; "
            "the page was left unchanged (please report this page to mkdocs-wxcloud)"
        )
