"""The references of built pages and stylesheets (issue #20), and text-only elements (issue #23).

What the browser would load or follow is found, with the exact span of each URL as written; what
the browser reads as text (scripts, comments, ``<textarea>``, escaped code) never is; rewriting
changes those spans only, and decoding a file's bytes and encoding them back changes no byte.
"""

from __future__ import annotations

from html.parser import HTMLParser

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mkdocs_wxcloud.references import rawhtml
from mkdocs_wxcloud.references.charset import EncodingError, decode_css, decode_html
from mkdocs_wxcloud.references.htmlpage import Reference, rewrite, scan_css, scan_html
from mkdocs_wxcloud.references.tokenizer import TAGS, start_tags, unescape


def _found(text: str) -> list[tuple[str, str, str, str]]:
    """(url, tag, attribute, the URL as written) of each reference."""
    return [(r.url, r.tag, r.attribute, text[r.start : r.end]) for r in scan_html(text).references]


@pytest.mark.parametrize(("text", "expected"), [
    ('<img src="a.png">', [("a.png", "img", "src", "a.png")]),
    ("<IMG SRC=a.png ALT=x>", [("a.png", "img", "src", "a.png")]),
    ("<img\nsrc = 'a b.png'\n/>", [("a b.png", "img", "src", "a b.png")]),
    ('<img src="a.png?x=1&amp;y=2">', [("a.png?x=1&y=2", "img", "src", "a.png?x=1&amp;y=2")]),
    ('<img src="&#97;.png">', [("a.png", "img", "src", "&#97;.png")]),
    ('<a href="f.pdf?a=1&copy=2">', [("f.pdf?a=1&copy=2", "a", "href", "f.pdf?a=1&copy=2")]),  # no ©
    ('<img alt="x > y" src="a.png">', [("a.png", "img", "src", "a.png")]),
    ('<img srcset="a.png 1x, b,c.png 2x" src=d.png>',
     [("a.png", "img", "srcset", "a.png"), ("b,c.png", "img", "srcset", "b,c.png"), ("d.png", "img", "src", "d.png")]),
    ('<picture><source srcset="a.avif" type="image/avif"><img src="a.png"></picture>',
     [("a.avif", "source", "srcset", "a.avif"), ("a.png", "img", "src", "a.png")]),
    ('<video src="v.mp4" poster="p.png"><track src="t.vtt"></video><audio src="s.mp3"></audio>',
     [("v.mp4", "video", "src", "v.mp4"), ("p.png", "video", "poster", "p.png"), ("t.vtt", "track", "src", "t.vtt"),
      ("s.mp3", "audio", "src", "s.mp3")]),
    ('<object data="d.svg"></object><embed src="e.swf">',
     [("d.svg", "object", "data", "d.svg"), ("e.swf", "embed", "src", "e.swf")]),
    ('<input type="IMAGE" src="i.png"><input type="text" src="no.png">', [("i.png", "input", "src", "i.png")]),
    ('<link rel="shortcut icon" href="f.ico"><link rel=apple-touch-icon href=t.png><link rel=stylesheet href=s.css>'
     '<link rel=preload as=image href=p.png imagesrcset="p2.png 2x"><link rel=preload as=font href=f.woff2>',
     [("f.ico", "link", "href", "f.ico"), ("t.png", "link", "href", "t.png"), ("p.png", "link", "href", "p.png"),
      ("p2.png", "link", "imagesrcset", "p2.png")]),
    ('<a href="#top">x</a><a href="">y</a><a href="../guide/">z</a>', [("../guide/", "a", "href", "../guide/")]),
    ('<div style="background:url(&quot;b g.png&quot;)">', [("b g.png", "div", "style", "b g.png")]),
    (r'<p style="background:url(a\ \(1\).png)">', [("a (1).png", "p", "style", r"a\ \(1\).png")]),
    ("<style>/* url(c.png) */ .x{background:url('s.png')} .y{content:\"url(t.png)\"}</style>",
     [("s.png", "style", "", "s.png")]),
    # text, never references
    ('<!-- <img src="c.png"> --><!--> <img src="d.png"><!-- x --!> <img src="e.png">',
     [("d.png", "img", "src", "d.png"), ("e.png", "img", "src", "e.png")]),
    ("<script>var s = '<img src=\"j.png\">'; if (a<b) {}</script><img src=k.png>", [("k.png", "img", "src", "k.png")]),
    ('<SCRIPT type="module">"</script >"</SCRIPT><img src=k.png>', [("k.png", "img", "src", "k.png")]),
    ("<textarea><img src=t.png></textarea><TITLE><img src=u.png></TITLE><xmp><img src=x.png></xmp>"
     "<noembed><img src=n.png></noembed><noframes><img src=f.png></noframes>", []),
    ('<pre><code><span class="p">&lt;</span>img src=<span class="s">"c.png"</span>&gt;</code></pre>', []),
    ('<p>a &lt;img src="e.png"&gt; b</p>', []),
    ("<plaintext><img src=p.png>", []),
    ('<img src="a.png"', []),  # unfinished: no tag
    ('<img alt="open src=a.png>', []),
    ("</p title='<img src=q.png>'><img src=r.png>", [("r.png", "img", "src", "r.png")]),
    ("<![CDATA[<img src=c.png>]]><?php <img src=d.png> ?>", []),
])  # fmt: skip
def test_references_of_a_page(text: str, expected: list[tuple[str, str, str, str]]) -> None:
    assert _found(text) == expected


def test_base_href_is_reported_not_rewritten() -> None:
    scan = scan_html(
        '<head><BASE HREF="https://x.example/docs/?a=1&amp;b=2"><base href="/other/"></head><img src=a.png>'
    )
    assert scan.base == "https://x.example/docs/?a=1&b=2"  # the first one counts
    assert [r.url for r in scan.references] == ["a.png"]
    assert scan_html("<img src=a.png>").base is None


def test_the_element_tree_of_a_material_page_is_read_as_the_browser_reads_it() -> None:
    page = (
        '<!doctype html><html lang="zh"><head><meta charset="utf-8"><title>指南 &lt;img&gt;</title>'
        '<link rel="icon" href="../assets/images/favicon.png"><style>:root{--md-admonition-icon--note:'
        "url('data:image/svg+xml;charset=utf-8,<svg/>')}</style>"
        '<script>__md_scope=new URL("..",location)</script></head><body>'
        '<nav><a href="../" class="md-nav__link">首页</a><a href="./#intro">引言</a></nav>'
        '<div class="highlight"><pre><span></span><code><a id="__codelineno-0-1" name="__codelineno-0-1" '
        'href="#__codelineno-0-1"></a><span class="n">img</span> <span class="o">=</span> '
        '<span class="s2">&quot;&lt;img src=x.png&gt;&quot;</span>\n</code></pre></div>'
        '<p><img alt="图" src="../img/%E5%9B%BE.png" loading="lazy"></p>'
        '<script id="__config" type="application/json">{"img": "<img src=\\"y.png\\">"}</script></body></html>'
    )
    assert _found(page) == [
        ("../assets/images/favicon.png", "link", "href", "../assets/images/favicon.png"),
        ("data:image/svg+xml;charset=utf-8,<svg/>", "style", "", "data:image/svg+xml;charset=utf-8,<svg/>"),
        ("../", "a", "href", "../"),
        ("./#intro", "a", "href", "./#intro"),
        ("../img/%E5%9B%BE.png", "img", "src", "../img/%E5%9B%BE.png"),
    ]


def test_rewriting_changes_the_urls_only_and_writes_them_as_their_place_needs() -> None:
    text = (
        "<P>x</P>\r\n<IMG SRC=a.png ALT='it''s'>&nbsp;<img src=\"b.png?x&amp;y\">"
        "<div style='background:url(&quot;c d.png&quot;)'></div><style>.a{background:url(e\\ f.png)}</style>"
        "<img srcset='g.png 1x,h.png 2x'>"
    )
    new = {
        "a.png": "https://c.example/a b.png",
        "b.png?x&y": 'https://c.example/b.png?x&y="1"',
        "c d.png": "https://c.example/it's.png",
        "e f.png": "https://c.example/(e).png",
        "h.png": "https://c.example/h.png",
    }
    out = rewrite(text, scan_html(text).references, lambda r: new.get(r.url))
    assert out == (
        "<P>x</P>\r\n<IMG SRC=https://c.example/a&#32;b.png ALT='it''s'>&nbsp;"
        '<img src="https://c.example/b.png?x&amp;y=&quot;1&quot;">'
        "<div style='background:url(&quot;https://c.example/it&#x27;s.png&quot;)'></div>"
        "<style>.a{background:url(https://c.example/\\(e\\).png)}</style>"
        "<img srcset='g.png 1x,https://c.example/h.png 2x'>"
    )
    assert [r.url for r in scan_html(out).references] == [new.get(u, u) for u in
                                                          ["a.png", "b.png?x&y", "c d.png", "e f.png", "g.png", "h.png"]]  # fmt: skip


def test_a_stylesheet_with_escapes_and_comments() -> None:
    text = '/* url(no.png) */\n.a{background:URL( "a\\"b.png" )}\n.b{mask:url(c\\2e png)}\n.c{content:\'url(no2.png)\'}'
    refs = scan_css(text)
    assert [(r.url, text[r.start : r.end], r.css_quote) for r in refs] == [
        ('a"b.png', 'a\\"b.png', '"'),
        ("c.png", "c\\2e png", ""),
    ]
    assert rewrite(text, refs, lambda r: r.url.upper()) == text.replace('a\\"b.png', 'A\\"B.PNG').replace(
        "c\\2e png", "C.PNG"
    )


# -- bytes ---------------------------------------------------------------------------------------


def test_a_page_in_its_declared_charset_is_rewritten_byte_for_byte() -> None:
    data = (
        '<html><head><meta http-equiv="Content-Type" content="text/html; charset=gb2312">'
        '<title>图片</title></head><body><p>说明</p><img src="图/示意图.png" alt="图"></body></html>'
    ).encode("gb18030")
    page = decode_html(data, "docs/index.html")
    assert page.encoding == "gb18030"
    refs = scan_html(page.text).references
    assert [r.url for r in refs] == ["图/示意图.png"]
    out = page.encode(rewrite(page.text, refs, lambda r: "https://c.example/x.png"))
    assert out == data.replace("图/示意图.png".encode("gb18030"), b"https://c.example/x.png")
    assert (
        decode_html(b'<meta charset="windows-1252"><p>caf\xe9</p>', "p.html").text
        == '<meta charset="windows-1252"><p>café</p>'
    )


@pytest.mark.parametrize(("data", "encoding", "text"), [
    (b"\xef\xbb\xbf<p>\xe4\xb8\xad</p>", "utf-8", "<p>中</p>"),
    ("<p>中</p>".encode("utf-16-le").join([b"\xff\xfe", b""]), "utf-16-le", "<p>中</p>"),
    (b"<!-- <meta charset=latin1> --><p>\xe4\xb8\xad</p>", "utf-8", "<!-- <meta charset=latin1> --><p>中</p>"),
    (b'<meta charset="no-such-thing"><p>\xe4\xb8\xad</p>', "utf-8", '<meta charset="no-such-thing"><p>中</p>'),
])  # fmt: skip
def test_byte_order_marks_and_declarations(data: bytes, encoding: str, text: str) -> None:
    page = decode_html(data, "p.html")
    assert (page.encoding, page.text) == (encoding, text)
    assert page.encode(page.text) == data


def test_an_undecodable_page_is_one_error_saying_what_to_do() -> None:
    with pytest.raises(EncodingError) as error:
        decode_html(b"<p>\xff\xfe\xfd broken</p>", "site/a/index.html")
    assert str(error.value) == (
        "site/a/index.html: byte 3 is not utf-8 text; save the file as UTF-8 or declare its encoding "
        "(<meta charset> in a page, @charset in a stylesheet)"
    )


def test_a_stylesheet_declares_its_charset_with_at_charset() -> None:
    data = '@charset "gbk";\n.a{background:url(图.png)}'.encode("gb18030")
    sheet = decode_css(data, "css/extra.css")
    assert [r.url for r in scan_css(sheet.text)] == ["图.png"]
    assert sheet.encode(sheet.text) == data


# -- never a crash, never a changed byte ------------------------------------------------------------

_PIECES = st.sampled_from([
    "<", ">", "/", "=", '"', "'", " ", "\n", "&", "&amp;", "&quot;", "#", "--", "!", "?", "<!--", "-->", "</",
    "img", "IMG", "src", "srcset", "a", "href", "style", "url(", ")", "\\", "script", "textarea", "title",
    "a.png", "b c.png", "1x,", "中", "\r\n", "<![CDATA[", "plaintext", "link", "rel=icon", "base",
])  # fmt: skip


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(_PIECES | st.text(max_size=3), max_size=40).map("".join))
def test_any_text_is_read_without_error_and_the_identity_changes_nothing(text: str) -> None:
    scan = scan_html(text)
    for reference in scan.references:
        assert 0 <= reference.start <= reference.end <= len(text)
    assert rewrite(text, scan.references, lambda r: r.url) == text
    assert rewrite(text, scan.references, lambda r: None) == text
    assert rawhtml.rewrite_html(text, lambda url, tag: None) == text
    # every reference, rewritten, reads back as what it was rewritten to
    marked = rewrite(text, scan.references, lambda r: f"https://c.example/{r.start}.png")
    assert len(scan_html(marked).references) == len(scan.references)


def test_an_attribute_with_an_empty_value_is_one_attribute() -> None:
    assert _found("<img alt= src=a.png>") == []  # alt's value is "src=a.png"
    assert _found("<img alt=\n src=a.png>") == []
    assert _found("<img alt src=a.png>") == [("a.png", "img", "src", "a.png")]


def test_reference_is_a_plain_tuple_the_caller_can_keep() -> None:
    (reference,) = scan_html("<img src='a&amp;b.png'>").references
    assert reference == Reference("a&b.png", 10, 21, "img", "src", "'", None)
    assert unescape("&lt;&gt&notit;&amp=x") == "<>&notit;&amp=x"


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=200) | st.lists(_PIECES, max_size=30).map(lambda p: "".join(p).encode("utf-8")))
def test_any_bytes_decode_to_an_error_or_back_to_themselves(data: bytes) -> None:
    try:
        page = decode_html(data, "p.html")
    except EncodingError as error:
        assert str(error).startswith("p.html: ") and "\n" not in str(error)
        return
    assert page.encode(rewrite(page.text, scan_html(page.text).references, lambda r: r.url)) == data


_VALUES = st.text(alphabet=st.sampled_from(list("ab .png/<>=\"'`#中\n")), max_size=8)


@st.composite
def _tags(draw: st.DrawFn) -> tuple[str, list[tuple[str, str]], str]:
    name = draw(st.sampled_from(["img", "IMG", "a", "source", "video", "span", "div"]))
    attributes = draw(st.lists(st.tuples(st.sampled_from(["src", "SRC", "href", "alt", "data-x", "poster"]), _VALUES),
                               max_size=4))  # fmt: skip
    written = []
    for attribute, value in attributes:
        if '"' not in value:
            written.append(f'{attribute}="{value}"')
        elif "'" not in value:
            written.append(f"{attribute}='{value}'")
        else:
            bare = (
                "".join(ch for ch in value if ch in "ab.png/#中") or "x"
            )  # what html.parser reads as the standard does
            written.append(f"{attribute}={bare}")
    spaces = draw(st.sampled_from([" ", "\n", "  ", "\t"]))
    return name, attributes, f"<{name}{''.join(spaces + w for w in written)}>"


class _Standard(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=False)
        self.tags: list[tuple[str, list[tuple[str, str | None]]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:  # type: ignore[override]
        self.tags.append((tag, attrs))


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(_tags(), st.sampled_from(["", "text", " > ", "</p>", "<br/>", "&lt;img src=x&gt;"])),
                max_size=6))  # fmt: skip
def test_well_formed_tags_are_read_as_the_standard_parser_reads_them(parts: list) -> None:  # noqa: ANN001
    text = "".join(tag[2] + between for tag, between in parts)
    standard = _Standard()
    standard.feed(text)
    standard.close()
    in_page = lambda t, a: t == "a" and all(v is not None and v.startswith("#") for n, v in a if n == "href")  # noqa: E731
    expected = [(t, [(n, v or "") for n, v in a]) for t, a in standard.tags if t in TAGS and not in_page(t, a)]
    ours = [(t.name, [(a.name, text[a.start : a.end]) for a in t.attributes]) for t in start_tags(text)]
    assert ours == expected
