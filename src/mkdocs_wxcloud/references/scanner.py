"""Listing the references of many pages fast: what a build would find, with less of its work.

The commands render a page only to learn what it references, and a build's Markdown does much
more: syntax highlighting (a third of a code-heavy site's time), serializing the element tree and
post-processing HTML that would be thrown away, and a new ``Markdown`` for every page. The scanner
keeps one instance (``reset()`` between pages), replaces the highlighter of ``pymdownx.highlight`` with
one that only escapes the code (highlighted or not, code holds no reference, and every option is
still parsed exactly as in the build: only Pygments' lexing and formatting are left out), and stops
each conversion once the image treeprocessor has seen the page. It finds the same references as the build's pipeline, in the same
order (``tests/test_scanner.py`` compares both, on the corpus and on generated pages).
"""

from __future__ import annotations

import xml.etree.ElementTree as etree
from typing import Any

import markdown
from markdown.extensions import Extension

from .treeprocessor import PRIORITY, ImageTreeprocessor, Reference

_HIGHLIGHT = "pymdownx.highlight"
_HIGHLIGHTED_BY = ("pymdownx.superfences", "pymdownx.inlinehilite")  # they register pymdownx.highlight themselves


class _Seen(Exception):
    """The page's references are known: the rest of the conversion is not needed."""


class _Collector(ImageTreeprocessor):
    def run(self, root: etree.Element) -> None:
        super().run(root)
        raise _Seen


class _CollectorExtension(Extension):
    def __init__(self, scanner: Scanner) -> None:
        self.scanner = scanner
        super().__init__()

    def extendMarkdown(self, md: markdown.Markdown) -> None:  # noqa: N802 - Markdown API
        md.treeprocessors.register(_Collector(md, self.scanner.record), "wxcloud", PRIORITY)


class Scanner:
    """One Markdown with the site's extensions (plain highlighting), reused for every page."""

    def __init__(self, extensions: list, configs: dict[str, Any] | None = None) -> None:
        extensions, configs = _plain_highlighting(list(extensions), dict(configs or {}))
        self._seen: list[Reference] = []
        self._md = markdown.Markdown(extensions=[*extensions, _CollectorExtension(self)], extension_configs=configs)

    def record(self, reference: Reference, page: object) -> None:
        self._seen.append(reference)

    def references(self, text: str) -> list[Reference]:
        """Every reference the rendered page makes, in document order."""
        self._seen = []
        self._md.reset()
        try:
            self._md.convert(text)
        except _Seen:
            pass
        return self._seen


def _plain_highlighting(extensions: list, configs: dict[str, Any]) -> tuple[list, dict[str, Any]]:
    """``pymdownx.highlight`` (as configured, or as superfences registers it) with a highlighter
    that skips Pygments; it comes first, so that the one superfences registers stands aside."""
    names = [e for e in extensions if isinstance(e, str)]
    if _HIGHLIGHT not in names and not set(names) & set(_HIGHLIGHTED_BY):
        return extensions, configs
    from pymdownx.highlight import Highlight, HighlightExtension

    class Escaped(Highlight):
        """The code as escaped text. Where a block's title may be raw HTML (``title_mode: html``, or an
        ``auto_title_map`` entry that says its mode), the real highlighter runs on no code: it stashes
        that title (given, or named after the lexer) as in the build, with nothing to lex. Elsewhere a
        title is text, and the highlighter is not run at all (it costs ~0.7 ms a block, lexing none)."""

        def highlight(self, src: str, language: str, *args: Any, inline: bool = False, **kwargs: Any) -> Any:
            html_titles = self.title_mode == "html" or (
                self.auto_title and any(isinstance(title, dict) for title in self.auto_title_map.values())
            )
            if html_titles and not inline:
                super().highlight("", language, *args, inline=inline, **kwargs)
            if inline:
                element = etree.Element("code")
                element.text = self.escape(src)
                return element
            return f"<pre><code>{self.escape(src)}</code></pre>"

    class PlainHighlight(HighlightExtension):
        def get_pymdownx_highlighter(self) -> type:
            return Escaped

    options = configs.pop(_HIGHLIGHT, None) if _HIGHLIGHT in names else {"_enabled": False}
    rest = [e for e in extensions if e != _HIGHLIGHT]
    return [PlainHighlight(**(options or {})), *rest], configs
