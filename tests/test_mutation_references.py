"""The reference collectors' behaviours that mutation testing (tools/mutation.py) found no test for.

What a built page, a stylesheet or a Markdown page references, how a new URL is written back in
each place, how a page's encoding is read, and on which line a warning points.
"""

from __future__ import annotations

import codecs
import importlib
import logging
import os
import sys
import xml.etree.ElementTree as etree
from pathlib import Path

import markdown
import pymdownx.highlight
import pytest
from markdown.extensions import Extension
from markdown.treeprocessors import Treeprocessor
from pymdownx import emoji

from mkdocs_wxcloud.errors import ConfigError
from mkdocs_wxcloud.references import assets, css, pool, rawhtml, tokenizer, treeprocessor
from mkdocs_wxcloud.references.charset import EncodingError, decode_css, decode_html
from mkdocs_wxcloud.references.htmlpage import Reference, rewrite, scan_css, scan_html
from mkdocs_wxcloud.references.pages import read_page
from mkdocs_wxcloud.references.scanner import Scanner
from mkdocs_wxcloud.references.sourcemap import rewrite_source
from mkdocs_wxcloud.references.tokenizer import start_tags
from mkdocs_wxcloud.references.treeprocessor import markdown_factory
from mkdocs_wxcloud.references.urls import Target, line_of, resolve, with_suffix


class _Capitals(Treeprocessor):
    """An extension's elements, named in capitals (``etree`` keeps a tag as it is given)."""

    def run(self, root: etree.Element) -> None:
        etree.SubElement(root, "IMG", src="upper.png")
        etree.SubElement(root, "Img", src="mixed.png")


class _CapitalsExtension(Extension):
    def extendMarkdown(self, md: markdown.Markdown) -> None:  # noqa: N802 - Markdown API
        md.treeprocessors.register(_Capitals(md), "capitals", 30)


def test_the_patterns_built_at_import_read_every_tag_quote_and_spelling() -> None:
    """The tokenizer's, the CSS scanner's and the tree walker's patterns are built when their modules
    are imported: built again here, they read pages as the browser does."""
    for module in (css, tokenizer, treeprocessor):
        importlib.reload(module)
    loaded = [t for t in tokenizer.TAGS if t != "style"]
    page = "".join(f"<{t} src=a.png href=b.png data=c.png poster=d.png type=image rel=icon>" for t in loaded)
    page += "".join(f"<{t.upper()} SRC=A.png>" for t in loaded)
    page += "".join(f"<{t}><img src={t}.png></{t}>" for t in tokenizer.RAWTEXT)
    page += "<STYLE>.a{background:url(st.png)}</STYLE>"
    page += "<imgx src=x.png><sourcex src=y.png><ab href=z.png><span class=a><p id=b style='background:url(s.png)'>"
    page += "<div style=\"background:url(&QUOT;q.png&QUOT;)\"><div style='background:url(&#X22;r.png&#X22;)'>"
    page += "<plaintext><img src=p.png>"
    assert _refs(page) == [
        ("a.png", "img", "src"), ("a.png", "source", "src"), ("a.png", "video", "src"), ("d.png", "video", "poster"),
        ("a.png", "audio", "src"), ("a.png", "track", "src"), ("c.png", "object", "data"), ("a.png", "embed", "src"),
        ("a.png", "input", "src"), ("b.png", "link", "href"), ("b.png", "a", "href"),
        *[("A.png", t, "src") for t in ("img", "source", "video", "audio", "track", "embed")],
        ("st.png", "style", ""), ("s.png", "p", "style"), ("q.png", "div", "style"), ("r.png", "div", "style"),
    ]  # fmt: skip
    assert [t.name for t in start_tags("<span class=a><p id=b><b>x</b><br/><svg viewBox='0 0 1 1'>")] == []
    found = treeprocessor.collect(treeprocessor.markdown_factory([_CapitalsExtension()]), "![x](lower.png)")
    assert [r.url for r in found] == ["lower.png", "upper.png", "mixed.png"]


# -- built pages --------------------------------------------------------------------------------


def _refs(page: str) -> list[tuple[str, str, str]]:
    return [(r.url, r.tag, r.attribute) for r in scan_html(page).references]


def test_the_style_of_image_buttons_and_links_counts_whatever_they_are() -> None:
    style = "style='background:url(s.png)'"
    page = (
        f"<input type=image src=a.png {style}><input {style}><input src=n.png>"
        f"<link rel=icon href=i.png {style}><link rel=stylesheet href=c.css {style}><link href=l.png>"
    )
    assert _refs(page) == [
        ("a.png", "input", "src"), ("s.png", "input", "style"), ("s.png", "input", "style"),
        ("i.png", "link", "href"), ("s.png", "link", "style"), ("s.png", "link", "style"),
    ]  # fmt: skip


def test_a_stylesheet_lists_its_urls_but_not_its_fragments_nor_blanks() -> None:
    text = "a{b:url(a.png)} c{d:url(#clip)} e{f:url(' ')} g{h:url(\"\\E000 .png\")}"
    assert scan_css(text) == [
        Reference("a.png", 8, 13, "", "", None, ""),
        Reference("\ue000.png", 55, 65, "", "", None, '"'),
    ]
    assert css.references(text) == [
        ("a.png", "style", "stylesheet"), ("#clip", "style", "stylesheet"), (" ", "style", "stylesheet"),
        ("\ue000.png", "style", "stylesheet"),
    ]  # fmt: skip


def test_a_new_url_with_a_space_is_written_as_its_quoted_or_unquoted_place_needs() -> None:
    page = "<img src=\"a.png\"><img src=b.png><img src='c.png'>"
    scan = scan_html(page)
    assert rewrite(page, scan.references, lambda r: "x y.png") == (
        "<img src=\"x y.png\"><img src=x&#32;y.png><img src='x y.png'>"
    )
    sheet = "a{b:url(\"a.png\")} c{d:url(b.png)} e{f:url('c.png')}"
    assert (
        css.rewrite_css(sheet, lambda url: "x y.png") == "a{b:url(\"x y.png\")} c{d:url(x\\ y.png)} e{f:url('x y.png')}"
    )


def test_a_plain_stylesheet_has_no_character_references() -> None:
    """``&quot;`` is a quote only in an HTML attribute as written; a stylesheet reads it as text."""
    sheet = "a{b:url(&quot;x.png&quot;)}"
    assert css.url_spans(sheet) == [(8, 25)]
    assert css.url_spans(sheet, encoded=True) == [(14, 19)]


@pytest.mark.parametrize(
    ("url", "quote", "written"),
    [
        ("X.png", "", "X.png"),
        ("X Y.png", "", "X\\ Y.png"),
        ("a b(1).png", "", "a\\ b\\(1\\).png"),
        ("a\x01b\x7fc\nd", "", "a\\1 b\\7f c\\a d"),
        ("a\x01b\x7fc", '"', "a\x01b\x7fc"),  # a quoted string holds them as they are
        ("a\"b'c\\d\ne", '"', "a\\\"b'c\\\\d\\a e"),
        ("a\"b'c", "'", "a\"b\\'c"),
    ],
)
def test_a_url_is_escaped_in_css_only_where_its_quote_needs_it(url: str, quote: str, written: str) -> None:
    assert css.escape(url, quote) == written
    assert css.unescape(written) == url


@pytest.mark.parametrize(
    ("written", "read"),
    [
        ("a\\", "a\ufffd"),
        ("\\1 x", "\x01x"),
        ("\\0 x", "\ufffdx"),
        ("\\10FFFF", "\U0010ffff"),
        ("\\110000", "\ufffd"),
        ("\\D7FF", "\ud7ff"),
        ("\\D800", "\ufffd"),
        ("\\DFFF", "\ufffd"),
        ("\\E000", "\ue000"),
    ],
)
def test_css_escapes_read_as_css_reads_them(written: str, read: str) -> None:
    assert css.unescape(written) == read


def test_text_only_elements_end_at_their_own_end_tag_or_the_page_end() -> None:
    assert _refs("</style><style>a{b:url(s.png)}</style><img src=a.png>") == [
        ("s.png", "style", ""), ("a.png", "img", "src"),
    ]  # fmt: skip
    assert _refs("<textarea><img src=a.png>") == []
    assert [t.name for t in start_tags("<title><img src=a.png>")] == []


# -- encodings ----------------------------------------------------------------------------------


def test_a_charset_label_that_is_not_ascii_is_ignored_as_browsers_do() -> None:
    page = '<meta charset="été">é'.encode()
    assert decode_html(page, "p.html") == ("p.html", '<meta charset="été">é', "utf-8", b"")


def test_a_stylesheet_without_at_charset_is_utf8_and_an_undecodable_one_is_named() -> None:
    assert decode_css("a{content:'图'}".encode(), "s.css").text == "a{content:'图'}"
    with pytest.raises(EncodingError, match=r"^s\.css: byte 0 is not utf-8 text"):
        decode_css(b"\xff", "s.css")


# -- the line a warning points at ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("source", "line"),
    [
        ("(a.png)\n![x](a.png)\n", 1),  # a destination at the very start
        ("\n\nsee a.png\n\n![x](a.png)\n", 5),  # prose first: the destination wins
        ("see a.png\n", 1),  # only prose: that line
        ("\n\n`a.png`\n", 3),
        ("nothing here\n", None),
    ],
)
def test_a_warning_points_at_the_line_where_the_url_is_a_destination(source: str, line: int | None) -> None:
    assert line_of(source, "a.png") == line


# -- encodings of built pages -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("head", "encoding"),
    [
        (b'<meta name="viewport" content="width=device-width"><meta charset="gbk">', "gb18030"),
        (b'<meta http-equiv="Content-Type"><meta charset="gbk">', "gb18030"),
        (b'<meta charset="X-GBK">', "gb18030"),
        (b'<meta http-equiv="content-type" content="text/html; charset=Shift_JIS">', "cp932"),
        (b" " * (1024 - len(b'<meta charset="gb')) + b'<meta charset="gbk">', "utf-8"),  # cut at 1024 bytes
        (b" " * (1024 - len(b'<meta charset="gbk')) + b'<meta charset="gbk">', "gb18030"),
    ],
)
def test_the_declared_encoding_is_read_as_the_browser_prescans_it(head: bytes, encoding: str) -> None:
    assert decode_html(head + b"<p>x</p>", "p.html").encoding == encoding


def test_pages_that_cannot_be_kept_byte_for_byte_are_one_error_each() -> None:
    with pytest.raises(EncodingError) as refused:
        decode_html(b"<meta charset=shift_jis>\x87\x90", "p.html")
    assert str(refused.value) == "p.html: its cp932 bytes cannot be written back unchanged; save the file as UTF-8"
    with pytest.raises(EncodingError) as refused:
        decode_html(codecs.BOM_UTF8 + b"ab\xff", "p.html")
    assert str(refused.value).startswith("p.html: byte 5 is not utf-8 text; ")
    page = decode_html(b"<meta charset=latin1><p>caf\xe9</p>", "p.html")
    assert page.name == "p.html" and page.encode(page.text) == b"<meta charset=latin1><p>caf\xe9</p>"
    with pytest.raises(EncodingError) as refused:
        page.encode(page.text + "图")
    assert str(refused.value) == "p.html: '图' cannot be written in its encoding cp1252; save the file as UTF-8"


def test_a_page_that_is_not_utf8_names_its_byte(tmp_path: Path) -> None:
    page = tmp_path / "a.md"
    page.write_bytes("\ufeff# 图".encode() + b"\xff")
    with pytest.raises(ValueError, match=r"^is not valid UTF-8 \(byte 8\): save the page as UTF-8$"):
        read_page(page)
    page.write_bytes(b"# \xff")
    with pytest.raises(ValueError, match=r"^is not valid UTF-8 \(byte 2\)"):
        read_page(page)
    page.write_bytes("\ufeff# 图".encode())
    assert read_page(page) == "# 图"


# -- the assets option and the kinds messages name ----------------------------------------------


@pytest.mark.parametrize(
    ("path", "kind"),
    [
        ("a.PNG?v=1?w=2", "image"), ("v.mp4#t=1#x", "video"), ("a b.mp3?x", "audio"), ("a b.pdf#page=2", "document"),
        ("a.zip", "file"), ("a", "file"),
    ],
)  # fmt: skip
def test_messages_name_a_file_by_its_kind(path: str, kind: str) -> None:
    assert assets.kind_of(path) == kind


def test_the_assets_option_takes_groups_and_extensions_and_names_a_bad_item() -> None:
    assert assets.parse(None) == assets.parse(["images", "video", "audio"])
    assert assets.parse("video") == assets.Assets(assets.GROUPS["video"], images=False)
    assert assets.parse(["images"]).publishes("a.jxl", "img")  # an <img> shows an image, whatever its name
    images = assets.parse(["images", ".z"])
    assert images.images is True and images.publishes("a.jxl", "img") and images.publishes("a.Z", "a")
    for value in ([], 5):
        with pytest.raises(ConfigError) as refused:
            assets.parse(value)
        assert (
            str(refused.value) == f"option `assets` must be a list such as [images, video, audio, .zip], not {value!r}"
        )
    with pytest.raises(ConfigError, match=r"^option `assets`: '\.\.zip' is neither a group"):
        assets.parse(["..zip"])
    with pytest.raises(ConfigError) as refused:
        assets.parse([".MD"])
    assert str(refused.value) == "option `assets`: .md files are part of the site itself, never published as assets"


# -- scan workers ---------------------------------------------------------------------------------


def test_the_one_minute_load_decides_the_idle_cores(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(pool, "cores", lambda: 4)
    monkeypatch.setattr(os, "getloadavg", lambda: (1.0, 9.0, 9.0))
    assert pool.idle_cores() == 4

    def unknown() -> tuple[float, float, float]:
        raise OSError("no load average")

    monkeypatch.setattr(os, "getloadavg", unknown)
    assert pool.idle_cores() == 4
    assert pool.worth_it(5 * pool.MIN_CHARS_PER_WORKER // 2, 8) == 2  # whole workers


class _Unpicklable:
    def __reduce__(self) -> tuple:
        raise TypeError("not picklable")


def test_a_configuration_that_cannot_be_sent_is_rendered_here_and_says_why(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.DEBUG, logger="mkdocs.plugins.wxcloud"):
        rendered = list(pool.render([], {"x": _Unpicklable()}, ["a", "b"], 2, lambda text: [text]))
    assert rendered == [["a"], ["b"]]
    assert [r.getMessage() for r in caplog.records if r.name == "mkdocs.plugins.wxcloud"] == [
        "wxcloud: pages rendered in this process (configuration not sent to workers: not picklable)"
    ]


def test_a_few_long_pages_are_sent_to_workers_in_whole_chunks() -> None:
    """Twenty or three pages for two workers: chunks of whole pages, whatever the division gives."""
    for count in (20, 3):
        texts = [f"![{n}](img/{n}.png)\n" for n in range(count)]
        found = list(pool.render([], {}, texts, 2, lambda text: pytest.fail("rendered here")))
        assert [[r.url for r in refs] for refs in found] == [[f"img/{n}.png"] for n in range(count)]


def test_a_base_without_href_and_blank_style_urls_leave_the_rest_found() -> None:
    scan = scan_html("<base target=_top><div style=\"background:url(' '),url(b.png)\"><img src=a.png>")
    assert scan.base is None
    assert scan.references == [
        Reference("b.png", 54, 59, "div", "style", '"', ""),
        Reference("a.png", 71, 76, "img", "src", "", None),
    ]
    assert _refs("<textarea style='color:red'>a{b:url(t.png)}</textarea><title>url(u.png)</title>") == []


def test_rewriting_a_page_takes_its_references_in_any_order_and_keeps_what_is_unchanged() -> None:
    page = "<img src=b.png><img src=a.png><img src='c&#38;d.png'>"
    references = sorted(scan_html(page).references, key=lambda r: r.url, reverse=True)
    assert rewrite(page, references, lambda r: r.url if "&" in r.url else "x/" + r.url) == (
        "<img src=x/b.png><img src=x/a.png><img src='c&#38;d.png'>"
    )


def test_markdown_source_is_rewritten_by_what_the_tag_decides() -> None:
    make = markdown_factory([], {})
    decide = lambda url, tag, where: "https://cdn.example.com/" + url if tag == "img" else None  # noqa: E731
    assert rewrite_source("![x](a.png) [a](b.png)\n", make, decide, "p.md") == (
        "![x](https://cdn.example.com/a.png) [a](b.png)\n"
    )
    signed = lambda url, tag, where: f"https://cdn.example.com/{url}?a=1&b=2"  # noqa: E731
    assert rewrite_source('![x](a.png)\n\n<img src="a.png">\n', make, signed, "p.md") == (
        '![x](https://cdn.example.com/a.png?a=1&b=2)\n\n<img src="https://cdn.example.com/a.png?a=1&amp;b=2">\n'
    )  # an & is written as it is in Markdown, as &amp; in HTML


@pytest.mark.parametrize(
    ("url", "target"),
    [
        ("?x=1", None),  # a query alone: this page
        ("///a.png", None),  # no host, but still not a path of this site
        ("img\\a.png", Target("img/a.png", "")),  # a backslash, as Windows authors write it
        ("/Xa.png", Target("Xa.png", "")),
        ("a\n.png?v=1", Target("a.png", "")),  # a URL the parser cleaned: no suffix guessed
    ],
)
def test_what_a_reference_resolves_to(url: str, target: Target | None) -> None:
    assert resolve(url, "p.md") == target


def test_a_one_letter_query_is_carried_and_an_unclosed_style_is_read_to_the_end() -> None:
    assert with_suffix("https://c.example/x.png", "?a") == "https://c.example/x.png?a"
    assert _refs("<style>a{b:url(s.png)}") == [("s.png", "style", "")]


# -- stylesheets: comments and quotes -------------------------------------------------------------


@pytest.mark.parametrize(
    ("sheet", "found"),
    [
        ("/*/ url(a.png) */ b{c:url(d.png)}", ["d.png"]),  # '/*/' opens a comment, and does not close it
        ("/* x */ a{b:url(a.png)} /* y */", ["a.png"]),
        ("/* url(d.png)", []),  # a comment that is never closed hides the rest
        ('/*x"*/ b{c:url(a.png)} d{content:"q"}', ["a.png"]),  # a quote inside a comment opens nothing
        ("/**/url(a.png)", ["a.png"]),
        ("a{b:url(&quot;x.png&quot;)}", ["&quot;x.png&quot;"]),  # a stylesheet has no character references
        ("a{b:url()} c{d:url(e.png)}", ["e.png"]),  # an empty url() loads nothing
        ("a{content:'\"'} b{c:url(d.png)} e{content:\"'\"}", ["d.png"]),  # each string ends at its own quote
    ],
)
def test_a_stylesheet_skips_its_comments_and_nothing_else(sheet: str, found: list[str]) -> None:
    assert [url for url, _, _ in css.references(sheet)] == found
    assert css.rewrite_css(sheet, lambda url: "N") == sheet.replace("url(" + (found or ["-"])[0], "url(N")


# -- what the browser loads from the element tree ------------------------------------------------


@pytest.mark.parametrize(
    ("source", "loaded"),
    [
        ("![x](a&amp;b.png)", "a&b.png"),  # Python-Markdown writes src="a&amp;b.png": the browser loads a&b.png
        ("![x](a&b.png)", "a&b.png"),  # written src="a&amp;b.png" too
        ("![x](a&#38;b.png)", "a&b.png"),
        ("![x](a&#X26;b.png)", "a&b.png"),
        ("![x](a&copy;b.png)", "a\N{COPYRIGHT SIGN}b.png"),
        ("![x](a&copy.png)", "a&copy.png"),  # no ';': written src="a&amp;copy.png"
        ("![x](a&#38b.png)", "a&#38b.png"),
        ("![x](a&ampx;b.png)", "a&ampx;b.png"),  # no such reference: the browser reads it as it is
        ("[x](a&amp;b.pdf)", "a&b.pdf"),
    ],
)
def test_a_markdown_url_is_collected_as_the_browser_reads_its_character_references(source: str, loaded: str) -> None:
    assert [r.url for r in treeprocessor.collect(markdown_factory([]), source)] == [loaded]


class _Styled(Treeprocessor):
    """An extension's element whose style holds a character reference the serializer keeps."""

    def run(self, root: etree.Element) -> None:
        etree.SubElement(root, "p", style="background:url(d.png), url(e&amp;amp;f.png)")


class _StyledExtension(Extension):
    def extendMarkdown(self, md: markdown.Markdown) -> None:  # noqa: N802 - Markdown API
        md.treeprocessors.register(_Styled(md), "styled", 30)


def test_a_new_url_in_the_tree_is_loaded_as_it_is_and_the_rest_of_its_value_unchanged() -> None:
    new = {"a&b.png": "https://c.example/a.png?x=1&copy;=2", "d.png": "https://c.example/d.png"}
    seen: list[str] = []

    def replace(reference: treeprocessor.Reference, page: object) -> str | None:
        seen.append(reference.url)
        return new.get(reference.url)

    md = markdown.Markdown(extensions=[_StyledExtension(), treeprocessor.ImageExtension(replace)])
    assert md.convert("![x](a&amp;b.png)") == (
        '<p><img alt="x" src="https://c.example/a.png?x=1&amp;copy;=2" /></p>\n'
        '<p style="background:url(https://c.example/d.png), url(e&amp;amp;f.png)"></p>'
    )
    assert seen == ["a&b.png", "d.png", "e&amp;f.png"]


def test_an_image_is_sized_by_the_url_the_browser_loads() -> None:
    asked: list[tuple[str, str]] = []

    def sized(src: str, where: str, page: object) -> dict[str, str]:
        asked.append((src, where))
        return {"width": "3", "height": "2"}

    md = markdown.Markdown(extensions=[treeprocessor.ImageExtension(lambda ref, page: None, sized=sized)])
    assert md.convert("![x](a&amp;b.png)") == '<p><img alt="x" height="2" src="a&amp;b.png" width="3" /></p>'
    assert asked == [("a&b.png", treeprocessor.MARKDOWN)]


# -- the commands' scanner -------------------------------------------------------------------------

_CODE_PAGE = """![a](a.png) :smile:

```py title="<img src='t.png'>" title_mode="html"
x = 1
```

```py
y = 2
```

`#!py z = "<img src='c.png'>"`
"""
_EMOJI = {"emoji_generator": emoji.to_png, "options": {"image_path": "img/emoji/"}, "emoji_index": emoji.twemoji}
_AUTO_TITLE = {"auto_title": True, "auto_title_map": {"Python": {"title": "<img src='u.png'>", "mode": "HTML"}}}


def _refuse_lexing(monkeypatch: pytest.MonkeyPatch) -> None:
    """From now on, Pygments (as pymdownx calls it) fails on any code: the scanner must lex none."""
    pygments = pymdownx.highlight.highlight

    def no_code(code: str, *args: object) -> str:
        assert code == "", "the scanner lexed code"
        return pygments(code, *args)

    monkeypatch.setattr(pymdownx.highlight, "highlight", no_code)


@pytest.mark.parametrize(
    ("extensions", "configs", "urls"),
    [
        (
            ["pymdownx.highlight", "pymdownx.superfences", "pymdownx.inlinehilite"],
            {"pymdownx.highlight": _AUTO_TITLE},
            ["a.png", "t.png", "u.png"],
        ),
        (
            ["pymdownx.superfences", "pymdownx.emoji"],
            {"pymdownx.emoji": _EMOJI},
            ["a.png", "img/emoji/1f604.png", "t.png"],
        ),
        (["pymdownx.inlinehilite"], {}, ["a.png"]),
        (["pymdownx.superfences"], {"pymdownx.highlight": {"use_pygments": False}}, ["a.png", "t.png"]),
        (
            ["pymdownx.highlight", "pymdownx.superfences"],
            {"pymdownx.highlight": {"auto_title": True, "auto_title_map": {"Python": "<img src='u.png'>"}}},
            ["a.png", "t.png"],  # a title in text mode is text
        ),
    ],
)
def test_the_scanner_finds_what_the_build_finds_and_never_lexes_code(
    extensions: list[str], configs: dict, urls: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Titles written as HTML (given, or ``auto_title`` named by the lexer) are raw HTML of the page,
    and every option is the site's: only Pygments' lexing and formatting of fenced and inline code
    are left out (pymdownx highlights indented code with its own class, which the scanner keeps)."""
    built = treeprocessor.collect(markdown_factory(extensions, configs), _CODE_PAGE)
    assert [url for url, _, _ in built] == urls
    _refuse_lexing(monkeypatch)
    scanner = Scanner(extensions, {name: dict(options) for name, options in configs.items()})
    assert scanner.references(_CODE_PAGE) == built


def test_a_site_that_only_fences_code_leaves_indented_code_unlexed(monkeypatch: pytest.MonkeyPatch) -> None:
    """superfences highlights fenced code only: the scanner does not switch on pymdownx's highlighting of
    indented code, which would lex it."""
    _refuse_lexing(monkeypatch)
    page = "![a](a.png)\n\n    indented = 1\n"
    assert Scanner(["pymdownx.superfences"]).references(page) == [("a.png", "img", treeprocessor.MARKDOWN)]


def test_a_site_without_pymdownx_is_scanned(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "pymdownx.highlight", None)  # not installed: importing it fails
    assert Scanner(["attr_list"]).references("![x](a.png){width=3}") == [("a.png", "img", treeprocessor.MARKDOWN)]


def test_the_scanner_takes_the_place_of_the_sites_own_reference_extension() -> None:
    """A Zensical site lists the wxcloud extension among its own: scanning must not run it."""
    called: list[treeprocessor.Reference] = []
    scanner = Scanner([treeprocessor.ImageExtension(lambda reference, page: called.append(reference))])
    assert scanner.references("![x](a.png)") == [("a.png", "img", treeprocessor.MARKDOWN)]
    assert called == []


# -- the tokenizer and the element tree ----------------------------------------------------------


def test_a_markdown_url_is_collected_without_its_backslash_escapes() -> None:
    make = markdown_factory([])
    assert [r.url for r in treeprocessor.collect(make, r"![x](a\_b.png) ![y](<c\_d\>.png>) [z](e\*f.pdf)")] == [
        "a_b.png", "c_d>.png", "e*f.pdf",
    ]  # fmt: skip


def test_nothing_ends_a_plaintext_element() -> None:
    page = '<plaintext style="background:url(p.png)"><img src=a.png></plaintext><img src=b.png>'
    assert _refs(page) == [("p.png", "plaintext", "style")]


@pytest.mark.parametrize(
    "srcset",
    [
        ",a.png 1x, ,b.png 2x",  # commas and spaces before a URL are skipped
        "a.png x((1),2), b.png 2x",  # a comma inside a descriptor's parentheses, however deep, ends nothing
        "a.png x(1)), b.png 2x",  # a parenthesis closed once too often is no deeper than none
    ],
)
def test_a_srcset_is_split_as_the_html_parser_splits_it(srcset: str) -> None:
    assert [r.url for r in scan_html(f'<img srcset="{srcset}">').references] == ["a.png", "b.png"]


def test_a_new_url_written_unquoted_escapes_only_its_white_space() -> None:
    page = "<img src=a.png><img src=b.png>"
    new = {"a.png": "X Y.png", "b.png": "https://c.example/X\tY.png?a=1&b=2"}
    assert rewrite(page, scan_html(page).references, lambda r: new[r.url]) == (
        "<img src=X&#32;Y.png><img src=https://c.example/X&#9;Y.png?a=1&amp;b=2>"
    )


def test_an_attr_list_value_is_read_with_the_entities_python_markdown_keeps_aside() -> None:
    """Inline patterns stash each entity of an ``attr_list`` value; the page shows it as written."""
    source = "![x](a.png){srcset='b&amp;c.png 2x, d&amp;amp;e.png 3x' style='background:url(&quot;g.png&quot;)'}"
    assert treeprocessor.collect(markdown_factory(["attr_list"]), source) == [
        ("a.png", "img", treeprocessor.MARKDOWN), ("b&c.png", "img", treeprocessor.TREE),
        ("d&amp;e.png", "img", treeprocessor.TREE), ("g.png", "style", treeprocessor.TREE),
    ]  # fmt: skip
    new = {"b&c.png": "https://c.example/b.png?x=1&y=2"}
    md = markdown.Markdown(extensions=["attr_list", treeprocessor.ImageExtension(lambda ref, page: new.get(ref.url))])
    assert md.convert(source) == (
        '<p><img alt="x" src="a.png" srcset="https://c.example/b.png?x=1&amp;y=2 2x, d&amp;amp;e.png 3x" '
        'style="background:url(&quot;g.png&quot;)" /></p>'
    )


# -- raw HTML --------------------------------------------------------------------------------------


def test_raw_images_without_a_size_get_the_size_of_the_file_their_src_loads() -> None:
    page = (
        '<IMG SRC="a&amp;b.png"><img src="a&amp;b.png" Width=5><img src=a&amp;b.png HEIGHT=5>'
        '<video src="a&amp;b.png"></video><img srcset="a&amp;b.png"><img src="c.png"><img src=a&amp;b.png />'
        '<img src="a&amp;b.png" width><img src=a&amp;b.png alt=x />'  # a width without a value is one
    )
    asked: list[str] = []

    def sized(src: str) -> dict[str, str] | None:
        asked.append(src)
        return {"width": "3", "height": "2"} if src == "a&b.png" else None

    assert rawhtml.rewrite_html(page, lambda url, tag: None, sized) == (
        '<IMG SRC="a&amp;b.png" width="3" height="2"><img src="a&amp;b.png" Width=5><img src=a&amp;b.png HEIGHT=5>'
        '<video src="a&amp;b.png"></video><img srcset="a&amp;b.png"><img src="c.png">'
        '<img src=a&amp;b.png width="3" height="2" /><img src="a&amp;b.png" width>'
        '<img src=a&amp;b.png alt=x width="3" height="2" />'
    )
    assert asked == ["a&b.png", "c.png", "a&b.png", "a&b.png"]
    assert rawhtml.rewrite_html("<img src=a.png>", lambda url, tag: None, lambda src: {"title": 'a "b"'}) == (
        '<img src=a.png title="a &quot;b&quot;">'
    )


def test_a_raw_attribute_gets_a_new_url_written_as_its_quotes_need_and_one_without_a_value_none() -> None:
    page = "<img src=a.png><img src='b.png'><img src alt=x><img src=\"\">"
    page += '<p style="background:url(c.png)"><p style="background:url(\'d.png\')">'  # and as CSS needs
    assert rawhtml.rewrite_html(page, lambda url, tag: "x y.png") == (
        "<img src=x&#32;y.png><img src='x y.png'><img src alt=x><img src=\"x y.png\">"
        '<p style="background:url(x\\ y.png)"><p style="background:url(\'x y.png\')">'
    )


class _StashedElement(Treeprocessor):
    """An extension that keeps an element aside in the stash (its type allows it), as md_in_html may,
    and adds a video to the tree."""

    def run(self, root: etree.Element) -> None:
        kept = etree.Element("p")
        etree.SubElement(kept, "img", src="s&amp;t.png")
        etree.SubElement(root, "p").text = self.md.htmlStash.store(kept)
        etree.SubElement(root, "video", src="v.mp4")


class _StashedElementExtension(Extension):
    def extendMarkdown(self, md: markdown.Markdown) -> None:  # noqa: N802 - Markdown API
        md.treeprocessors.register(_StashedElement(md), "stashed-element", 30)


def test_every_image_is_sized_for_its_page_in_the_tree_in_raw_html_and_in_stashed_elements() -> None:
    asked: list[tuple] = []
    new = {"a.png": "https://c.example/a.png", "s&t.png": "https://c.example/s.png"}

    def replace(reference: treeprocessor.Reference, page: object) -> str | None:
        asked.append((*reference, page))
        return new.get(reference.url)

    def sized(src: str, where: str, page: object) -> dict[str, str]:
        asked.append((src, where, page))
        return {"width": "3", "height": "2"}

    extension = treeprocessor.ImageExtension(replace, enter=lambda md: "page.md", sized=sized)
    md = markdown.Markdown(extensions=["attr_list", "md_in_html", _StashedElementExtension(), extension])
    source = '![x](a.png) ![w](w.png){width="5"} ![h](h.png){height="4"} ![s](x.png){src="s&amp;u.png"}'
    assert md.convert(f'{source} <img src="b&amp;c.png">') == (
        '<p><img alt="x" height="2" src="https://c.example/a.png" width="3" /> <img alt="w" src="w.png" width="5" /> '
        '<img alt="h" height="4" src="h.png" /> <img alt="s" height="2" src="s&amp;u.png" width="3" /> '
        '<img src="b&amp;c.png" width="3" height="2"></p>\n'
        '<p><img height="2" src="https://c.example/s.png" width="3" /></p>\n'
        '<video src="v.mp4"></video>'
    )
    # a video is not sized; the stash in its order: the element was kept aside before the inline HTML
    assert asked == [
        ("a.png", "img", treeprocessor.MARKDOWN, "page.md"), ("a.png", treeprocessor.MARKDOWN, "page.md"),
        ("w.png", "img", treeprocessor.MARKDOWN, "page.md"), ("h.png", "img", treeprocessor.MARKDOWN, "page.md"),
        ("s&u.png", "img", treeprocessor.MARKDOWN, "page.md"), ("s&u.png", treeprocessor.MARKDOWN, "page.md"),
        ("v.mp4", "video", treeprocessor.TREE, "page.md"),
        ("s&t.png", "img", treeprocessor.RAW, "page.md"), ("s&t.png", treeprocessor.RAW, "page.md"),
        ("b&c.png", "img", treeprocessor.RAW, "page.md"), ("b&c.png", treeprocessor.RAW, "page.md"),
    ]  # fmt: skip
