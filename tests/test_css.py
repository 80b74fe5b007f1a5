"""CSS ``url(…)`` as CSS reads it (issue #23): escapes decoded, linear in the text, and
``exclude_uploaded`` keeping a file that a stylesheet loads through an escaped name."""

from __future__ import annotations

from pathlib import Path

import pytest

from mkdocs_wxcloud.hosts.mkdocs.exclude import unmentioned
from mkdocs_wxcloud.references import css


@pytest.mark.parametrize(("text", "urls"), [
    (r"a{background:url(../img/bg\ \(1\).png)}", ["../img/bg (1).png"]),
    (r"a{background:url( ../img/\62 g.png )}", ["../img/bg.png"]),  # a hex escape eats one space
    (r"a{background:url(\31 23456.png)}", ["123456.png"]),
    (r"a{background:url(\00003a.png)}", [":.png"]),  # six hex digits at most: the 'a' of '.png' is not one
    (r'a{background:url("b\"c.png")}', ['b"c.png']),
    ("a{background:url('b\\\nc.png')}", ["bc.png"]),  # a backslash-newline continues a string
    (r"a{background:url(\0.png)}", ["\ufffd.png"]),  # code point zero
    (r"a{background:url(\110000.png)}", ["\ufffd.png"]),  # beyond Unicode
    ("a{background:url(b\\\nc.png)} d{background:url(e.png)}", ["e.png"]),  # a bad url is skipped whole
    ("a{background:url(b(c.png)} d{background:url(e.png)}", ["e.png"]),
])  # fmt: skip
def test_css_escapes_are_decoded(text: str, urls: list[str]) -> None:
    assert [url for url, _, _ in css.references(text)] == urls


def test_rewriting_replaces_the_whole_escaped_url_and_escapes_what_it_writes() -> None:
    text = r"a{background:url(../img/bg\ \(1\).png) no-repeat} b{background:url('x.png')}"
    seen: list[str] = []

    def replace(url: str) -> str:
        seen.append(url)
        return {"../img/bg (1).png": "https://c.example/bg.png", "x.png": "https://c.example/it's.png"}[url]

    assert css.rewrite_css(text, replace) == (
        r"a{background:url(https://c.example/bg.png) no-repeat} b{background:url('https://c.example/it\'s.png')}"
    )
    assert seen == ["../img/bg (1).png", "x.png"]
    assert css.rewrite_css(text, lambda url: url) == (
        r"a{background:url(../img/bg\ \(1\).png) no-repeat} b{background:url('x.png')}"
    )


@pytest.mark.parametrize(("url", "quote"), [("a b(1).png", ""), ('a"b\\c\n.png', '"'), ("it's.png", "'")])
def test_escape_round_trips(url: str, quote: str) -> None:
    text = f"x{{background:url({quote}{css.escape(url, quote)}{quote})}}"
    assert [u for u, _, _ in css.references(text)] == [url]


class _CountingStr(str):
    """A text that counts the characters copied out of it by slicing."""

    copied = 0

    def __getitem__(self, key):  # noqa: ANN001, ANN204
        piece = str.__getitem__(self, key)
        _CountingStr.copied += len(piece)
        return piece


@pytest.mark.parametrize("encoded", [False, True])
def test_scanning_is_linear_in_escaped_quotes(encoded: bool) -> None:
    """A 1.6 MB stylesheet of escaped quotes took 16 s: each quote rescanned the string from its start.
    Now no character of the text is copied more than a bounded number of times."""
    quote = "&quot;" if encoded else '"'
    body = (f"\\{quote}" * 20_000) if not encoded else ("\\&quot;" * 20_000)
    text = f".a{{content:{quote}{body}{quote}}}.b{{background:url(b.png)}}" + ".c{background:url(c.png)}" * 2_000
    _CountingStr.copied = 0
    found = css.url_spans(_CountingStr(text), encoded=encoded)
    assert len(found) == 2_001
    assert _CountingStr.copied <= 2 * len(text)


def test_exclude_uploaded_keeps_a_file_a_stylesheet_loads_through_css_escapes(tmp_path: Path) -> None:
    (tmp_path / "img").mkdir()
    (tmp_path / "css").mkdir()
    kept, gone = tmp_path / "img" / "bg (1).png", tmp_path / "img" / "other.png"
    kept.write_bytes(b"png")
    gone.write_bytes(b"png")
    (tmp_path / "css" / "extra.css").write_text(r".hero{background:url(../img/bg\ \(1\).png)}", encoding="utf-8")
    (tmp_path / "index.html").write_text("<p>nothing here</p>", encoding="utf-8")
    assert unmentioned(tmp_path, [kept, gone]) == [gone]


def test_exclude_uploaded_reads_hex_escapes_too(tmp_path: Path) -> None:
    image = tmp_path / "图.png"
    image.write_bytes(b"png")
    (tmp_path / "extra.css").write_text(r".a{background:url(\56fe .png)}", encoding="utf-8")
    assert unmentioned(tmp_path, [image]) == []
