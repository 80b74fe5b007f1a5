"""Find the images a rendered page shows by asking Python-Markdown itself.

Rather than guessing Markdown syntax with regular expressions, a treeprocessor runs inside the
site's own Markdown pipeline (with the site's extensions) once the inline patterns have built the
element tree. What it sees as ``<img src>``, ``srcset``, ``<picture><source srcset>``, ``<a href>``,
``<video src poster>``, ``<audio>``/``<source>``/``<track src>``, ``<object data>``, ``<embed src>``
and ``url(…)`` in ``style`` is exactly what the reader gets; code blocks, inline code, comments and
escaped syntax never become such elements. Raw HTML, which Python-Markdown keeps aside in its stash, is
tokenized by :mod:`.rawhtml`. One callback decides the new URL of each reference, so the same
machinery rewrites pages (plugin, Markdown extension) and lists references (``check``, ``sync``).
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as etree
from typing import Any, Callable, Iterable, NamedTuple

import markdown
from markdown.extensions import Extension
from markdown.treeprocessors import Treeprocessor
from markdown.util import ETX, HTML_PLACEHOLDER_RE, STX

from .rawhtml import URL_ATTRIBUTES, Replace, rewrite_html, rewrite_value
from .tokenizer import unescape

PRIORITY = 1.5
"""After ``inline`` (20), ``attr_list`` (8) and ``toc`` (5), before ``relpath`` (MkDocs registers it
at 0, Material's blog excerpts at 1), which would otherwise turn the URLs the author wrote into URLs
relative to the built page."""

_ESCAPED = re.compile(f"{STX}(\\d+){ETX}")
# Python-Markdown's serializer keeps what looks like a character reference in an attribute value
# (``&amp;``, ``&#38;``, ``&copy;``: the source's own) and escapes any other ``&``
_KEPT_REFERENCE = re.compile(r"&(?:#[0-9]+|#x[0-9a-f]+|[0-9a-z]+);", re.IGNORECASE)

MARKDOWN = "markdown"
"""``<a href>`` and ``<img src>`` of the element tree: MkDocs' ``relpath`` resolves them against the
page's source file (and rewrites them relative to the built page)."""
TREE = "tree"
"""Other URL attributes of the element tree (``srcset``, ``<source>``): no host rewrites them, so the
browser resolves them against the page's URL."""
RAW = "raw"
"""Raw HTML kept in the stash: written as HTML, and resolved by the browser against the page's URL."""

_RESOLVED_BY_MKDOCS = frozenset({("a", "href"), ("img", "src")})


class Reference(NamedTuple):
    """One URL a page references: as written, the tag whose attribute holds it (``style`` for a
    ``url(…)``), and :data:`MARKDOWN`, :data:`TREE` or :data:`RAW`, which decides what the URL is
    relative to and how the source writes it."""

    url: str
    tag: str
    where: str


ReplaceIn = Callable[[Reference, Any], "str | None"]
"""``replace(reference, page)``: the new URL or None; ``page`` is what ``enter`` said of the document."""
Sized = Callable[[str, str, Any], "dict[str, str] | None"]
"""``sized(src, where, page)``: attributes to add to an ``<img>`` that has neither width nor height (its
size, so the page does not jump while it loads), or None; ``src`` is the URL as written."""
Enter = Callable[[markdown.Markdown], Any]
"""``enter(md)``, as each document is processed: the page it is, handed to every callback."""


class ImageTreeprocessor(Treeprocessor):
    """Passes every image URL of the page, Markdown or raw HTML, through ``replace``."""

    def __init__(
        self,
        md: markdown.Markdown,
        replace: ReplaceIn,
        enter: Enter | None = None,
        sized: Sized | None = None,
    ) -> None:
        super().__init__(md)
        self.replace = replace
        self.enter = enter
        self.sized = sized

    def run(self, root: etree.Element) -> None:
        page = self.enter(self.md) if self.enter is not None else None
        replace: Callable[[Reference], str | None] = lambda ref: self.replace(ref, page)  # noqa: E731
        sized = (lambda src, where: self.sized(src, where, page)) if self.sized is not None else None  # type: ignore[misc]
        stash = self.md.htmlStash.rawHtmlBlocks
        _rewrite_elements(root.iter(), replace, sized, raw=False, stash=stash)
        in_raw: Replace = lambda url, tag: replace(Reference(url, tag, RAW))  # noqa: E731
        sized_raw = (lambda url: sized(url, RAW)) if sized is not None else None
        for index, block in enumerate(stash):
            if isinstance(block, str):
                stash[index] = rewrite_html(block, in_raw, sized_raw)
            else:
                _rewrite_elements(block.iter(), replace, sized, raw=True, stash=stash)


def _cases(name: str) -> list[str]:
    """Every upper/lower-case spelling of ``name`` (``img``, ``IMG``, ``Img``, …)."""
    spellings = [""]
    for char in name:
        spellings = [s + c for s in spellings for c in {char.lower(), char.upper()}]
    return spellings


# Every spelling of a tag that may reference a file, to its lower-case name: one dictionary lookup per
# element of the tree (comments and processing instructions have a function as their tag: no match).
_TAGS = {spelling: tag for tag in URL_ATTRIBUTES for spelling in _cases(tag)}


def _rewrite_elements(
    elements: Iterable[etree.Element],
    replace: Callable[[Reference], str | None],
    sized: Callable[[str, str], dict[str, str] | None] | None,
    *,
    raw: bool,
    stash: list[str | etree.Element],
) -> None:
    for element in elements:
        tag = _TAGS.get(element.tag) if isinstance(element.tag, str) else None
        style = element.get("style")
        attributes = URL_ATTRIBUTES[tag] if tag is not None else ()
        if style is not None and "url(" in style.lower():
            tag, attributes = tag or str(element.tag).lower(), (*attributes, "style")
        if tag is None:
            continue
        src = element.get("src") if tag == "img" and sized is not None else None
        for attribute in attributes:
            value = element.get(attribute)
            if value is not None:
                where = RAW if raw else MARKDOWN if (tag, attribute) in _RESOLVED_BY_MKDOCS else TREE
                plain = _as_read(value, stash)
                new = rewrite_value(tag, attribute, plain, _bound(replace, where), encoded=False)
                if new != plain:  # written so that the serializer keeps every "&" as one
                    element.set(attribute, new.replace("&", "&amp;"))
        if src is not None and sized is not None and element.get("width") is None and element.get("height") is None:
            # after replace: it knows the image now
            for name, value in (sized(_as_read(src, stash), RAW if raw else MARKDOWN) or {}).items():
                element.set(name, value)


def _as_read(value: str, stash: list[str | etree.Element]) -> str:
    """An attribute value of the tree as the reader gets it: backslash escapes are still placeholders
    here (``unescape`` runs at priority 0, with MkDocs' relpath), so are the entities of an
    ``attr_list`` value (``{srcset="a&amp;b.png"}``: stashed, written back as they are), and the
    character references that the serializer keeps are decoded by the browser."""
    plain = _ESCAPED.sub(lambda m: chr(int(m.group(1))), value)
    if STX in plain:
        plain = HTML_PLACEHOLDER_RE.sub(lambda m: _stashed(m, stash), plain)
    return _KEPT_REFERENCE.sub(lambda m: unescape(m.group()), plain) if "&" in plain else plain


def _stashed(placeholder: re.Match[str], stash: list[str | etree.Element]) -> str:
    block = stash[int(placeholder.group(1))]
    return block if isinstance(block, str) else placeholder.group()


def _bound(replace: Callable[[Reference], str | None], where: str) -> Callable[[str, str], str | None]:
    return lambda url, tag: replace(Reference(url, tag, where))


class ImageExtension(Extension):
    """Registers :class:`ImageTreeprocessor`; ``replace`` is looked up per page by the caller."""

    def __init__(
        self,
        replace: ReplaceIn,
        enter: Enter | None = None,
        sized: Sized | None = None,
        **kwargs: object,
    ) -> None:
        """``enter(md)`` runs as each document is processed, to learn which page it is;
        ``sized`` gives images their size (see :data:`Sized`)."""
        self.replace = replace
        self.enter = enter
        self.sized = sized
        super().__init__(**kwargs)

    def extendMarkdown(self, md: markdown.Markdown) -> None:  # noqa: N802 - Markdown API
        md.treeprocessors.register(ImageTreeprocessor(md, self.replace, self.enter, self.sized), "wxcloud", PRIORITY)


def markdown_factory(
    extensions: list, extension_configs: dict | None = None
) -> Callable[[ReplaceIn], markdown.Markdown]:
    """A maker of Markdown instances with the site's extensions plus a ``replace`` callback."""

    def make(replace: ReplaceIn) -> markdown.Markdown:
        return markdown.Markdown(
            extensions=[*extensions, ImageExtension(replace)],
            extension_configs=extension_configs or {},
        )

    return make


def collect(make: Callable[[ReplaceIn], markdown.Markdown], text: str) -> list[Reference]:
    """Every reference the rendered page makes, in document order."""
    seen: list[Reference] = []

    def record(reference: Reference, page: object) -> None:
        seen.append(reference)

    make(record).convert(text)
    return seen
