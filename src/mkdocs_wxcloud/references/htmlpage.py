"""The asset references of built pages and stylesheets, and their rewriting in place.

A built site (MkDocs, Zensical, Hugo, Hexo output) is HTML and CSS as the browser reads it, so the
rules are the browser's: the URL attributes of :data:`PAGE_ATTRIBUTES` (and ``<input type=image>``,
icon and image-preload ``<link>``), every ``url(…)`` of a ``style`` attribute, of a ``<style>``
element and of a stylesheet, and ``<base href>`` for the caller to resolve against. Nothing in
``<script>``, comments, ``<textarea>``, ``<title>`` and the other text-only elements, nor escaped
text (code blocks), counts (:mod:`.tokenizer`). Each :class:`Reference` holds the decoded URL and
the span of the URL as written, so :func:`rewrite` changes those characters only; the bytes of a
file go through :mod:`.charset` (its own encoding back and forth, exactly).
"""

from __future__ import annotations

from typing import Callable, Iterable, NamedTuple

from . import css
from .tokenizer import Attribute, Tag, escape, srcset_spans, start_tags, unescape

PAGE_ATTRIBUTES: dict[str, tuple[str, ...]] = {
    "img": ("src", "srcset"),
    "source": ("src", "srcset"),  # in <picture> (srcset), in <video>/<audio> (src)
    "a": ("href",),
    "video": ("src", "poster"),
    "audio": ("src",),
    "track": ("src",),
    "object": ("data",),
    "embed": ("src",),
}
"""Tag -> its attributes that hold (lists of) URLs of files a reader loads or follows."""
ICON_RELS = frozenset({"icon", "apple-touch-icon", "apple-touch-icon-precomposed", "mask-icon"})
"""``<link rel>`` keywords whose ``href`` is an image (``preload`` counts with ``as=image``)."""
SRCSETS = frozenset({"srcset", "imagesrcset"})


class Reference(NamedTuple):
    """One URL of a page or stylesheet.

    ``url`` is what the browser reads (character references and CSS escapes decoded); ``start`` and
    ``end`` are the span of the URL as written, in the decoded text (character offsets). ``tag`` is the
    element (lower case; ``""`` in a stylesheet), ``attribute`` the attribute (``src``, ``srcset``,
    ``href``, ``poster``, ``data``, ``style``; ``""`` for a ``<style>`` element or a stylesheet).
    ``quote`` is the attribute value's quote (``'"'``, ``"'"``, ``""``: unquoted; None: not in an
    attribute) and ``css_quote`` the ``url(…)``'s (None: not CSS), which say how a new URL is written.
    """

    url: str
    start: int
    end: int
    tag: str
    attribute: str
    quote: str | None
    css_quote: str | None


class Scan(NamedTuple):
    """A page's references in document order, and its ``<base href>`` (decoded; None without one)."""

    references: list[Reference]
    base: str | None


def value_urls(attribute: str, value: str, *, encoded: bool) -> list[tuple[int, int, str, str | None]]:
    """The URLs of one attribute value: ``(start, end, url, css_quote)``, spans in ``value`` as written,
    ``url`` decoded; a ``srcset`` has one per entry, a ``style`` one per ``url(…)``, any other
    attribute one. Fragments of this page alone (``#top``) are none. ``encoded``:
    the value holds character references (as written in HTML; not in an element tree)."""
    decode = unescape if encoded else str
    found: list[tuple[int, int, str, str | None]]
    if attribute == "style":
        found = [(u.start, u.end, css.unescape(decode(u.written)), u.quote) for u in css.urls(value, encoded=encoded)]
    elif attribute in SRCSETS:
        found = [(start, end, decode(value[start:end]), None) for start, end in srcset_spans(value)]
    else:
        found = [(0, len(value), decode(value), None)]
    return [entry for entry in found if not entry[2].startswith("#")]


def scan_html(text: str) -> Scan:
    """Every reference of an HTML page's text (see the module's docstring for what counts)."""
    references: list[Reference] = []
    base = None
    for tag in start_tags(text):
        wanted = _wanted(text, tag)
        if tag.name == "base" and base is None:
            base = next((unescape(text[a.start : a.end]) for a in tag.attributes if a.name == "href"), None)
        for attribute in tag.attributes:
            if attribute.name in wanted and (attribute.quote or attribute.start < attribute.end):
                value = text[attribute.start : attribute.end]
                for start, end, url, css_quote in value_urls(attribute.name, value, encoded=True):
                    if not url.strip():  # the page itself
                        continue
                    references.append(
                        Reference(url, attribute.start + start, attribute.start + end, tag.name, attribute.name,
                                  attribute.quote, css_quote)
                    )  # fmt: skip
        if tag.name == "style" and tag.content is not None:
            start, end = tag.content
            references += _css(text[start:end], start, "style")
    return Scan(references, base)


def scan_css(text: str) -> list[Reference]:
    """Every ``url(…)`` of a stylesheet's text."""
    return _css(text, 0, "")


def _css(text: str, offset: int, tag: str) -> list[Reference]:
    return [
        Reference(url, offset + u.start, offset + u.end, tag, "", None, u.quote)
        for u in css.urls(text)
        if (url := css.unescape(u.written)).strip() and not url.startswith("#")
    ]


def _wanted(text: str, tag: Tag) -> tuple[str, ...]:
    """The attributes of ``tag`` that hold references."""
    if tag.name == "input":
        return ("src", "style") if _first(text, tag.attributes, "type").lower() == "image" else ("style",)
    if tag.name == "link":
        rel = set(_first(text, tag.attributes, "rel").lower().split())
        image = "preload" in rel and _first(text, tag.attributes, "as").lower() == "image"
        return ("href", "imagesrcset", "style") if rel & ICON_RELS or image else ("style",)
    return (*PAGE_ATTRIBUTES.get(tag.name, ()), "style")


def _first(text: str, attributes: tuple[Attribute, ...], name: str) -> str:
    """The decoded value of the first attribute called ``name`` (the browser ignores the others)."""
    return next((unescape(text[a.start : a.end]) for a in attributes if a.name == name), "").strip()


def written(reference: Reference, url: str) -> str:
    """``url`` as it is written in place of ``reference``: CSS-escaped in a ``url(…)``, then with
    character references in an attribute value."""
    if reference.css_quote is not None:
        url = css.escape(url, reference.css_quote)
    return url if reference.quote is None else escape(url, reference.quote)


def rewrite(text: str, references: Iterable[Reference], replace: Callable[[Reference], "str | None"]) -> str:
    """``text`` with the URL of each reference replaced by what ``replace`` answers (None, or the same
    URL, leaves its characters as written); every other character stays as it is."""
    out, last = [], 0
    for reference in sorted(references, key=lambda r: r.start):
        new = replace(reference)
        if new is None or new == reference.url or reference.start < last:
            continue
        out += [text[last : reference.start], written(reference, new)]
        last = reference.end
    out.append(text[last:])
    return "".join(out)
