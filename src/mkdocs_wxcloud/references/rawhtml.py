"""Rewrite asset URLs inside raw HTML, changing no other byte.

Python-Markdown passes raw HTML through untouched (it stashes it), so the tree never shows these
``<img>``/``<video>``/``<a>``/… tags; this module finds them with :mod:`.tokenizer` (the one that
reads built pages: it knows comments, ``<script>``, ``<style>``, ``<textarea>`` and the other
text-only elements), and rewrites attribute values in place: the URL attributes of
:data:`URL_ATTRIBUTES`, and ``url(…)`` in any tag's ``style``.
"""

from __future__ import annotations

import html
import re
from typing import Callable

from . import css
from .htmlpage import PAGE_ATTRIBUTES, value_urls
from .tokenizer import Tag, escape, srcset_spans, start_tags, unescape

__all__ = ["URL_ATTRIBUTES", "Replace", "Sized", "rewrite_html", "rewrite_value", "srcset_spans"]

URL_ATTRIBUTES: dict[str, tuple[str, ...]] = PAGE_ATTRIBUTES
"""Tag -> attributes whose values are (lists of) URLs of files a reader loads or follows."""
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


def rewrite_value(tag: str, attribute: str, value: str, replace: Replace, *, encoded: bool, quote: str = '"') -> str:
    """Rewrite one attribute value; ``encoded`` values hold HTML character references (and are
    written inside ``quote``)."""
    # a style's url() is CSS, whatever the element: published by extension, as in stylesheets; a
    # srcset lists images, whatever they are called (``<picture><source srcset="a.jxl">``)
    who = {"style": "style", "srcset": "img"}.get(attribute, tag)
    out, last = [], 0
    for start, end, url, css_quote in value_urls(attribute, value, encoded=encoded):
        new = replace(url, who)
        if new is not None:
            new = new if css_quote is None else css.escape(new, css_quote)
            out += [value[last:start], escape(new, quote) if encoded else new]
            last = end
    out.append(value[last:])
    return "".join(out)


def _rewrite_tag(text: str, tag: Tag, replace: Replace, sized: Sized | None) -> str:
    """The text of ``tag`` with its URLs rewritten (and an ``<img>`` given its size)."""
    wanted = (*URL_ATTRIBUTES.get(tag.name, ()), "style")
    out, last = [], tag.start
    present: dict[str, str] = {}
    for attribute in tag.attributes:
        has_value = bool(attribute.quote) or attribute.start < attribute.end
        present.setdefault(attribute.name, text[attribute.start : attribute.end])
        if not has_value or attribute.name not in wanted:
            continue
        value = text[attribute.start : attribute.end]
        new = rewrite_value(tag.name, attribute.name, value, replace, encoded=True, quote=attribute.quote)
        out += [text[last : attribute.start], new]
        last = attribute.end
    tail = text[last : tag.end]
    if tag.name == "img" and sized is not None and "src" in present and not {"width", "height"} & present.keys():
        extra = "".join(
            f' {k}="{html.escape(v, quote=True)}"' for k, v in (sized(unescape(present["src"])) or {}).items()
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
    out, last = [], 0
    for tag in start_tags(text):
        if tag.name in URL_ATTRIBUTES or any(a.name == "style" for a in tag.attributes):
            out += [text[last : tag.start], _rewrite_tag(text, tag, replace, sized)]
            last = tag.end
    out.append(text[last:])
    return "".join(out)
