"""References resolve as the reader's browser resolves them.

MkDocs rewrites only ``<a href>`` and ``<img src>`` of the Markdown it renders, relative to the
source file. Raw HTML (and ``srcset``) reaches the browser as written, so it resolves against the
URL of the built page: with ``use_directory_urls`` the page ``ds/treap.md`` is ``ds/treap/``, and
``<img src="../images/x.svg">`` there loads ``ds/images/x.svg``. The build, ``check``, ``sync`` and
``rewrite -f mkdocs.yml`` must all agree on that.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
import requests
from conftest import build, emulator_options, make_site, png
from inprocess import cli
from sites import write_files

from mkdocs_wxcloud.emulator import Emulator
from mkdocs_wxcloud.manifest import model as mf

BIN = Path(sys.executable).parent
NEAR, FAR, PHOTO = png(101), png(102), png(103)  # ds/images/x.png, images/x.png, ds/images/p.png
PAGE = """# Treap

Markdown, against the source file: ![m](images/x.png)

Raw HTML, against the page's URL: <img src="../images/x.png" alt="raw">

<picture><source srcset="../images/p.png 2x"><img src="../images/p.png" alt="pic"></picture>

A srcset in the tree is not rewritten by MkDocs either: ![s](images/p.png){ srcset="../images/p.png 2x" }
"""
FILES: dict[str, bytes | str] = {"index.md": "# Home\n", "ds/treap.md": PAGE, "ds/images/x.png": NEAR, "images/x.png": FAR,
         "ds/images/p.png": PHOTO, "images/p.png": png(104)}  # fmt: skip


def _build(root: Path, emu: Emulator, directory_urls: bool) -> None:
    """``mkdocs build --strict``: a "not found in docs_dir" warning would abort it."""
    build(make_site(root, FILES, emulator_options(emu), use_directory_urls=directory_urls), strict=True)


def _shown(html: str, emu: Emulator) -> dict[str, bytes]:
    """alt text -> the bytes the reader's browser gets for each cloud image of the page."""
    found = {}
    for tag in re.findall(r"<img [^>]*>", html):
        alt, src = re.search(r'alt="([^"]*)"', tag), re.search(r'src="([^"]+)"', tag)
        if alt and src and src.group(1).startswith(emu.base_url):
            found[alt.group(1)] = requests.get(src.group(1), timeout=10).content
    return found


def test_raw_html_resolves_against_the_page_url_with_directory_urls(tmp_path: Path, emulator: Emulator) -> None:
    _build(tmp_path, emulator, directory_urls=True)
    html = (tmp_path / "site/ds/treap/index.html").read_text(encoding="utf-8")
    shown = _shown(html, emulator)
    assert shown["m"] == NEAR  # ds/treap.md + images/x.png
    assert shown["raw"] == NEAR  # ds/treap/ + ../images/x.png
    assert shown["pic"] == PHOTO
    source = re.search(r'<source srcset="([^"]+) 2x">', html)
    assert source and requests.get(source.group(1), timeout=10).content == PHOTO
    srcset = re.search(r'alt="s"[^>]*srcset="([^"]+) 2x"|srcset="([^"]+) 2x"[^>]*alt="s"', html)
    assert srcset and requests.get(srcset.group(1) or srcset.group(2), timeout=10).content == PHOTO
    assert FAR not in emulator.stored_files().values()  # images/x.png is shown nowhere


def test_raw_html_resolves_against_the_page_url_without_directory_urls(tmp_path: Path, emulator: Emulator) -> None:
    _build(tmp_path, emulator, directory_urls=False)  # ds/treap.html + ../images/p.png is images/p.png
    html = (tmp_path / "site/ds/treap.html").read_text(encoding="utf-8")
    shown = _shown(html, emulator)
    assert shown["m"] == NEAR  # Markdown: always against the source file
    assert shown["raw"] == FAR  # ds/treap.html + ../images/x.png
    assert shown["pic"] == png(104)


@pytest.mark.parametrize("directory_urls", [True, False])
def test_check_and_sync_agree_with_the_build(tmp_path: Path, emulator: Emulator, directory_urls: bool) -> None:
    _build(tmp_path, emulator, directory_urls)
    entries = mf.read(tmp_path / "wxcloud-manifest.yml").images
    check = cli("check", "--strict", cwd=tmp_path)
    assert check.exit_code == 0, check.stdout + check.stderr  # nothing missing, nothing unreferenced
    emulator.reset_counts()
    sync = cli("sync", cwd=tmp_path)
    assert sync.exit_code == 0, sync.stderr
    assert emulator.request_count() == 0
    assert mf.read(tmp_path / "wxcloud-manifest.yml").images == entries


def test_rewrite_with_mkdocs_yml_resolves_raw_html_as_the_site_does(tmp_path: Path, emulator: Emulator) -> None:
    _build(tmp_path, emulator, directory_urls=True)
    entries = mf.read(tmp_path / "wxcloud-manifest.yml").images
    result = cli("rewrite", "docs", "-o", "out", cwd=tmp_path)
    assert result.exit_code == 0, result.stderr
    text = (tmp_path / "out/ds/treap.md").read_text(encoding="utf-8")
    assert f'<img src="{entries["ds/images/x.png"].url}" alt="raw">' in text
    assert f"![m]({entries['ds/images/x.png'].url})" in text


def test_rewrite_without_mkdocs_yml_resolves_against_the_file(tmp_path: Path, emulator: Emulator) -> None:
    docs = tmp_path / "content"
    write_files(docs, FILES)
    options = emulator_options(emulator)
    result = subprocess.run(
        [str(BIN / "mkdocs-wxcloud"), "rewrite", "content", "--root", "content", "-o", "out",
         "-x", "attr_list", "--api-base", options["api_base"], "--appid", options["appid"], "--env", options["env"]],
        cwd=tmp_path, capture_output=True, text=True, timeout=120,
        env={"WXCLOUD_SECRET": options["secret"], "PATH": str(BIN), "HOME": str(tmp_path)},
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    entries = mf.read(tmp_path / "wxcloud-manifest.yml").images
    text = (tmp_path / "out/ds/treap.md").read_text(encoding="utf-8")
    assert f'<img src="{entries["images/x.png"].url}" alt="raw">' in text  # ds/ + ../images/x.png
