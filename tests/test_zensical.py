"""Zensical as a host: real ``zensical build`` processes, the ``wxcloud`` Markdown extension.

Each site is built twice, without the extension and with it; the oracle (``oracle.py``) then
requires the pages to be identical except for local image URLs, each replaced by the cloud URL of
its file, which must serve the same bytes. Zensical rewrites relative links against the page's
URL, so the oracle judges each page from its built path.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import markdown
import pytest
import requests
from conftest import png
from oracle import Oracle

from mkdocs_wxcloud.emulator import DEFAULT_APPID, DEFAULT_ENV, DEFAULT_SECRET, Emulator
from mkdocs_wxcloud.hosts.markdown.runs import close_all
from mkdocs_wxcloud.manifest import model as mf

pytest.importorskip("zensical")
BIN = Path(sys.executable).parent
MANIFEST = "wxcloud-manifest.yml"
PAGES = {
    "index.md": '# 首页\n\n![logo](img/logo.png)\n\n<img src="img/banner.png" alt="raw" width="80">\n',
    "指南/入门.md": (
        '# 入门\n\n![同目录](图片/第一步.png)\n\n![上级](../img/logo.png "标题")\n\n'
        '!!! note "提示"\n\n    ![提醒里的图](图片/第二步.png)\n\n'
        '=== "甲"\n\n    ![标签页里的图](../img/banner.png)\n\n=== "乙"\n\n    文字\n\n'
        "```md\n![代码里的图](图片/第一步.png)\n```\n\n"
        "行内代码 `![x](图片/第二步.png)` 不是图片。\n\n"
        '<p align="center"><img src="图片/第二步.png" alt="raw html"></p>\n'
    ),
    "指南/进阶/深层.md": "# 深层\n\n![两级以上](../../img/logo.png)\n\n[大图](../图片/第一步.png)\n",
}
IMAGES = {"img/logo.png": png(201), "img/banner.png": png(202), "指南/图片/第一步.png": png(203),
          "指南/图片/第二步.png": png(204)}  # fmt: skip
EXTENSIONS = '[project.markdown_extensions.admonition]\n[project.markdown_extensions.attr_list]\n' \
             '[project.markdown_extensions.pymdownx.superfences]\n' \
             '[project.markdown_extensions.pymdownx.tabbed]\nalternate_style = true\n'  # fmt: skip


def project(root: Path, emu: Emulator, *, upload: bool = False, name: str = "zensical.toml") -> dict[str, str]:
    """A Zensical project (pages, images, a plain and a wxcloud config); the environment for its builds."""
    for path, data in {**PAGES, **IMAGES}.items():
        (root / "docs" / path).parent.mkdir(parents=True, exist_ok=True)
        (root / "docs" / path).write_bytes(data.encode() if isinstance(data, str) else data)
    head = '[project]\nsite_name = "测试"\ndocs_dir = "docs"\n'
    (root / "plain.toml").write_text(head + 'site_dir = "site-plain"\n' + EXTENSIONS, encoding="utf-8")
    wxcloud = f'[project.markdown_extensions.wxcloud]\nprefix = "z"\nupload = {str(upload).lower()}\n'
    (root / name).write_text(head + 'site_dir = "site"\n' + EXTENSIONS + wxcloud, encoding="utf-8")
    return {**os.environ, "WXCLOUD_API_BASE": emu.base_url, "WXCLOUD_APPID": DEFAULT_APPID,
            "WXCLOUD_SECRET": DEFAULT_SECRET, "WXCLOUD_ENV": DEFAULT_ENV}  # fmt: skip


def zensical(root: Path, env: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    result = subprocess.run([str(BIN / "zensical"), "build", *args], cwd=root, env=env, capture_output=True,
                            text=True, timeout=180)  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    return result


def wxcloud(root: Path, env: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([str(BIN / "mkdocs-wxcloud"), *args], cwd=root, env=env, capture_output=True, text=True,
                          timeout=180)  # fmt: skip


def built(root: Path, site: str, page: str) -> tuple[str, str]:
    """The HTML of ``page`` in ``site``, and its path there (which its relative URLs start from)."""
    stem = page[: -len(".md")]
    dest = "index.html" if stem == "index" else f"{stem}/index.html"
    return (root / site / dest).read_text(encoding="utf-8"), dest


def assert_pages_differ_only_in_image_urls(root: Path) -> None:
    entries = mf.read(root / MANIFEST).images
    assert set(entries) == set(IMAGES)
    cloud = {path: entry.url for path, entry in entries.items()}
    replaced = 0
    for page in PAGES:
        plain, dest = built(root, "site-plain", page)
        with_cloud, _ = built(root, "site", page)
        verdict = Oracle(dest, cloud).compare(plain, with_cloud)
        assert verdict.ok, f"{page}: {verdict}"
        replaced += len(verdict.replaced)
    assert replaced == 9  # every local image shown, code and inline code left alone
    for path, url in cloud.items():
        assert requests.get(url, timeout=10).content == IMAGES[path]


def test_sync_then_build(tmp_path: Path, emulator: Emulator) -> None:
    env = project(tmp_path, emulator)
    zensical(tmp_path, env, "-f", "plain.toml")
    sync = wxcloud(tmp_path, env, "sync", "-f", "zensical.toml")
    assert sync.returncode == 0, sync.stderr
    assert emulator.request_count("/tcb/uploadfile") == len(IMAGES)
    emulator.reset_counts()
    result = zensical(tmp_path, env)
    assert emulator.request_count() == 0  # linked from the manifest, without the network
    assert "wxcloud" not in result.stderr
    assert_pages_differ_only_in_image_urls(tmp_path)
    check = wxcloud(tmp_path, env, "check")  # finds zensical.toml by itself
    assert check.returncode == 0, check.stdout + check.stderr


def test_one_command_publishes_and_a_second_build_makes_no_request(tmp_path: Path, emulator: Emulator) -> None:
    env = project(tmp_path, emulator, upload=True)
    zensical(tmp_path, env, "-f", "plain.toml")
    zensical(tmp_path, env)
    assert emulator.request_count("/tcb/uploadfile") == len(IMAGES)
    assert emulator.request_count("/cgi-bin/") == 1
    assert_pages_differ_only_in_image_urls(tmp_path)
    assert not list((tmp_path / ".cache/plugin/wxcloud").glob("journal-*"))
    manifest = (tmp_path / MANIFEST).read_bytes()
    emulator.reset_counts()
    zensical(tmp_path, env, "--clean")  # even without our caches (a clean build deletes .cache/)
    assert emulator.request_count() == 0
    assert (tmp_path / MANIFEST).read_bytes() == manifest
    assert_pages_differ_only_in_image_urls(tmp_path)


def test_the_gate_for_zensical_sites_is_check(tmp_path: Path, emulator: Emulator) -> None:
    env = project(tmp_path, emulator)
    assert wxcloud(tmp_path, env, "sync").returncode == 0
    (tmp_path / "docs/指南/图片/新图.png").write_bytes(png(205))
    page = tmp_path / "docs/指南/入门.md"
    page.write_text(page.read_text(encoding="utf-8") + "\n![新](图片/新图.png)\n", encoding="utf-8")
    build = zensical(tmp_path, env, "--strict")  # Zensical does not count extension warnings...
    assert "指南/入门.md" in build.stderr and "图片/新图.png" in build.stderr and "not in the manifest" in build.stderr
    check = wxcloud(tmp_path, env, "check", "-f", "zensical.toml")  # ...so CI gates on check
    assert check.returncode == 1
    line = PAGES["指南/入门.md"].count("\n") + 2
    assert check.stdout.startswith(f"docs/指南/入门.md:{line}: 图片/新图.png: is not in the manifest")


def test_a_hostile_manifest_is_one_line_under_zensical_and_reaches_no_page(tmp_path: Path, emulator: Emulator) -> None:
    env = project(tmp_path, emulator, upload=True)
    assert wxcloud(tmp_path, env, "sync").returncode == 0
    manifest = tmp_path / MANIFEST
    evil = re.sub(r"(?m)^(    url: ).*$", r"\1javascript:alert(1)", manifest.read_text(encoding="utf-8"), count=1)
    manifest.write_text(evil, encoding="utf-8")
    emulator.reset_counts()
    build = zensical(tmp_path, env, "--clean")  # Zensical would print a traceback for an exception
    assert "Traceback" not in build.stdout + build.stderr
    lines = [line for line in (build.stdout + build.stderr).splitlines() if "field `url`" in line]
    assert len(lines) == 1 and f"{MANIFEST}:" in lines[0] and "`mkdocs-wxcloud check` fails" in lines[0]
    site = "".join(p.read_text(encoding="utf-8") for p in (tmp_path / "site").rglob("*.html"))
    assert "javascript:alert" not in site and emulator.base_url not in site  # the local files, all of them
    assert emulator.request_count() == 0
    assert manifest.read_text(encoding="utf-8") == evil  # never repaired
    assert wxcloud(tmp_path, env, "check").returncode == 2  # the gate


def test_a_mkdocs_yml_used_by_zensical(tmp_path: Path, emulator: Emulator) -> None:
    env = project(tmp_path, emulator)
    (tmp_path / "zensical.toml").unlink()
    (tmp_path / "mkdocs.yml").write_text(
        "site_name: 测试\nmarkdown_extensions:\n  - admonition\n  - attr_list\n  - pymdownx.superfences\n"
        "  - pymdownx.tabbed:\n      alternate_style: true\n  - wxcloud:\n      prefix: z\n",
        encoding="utf-8",
    )
    sync = wxcloud(tmp_path, env, "sync")  # options under markdown_extensions, not plugins
    assert sync.returncode == 0, sync.stderr
    assert {e.cloud_path.split("/")[0] for e in mf.read(tmp_path / MANIFEST).images.values()} == {"z"}
    zensical(tmp_path, env, "-f", "plain.toml")
    zensical(tmp_path, env)
    assert_pages_differ_only_in_image_urls(tmp_path)


def test_commands_name_what_zensical_refuses(tmp_path: Path, emulator: Emulator) -> None:
    env = project(tmp_path, emulator)
    (tmp_path / "zensical.toml").write_text('[project]\ndocs_dir = "docs"\n', encoding="utf-8")  # no site_name
    result = wxcloud(tmp_path, env, "check")
    assert result.returncode == 2
    assert "zensical.toml: " in result.stderr and "site_name" in result.stderr and "Traceback" not in result.stderr


# -- the extension in-process, with Zensical's own context objects ---------------------------------


def test_the_extension_learns_the_page_and_follows_a_replaced_manifest(tmp_path: Path, emulator: Emulator,
                                                                       monkeypatch: pytest.MonkeyPatch) -> None:  # fmt: skip
    from zensical.extensions.context import ContextExtension, Page

    env = project(tmp_path, emulator)
    assert wxcloud(tmp_path, env, "sync").returncode == 0
    monkeypatch.chdir(tmp_path.parent)  # never the working directory: the project root counts

    def render(text: str) -> str:
        context = ContextExtension(page=Page(url="指南/入门/", path="指南/入门.md"),
                                   config={"root_dir": str(tmp_path), "docs_dir": "docs"})  # fmt: skip
        return markdown.Markdown(extensions=[context, "wxcloud"]).convert(text)

    entries = mf.read(tmp_path / MANIFEST).images
    try:
        assert entries["指南/图片/第一步.png"].url in render("![a](图片/第一步.png)")
        (tmp_path / "docs/指南/图片/新图.png").write_bytes(png(206))
        assert 'src="图片/新图.png"' in render("![n](图片/新图.png)")  # not uploaded yet: local
        # `sync` replaces the manifest while the host keeps running (`zensical serve`): the next page sees it
        page = tmp_path / "docs/指南/入门.md"
        page.write_text(page.read_text(encoding="utf-8") + "\n![n](图片/新图.png)\n", encoding="utf-8")
        assert wxcloud(tmp_path, env, "sync").returncode == 0
        assert mf.read(tmp_path / MANIFEST).images["指南/图片/新图.png"].url in render("![n](图片/新图.png)")
    finally:
        close_all()


def test_without_a_context_under_zensical_the_extension_says_so_once(tmp_path: Path, emulator: Emulator,
                                                                     caplog: pytest.LogCaptureFixture,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:  # fmt: skip
    import zensical  # noqa: F401 - what tells the extension it runs under Zensical

    from mkdocs_wxcloud.hosts.markdown import extension

    monkeypatch.setattr(extension, "_warned", set())
    env = project(tmp_path, emulator)
    assert wxcloud(tmp_path, env, "sync").returncode == 0
    monkeypatch.chdir(tmp_path)
    try:
        for _ in range(3):
            html = markdown.Markdown(extensions=["wxcloud"]).convert("![a](img/logo.png)")
            assert mf.read(tmp_path / MANIFEST).images["img/logo.png"].url in html  # docs root: still found
    finally:
        close_all()
    notices = [r for r in caplog.records if "rendering_context" in r.getMessage()]
    assert len(notices) == 1 and "`page` option" in notices[0].getMessage()


def test_zensical_optimizes_and_sizes_images_in_one_build(tmp_path: Path, emulator: Emulator) -> None:
    import images

    env = project(tmp_path, emulator, upload=True)
    (tmp_path / "docs/img/logo.png").write_bytes(images.screenshot())
    config = tmp_path / "zensical.toml"
    config.write_text(
        config.read_text(encoding="utf-8") + 'optimize = "lossless"\ndimensions = true\n', encoding="utf-8"
    )
    zensical(tmp_path, env)
    logo = mf.read(tmp_path / MANIFEST).images["img/logo.png"]
    assert (logo.optimize, logo.done, logo.width, logo.height) == ("lossless", "oxipng", 480, 320)
    assert logo.stored < logo.size
    page, _ = built(tmp_path, "site", "index.md")
    assert f'src="{logo.url}"' in page and 'height="320"' in page and 'width="480"' in page
    raw = re.search(r'<img[^>]*alt="raw"[^>]*>', page)
    assert raw is not None and 'width="80"' in raw.group() and "height" not in raw.group()  # the author's size stays
    emulator.reset_counts()
    zensical(tmp_path, env)
    assert emulator.request_count() == 0 and built(tmp_path, "site", "index.md")[0] == page
