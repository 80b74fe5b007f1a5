"""``publish SITE_DIR``, ``check --site`` and ``prune --site`` on folders built by real generators.

MkDocs (a plain build, compared with the plugin's build of the same site), Zensical, Hugo (the
``hugo`` package of the index ships the binary) and hostile folders. Each image a page shows must
end up served by the emulator, and only the bytes of URLs may change.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import requests
import yaml
from conftest import emulator_options, make_site, png
from inprocess import cli

from mkdocs_wxcloud.emulator import DEFAULT_APPID, DEFAULT_ENV, DEFAULT_SECRET, Emulator

BIN = Path(sys.executable).parent
PAGE = """# 文档

![截图](img/shot.png)

<img src="图片/封面.png?v=2#only-light" alt="cover">

<video poster="img/poster.png" src="media/clip.mp4"></video>

```html
<img src="img/shot.png">
```
"""
FILES = {
    "index.md": PAGE,
    "guide/page.md": '![x](../img/shot.png)\n\n<img src="../../img/other.png">\n',  # raw HTML: against the page URL
    "img/shot.png": png(1),
    "img/other.png": png(2),
    "img/poster.png": png(3),
    "图片/封面.png": png(4),
    "media/clip.mp4": b"\x00\x00\x00\x18ftypmp42" + bytes(64),
    "css/extra.css": '.hero { background: url("../img/bg.png") } /* url(../img/none.png) */\n',
    "img/bg.png": png(5),
}


def credentials(emu: Emulator) -> list[str]:
    return ["--api-base", emu.base_url, "--appid", DEFAULT_APPID, "--env", DEFAULT_ENV]


@pytest.fixture(autouse=True)
def _secret(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WXCLOUD_SECRET", DEFAULT_SECRET)


def mkdocs_build(root: Path, site: str = "site") -> Path:
    env = {**os.environ, "SOURCE_DATE_EPOCH": "1764979200"}  # the same build date in every build
    result = subprocess.run([str(BIN / "mkdocs"), "build", "-q", "-d", site], cwd=root, env=env, capture_output=True,
                            text=True)  # fmt: skip
    assert result.returncode == 0, result.stderr
    return root / site


def pages(site: Path) -> dict[str, bytes]:
    return {
        p.relative_to(site).as_posix(): p.read_bytes() for p in sorted(site.rglob("*")) if p.suffix in (".html", ".css")
    }


def loaded_images(site: Path, emu: Emulator) -> list[str]:
    """Every image URL the pages load, each checked to be served by the emulator."""
    urls = re.findall(r'(?:src|poster|href)="(http://127\.0\.0\.1:\d+/dl/[^"]+)"', "".join(
        p.read_text(encoding="utf-8") for p in site.rglob("*.html")))  # fmt: skip
    for url in set(urls):
        assert requests.get(url.replace("&amp;", "&"), timeout=10).status_code == 200, url
    return urls


def test_a_plain_mkdocs_build_published_equals_the_plugins_build(tmp_path: Path, monkeypatch) -> None:  # noqa: ANN001
    monkeypatch.chdir(tmp_path)
    with Emulator() as emu:
        config = make_site(tmp_path, FILES, emulator_options(emu), extra_css=["css/extra.css"],
                           site_url="https://example.com/docs/")  # fmt: skip
        with_plugin = pages(mkdocs_build(tmp_path, "with-plugin"))
        data = yaml.safe_load(config.read_text(encoding="utf-8"))
        data["plugins"] = []  # the same site, built without the plugin
        config.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
        plain = mkdocs_build(tmp_path, "plain")
        result = cli("publish", plain, *credentials(emu), "-f", "mkdocs.yml")
        assert result.exit_code == 0, result.stderr
        published = pages(plain)
        theme = re.compile(r'href="[^"]*favicon[^"]*"')  # the theme's favicon: published from the folder only
        for name, html in with_plugin.items():  # the theme's own stylesheets load theme images: published too
            if name.endswith(".html") or name == "css/extra.css":
                assert theme.sub("", published[name].decode()) == theme.sub("", html.decode()), name
        assert any("favicon" in path for path in emu.stored_files())
        assert "&lt;img src=&quot;img/shot.png&quot;&gt;" in published["index.html"].decode()  # code stays code
        assert len(loaded_images(plain, emu)) >= 5
        emu.reset_counts()
        before = pages(plain)
        again = cli("publish", plain, *credentials(emu), "-f", "mkdocs.yml")
        assert again.exit_code == 0 and emu.request_count() == 0 and pages(plain) == before  # idempotent


def test_check_and_prune_judge_the_built_folder(tmp_path: Path, monkeypatch) -> None:  # noqa: ANN001
    monkeypatch.chdir(tmp_path)
    with Emulator() as emu:
        make_site(tmp_path, FILES, emulator_options(emu), extra_css=["css/extra.css"])
        data = yaml.safe_load((tmp_path / "mkdocs.yml").read_text(encoding="utf-8"))
        data["plugins"] = []
        (tmp_path / "mkdocs.yml").write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
        site = mkdocs_build(tmp_path)
        failing = cli("check", "--site", site)
        assert failing.exit_code == 1 and "img/shot.png" in failing.stdout
        assert cli("publish", site, *credentials(emu)).exit_code == 0
        assert cli("check", "--site", site).exit_code == 0  # a published folder passes
        (site / "guide/page/index.html").write_text("<p>no images any more</p>", encoding="utf-8")
        listed = cli("prune", "--site", site)
        assert listed.exit_code == 0
        assert "img/other." in listed.stdout and "img/shot." not in listed.stdout  # still loaded by its cloud URL
        monkeypatch.setenv("WXCLOUD_API_BASE", emu.base_url)  # prune deletes: it needs the credentials
        monkeypatch.setenv("WXCLOUD_APPID", DEFAULT_APPID)
        monkeypatch.setenv("WXCLOUD_ENV", DEFAULT_ENV)
        deleted = cli("prune", "--site", site, "--yes")
        assert deleted.exit_code == 0, deleted.stderr
        assert not any("img/other." in path for path in emu.stored_files())
        assert any("img/shot." in path for path in emu.stored_files())


def test_hugo_site_with_bundles_static_files_a_base_path_and_a_shortcode(tmp_path: Path, monkeypatch) -> None:  # noqa: ANN001
    hugo = shutil.which("hugo", path=str(BIN)) or shutil.which("hugo")
    if hugo is None:
        pytest.skip("the hugo package is not installed")
    monkeypatch.chdir(tmp_path)
    (tmp_path / "hugo.toml").write_text('baseURL = "https://example.com/blog/"\ntitle = "t"\n', encoding="utf-8")
    layouts = tmp_path / "layouts"
    for name, text in {
        "_default/single.html": "<html><body>{{ .Content }}</body></html>",
        "_default/list.html": '<html><head><link rel="icon" href="{{ "favicon.png" | relURL }}"></head>'
        "<body>{{ .Content }}</body></html>",
        "shortcodes/figure2.html": '<figure><img src="{{ .Get "src" }}" alt=""></figure>',
    }.items():
        (layouts / name).parent.mkdir(parents=True, exist_ok=True)
        (layouts / name).write_text(text, encoding="utf-8")
    bundle = tmp_path / "content/posts/第一篇"
    bundle.mkdir(parents=True)
    (bundle / "index.md").write_text('---\ntitle: 第一篇\n---\n\n![bundle](photo.png)\n\n{{< figure2 src="/blog/images/static.png" >}}\n',
                                     encoding="utf-8")  # fmt: skip
    (bundle / "photo.png").write_bytes(png(11))
    (tmp_path / "static/images").mkdir(parents=True)
    (tmp_path / "static/images/static.png").write_bytes(png(12))
    (tmp_path / "static/favicon.png").write_bytes(png(13))
    (tmp_path / "content/_index.md").write_text("---\ntitle: home\n---\n", encoding="utf-8")
    built = subprocess.run([hugo, "--quiet"], cwd=tmp_path, capture_output=True, text=True)
    assert built.returncode == 0, built.stderr
    with Emulator() as emu:
        result = cli("publish", tmp_path / "public", *credentials(emu))
        assert result.exit_code == 0, result.stderr
        stored = emu.stored_files().values()
        for image in (png(11), png(12), png(13)):
            assert image in stored
        assert len(loaded_images(tmp_path / "public", emu)) >= 3


def test_zensical_build_then_publish_covers_what_the_extension_cannot(tmp_path: Path) -> None:
    root = Path(__file__).resolve().parent.parent
    shutil.copytree(root / "example_site", tmp_path / "example_site")
    toml = (root / "zensical.toml").read_text(encoding="utf-8")
    (tmp_path / "zensical.toml").write_text(toml, encoding="utf-8")
    with Emulator() as emu:
        env = {**os.environ, "WXCLOUD_API_BASE": emu.base_url, "WXCLOUD_APPID": DEFAULT_APPID,
               "WXCLOUD_SECRET": DEFAULT_SECRET, "WXCLOUD_ENV": DEFAULT_ENV}  # fmt: skip
        built = subprocess.run([str(BIN / "zensical"), "build"], cwd=tmp_path, env=env, capture_output=True, text=True)
        assert built.returncode == 0, built.stderr
        site = tmp_path / "site"
        published = subprocess.run([str(BIN / "mkdocs-wxcloud"), "publish", str(site), "--exclude-uploaded"],
                                   cwd=tmp_path, env=env, capture_output=True, text=True)  # fmt: skip
        assert published.returncode == 0, published.stderr
        css = "".join(p.read_text(encoding="utf-8") for p in site.rglob("*.css") if "assets" not in p.parts)
        assert "url(" not in css or emu.base_url in css
        left = {p.relative_to(site).as_posix() for p in site.rglob("*.png")}
        # the pages load the images from the cloud: they leave the folder, but for the two that a code
        # example names (its text may show them: exclude_uploaded keeps what is mentioned anywhere)
        assert left == {"images/qrcode.png", "images/界面/首页截图.png"}, left
        assert len(loaded_images(site, emu)) >= 5


@pytest.mark.parametrize("case", ["not-a-site", "charset", "symlink", "climbs-out"])
def test_bad_folders_are_one_line_and_lose_nothing(tmp_path: Path, monkeypatch, case: str) -> None:  # noqa: ANN001
    monkeypatch.chdir(tmp_path)
    site = tmp_path / "site"
    site.mkdir()
    (site / "a.png").write_bytes(png(21))
    with Emulator() as emu:
        if case == "not-a-site":
            result = cli("publish", site, *credentials(emu))
            assert result.exit_code == 2 and "holds no HTML page" in result.stderr
            return
        if case == "charset":
            html = '<meta charset="gbk"><p>中文</p><img src="a.png">'.encode("gbk")
            (site / "index.html").write_bytes(html)
        if case == "symlink":
            outside = tmp_path / "secret.png"
            outside.write_bytes(png(22))
            (site / "leak.png").symlink_to(outside)
            (site / "index.html").write_text('<img src="leak.png"><img src="a.png">', encoding="utf-8")
        if case == "climbs-out":
            (site / "index.html").write_text('<img src="../../../etc/passwd.png"><img src="a.png">', encoding="utf-8")
        result = cli("publish", site, *credentials(emu), "--site-url", "https://example.com/docs/")
        assert result.exit_code == 0, result.stderr
        text = (site / "index.html").read_bytes()
        assert png(21) in emu.stored_files().values() and b'src="a.png"' not in text
        if case == "charset":
            assert text.startswith('<meta charset="gbk"><p>中文</p>'.encode("gbk"))  # still GBK
        if case == "symlink":
            assert png(22) not in emu.stored_files().values() and b'src="leak.png"' in text
            assert "leak.png" in result.stderr and "outside" in result.stderr
        if case == "climbs-out":
            assert "leaves the site's root" in result.stderr and b"../../../etc/passwd.png" in text


def test_dimensions_adds_width_and_height_and_nothing_else(tmp_path: Path, monkeypatch) -> None:  # noqa: ANN001
    monkeypatch.chdir(tmp_path)
    site = tmp_path / "public"
    site.mkdir()
    (site / "a.png").write_bytes(png(31, size=12))
    page = '<p><img src="a.png" alt="a"><img src="a.png" width="5"></p>\n'
    (site / "index.html").write_text(page, encoding="utf-8")
    with Emulator() as emu:
        assert cli("publish", site, *credentials(emu), "--dimensions").exit_code == 0
        html = (site / "index.html").read_text(encoding="utf-8")
        url = re.search(r'src="([^"]+)"', html).group(1)  # type: ignore[union-attr]
        assert html == f'<p><img src="{url}" alt="a" width="12" height="12"><img src="{url}" width="5"></p>\n'


HEXO_PACKAGES = {"hexo": "^7.3.0", "hexo-renderer-marked": "^6.3.0", "hexo-renderer-ejs": "^2.0.0",
                 "hexo-generator-index": "^4.0.0", "hexo-theme-landscape": "^1.0.0"}  # fmt: skip


def test_hexo_post_with_asset_folder(tmp_path: Path, monkeypatch) -> None:  # noqa: ANN001
    npm, npx = shutil.which("npm"), shutil.which("npx")
    if npm is None or npx is None:
        pytest.skip("Hexo needs node and npm")
    monkeypatch.chdir(tmp_path)
    package = {"name": "blog", "version": "0.0.0", "private": True, "hexo": {"version": "7.3.0"},  # a Hexo folder
               "dependencies": HEXO_PACKAGES}  # fmt: skip
    (tmp_path / "package.json").write_text(json.dumps(package), encoding="utf-8")
    installed = subprocess.run([npm, "install", "--no-audit", "--no-fund", "--loglevel=error"], capture_output=True,
                               text=True, timeout=300)  # fmt: skip
    if installed.returncode != 0:
        pytest.skip(f"npm could not install Hexo here: {installed.stderr.strip()[-200:]}")
    (tmp_path / "_config.yml").write_text(
        "title: t\nurl: https://example.com/blog\nroot: /blog/\ntheme: landscape\npost_asset_folder: true\n"
        "permalink: :year/:month/:day/:title/\nmarked:\n  postAsset: true\n",
        encoding="utf-8",
    )
    post = tmp_path / "source/_posts"
    (post / "第一篇").mkdir(parents=True)
    (post / "第一篇.md").write_text("---\ntitle: 第一篇\ndate: 2024-01-15 10:00:00\ncover: cover.png\n---\n\n"
                                    "{% asset_img photo.png 照片 %}\n\n![inline](cover.png)\n", encoding="utf-8")  # fmt: skip
    (post / "第一篇/photo.png").write_bytes(png(41))
    (post / "第一篇/cover.png").write_bytes(png(42))
    built = subprocess.run([npx, "hexo", "generate"], capture_output=True, text=True, timeout=300)
    assert built.returncode == 0, built.stderr
    with Emulator() as emu:
        result = cli("publish", tmp_path / "public", *credentials(emu))  # the base path from url + root
        assert result.exit_code == 0, result.stderr
        assert png(41) in emu.stored_files().values() and png(42) in emu.stored_files().values()
        assert len(loaded_images(tmp_path / "public", emu)) >= 2


def test_the_progress_counts_every_file_even_those_still_hashed_when_it_starts(tmp_path: Path, monkeypatch) -> None:  # noqa: ANN001
    """`publish` hashes the new files on the upload pool: the progress counts each one once hashed,
    never "2/1 files"."""
    monkeypatch.chdir(tmp_path)
    site = tmp_path / "site"
    site.mkdir()
    images = {f"{n}.png": png(40 + n, size=32, noisy=True) for n in range(12)}
    for name, data in images.items():
        (site / name).write_bytes(data)
    (site / "index.html").write_text("".join(f'<img src="{name}">' for name in images), encoding="utf-8")
    with Emulator() as emu:
        result = cli("publish", site, *credentials(emu), "--site-url", "https://example.com/")
    assert result.exit_code == 0, result.stderr
    size = sum(map(len, images.values()))
    lines = [line for line in result.stderr.splitlines() if line.startswith("uploading: ")]
    assert lines[-1] == f"uploading: 12/12 files, {size / 1024:.1f} KB of {size / 1024:.1f} KB", lines
