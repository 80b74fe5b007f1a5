"""Reference finding (issue #3): exactly the local images the rendered page shows are rewritten.

The oracle (tests/oracle.py): a page rendered as written and rendered after the plugin, or after
``rewrite``, must be the same HTML except that each local image URL (``<img src>``, ``srcset``
entries, ``<source srcset>``, ``<a href>`` to an image file) now is the cloud URL of its file with
the original ``?query#fragment``. It is checked on the corpus (tests/corpus/), on a real MkDocs
build against the emulator, and on generated pages (hypothesis).
"""

from __future__ import annotations

import hashlib
import logging
import posixpath
import re
import shutil
from collections import Counter
from pathlib import Path
from urllib.parse import quote, unquote, urlsplit

import markdown
import pytest
import requests
import yaml
from conftest import build, emulator_options
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from oracle import ASSETS, Oracle, load_extensions, source_edits

from mkdocs_wxcloud.emulator import Emulator
from mkdocs_wxcloud.hosts.markdown.runs import close_all
from mkdocs_wxcloud.manifest.model import read as read_manifest
from mkdocs_wxcloud.manifest.schema import is_web_url
from mkdocs_wxcloud.references.css import url_spans
from mkdocs_wxcloud.references.rawhtml import rewrite_html, srcset_spans
from mkdocs_wxcloud.references.sourcemap import rewrite_source
from mkdocs_wxcloud.references.treeprocessor import ImageExtension, collect, markdown_factory
from mkdocs_wxcloud.references.urls import Target, resolve, with_suffix

CORPUS = Path(__file__).resolve().parent / "corpus"
DOCS = CORPUS / "docs"
EXTENSIONS, EXTENSION_CONFIGS = load_extensions(CORPUS / "extensions.yml")
EXPECTED: dict[str, dict] = yaml.safe_load((CORPUS / "expected.yml").read_text(encoding="utf-8"))
ALL_FILES = sorted(p.relative_to(DOCS).as_posix() for p in DOCS.rglob("*") if p.is_file())
PAGES = [f for f in ALL_FILES if f.endswith(".md")]
IMAGES = [f for f in ALL_FILES if not f.endswith(".md")]
MAKE = markdown_factory(EXTENSIONS, EXTENSION_CONFIGS)


def fake_cloud_url(path: str) -> str:
    """A URL-safe stand-in for the cloud URL of a docs file (distinct per path)."""
    return (
        f"https://cdn.example.com/{hashlib.sha256(path.encode()).hexdigest()[:20]}{posixpath.splitext(path)[1].lower()}"
    )


# every non-page file of the corpus "is uploaded"; pages themselves are never image targets
FAKE_CLOUD = {path: fake_cloud_url(path) for path in IMAGES}


def read(page: str) -> str:
    """The page as MkDocs reads it: UTF-8, byte order mark dropped, line endings kept."""
    return (DOCS / page).read_bytes().decode("utf-8-sig")


def render(text: str, *extra: object) -> str:
    return markdown.Markdown(extensions=[*EXTENSIONS, *extra], extension_configs=EXTENSION_CONFIGS).convert(text)


def expected_counts(page: str) -> tuple[Counter, list[str]]:
    entry = dict(EXPECTED[page] or {})
    missing = entry.pop("missing", [])
    return Counter(entry), sorted(missing)


def replaced_paths(oracle: Oracle, verdict) -> Counter:  # noqa: ANN001
    """The docs paths of the URLs the oracle saw replaced, counted once per occurrence."""
    return Counter(oracle.target(before, tag).path for tag, before, _ in verdict.replaced)


# =================================================================================================
# The corpus
# =================================================================================================


def test_corpus_expectations_cover_every_page() -> None:
    assert sorted(EXPECTED) == PAGES
    for page in PAGES:
        counts, _ = expected_counts(page)
        assert all(path in FAKE_CLOUD for path in counts), page


@pytest.mark.parametrize("page", PAGES)
def test_collect_finds_exactly_the_expected_images(page: str) -> None:
    found: Counter = Counter()
    missing: list[str] = []
    for url, tag, _raw in collect(MAKE, read(page)):
        target = resolve(url, page)
        if target is None or not ASSETS.publishes(target.path, tag):
            continue
        if (DOCS / target.path).is_file() and not target.escapes:
            found[target.path] += 1
        else:
            missing.append(url)
    counts, expected_missing = expected_counts(page)
    assert found == counts
    assert sorted(missing) == expected_missing


@pytest.mark.parametrize("page", PAGES)
def test_plugin_path_changes_only_local_image_urls(page: str) -> None:
    text = read(page)
    oracle = Oracle(page, FAKE_CLOUD)
    verdict = oracle.compare(
        render(text), render(text, ImageExtension(lambda ref, page: oracle.replace(ref.url, ref.tag)))
    )
    assert verdict.ok, str(verdict)
    assert replaced_paths(oracle, verdict) == expected_counts(page)[0]


@pytest.mark.parametrize("page", PAGES)
def test_rewrite_path_changes_only_local_image_urls(page: str) -> None:
    text = read(page)
    oracle = Oracle(page, FAKE_CLOUD)
    rewritten = rewrite_source(text, MAKE, oracle.replace, page)
    verdict = oracle.compare(render(text), render(rewritten))
    assert verdict.ok, str(verdict)
    assert replaced_paths(oracle, verdict) == expected_counts(page)[0]
    # the source changed only where a referenced URL was written, into its cloud URL
    urls = [url for url, _, _ in collect(MAKE, text)]
    edits = source_edits(text, rewritten, lambda url: oracle.expected(url, "img"), urls)
    assert not isinstance(edits, str), edits
    assert (len(edits) > 0) == (rewritten != text)
    # a rewritten page has nothing left to rewrite
    assert rewrite_source(rewritten, MAKE, oracle.replace, page) == rewritten


@pytest.mark.parametrize(
    "text",
    [
        # the angle-brackets.md case, reduced: a definition that is not one
        "![a](<img/with space.png>)\n\n[sp]: <img/with space.png>\n\n![sp][sp]\n",
        # in a srcset a space ends the URL: this entry is `img/with` (no such file) + a descriptor
        '<img src="img/with space.png" srcset="img/a.png 1x, img/with space.png 2x">\n',
        # `=` ends an unquoted value for Python-Markdown: the tag is text, and must stay so
        "![a](img/a.png?v=2)\n\n<img src=img/a.png?v=2>\n",
        # with pymdownx.arithmatex `\(1\)` is inline math: that src is `img/a\(1\).png`, no file
        "![a](img/a\\(1\\).png)\n\n![b](img/a(1).png)\n",
    ],
    ids=["definition", "srcset", "text-that-looks-like-a-tag", "math-in-a-path"],
)
def test_rewrite_path_when_a_marker_would_change_the_syntax(text: str) -> None:
    oracle = Oracle("index.md", FAKE_CLOUD)
    rewritten = rewrite_source(text, MAKE, oracle.replace, "index.md")
    verdict = oracle.compare(render(text), render(rewritten))
    assert verdict.ok, str(verdict)
    assert len(verdict.replaced) >= 1


def test_rewrite_keeps_crlf_and_changes_nothing_else() -> None:
    text = read("crlf.md")
    assert "\r\n" in text
    rewritten = rewrite_source(text, MAKE, Oracle("crlf.md", FAKE_CLOUD).replace, "crlf.md")
    assert rewritten.count("\r\n") == text.count("\r\n")
    assert rewritten.count("\n") == text.count("\n")
    assert FAKE_CLOUD["img/crlf-ref.png"] in rewritten  # the definition is what changes


def test_reference_definition_is_what_changes() -> None:
    page = "reference-style.md"
    text = read(page)
    rewritten = rewrite_source(text, MAKE, Oracle(page, FAKE_CLOUD).replace, page)
    # ![..][logo], ![..][LOGO] and two text links share one definition, rewritten once
    assert rewritten.count(FAKE_CLOUD["img/ref-logo.png"]) == 1
    assert f"[logo]: {FAKE_CLOUD['img/ref-logo.png']} " in rewritten
    assert "![商城 logo][logo]" in rewritten and "![商城 logo][LOGO]" in rewritten
    # the definition in indented code and the unused one stay
    assert "    [incode]: img/ref-incode.png" in rewritten
    assert "[unused]: img/ref-unused.png" in rewritten
    assert "[dup]: img/ref-dup-1.png" in rewritten  # shadowed by the last definition


# =================================================================================================
# A real MkDocs build of the corpus against the emulator
# =================================================================================================


class _Records(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@pytest.fixture(scope="module")
def corpus_builds(tmp_path_factory: pytest.TempPathFactory):  # noqa: ANN201
    """The corpus built twice (no plugin / plugin on the emulator); pages are their bare content."""
    root = tmp_path_factory.mktemp("corpus-site")
    shutil.copytree(DOCS, root / "docs")
    (root / "theme").mkdir()
    (root / "theme" / "main.html").write_text("{{ page.content }}", encoding="utf-8")
    extensions = yaml.safe_load((CORPUS / "extensions.yml").read_text(encoding="utf-8"))
    handler = _Records()
    logger = logging.getLogger("mkdocs")
    with pytest.MonkeyPatch.context() as patch, Emulator() as emu:
        for name in ("WXCLOUD_APPID", "WXCLOUD_SECRET", "WXCLOUD_ENV", "WXCLOUD_API_BASE"):
            patch.delenv(name, raising=False)
        patch.setenv("XDG_CACHE_HOME", str(root / "xdg"))
        for name, plugins in (("plain", []), ("cloud", [{"wxcloud": emulator_options(emu)}])):
            config = {
                "site_name": "corpus",
                "docs_dir": "docs",
                "site_dir": f"site-{name}",
                "use_directory_urls": False,  # built pages sit beside their sources: same relative URLs
                "theme": {"name": None, "custom_dir": "theme"},
                "markdown_extensions": extensions,
                "plugins": plugins,
            }
            path = root / f"{name}.yml"
            path.write_text(yaml.safe_dump(config, allow_unicode=True), encoding="utf-8")
            if name == "cloud":
                logger.addHandler(handler)
            try:
                build(path)
            finally:
                logger.removeHandler(handler)
        manifest = read_manifest(root / "wxcloud-manifest.yml")
        cloud = {path: entry.url for path, entry in manifest.images.items()}
        # fetch every published URL while the emulator runs: the bytes must be the local file's
        served = {}
        for path, url in cloud.items():
            answer = requests.get(url, timeout=10)
            served[path] = (answer.status_code, answer.content)
        yield {"root": root, "cloud": cloud, "served": served, "records": handler.records, "base": emu.base_url}


def _built(root: Path, site: str, page: str) -> str:
    path = root / site / (page[: -len(".md")] + ".html")
    return path.read_text(encoding="utf-8") if path.exists() else ""  # MkDocs writes no empty page


@pytest.mark.parametrize("page", PAGES)
def test_build_changes_only_local_image_urls(page: str, corpus_builds) -> None:  # noqa: ANN001
    root, cloud = corpus_builds["root"], corpus_builds["cloud"]
    oracle = Oracle(page, cloud)  # MkDocs' relative URLs resolve from the page: use_directory_urls off
    verdict = oracle.compare(_built(root, "site-plain", page), _built(root, "site-cloud", page))
    assert verdict.ok, str(verdict)
    assert replaced_paths(oracle, verdict) == expected_counts(page)[0]
    for _tag, _before, after in verdict.replaced:
        assert after.startswith(corpus_builds["base"] + "/")


def test_build_publishes_exactly_the_shown_images(corpus_builds) -> None:  # noqa: ANN001
    shown = set().union(*(expected_counts(page)[0] for page in PAGES))
    assert set(corpus_builds["cloud"]) == shown


def test_build_serves_the_local_bytes(corpus_builds) -> None:  # noqa: ANN001
    served = corpus_builds["served"]
    assert len(served) > 100
    for path, (status, content) in served.items():
        assert status == 200, path
        assert content == (DOCS / path).read_bytes(), path


@pytest.mark.parametrize("page", PAGES)
def test_extension_changes_only_local_image_urls(page: str, corpus_builds, monkeypatch) -> None:  # noqa: ANN001
    """The ``wxcloud`` Markdown extension (the Zensical host), linking from the build's manifest."""
    root, cloud = corpus_builds["root"], corpus_builds["cloud"]
    monkeypatch.chdir(root)  # outside Zensical the project is the working directory
    monkeypatch.setenv("XDG_CACHE_HOME", str(root / "xdg"))
    text = read(page)
    oracle = Oracle(page, cloud)
    config = {"wxcloud": {"manifest": "wxcloud-manifest.yml", "docs_dir": "docs", "page": page}}
    try:
        linked = markdown.Markdown(extensions=[*EXTENSIONS, "wxcloud"],
                                   extension_configs={**EXTENSION_CONFIGS, **config}).convert(text)  # fmt: skip
    finally:
        close_all()
    verdict = oracle.compare(render(text), linked)
    assert verdict.ok, str(verdict)
    assert replaced_paths(oracle, verdict) == expected_counts(page)[0]


def _wxcloud_warnings(corpus_builds) -> list[str]:  # noqa: ANN001
    return [
        r.getMessage()
        for r in corpus_builds["records"]
        if r.name.startswith("mkdocs.plugins.wxcloud") and r.levelno >= logging.WARNING
    ]


def test_build_warns_about_missing_images_with_page_and_line(corpus_builds) -> None:  # noqa: ANN001
    warnings = _wxcloud_warnings(corpus_builds)
    for prefix in ("missing.md:3: image 'img/does-not-exist.png'", "missing.md:5: image 'img/还没画.png'"):
        assert sum(w.startswith(prefix) for w in warnings) == 1, (prefix, warnings)
    assert not any("only-in-code" in w for w in warnings)


def test_build_warning_names_the_line_of_the_reference(corpus_builds) -> None:  # noqa: ANN001
    warnings = _wxcloud_warnings(corpus_builds)
    assert sum(w.startswith("titles.md:16: image 'img/title-paren.png (圆括号标题)'") for w in warnings) == 1


def test_build_warns_about_nothing_else(corpus_builds) -> None:  # noqa: ANN001
    warnings = _wxcloud_warnings(corpus_builds)
    pages = sorted({w.split(":")[0] for w in warnings})
    assert pages == ["missing.md", "titles.md"], warnings
    assert len(warnings) == 3, warnings


# =================================================================================================
# Unit tests: rawhtml.rewrite_html
# =================================================================================================


def _cdn(url: str, tag: str) -> str | None:
    """A replace callback: local URLs ending in an image extension become CDN URLs."""
    if urlsplit(url).scheme or url.startswith("//") or not ASSETS.publishes(urlsplit(url).path, tag):
        return None
    return f"https://cdn.example.com/{tag}/{quote(url, safe='/?#=&%')}"


@pytest.mark.parametrize(
    ("before", "after"),
    [
        ('<img src="a.png">', '<img src="https://cdn.example.com/img/a.png">'),
        ("<img src='a.png'>", "<img src='https://cdn.example.com/img/a.png'>"),
        ("<img src=a.png alt=x>", "<img src=https://cdn.example.com/img/a.png alt=x>"),
        ('<IMG SRC="a.png" ALT="A">', '<IMG SRC="https://cdn.example.com/img/a.png" ALT="A">'),
        ('<Img Src = "a.png"  width = 3>', '<Img Src = "https://cdn.example.com/img/a.png"  width = 3>'),
        ('<img src="a.png"/>', '<img src="https://cdn.example.com/img/a.png"/>'),
        ('<img src="a.png" />', '<img src="https://cdn.example.com/img/a.png" />'),
        ("<img src=a.png />", "<img src=https://cdn.example.com/img/a.png />"),
        # entities: the callback sees the decoded URL, the new URL is written encoded
        ('<img src="a.png?x=1&amp;y=2">', '<img src="https://cdn.example.com/img/a.png?x=1&amp;y=2">'),
        ('<img src="&#97;.png">', '<img src="https://cdn.example.com/img/a.png">'),
        # other attributes, even when they look like URLs, never change
        (
            '<img alt="src=b.png" data-src="b.png" src="a.png" title=\'<img src="c.png">\'>',
            '<img alt="src=b.png" data-src="b.png" src="https://cdn.example.com/img/a.png" title=\'<img src="c.png">\'>',
        ),
        (
            '<a href="big.png"><img src="a.png"></a>',
            '<a href="https://cdn.example.com/a/big.png"><img src="https://cdn.example.com/img/a.png"></a>',
        ),
        ('<source srcset="a.png">', '<source srcset="https://cdn.example.com/img/a.png">'),
        ('<SOURCE SRCSET="a.png 2x">', '<SOURCE SRCSET="https://cdn.example.com/img/a.png 2x">'),
        # a srcset lists images whatever their extension, as <img src> (AVIF/JXL sources of a <picture>)
        (
            '<source srcset="a.jxl" type="image/jxl">',
            '<source srcset="https://cdn.example.com/img/a.jxl" type="image/jxl">',
        ),
        # tags and attributes that name no asset a reader loads from the page
        ('<link href="a.png"><p title="a.png">a.png</p><input type="image" src="a.png">', None),
        ('<div data-src="a.png" style="color: red">', None),
        # media, embeds and styles
        (
            '<video src="a.mp4" poster="a.png"></video>',
            '<video src="https://cdn.example.com/video/a.mp4" poster="https://cdn.example.com/video/a.png"></video>',
        ),
        (
            '<audio controls><source src="a.mp3" type="audio/mpeg"><track src="a.vtt"></audio>',
            '<audio controls><source src="https://cdn.example.com/source/a.mp3" type="audio/mpeg"><track src="a.vtt"></audio>',
        ),
        (
            '<object data="a.svg"></object><embed src="a.png">',
            '<object data="https://cdn.example.com/object/a.svg"></object><embed src="https://cdn.example.com/embed/a.png">',
        ),
        (
            '<div data-src="a.png" style="background: url(a.png) no-repeat, url(\'b.png\')">',
            '<div data-src="a.png" style="background: url(https://cdn.example.com/style/a.png) no-repeat, url(\'https://cdn.example.com/style/b.png\')">',
        ),
        (
            '<p STYLE="background-image:url(&quot;a.png&quot;)">',
            '<p STYLE="background-image:url(&quot;https://cdn.example.com/style/a.png&quot;)">',
        ),
        # comments, script and style content are no tags
        (
            '<!-- <img src="a.png"> --><img src="b.png">',
            '<!-- <img src="a.png"> --><img src="https://cdn.example.com/img/b.png">',
        ),
        ('<!--\n<img src="a.png">\n-->', None),
        ("<script>const t = '<img src=\"a.png\">';</script>", None),
        ('<style>/* <img src="a.png"> */ .x { background: url(a.png) }</style>', None),
        # multi-line tags, CRLF, non-ASCII before the tag
        ('<img\r\n  src="a.png"\r\n  alt="x">', '<img\r\n  src="https://cdn.example.com/img/a.png"\r\n  alt="x">'),
        ('中文<br>\n说明 <img src="图.png">', '中文<br>\n说明 <img src="https://cdn.example.com/img/%E5%9B%BE.png">'),
        # remote and data URLs are left alone by this callback: nothing else changes either
        ('<img src="https://x.example/a.png">  <img   src = "data:image/png;base64,AA=">', None),
        # an unfinished tag is text
        ('<img src="a.png"', None),
        ("no tag at all a.png", None),
    ],
)
def test_rewrite_html(before: str, after: str | None) -> None:
    assert rewrite_html(before, _cdn) == (before if after is None else after)


@pytest.mark.parametrize(
    ("srcset", "urls", "rewritten"),
    [
        ("a.png 1x, b.png 2x", ["a.png", "b.png"], "A 1x, B 2x"),
        ("a.png 480w,b.png 800w", ["a.png", "b.png"], "A 480w,B 800w"),
        ("a.png, b.png 2x", ["a.png", "b.png"], "A, B 2x"),
        ("  a.png  ,  b.png 2x , ", ["a.png", "b.png"], "  A  ,  B 2x , "),
        ("a,b.png 1x, c.png 2x", ["a,b.png", "c.png"], "A 1x, B 2x"),  # a comma inside a URL
        ("a.png 1x,b,c.png 2x", ["a.png", "b,c.png"], "A 1x,B 2x"),
        ("https://x.example/a.png 1x, a.png 2x", ["https://x.example/a.png", "a.png"], "A 1x, B 2x"),
        ("a.png", ["a.png"], "A"),
    ],
)
def test_srcset_entries(srcset: str, urls: list[str], rewritten: str) -> None:
    assert [srcset[s:e] for s, e in srcset_spans(srcset)] == urls
    names = iter("ABCDEF")
    seen: list[str] = []

    def letter(url: str, tag: str) -> str:
        seen.append(url)
        return next(names)

    out = rewrite_html(f'<img srcset="{srcset}">', letter)
    assert out == f'<img srcset="{rewritten}">'
    assert seen == urls


@pytest.mark.parametrize(("value", "encoded", "urls"), [
    ("background: url(a.png) no-repeat, url( 'b c.png' )", False, ["a.png", "b c.png"]),
    ('content: "url(s.png)"; /* url(c.png) */ background: URL("d.png")', False, ["d.png"]),
    ("background: myurl(e.png); mask: url(f.png", False, []),  # another function; not closed
    ('background:url(&quot;g.png&quot;); --x: &quot;url(h.png)&quot;', True, ["g.png"]),
    ("content: 'it\\'s'; x: \"open\nurl(k.png)", False, ["k.png"]),  # a string ends at its line
    # an escaped quote does not end a string (minified CSS is one line: nothing after it may be lost)
    ('.a{background:url(a.png)}q::before{content:"\\""}.b{background:url(b.png)}', False, ["a.png", "b.png"]),
    ('.a{content:"x}\n.b{background:url(b.png)}\n.c{content:"y"}', False, ["b.png"]),
    ('url("open\n.b{background:url(b.png)}', False, ["b.png"]),
    ("content:&QUOT;x&QUOT;;background:url(&#X22;a.png&#x0022;)", True, ["a.png"]),  # references in any case
])  # fmt: skip
def test_css_url_spans(value: str, encoded: bool, urls: list[str]) -> None:
    assert [value[a:b] for a, b in url_spans(value, encoded=encoded)] == urls


@pytest.mark.parametrize("element", ["textarea", "TITLE", "xmp", "noembed", "noframes", "iframe", "script", "style"])
def test_rewrite_html_leaves_the_text_of_text_only_elements_alone(element: str) -> None:
    """Python's HTMLParser reads <textarea>'s content as markup; the browser reads it as text (issue #23)."""
    text = f'<{element}><img src="a.png"> <a href="b.png">b</a></{element}><img src="c.png">'
    assert rewrite_html(text, _cdn) == text.replace('"c.png"', '"https://cdn.example.com/img/c.png"')
    assert rewrite_html('<plaintext><img src="a.png"></plaintext><img src="c.png">', _cdn) == (
        '<plaintext><img src="a.png"></plaintext><img src="c.png">'
    )


def test_rewrite_html_keeps_other_entries_of_a_srcset() -> None:
    text = '<img srcset="https://x.example/a.png 1x, a.png 2x" src="a.png">'
    assert rewrite_html(text, _cdn) == (
        '<img srcset="https://x.example/a.png 1x, https://cdn.example.com/img/a.png 2x" '
        'src="https://cdn.example.com/img/a.png">'
    )


def test_rewrite_html_escapes_what_it_writes() -> None:
    new = 'https://cdn.example.com/a.png?x="1"&y=2'
    assert rewrite_html('<img src="a.png">', lambda u, t: new) == (
        '<img src="https://cdn.example.com/a.png?x=&quot;1&quot;&amp;y=2">'
    )
    assert rewrite_html("<img src='a.png'>", lambda u, t: "https://c.example/it's.png") == (
        "<img src='https://c.example/it&#x27;s.png'>"
    )


def test_rewrite_html_is_byte_identical_without_replacements() -> None:
    text = (
        "<p>\n<IMG  SRC = 'a.png'\tALT=x />&nbsp;&#160;<!-- c --><a href=b.png>b</a>"
        "<picture><source srcset='a.png 1x,  b.png   2x'></picture>\r\n</p>"
    )
    assert rewrite_html(text, lambda u, t: None) == text


# =================================================================================================
# Unit tests: urls.resolve and urls.with_suffix
# =================================================================================================


@pytest.mark.parametrize(
    ("url", "page", "target"),
    [
        ("img/a.png", "index.md", Target("img/a.png", "")),
        ("img/a.png", "sub/page.md", Target("sub/img/a.png", "")),
        ("./img/a.png", "sub/page.md", Target("sub/img/a.png", "")),
        ("../img/a.png", "sub/page.md", Target("img/a.png", "")),
        ("./../img/a.png", "sub/deeper/page.md", Target("sub/img/a.png", "")),
        ("../../img/a.png", "sub/deeper/page.md", Target("img/a.png", "")),
        ("/img/a.png", "sub/deeper/page.md", Target("img/a.png", "")),
        ("/sub/../img/a.png", "sub/page.md", Target("img/a.png", "")),
        ("../img/a.png", "index.md", Target("../img/a.png", "")),  # escapes docs_dir
        ("../../outside.png", "sub/page.md", Target("../outside.png", "")),
        ("img/with%20space.png", "index.md", Target("img/with space.png", "")),
        ("img/with space.png", "index.md", Target("img/with space.png", "")),
        ("../img/%E5%9B%BE.png", "章节/页.md", Target("img/图.png", "")),
        ("../%E5%9B%BE%E7%89%87/示意图.png", "章节/页.md", Target("图片/示意图.png", "")),
        ("配图/流程图.png", "章节/页.md", Target("章节/配图/流程图.png", "")),
        ("img/a%2Bb.png", "index.md", Target("img/a+b.png", "")),
        ("img/a+b.png", "index.md", Target("img/a+b.png", "")),  # '+' is no space in a path
        ("img/a.png?v=2", "index.md", Target("img/a.png", "?v=2")),
        ("img/a.png#only-light", "index.md", Target("img/a.png", "#only-light")),
        ("img/a.png?v=3#only-dark", "sub/p.md", Target("sub/img/a.png", "?v=3#only-dark")),
        ("img/a%3Fb.png?x", "index.md", Target("img/a?b.png", "?x")),
        ("img/a.png#", "index.md", Target("img/a.png", "#")),
        ("img/PHOTO.PNG", "index.md", Target("img/PHOTO.PNG", "")),
        (" img/a.png ", "index.md", Target("img/a.png", "")),
        # not local
        ("https://example.com/img/a.png", "index.md", None),
        ("HTTPS://EXAMPLE.COM/A.PNG", "index.md", None),
        ("http://example.com/a.png", "index.md", None),
        ("//cdn.example.com/img/a.png", "index.md", None),
        ("data:image/png;base64,iVBORw0KGgo=", "index.md", None),
        ("mailto:someone@example.com", "index.md", None),
        ("javascript:alert(1)", "index.md", None),
        ("#frag", "index.md", None),
        ("#", "index.md", None),
        ("?v=1", "index.md", None),
        ("", "index.md", None),
        ("   ", "index.md", None),
        (".", "index.md", None),
        ("./", "index.md", None),
        ("/", "sub/page.md", None),
    ],
)
def test_resolve(url: str, page: str, target: Target | None) -> None:
    assert resolve(url, page) == target


def test_resolve_escapes_flag() -> None:
    assert resolve("../a.png", "index.md").escapes
    assert resolve("..", "index.md").escapes
    assert not resolve("../a.png", "sub/index.md").escapes
    assert not resolve("..a.png", "index.md").escapes


@pytest.mark.parametrize(
    ("path", "published"),
    [
        ("a.png", True),
        ("a.PNG", True),
        ("d/a.JPeG", True),
        ("a.svg", True),
        ("a.webp", True),
        ("a.avif", True),
        ("录屏.mp4", True),
        ("a.MOV", True),
        ("a.webm", True),
        ("a.mp3", True),
        ("a.m4a", True),
        ("a.wav", True),
        ("a.md", False),
        ("a.png.md", False),
        ("png", False),
        ("a.pdf", False),
        ("a.zip", False),
        ("dir/", False),
    ],
)
def test_the_default_assets_are_what_pages_show(path: str, published: bool) -> None:
    assert ASSETS.publishes(path, "a") is published
    assert ASSETS.publishes(path, "img")  # an <img> shows an image whatever its file is called


@pytest.mark.parametrize(
    ("cloud", "suffix", "url"),
    [
        ("https://c.example/a.png", "", "https://c.example/a.png"),
        ("https://c.example/a.png", "#only-light", "https://c.example/a.png#only-light"),
        ("https://c.example/a.png", "#only-dark", "https://c.example/a.png#only-dark"),
        ("https://c.example/a.png", "?v=2", "https://c.example/a.png?v=2"),
        ("https://c.example/a.png", "?v=2#only-light", "https://c.example/a.png?v=2#only-light"),
        ("https://c.example/a.png?sign=x&t=1", "?v=2#z", "https://c.example/a.png?sign=x&t=1&v=2#z"),
        ("https://c.example/a.png?sign=x", "#only-dark", "https://c.example/a.png?sign=x#only-dark"),
        ("https://c.example/a.png", "#", "https://c.example/a.png#"),
        ("https://c.example/a.png", "?", "https://c.example/a.png"),
        # what is unsafe in Markdown destinations, attributes and srcset lists is encoded
        ("https://c.example/图 片/a(1),b.png", "", "https://c.example/%E5%9B%BE%20%E7%89%87/a%281%29%2Cb.png"),
        ("https://c.example/a%281%29.png", "", "https://c.example/a%281%29.png"),
        ("https://c.example/it's <a>.png", "", "https://c.example/it%27s%20%3Ca%3E.png"),
    ],
)
def test_with_suffix(cloud: str, suffix: str, url: str) -> None:
    assert with_suffix(cloud, suffix) == url


def test_with_suffix_output_is_safe_everywhere() -> None:
    url = with_suffix('https://c.example/图 片/it\'s (a), "b" <c>\\d.png', "?v=1#only-dark")
    assert not any(ch in url for ch in " \"'<>()\\,") and url.isascii()
    assert [url] == [url[s:e] for s, e in srcset_spans(url)]
    assert url.endswith("?v=1#only-dark")


# =================================================================================================
# The oracle itself
# =================================================================================================


def test_oracle_rejects_what_it_must() -> None:
    oracle = Oracle("index.md", {"img/a.png": "https://cdn.example.com/a.png"})
    html = '<p><img alt="x" src="img/a.png"> <a href="img/a.png#z">z</a> <img src="img/b.png"></p>'
    good = html.replace('src="img/a.png"', 'src="https://cdn.example.com/a.png"').replace(
        'href="img/a.png#z"', 'href="https://cdn.example.com/a.png#z"'
    )
    assert oracle.compare(html, good).ok
    assert len(oracle.compare(html, good).replaced) == 2
    assert not oracle.compare(html, html).ok  # nothing rewritten
    assert not oracle.compare(html, good.replace("img/b.png", "https://cdn.example.com/b.png")).ok
    assert not oracle.compare(html, good.replace('alt="x"', 'alt="y"')).ok
    assert not oracle.compare(html, good.replace("</p>", " </p>")).ok
    assert not oracle.compare(html, good.replace("a.png#z", "a.png")).ok
    code = "<pre><code>![x](img/a.png)</code></pre>"
    assert oracle.compare(code, code).ok
    assert not oracle.compare(code, code.replace("img/a.png", "https://cdn.example.com/a.png")).ok


def test_source_edits_explains_only_url_replacements() -> None:
    decide = {"img/a.png": "https://cdn.example.com/a.png"}.get
    text = '![x](img/a.png) `img/a.png` <img src="img/a.png">'
    good = text.replace("](img/a.png)", "](https://cdn.example.com/a.png)")
    assert source_edits(text, good, decide, ["img/a.png"]) == [(5, 14, "https://cdn.example.com/a.png")]
    assert isinstance(source_edits(text, good.replace("![x]", "![y]"), decide, ["img/a.png"]), str)
    assert isinstance(
        source_edits(text, good.replace("img/a.png", "https://cdn.example.com/b.png"), decide, ["img/a.png"]), str
    )


# =================================================================================================
# Property tests: generated pages
# =================================================================================================

GEN_PAGES = ["index.md", "sub/page.md", "章节/页.md"]
# existing images, some with characters that need (or may take) a backslash escape in Markdown
GEN_FILES = [
    "img/a.png",
    "img/b.png",
    "img/PHOTO.PNG",
    "img/a(1).png",
    "img/with space.png",
    "img/图.png",
    "img/e.gif",
    "img/f.svg",
    "图片/带 空格 的图.png",
    "图片/示意图.png",
    "sub/img/local.png",
    "章节/配图/流程图.png",
    "章节/配图/流程图@2x.png",
    "img/under_score.png",
    "img/paren).png",
    "img/d)x(.png",
]
GEN_MISSING = ["img/missing.png", "img/缺失.png", "sub/nope.png", "../outside.png", "img"]
GEN_REMOTE = ["https://example.com/img/a.png", "//cdn.example.com/b.png", "data:image/gif;base64,R0lGOD=="]
SUFFIXES = ["", "", "", "?v=2", "#only-light", "#only-dark", "?v=3#only-dark", "?a=1&b=2"]
TEXTS = [
    "这是一段中文说明。",
    "Plain text, nothing to see.",
    "图片路径 img/a.png 只是文字",
    "混合 mixed 文本 ![",
    "a ] b ) c",
]


def _balanced(url: str) -> bool:
    depth = 0
    for ch in url:
        depth += {"(": 1, ")": -1}.get(ch, 0)
        if depth < 0:
            return False
    return depth == 0


@st.composite
def written_url(draw, page: str, *, spaces_ok: bool) -> str:  # noqa: ANN001
    """A URL as an author writes it in ``page``: relative, ./, ../, docs-root, encoded; a suffix."""
    kind = draw(st.sampled_from(["file"] * 6 + ["missing", "remote"]))
    if kind == "remote":
        return draw(st.sampled_from(GEN_REMOTE))
    path = draw(st.sampled_from(GEN_FILES if kind == "file" else GEN_MISSING))
    style = draw(st.sampled_from(["relative", "dot", "root", "encoded"]))
    relative = posixpath.relpath(path, posixpath.dirname(page) or ".")
    url = {
        "relative": relative,
        "dot": relative if relative.startswith("../") else "./" + relative,
        "root": "/" + path,
        "encoded": quote(relative, safe="/"),
    }[style]
    if " " in url and not spaces_ok:
        url = url.replace(" ", "%20")
    return url + draw(st.sampled_from(SUFFIXES))


@st.composite
def escaped(draw, url: str) -> str:  # noqa: ANN001
    """``url`` as a Markdown inline destination: unbalanced parentheses escaped, ``_`` maybe."""
    if not _balanced(url):  # img/paren\).png; but `a\(1\)` would be arithmatex's inline math
        url = url.replace("(", "\\(").replace(")", "\\)")
    return url.replace("_", "\\_") if draw(st.booleans()) else url


@st.composite
def image(draw, page: str, definitions: list[str]) -> str:  # noqa: ANN001
    """One image (or link to an image) in one of the covered styles; may add a definition."""
    style = draw(
        st.sampled_from(
            [
                "inline",
                "title",
                "angle",
                "ref",
                "collapsed",
                "shortcut",
                "html",
                "srcset",
                "picture",
                "link",
                "thumb",
                "attr",
                "escaped-bang",
                "html-link",
                "url-in-alt",
                "attr-srcset",
                "decoys",
            ]
        )
    )
    alt = draw(st.sampled_from(["图", "alt text", "", "a [b] c"]))
    if style in ("ref", "collapsed", "shortcut"):
        label = draw(st.sampled_from(["logo", "图一", "Shot 1", "x"])) + str(len(definitions))
        url = draw(written_url(page, spaces_ok=False))  # `[id]: <a b.png>` is no definition
        if draw(st.booleans()):
            url = f"<{url}>"
        title = draw(st.sampled_from(["", ' "标题"', " 'title'", '\n    "下一行的标题"', f' "{url}"']))
        used = draw(st.sampled_from([label, label.upper(), label.lower()]))
        definitions.append(f"[{label}]: {url}{title}")
        return {"ref": f"![{alt}][{used}]", "collapsed": f"![{used}][]", "shortcut": f"![{used}]"}[style]
    if style == "html-link":
        url = draw(written_url(page, spaces_ok=True)).replace("&", "&amp;")
        return f'<A HREF="{url}">大图</A>'
    if style in ("html", "srcset", "picture"):
        quote_char = draw(st.sampled_from(['"', "'", ""]))
        # a space ends an unquoted value and separates a srcset URL from its descriptor
        url = draw(written_url(page, spaces_ok=bool(quote_char) and style == "html"))
        if quote_char and draw(st.booleans()):
            url = url.replace("&", "&amp;")
        if style == "html":
            if (
                not quote_char
            ):  # Python-Markdown shows `<img src=a.png?v=2>` as text (rewrite_source refuses such pages)
                url = re.sub(r"\?[^#]*", "", url)
            return f"<img src={quote_char}{url}{quote_char} alt={quote_char}x{quote_char}>"
        other = draw(written_url(page, spaces_ok=False))
        if style == "srcset":
            return f'<img src="{url}" srcset="{other} 1x, {url} 2x">'
        return f'<picture>\n<source srcset="{other} 800w" media="(min-width: 800px)">\n<img src="{url}">\n</picture>'
    angle = style == "angle"
    url = draw(written_url(page, spaces_ok=angle))
    if not angle:
        url = draw(escaped(url))
    dest = f"<{url}>" if angle else url
    if style == "title":
        dest += draw(st.sampled_from([' "标题"', " 'title'", ' "it\'s (x)"', f' "{url}"']))
    if style == "url-in-alt" and "\\" not in url:  # `\)…\(` across alt and URL would be math
        return f"![{url}]({dest}) [{url}]({dest})"
    if style == "link":
        return f"[查看大图]({dest})"
    if style == "thumb":
        return f"[![{alt}]({dest})]({draw(escaped(draw(written_url(page, spaces_ok=False))))})"
    if style == "escaped-bang":
        return f"\\![{alt}]({dest})"
    if style == "attr-srcset":
        other = draw(written_url(page, spaces_ok=False))
        return f'![{alt}]({dest}){{ srcset="{other} 2x" data-src="{other}" }}'
    if style == "decoys":  # shown as text or as other attributes: never rewritten
        return draw(
            st.sampled_from(
                [
                    f'&lt;img src="{url}"&gt;',
                    f'\\<img src="{url}">',
                    f'<span title="{url}" data-src="{url}">x</span>',
                    f"<!-- {url} -->",
                    f"[{url}]",
                    f"<{url}>",
                ]
            )
        )
    if style == "attr":
        return f'![{alt}]({dest}){{ width="30" }}'
    return f"![{alt}]({dest})"


def _indent(block: str, prefix: str = "    ") -> str:
    return "\n".join(prefix + line if line else "" for line in block.split("\n"))


@st.composite
def block(draw, page: str, definitions: list[str], depth: int = 0) -> str:  # noqa: ANN001
    """A block of Markdown: paragraphs with images, code, comments, math, containers."""
    kinds = ["paragraph"] * 4 + [
        "fence",
        "inline-code",
        "comment",
        "math",
        "md-in-html",
        "table",
        "footnote",
        "heading",
        "def-list",
        "attr-paragraph",
    ]
    if depth < 2:
        kinds += ["list", "quote", "admonition", "details", "tabs"]
    kind = draw(st.sampled_from(kinds))
    img = lambda: draw(image(page, definitions))  # noqa: E731
    text = lambda: draw(st.sampled_from(TEXTS))  # noqa: E731
    if kind == "paragraph":
        parts = draw(st.lists(st.sampled_from(["img", "text"]), min_size=1, max_size=4))
        return " ".join(img() if p == "img" else text() for p in parts)
    if kind == "fence":
        fence = draw(st.sampled_from(["```", "~~~", "````", "~~~~~"]))
        info = draw(st.sampled_from(["", "markdown", "html", ' { .md title="a.md" }']))
        return f"{fence}{info}\n{img()}\n{img()}\n{fence}"
    if kind == "inline-code":
        ticks = draw(st.sampled_from(["`", "``", "```"]))
        return f"{text()} {ticks}{img()}{ticks} {img()}"
    if kind == "comment":
        return draw(st.sampled_from([f"<!-- {img()} -->", f"<!--\n{img()}\n-->", f"{text()} <!-- {img()} --> {img()}"]))
    if kind == "math":
        return draw(st.sampled_from([f"$$\n{img()}\n$$", f"{text()} $x = {img()}$"]))
    if kind == "heading":
        return f"## {text()} {img()}\n\n[TOC]"
    if kind == "def-list":
        return f"术语\n:   {img()}"
    if kind == "attr-paragraph":
        return f"{img()}\n{{: .center }}"
    if kind == "md-in-html":
        return f"<div markdown>\n{img()}\n</div>"
    if kind == "table":
        return f"| 图 | 说明 |\n| --- | --- |\n| {img()} | {text()} |\n| `{img()}` | x |"
    if kind == "footnote":
        label = f"fn{len(definitions)}"
        definitions.append(f"[^{label}]: {text()} {img()}")
        return f"{text()}[^{label}]"
    inner = draw(block(page, definitions, depth + 1))
    if kind == "list":
        marker = draw(st.sampled_from(["- ", "1. ", "* "]))
        return f"{marker}{text()} {img()}\n\n{_indent(inner)}"
    if kind == "quote":
        return _indent(f"{text()}\n\n{inner}", "> ").replace("\n\n", "\n>\n")
    if kind == "admonition":
        return f'!!! note "{text()}"\n{_indent(inner)}'
    if kind == "details":
        return f"??? tip\n{_indent(inner)}"
    return f'=== "一"\n\n{_indent(inner)}\n\n=== "二"\n\n    {img()}'


@st.composite
def generated_page(draw) -> tuple[str, str]:  # noqa: ANN001
    page = draw(st.sampled_from(GEN_PAGES))
    definitions: list[str] = []
    blocks = draw(st.lists(block(page, definitions), min_size=1, max_size=6))
    if draw(st.booleans()) and blocks:  # an indented code block needs a paragraph before it
        blocks.append(f"{draw(st.sampled_from(TEXTS))}\n\n    {draw(image(page, []))}\n    [x0]: img/a.png")
    if draw(st.booleans()):  # definitions before their use work too
        return page, "\n\n".join(definitions + blocks) + "\n"
    return page, "\n\n".join(blocks + definitions) + "\n"


PROPERTY = settings(
    max_examples=100,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)


@PROPERTY
@given(generated_page())
def test_property_plugin_path(generated: tuple[str, str]) -> None:
    page, text = generated
    oracle = Oracle(page, FAKE_CLOUD)
    verdict = oracle.compare(
        render(text), render(text, ImageExtension(lambda ref, page: oracle.replace(ref.url, ref.tag)))
    )
    assert verdict.ok, f"{verdict}\n--- {page}\n{text}"


@PROPERTY
@given(generated_page())
def test_property_rewrite_path(generated: tuple[str, str]) -> None:
    page, text = generated
    oracle = Oracle(page, FAKE_CLOUD)
    rewritten = rewrite_source(text, MAKE, oracle.replace, page)
    verdict = oracle.compare(render(text), render(rewritten))
    assert verdict.ok, f"{verdict}\n--- {page}\n{text}"
    urls = [url for url, _, _ in collect(MAKE, text)]
    edits = source_edits(text, rewritten, lambda url: oracle.expected(url, "img"), urls)
    assert not isinstance(edits, str), f"{edits}\n--- {page}\n{text}"


_URL_TEXT = st.lists(
    st.sampled_from([*"ab图/.%2E:?#\\ \t\r\n\x00-_~@!$&'()*+,;=[]", "//", "../", "http:", "%E5%9B%BE"]), max_size=10
).map("".join)


@settings(max_examples=400, deadline=None)
@given(url=_URL_TEXT, page=st.sampled_from(["index.md", "a/b.md", "图/页.md"]))
def test_a_reference_resolves_as_urlsplit_reads_it(url: str, page: str) -> None:
    """Paths alone skip urlsplit (a site has thousands): the answer must be the one urlsplit gives."""
    expected = None
    stripped = url.strip()
    try:
        parts = urlsplit(stripped)
    except ValueError:
        parts = None
    if (
        stripped
        and not stripped.startswith(("#", "//"))
        and parts
        and not (parts.scheme or parts.netloc)
        and parts.path
    ):
        suffix = stripped[len(parts.path) :] if stripped.startswith(parts.path) else ""
        path = unquote(parts.path).replace("\\", "/")
        joined = posixpath.normpath(
            posixpath.join("" if path.startswith("/") else posixpath.dirname(page), path.lstrip("/"))
        )
        expected = None if joined in (".", "") else Target(joined, suffix)
    assert resolve(url, page) == expected


@settings(max_examples=400, deadline=None)
@given(
    url=st.text(st.sampled_from(list("hHtTpPsS:/a.-9[]@?#% \t\x00图")), max_size=16)
    | st.sampled_from(
        [
            "https://a.b/c",
            "http://a:80/",
            "https:///x",
            "https://[::1]/",
            "https://a@b/",
            "HTTPS://A.B/",
            "https://./",
            "https://a[",
            "https://a]/",
            "https://a@",
        ]
    )
)
def test_a_web_url_is_one_urlsplit_reads_as_http_with_a_host(url: str) -> None:
    """Usual URLs are accepted by one regex: its answer must be urlsplit's."""
    try:
        parts = urlsplit(url)
        expected = parts.scheme.lower() in ("http", "https") and bool(parts.hostname)
    except ValueError:
        expected = False
    expected = expected and not re.search(r"[\x00-\x1f\x7f\s]", url)
    assert is_web_url(url) is expected
