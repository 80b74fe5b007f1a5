"""What makes the first publication fast must not change what it does.

The scanner the commands use (one Markdown for all pages, no Pygments, stopped once the references
are known) finds exactly what the build's pipeline finds; highlighted code full of line anchors is
never tokenized; ``sync`` uploads while it still reads pages; a build leaves the reading of new
images to the upload pool, and a lost hash cache costs reads but no request; and the HTTP session,
which reads its environment once per host, still honours proxies and never sends ~/.netrc credentials.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import threading
from pathlib import Path

import pytest
import upload_probe
import urllib3
from click.testing import CliRunner
from conftest import build, emulator_options, make_site, png, wx_client
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from oracle import load_extensions
from proxy import Proxy

from mkdocs_wxcloud.cli import main
from mkdocs_wxcloud.emulator import DEFAULT_APPID, DEFAULT_ENV, DEFAULT_SECRET, Emulator
from mkdocs_wxcloud.manifest import hashing
from mkdocs_wxcloud.references import rawhtml
from mkdocs_wxcloud.references.scanner import Scanner
from mkdocs_wxcloud.references.treeprocessor import collect, markdown_factory
from mkdocs_wxcloud.wechat import transport

CORPUS = Path(__file__).resolve().parent / "corpus"
MATERIAL = {"pymdownx.highlight": {"anchor_linenums": True, "line_spans": "__span", "pygments_lang_class": True},
            "toc": {"permalink": True}, "pymdownx.tabbed": {"alternate_style": True}}  # fmt: skip
PIPELINES = {
    "corpus": load_extensions(CORPUS / "extensions.yml"),
    "material": (["admonition", "attr_list", "md_in_html", "tables", "footnotes", "toc", "pymdownx.details",
                  "pymdownx.superfences", "pymdownx.tabbed", "pymdownx.inlinehilite", "pymdownx.highlight"], MATERIAL),
    "superfences-alone": (["attr_list", "pymdownx.superfences"], {}),
    "codehilite": (["fenced_code", "codehilite", "attr_list"], {"codehilite": {"linenums": True}}),
}  # fmt: skip


def _same(pipeline: str, text: str) -> None:
    extensions, configs = PIPELINES[pipeline]
    assert Scanner(extensions, configs).references(text) == collect(markdown_factory(extensions, configs), text)


@pytest.mark.parametrize("pipeline", list(PIPELINES))
def test_the_scanner_finds_what_the_build_finds_in_the_corpus(pipeline: str) -> None:
    extensions, configs = PIPELINES[pipeline]
    scanner, make = Scanner(extensions, configs), markdown_factory(extensions, configs)
    for page in sorted((CORPUS / "docs").rglob("*.md")):  # one scanner for all, as the commands use it
        text = page.read_text(encoding="utf-8-sig")
        assert scanner.references(text) == collect(make, text), page.name


FRAGMENTS = [
    '```python linenums="1"\ndef f():\n    return "![no](img/code.png)"\n```\n',
    '```js title="<img src=\'img/title.png\'>" hl_lines="1"\nlet x = `<img src="img/code.png">`\n```\n',
    "    indented ![no](img/indented.png)\n",
    "`#!python x = '![no](img/inline.png)'` and `![no](img/inline.png)`\n",
    '![yes](img/a.png){ srcset="img/a@2x.png 2x" }\n',
    '<img src="img/raw.png" alt="x > y">\n',
    '<a title="a > b" href="img/linked.png">big</a>\n',
    '!!! note "n"\n\n    ![inside](img/note.png)\n\n    ```bash\n    echo "![no](img/x.png)"\n    ```\n',
    '=== "A"\n\n    ![tab](img/tab.png)\n',
    "[^1]\n\n[^1]: ![footnote](img/fn.png)\n",
    "## Heading with [link](#anchor)\n",
    '<div markdown="1">\n\n![mdinhtml](img/div.png)\n\n</div>\n',
    "text\n",
    '<video src="media/a.mp4" poster="media/p.png"><source src="media/b.webm"><track src="media/c.vtt"></video>\n',
    "<p style=\"background: url('media/bg.png') /* url(media/no.png) */\">x</p> [手册](files/m.pdf)\n",
    '```html\n<audio src="media/no.mp3"></audio>\n```\n',
]


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.sampled_from(FRAGMENTS), min_size=1, max_size=12), st.sampled_from(sorted(PIPELINES)))
@example([FRAGMENTS[0], FRAGMENTS[4], FRAGMENTS[1]], "material")
def test_the_scanner_finds_what_the_build_finds_on_generated_pages(fragments: list[str], pipeline: str) -> None:
    _same(pipeline, "\n".join(fragments))


def test_highlighted_code_with_line_anchors_is_never_tokenized(monkeypatch: pytest.MonkeyPatch) -> None:
    page = "\n".join(f'```python linenums="1"\nx = {i}\ny = {i}\n```\n\n## Part {i}\n' for i in range(20))
    html = markdown_factory(*PIPELINES["material"])(lambda *_: None).convert(page)
    assert html.count('href="#__codelineno-') >= 40 and html.count('class="headerlink"') == 20
    tokenized: list[str] = []
    monkeypatch.setattr(rawhtml, "start_tags", lambda text: tokenized.append(text) or iter(()))
    asked: list[str] = []
    markdown_factory(*PIPELINES["material"])(lambda url, tag, where: asked.append(url)).convert(page)
    assert tokenized == []  # no stashed block was worth the HTML parser
    assert asked == []  # and no fragment link reached the callback


def test_a_link_whose_title_holds_a_gt_sign_is_still_found() -> None:
    found = []
    rawhtml.rewrite_html('<p><a title="x > y" href="img/big.png">big</a></p>', lambda url, tag: found.append(url))
    assert found == ["img/big.png"]


def test_sync_uploads_while_it_still_reads_pages(tmp_path: Path, emulator: Emulator,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:  # fmt: skip
    files: dict[str, bytes | str] = {f"p{i:02}.md": f"![{i}](img/{i}.png)\n" for i in range(20)}
    files["p99.md"] = f"{upload_probe.MARKER}\n\n![last](img/99.png)\n"  # read last
    files.update({f"img/{i}.png": png(300 + i) for i in [*range(20), 99]})
    make_site(tmp_path, files, emulator_options(emulator), extensions=["attr_list", "upload_probe"])
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(upload_probe, "condition", lambda: emulator.request_count("/cos/") >= 1)
    monkeypatch.setattr(upload_probe, "seen", [])
    result = CliRunner().invoke(main, ["sync", "-q"], catch_exceptions=False)
    assert result.exit_code == 0, result.stderr
    assert upload_probe.seen == [True]  # an upload had finished before the last page was read
    assert len(emulator.stored_files()) == 21


def _hashing_threads(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The names of the threads that read images to hash them, from now on."""
    names: list[str] = []
    real = hashing.sha256_file

    def spy(path: Path) -> str:
        names.append(threading.current_thread().name)
        return real(path)

    monkeypatch.setattr(hashing, "sha256_file", spy)
    return names


def _gallery(tmp_path: Path, emulator: Emulator) -> Path:
    files: dict[str, bytes | str] = {f"p{i}.md": f"![a](img/{i}.png) ![same](img/{i}.png)\n" for i in range(12)}
    files.update({f"img/{i}.png": png(500 + i) for i in range(12)})
    files["copy.md"] = "![renamed](img/copy.png)\n"
    files["img/copy.png"] = png(500)  # the content of img/0.png under another name
    return make_site(tmp_path, files, emulator_options(emulator))


def test_a_cold_build_hashes_new_images_on_the_pool_not_in_the_renderer(
    tmp_path: Path, emulator: Emulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    threads = _hashing_threads(monkeypatch)
    build(_gallery(tmp_path, emulator))
    assert len(threads) == 13 and all(name.startswith("wxcloud") for name in threads), threads
    assert emulator.request_count("/tcb/uploadfile") == 12  # the renamed copy is the same upload
    for page in ("p0", "p11", "copy"):
        html = (tmp_path / "site" / page / "index.html").read_text(encoding="utf-8")
        assert html.count(emulator.base_url) == (1 if page == "copy" else 2), page
        assert "wxcloud-pending" not in html


def test_a_lost_hash_cache_rereads_the_images_but_sends_no_request(
    tmp_path: Path, emulator: Emulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = _gallery(tmp_path, emulator)
    build(config)
    first = (tmp_path / "site/p3/index.html").read_text(encoding="utf-8")
    manifest = (tmp_path / "wxcloud-manifest.yml").read_bytes()
    shutil.rmtree(tmp_path / ".cache")  # a fresh clone in CI, or a cleaned workspace
    emulator.reset_counts()
    threads = _hashing_threads(monkeypatch)
    build(config)
    assert len(threads) == 13 and emulator.request_count() == 0
    assert (tmp_path / "site/p3/index.html").read_text(encoding="utf-8") == first
    assert (tmp_path / "wxcloud-manifest.yml").read_bytes() == manifest


# -- the HTTP session --------------------------------------------------------------------------


def _upload_through(emu: Emulator, tmp_path: Path, environment: dict[str, str]) -> None:
    image = tmp_path / "x.png"
    image.write_bytes(png(400 + len(environment)))
    code = (
        "import sys; from pathlib import Path; from mkdocs_wxcloud.wechat.client import WxCloudClient\n"
        "from mkdocs_wxcloud.wechat.auth import Account\n"
        f"c = WxCloudClient({emu.base_url!r}, Account({DEFAULT_ENV!r}, {DEFAULT_APPID!r}, {DEFAULT_SECRET!r}))\n"
        "for i in range(3): c.upload(f'p/{i}.png', Path(sys.argv[1]))\n"
    )  # fmt: skip
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "XDG_CACHE_HOME": str(tmp_path / "xdg"), **environment}
    subprocess.run([sys.executable, "-c", code, str(image)], env=env, check=True, timeout=60)


def test_the_environment_proxy_is_still_used_and_no_proxy_still_bypasses_it(tmp_path: Path, emulator: Emulator) -> None:
    with Proxy(emulator.base_url) as proxy:
        _upload_through(emulator, tmp_path, {"HTTP_PROXY": proxy.base_url})
        assert proxy.count(emulator.base_url + "/tcb/uploadfile") == 3  # every request, not only the first
        assert proxy.count(emulator.base_url + "/cos/") == 3
        before = len(proxy.seen)
        _upload_through(emulator, tmp_path, {"HTTP_PROXY": proxy.base_url, "NO_PROXY": "127.0.0.1"})
        assert len(proxy.seen) == before


def test_netrc_credentials_are_never_sent(tmp_path: Path, emulator: Emulator) -> None:
    (tmp_path / ".netrc").write_text("machine 127.0.0.1 login someone password hunter2\n", encoding="utf-8")
    (tmp_path / ".netrc").chmod(0o600)
    with Proxy(emulator.base_url) as proxy:
        _upload_through(emulator, tmp_path, {"HTTP_PROXY": proxy.base_url})
    assert proxy.headers and not any("Authorization" in h for h in proxy.headers)


def test_a_small_and_a_large_file_are_stored_alike(tmp_path: Path, emulator: Emulator) -> None:
    from mkdocs_wxcloud.wechat import transport

    small, large = png(500), bytes(range(256)) * (transport.IN_ONE_PIECE // 256 + 10)  # built at once / streamed
    with wx_client(api_base=emulator.base_url, env=DEFAULT_ENV, appid=DEFAULT_APPID, secret=DEFAULT_SECRET) as c:
        for name, data in (("small.png", small), ("large.bin", large)):
            (tmp_path / name).write_bytes(data)
            c.upload(f"t/{name}", tmp_path / name)
    stored = emulator.stored_files()
    assert stored["t/small.png"] == small and stored["t/large.bin"] == large


@pytest.mark.parametrize("filename", ["截图.png", 'a "quoted" \\ name.png', "line\nbreak.png"])
def test_the_cos_form_is_byte_for_byte_what_urllib3_makes(filename: str) -> None:
    fields = [("key", "docs/指南/图 1.png"), ("Signature", 'q-sign&x="y"'), ("x-cos-meta-fileid", "cloud://e/图.png")]
    fields.append(("Content-Type", "image/png"))
    data = png(7)
    body, form_type = transport.form_in_one_piece(fields, filename, data, "image/png")
    boundary = form_type.removeprefix("multipart/form-data; boundary=")
    assert len(boundary) == 32
    expected = urllib3.encode_multipart_formdata([*fields, ("file", (filename, data, "image/png"))], boundary)
    assert (body, form_type) == expected


def test_every_request_names_mkdocs_wxcloud_as_its_user_agent(tmp_path: Path, emulator: Emulator) -> None:
    with Proxy(emulator.base_url) as proxy:
        _upload_through(emulator, tmp_path, {"HTTP_PROXY": proxy.base_url})
    agents = {headers.get("User-Agent", "") for headers in proxy.headers}
    assert (
        len(proxy.headers) >= 6 and len(agents) == 1
    )  # the token, 3 upload links, 3 COS forms and agents.pop().startswith("mkdocs-wxcloud/")
