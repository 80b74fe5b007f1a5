"""Importing remote images (issue 24): what pages show from a listed host ends up in the cloud, linked.

The image hosts are real HTTP servers on loopback (``imagehosts.py``), listed as ``http://`` origins;
loopback is a private address, so every site here sets ``import_allow_private: true``. The WeChat
side is the emulator. A warm build, and a fresh checkout with only the manifest, make no request to
either.
"""

from __future__ import annotations

import hashlib
import logging
import re
import shutil
from pathlib import Path
from typing import Iterator

import pytest
import yaml
from click.testing import CliRunner
from conftest import build, emulator_options, make_site, png
from imagehosts import ImageHost, endless, file, redirect, stall, status
from mkdocs.exceptions import Abort

from mkdocs_wxcloud.cli.app import main
from mkdocs_wxcloud.emulator import Emulator
from mkdocs_wxcloud.manifest import model as mf
from mkdocs_wxcloud.manifest import schema
from mkdocs_wxcloud.remote import MAX_BYTES
from mkdocs_wxcloud.publishing import imports

PNG, GIF = png(41), b"GIF89a" + bytes(40)
SVG = b'<?xml version="1.0"?>\n<svg xmlns="http://www.w3.org/2000/svg" width="4" height="4"></svg>'
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00" + bytes(300) + b"\xff\xd9"
LOGIN = b'<!DOCTYPE html><html><body><form><input type="password" name="pw"></form></body></html>'
FILES = {
    "/img/logo.png": file(PNG, "image/png"),
    "/img/photo": file(JPEG),  # no extension, no type: the bytes say JPEG
    "/img/anim.gif": file(GIF, "image/gif"),
    "/img/same.png": file(PNG, "image/png"),  # the same bytes as logo.png, under another URL
    "/img/icon.svg": file(SVG, "image/svg+xml"),
    "/img/wide.png": file(png(42), "image/png"),
    "/img/moved.png": redirect("/img/logo.png"),
}


@pytest.fixture
def host() -> Iterator[ImageHost]:
    with ImageHost(dict(FILES)) as server:
        yield server


def origin(host: ImageHost) -> str:
    return f"http://127.0.0.1:{host.port}"


def page(o: str) -> str:
    """Every way a page shows a remote image, and the places where a URL is not an image."""
    return (
        f"# Imports\n\n![inline]({o}/img/logo.png)\n\n![by reference][photo]\n\n"
        f'<img src="{o}/img/anim.gif#dark" alt="raw">\n\n'
        f'<img src="{o}/img/icon.svg" srcset="{o}/img/wide.png 2x" alt="srcset">\n\n'
        f"![same bytes]({o}/img/same.png) ![moved]({o}/img/moved.png)\n\n"
        f"```md\n![in code]({o}/img/logo.png)\n```\n\n`{o}/img/photo` [a link]({o}/img/wide.png)\n\n"
        f"[photo]: {o}/img/photo\n"
    )


def site(root: Path, emu: Emulator, host: ImageHost, pages: dict[str, str] | None = None, **plugin: object) -> Path:
    options = {"import_hosts": [origin(host)], "import_allow_private": True, **plugin}
    return make_site(root, {"index.md": page(origin(host)), **(pages or {})}, emulator_options(emu, **options))


def manifest(root: Path) -> mf.Manifest:
    return mf.from_yaml((root / "wxcloud-manifest.yml").read_text(encoding="utf-8"), "manifest")


def html(root: Path, name: str = "index.html") -> str:
    """A built page without MkDocs' build-date comment."""
    return re.sub(r"<!--.*?-->", "", (root / "site" / name).read_text(encoding="utf-8"), flags=re.S)


def test_a_build_imports_every_image_a_page_shows(tmp_path: Path, emulator: Emulator, host: ImageHost) -> None:
    build(site(tmp_path, emulator, host))
    o = origin(host)
    images = manifest(tmp_path).images
    assert sorted(images) == sorted(f"{o}/img/{n}" for n in ("logo.png", "photo", "anim.gif", "icon.svg", "wide.png",
                                                               "same.png", "moved.png"))  # fmt: skip
    stored = emulator.stored_files()
    sha = {name: hashlib.sha256(data).hexdigest() for name, data in (("png", PNG), ("jpg", JPEG), ("gif", GIF))}
    assert images[f"{o}/img/photo"].cloud_path == f"docs/imported/127.0.0.1_{host.port}/photo.{sha['jpg'][:12]}.jpg"
    assert images[f"{o}/img/logo.png"].cloud_path == f"docs/imported/127.0.0.1_{host.port}/logo.{sha['png'][:12]}.png"
    assert images[f"{o}/img/same.png"].file_id == images[f"{o}/img/logo.png"].file_id  # one upload
    assert images[f"{o}/img/moved.png"].file_id == images[f"{o}/img/logo.png"].file_id
    assert len(stored) == 5 and stored[images[f"{o}/img/photo"].cloud_path] == JPEG
    assert {e.source for e in images.values()} == set(images)
    out = html(tmp_path)
    for name in ("logo.png", "photo", "anim.gif", "icon.svg", "wide.png", "same.png", "moved.png"):
        assert f'"{o}/img/{name}' not in out.split("<pre")[0]  # every image, linked from the cloud
    assert images[f"{o}/img/anim.gif"].url + "#dark" in out
    assert f"{images[f'{o}/img/wide.png'].url} 2x" in out
    assert f"![in code]({o}/img/logo.png)" in out  # code stays
    assert f'href="{o}/img/wide.png"' in out  # a link is followed, not shown: not imported


def test_a_warm_build_and_a_fresh_checkout_make_no_request(
    tmp_path: Path, emulator: Emulator, host: ImageHost
) -> None:
    config = site(tmp_path, emulator, host)
    build(config)
    first = html(tmp_path)
    asked = len(host.seen)
    assert asked == 8  # each of the 7 URLs once, and the hop of the redirect
    emulator.reset_counts()
    build(config)
    assert (len(host.seen), emulator.request_count()) == (asked, 0)
    assert html(tmp_path) == first
    shutil.rmtree(tmp_path / ".cache")  # a fresh checkout: the manifest only
    shutil.rmtree(tmp_path / "site")
    build(config)
    assert (len(host.seen), emulator.request_count()) == (asked, 0)
    assert html(tmp_path) == first


def test_downloads_are_cached_by_url(tmp_path: Path, emulator: Emulator, host: ImageHost) -> None:
    """Without the manifest (a lost upload, another environment), the download cache spares the host."""
    config = site(tmp_path, emulator, host)
    build(config)
    asked = len(host.seen)
    (tmp_path / "wxcloud-manifest.yml").unlink()
    build(config)
    assert len(host.seen) == asked
    assert len(manifest(tmp_path).images) == 7
    assert not list((tmp_path / ".cache").rglob(".part-*"))


FAILING = {  # path -> (route, what the warning says the host did)
    "/login.png": (status(200, LOGIN, "image/png"), "answered a login page"),
    "/refused.png": (status(403), "answered 403 Forbidden: the host refuses hotlinking"),
    "/away.png": (redirect("https://evil.example/steal.png"), "redirected to evil.example, which is not in"),
    "/huge.png": (endless(MAX_BYTES + 1, announce=True), "sent more than 50 MB"),
    "/stall.png": (stall(), "did not answer within 0.5 s"),
    "/text.png": (file(b"just text, not an image\n" * 4, "image/png"), "sent 96 bytes that are no image"),
    "/doc.png": (file(b"%PDF-1.4\n%%EOF\n", "image/png"), "its bytes are document (.pdf), a kind that `assets`"),
}


def test_a_host_that_fails_is_one_warning_naming_page_and_url(
    tmp_path: Path, emulator: Emulator, monkeypatch: pytest.MonkeyPatch, caplog_wxcloud: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr(imports, "DEADLINE", 0.5)
    routes = {**FILES, **{path: route for path, (route, _) in FAILING.items()}}
    with ImageHost(routes) as host:
        o = origin(host)
        text = "# Failures\n\n![good](" + o + "/img/logo.png)\n\n" + "".join(f"![x]({o}{p})\n\n" for p in FAILING)
        config = site(tmp_path, emulator, host, {"sub/bad.md": text})
        build(config)
        warnings = [r.getMessage() for r in caplog_wxcloud.records if r.levelno == logging.WARNING]
        for path, (_, what) in FAILING.items():
            url = o + path
            said = [w for w in warnings if url in w]
            assert len(said) == 1, (url, warnings)
            line = 3 + 2 * list(FAILING).index(path) + 2
            assert said[0].startswith(f"sub/bad.md:{line}: image '{url}' cannot be imported: "), said[0]
            assert what in said[0] and "\n" not in said[0] and "Traceback" not in said[0]
            assert f'src="{url}"' in html(tmp_path, "sub/bad/index.html")  # the reference stays as it was
            assert url not in manifest(tmp_path).images
        assert f'src="{o}/img/logo.png"' not in html(tmp_path, "sub/bad/index.html")
        assert not list((tmp_path / ".cache").rglob(".part-*"))  # never a partial file in the cache
        assert not [n for n in (tmp_path / ".cache/plugin/wxcloud/remote").iterdir() if "huge" in n.name]
        with pytest.raises(Abort):
            build(config, strict=True)


def test_an_unlisted_host_and_private_addresses_are_left_alone(
    tmp_path: Path, emulator: Emulator, host: ImageHost, caplog_wxcloud: pytest.LogCaptureFixture
) -> None:
    """Only listed hosts are imported; a listed loopback host without `import_allow_private` is refused."""
    config = site(tmp_path, emulator, host, import_allow_private=False)
    build(config)
    o = origin(host)
    assert host.seen == [] and manifest(tmp_path).images == {}
    assert f'src="{o}/img/logo.png"' in html(tmp_path)
    refused = [r.getMessage() for r in caplog_wxcloud.records if f"{o}/img/logo.png" in r.getMessage()]
    assert len(refused) == 1 and "cannot be imported: 127.0.0.1 resolves to a loopback address" in refused[0]
    caplog_wxcloud.clear()
    make_site(tmp_path, {"index.md": page(o)}, emulator_options(emulator, import_hosts=["example.com"]))
    build(tmp_path / "mkdocs.yml", strict=True)  # not listed: a remote image like any other, no warning
    assert host.seen == [] and manifest(tmp_path).images == {}
