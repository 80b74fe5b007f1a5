"""The plugin in every toolchain: serve, ProperDocs, plain Markdown, custom domains, private
storage, Cloud Hosting, Material's privacy plugin."""

from __future__ import annotations

import importlib.metadata
import logging
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import markdown
import pytest
import requests
import yaml
from conftest import ROOT, build, emulator_options, make_site, png

from mkdocs_wxcloud.emulator import DEFAULT_APPID, DEFAULT_ENV, DEFAULT_SECRET, Emulator
from mkdocs_wxcloud.manifest import model as mf

BIN = Path(sys.executable).parent


def _built(tmp_path: Path, page: str = "index.html") -> str:
    return (tmp_path / "site" / page).read_text(encoding="utf-8")


def test_serve_upload_opts_in(tmp_path: Path, emulator) -> None:
    config = make_site(tmp_path, {"index.md": "![x](x.png)\n", "x.png": png(1)},
                       emulator_options(emulator, serve_upload=True))  # fmt: skip
    build(config, command="serve")
    assert emulator.base_url in _built(tmp_path)


@pytest.mark.skipif(shutil.which("properdocs", path=str(BIN)) is None, reason="properdocs not installed")
def test_properdocs_builds_the_example_site_unchanged(tmp_path: Path, emulator) -> None:
    config = yaml.safe_load((ROOT / "mkdocs.yml").read_text(encoding="utf-8"))
    config["docs_dir"] = str(ROOT / "example_site")
    config["plugins"] = ["search", {"wxcloud": emulator_options(emulator, prefix="example")}]
    (tmp_path / "mkdocs.yml").write_text(yaml.safe_dump(config, allow_unicode=True), encoding="utf-8")
    result = subprocess.run([str(BIN / "properdocs"), "build"], capture_output=True, text=True, cwd=tmp_path,
                            timeout=300)  # fmt: skip
    assert result.returncode == 0, result.stderr
    html = _built(tmp_path)
    assert len(emulator.stored_files()) >= 10
    assert emulator.base_url in html and 'src="images/' not in html


@pytest.mark.skipif(shutil.which("zensical", path=str(BIN)) is None, reason="zensical not installed")
def test_zensical_builds_the_example_site(tmp_path: Path, emulator) -> None:
    shutil.copytree(ROOT / "example_site", tmp_path / "example_site")
    shutil.copy(ROOT / "zensical.toml", tmp_path / "zensical.toml")
    env = {**os.environ, "WXCLOUD_API_BASE": emulator.base_url, "WXCLOUD_APPID": DEFAULT_APPID,
           "WXCLOUD_SECRET": DEFAULT_SECRET, "WXCLOUD_ENV": DEFAULT_ENV}  # fmt: skip
    result = subprocess.run([str(BIN / "zensical"), "build"], cwd=tmp_path, env=env, capture_output=True, text=True,
                            timeout=300)  # fmt: skip
    assert result.returncode == 0, result.stderr
    html = _built(tmp_path)
    assert len(emulator.stored_files()) >= 10
    assert emulator.base_url in html and 'src="images/' not in html
    # zensical.toml lists `documents`: the PDF manual is published and linked too
    assert (ROOT / "example_site/files/接入手册.pdf").read_bytes() in emulator.stored_files().values()
    emulator.reset_counts()
    assert subprocess.run([str(BIN / "zensical"), "build"], cwd=tmp_path, env=env, timeout=300).returncode == 0
    assert emulator.request_count() == 0


def test_markdown_extension_links_from_the_manifest_offline(tmp_path: Path, emulator, monkeypatch) -> None:
    config = make_site(tmp_path, {"index.md": "![x](img/a.png)\n", "img/a.png": png(3), "img/b.png": png(4)},
                       emulator_options(emulator))  # fmt: skip
    build(config)
    manifest = mf.read(tmp_path / "wxcloud-manifest.yml")
    emulator.reset_counts()
    monkeypatch.chdir(tmp_path)
    names = {ep.name: ep.value for ep in importlib.metadata.entry_points(group="markdown.extensions")}
    assert names.get("wxcloud") == "mkdocs_wxcloud.extension:WxCloudExtension"
    text = "![a](img/a.png) ![b](img/b.png)\n\n    ![code](img/a.png)\n"
    html = markdown.Markdown(extensions=["wxcloud"], extension_configs={"wxcloud": {"docs_dir": "docs"}}).convert(text)
    assert f'src="{manifest.images["img/a.png"].url}"' in html
    assert 'src="img/b.png"' in html  # not uploaded: stays local (with a warning)
    assert "![code](img/a.png)" in html
    html = markdown.Markdown(extensions=["mkdocs_wxcloud.extension"],
                             extension_configs={"mkdocs_wxcloud.extension": {"docs_dir": "docs", "page": "sub/p.md"}}
                             ).convert("![a](../img/a.png)")  # fmt: skip
    assert manifest.images["img/a.png"].url in html
    assert emulator.request_count() == 0


def test_exclude_uploaded_leaves_cloud_images_out_of_site(tmp_path: Path, emulator) -> None:
    files = {
        "index.md": "![a](img/a.png) ![b](img/b.png)\n",
        "img/a.png": png(5),
        "img/b.png": png(6),
        "img/logo.png": png(7),
        "img/unreferenced.png": png(8),
    }
    config = make_site(tmp_path, files, emulator_options(emulator, exclude_uploaded=True, retries=0),
                       theme={"name": "mkdocs", "logo": "img/logo.png"})  # fmt: skip
    build(config)
    site = tmp_path / "site/img"
    assert not (site / "a.png").exists() and not (site / "b.png").exists()
    assert (site / "logo.png").exists() and (site / "unreferenced.png").exists()
    # an image whose upload failed stays in the site, since the page links it locally
    (tmp_path / "docs/img/c.png").write_bytes(png(9))
    (tmp_path / "docs/c.md").write_text("![c](img/c.png)\n", encoding="utf-8")
    emulator.fail_next("http502", count=50)
    build(config)
    assert (site / "c.png").exists() and not (site / "a.png").exists()


def test_base_url_builds_links_without_link_requests(tmp_path: Path, emulator) -> None:
    config = make_site(tmp_path, {"index.md": "![x](图/x.png)\n", "图/x.png": png(10)},
                       emulator_options(emulator, base_url="https://cdn.example.com/"))  # fmt: skip
    build(config)
    assert emulator.request_count("/tcb/batchdownloadfile") == 0
    entry = mf.read(tmp_path / "wxcloud-manifest.yml").images["图/x.png"]
    assert entry.url == "https://cdn.example.com/docs/%E5%9B%BE/" + entry.cloud_path.rsplit("/", 1)[1]
    assert f'src="{entry.url}"' in _built(tmp_path)


def test_private_storage_warns_records_expiry_and_refreshes(tmp_path: Path, caplog_wxcloud) -> None:
    with Emulator(private=True) as emu:
        config = make_site(tmp_path, {"index.md": "![x](x.png)\n", "x.png": png(11)},
                           emulator_options(emu, link_max_age=3600))  # fmt: skip
        build(config)
        warnings = [r for r in caplog_wxcloud.records if "storage is private" in r.getMessage()]
        assert len(warnings) == 1 and warnings[0].levelno == logging.WARNING
        entry = mf.read(tmp_path / "wxcloud-manifest.yml").images["x.png"]
        assert entry.expires and "sign=" in entry.url
        assert requests.get(entry.url, timeout=5).content == png(11)
        emu.reset_counts()
        build(config)  # the link still has more than half its life: nothing to do
        assert emu.request_count() == 0
        config = make_site(tmp_path, {}, emulator_options(emu, link_max_age=86400))
        build(config)  # now it has less than half of link_max_age left: refreshed, not re-uploaded
        assert emu.request_count("/tcb/batchdownloadfile") == 1
        assert emu.request_count("/tcb/uploadfile") == 0


def test_cloud_hosting_open_api_needs_no_token(tmp_path: Path) -> None:
    with Emulator(open_api=True) as emu:
        options = {"api_base": emu.base_url, "env": DEFAULT_ENV, "auth": "openapi"}
        config = make_site(tmp_path, {"index.md": "![x](x.png)\n", "x.png": png(12)}, options)
        build(config)
        assert emu.request_count("/cgi-bin/") == 0
        assert emu.base_url in _built(tmp_path)


def test_cloud_hosting_cloudbase_token_file(tmp_path: Path) -> None:
    token_file = tmp_path / "cloudbase_access_token"
    token_file.write_text("cloudbase-token-for-tests-0123456789", encoding="utf-8")
    with Emulator(cloudbase_token="cloudbase-token-for-tests-0123456789") as emu:
        options = {"api_base": emu.base_url, "env": DEFAULT_ENV, "auth": "cloudbase",
                   "cloudbase_token_file": str(token_file)}  # fmt: skip
        config = make_site(tmp_path, {"index.md": "![x](x.png)\n", "x.png": png(13)}, options)
        build(config)
        assert emu.request_count("/cgi-bin/") == 0
        assert emu.base_url in _built(tmp_path)


def test_material_privacy_plugin_leaves_cloud_urls(tmp_path: Path, emulator) -> None:
    pytest.importorskip("material")
    host = emulator.base_url.split("//", 1)[1]
    config = make_site(
        tmp_path,
        {"index.md": "![x](x.png)\n", "x.png": png(14)},
        emulator_options(emulator),
        theme={"name": "material"},
    )
    text = config.read_text(encoding="utf-8").replace(
        "plugins:\n", f"plugins:\n- privacy:\n    assets_exclude: ['{host}/*']\n", 1
    )
    config.write_text(text, encoding="utf-8")
    build(config)
    html = _built(tmp_path)
    assert f'src="{emulator.base_url}/' in html


def test_material_blog_excerpts_resolve_against_their_post(tmp_path: Path, emulator, caplog_wxcloud) -> None:
    """The blog renders each post's Markdown again inside index pages, with its own relpath."""
    pytest.importorskip("material")
    post = "---\ndate: 2024-01-31\n---\n\n# 第一篇\n\n![a](../../img/a.png)\n\n<!-- more -->\n\n![b](../../img/b.png)\n"
    files = {"index.md": "# Home\n", "blog/index.md": "# Blog\n", "blog/posts/first.md": post,
             "img/a.png": png(20), "img/b.png": png(21)}  # fmt: skip
    config = make_site(tmp_path, files, emulator_options(emulator), theme={"name": "material"})
    text = config.read_text(encoding="utf-8").replace("plugins:\n", "plugins:\n- blog\n", 1)
    config.write_text(text, encoding="utf-8")
    build(config)
    for view in ("blog/index.html", "blog/archive/2024/index.html"):
        html = _built(tmp_path, view)
        assert f'src="{emulator.base_url}/' in html and not re.search(r'src="[./]*img/', html)
    assert not [
        r for r in caplog_wxcloud.records if r.name == "mkdocs.plugins.wxcloud" and r.levelno >= logging.WARNING
    ]
