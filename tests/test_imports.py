"""Importing remote images (issue 24): what pages show from a listed host ends up in the cloud, linked.

The image hosts are real HTTP servers on loopback (``imagehosts.py``), listed as ``http://`` origins;
loopback is a private address, so every site here sets ``import_allow_private: true``. The WeChat
side is the emulator. A warm build, and a fresh checkout with only the manifest, make no request to
either.
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Callable, Iterator

import pytest
import yaml
from click.testing import CliRunner
from conftest import build, emulator_options, make_site, png
from imagehosts import ImageHost, endless, file, redirect, stall, status
from inprocess import cli
from mkdocs.exceptions import Abort

from mkdocs_wxcloud.cli.app import main
from mkdocs_wxcloud.emulator import Emulator
from mkdocs_wxcloud.errors import ManifestError
from mkdocs_wxcloud.manifest import model as mf
from mkdocs_wxcloud.manifest import schema
from mkdocs_wxcloud.publishing import imports
from mkdocs_wxcloud.publishing.run import open_run
from mkdocs_wxcloud.publishing.settings import resolve
from mkdocs_wxcloud.remote import MAX_BYTES

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


def page(o: str, shown: Callable[[str], str] | None = None) -> str:
    """Every way a page shows a remote image, and places where a URL is not an image (``shown``: what
    the shown ones are written as, the URL by default)."""
    u = shown or (lambda name: f"{o}/img/{name}")
    return (
        f"# Imports\n\n![inline]({u('logo.png')})\n\n![by reference][photo]\n\n"
        f'<img src="{u("anim.gif")}#dark" alt="raw">\n\n'
        f'<img src="{u("icon.svg")}" srcset="{u("wide.png")} 2x" alt="srcset">\n\n'
        f"![same bytes]({u('same.png')}) ![moved]({u('moved.png')})\n\n"
        f"```md\n![in code]({o}/img/logo.png)\n```\n\n`{o}/img/photo` [a link]({o}/img/wide.png)\n\n"
        f'<object data="{o}/img/icon.svg"></object>\n\n'  # it would run an SVG's scripts: not imported
        f"[photo]: {u('photo')}\n"
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
    twins = rf"docs/imported/127\.0\.0\.1_{host.port}/(logo|same|moved)\.{sha['png'][:12]}\.png"  # the first one sent
    assert re.fullmatch(twins, images[f"{o}/img/logo.png"].cloud_path)
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
    assert f'<object data="{o}/img/icon.svg">' in out


def test_a_warm_build_and_a_fresh_checkout_make_no_request(tmp_path: Path, emulator: Emulator, host: ImageHost) -> None:
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
    "/stall.png": (stall(), "did not answer within 2 s"),
    "/text.png": (file(b"just text, not an image\n" * 4, "image/png"), "sent 96 bytes that are no image"),
    "/doc.png": (file(b"%PDF-1.4\n%%EOF\n", "image/png"), "its bytes are document (.pdf), a kind that `assets`"),
}


def test_a_host_that_fails_is_one_warning_naming_page_and_url(
    tmp_path: Path, emulator: Emulator, monkeypatch: pytest.MonkeyPatch, caplog_wxcloud: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr(imports, "DEADLINE", 2.0)  # a busy machine answers well within it; the stall does not
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


# -- the commands ----------------------------------------------------------------------------------


def test_check_lints_unreliable_hosts_and_listed_images_not_imported(
    here: Path, emulator: Emulator, host: ImageHost
) -> None:
    o = origin(host)
    other = (
        "# Elsewhere\n\n![cdn](https://cdn.jsdelivr.net/gh/a/b@main/x.png)\n\n"
        '<img src="//i.imgur.com/y.png">\n\n[a link, not shown](https://raw.githubusercontent.com/a/b/main/z.png)\n\n'
        "![fine](https://example.com/ok.png)\n"
    )
    site(here, emulator, host, {"other.md": other})
    result = cli("check")
    assert result.exit_code == 1
    lines = result.output.splitlines()
    assert len([line for line in lines if line.startswith("docs/index.md")]) == 7  # the 7 imports, errors
    assert f"docs/index.md:3: {o}/img/logo.png: {imports.NOT_IMPORTED}" in lines
    assert (
        "warning: docs/other.md:3: https://cdn.jsdelivr.net/gh/a/b@main/x.png: is on cdn.jsdelivr.net, which readers "
        "in mainland China may fail to load (jsDelivr lost its ICP licence in 2021 and is often slow or unreachable "
        "from mainland China): list the host in `import_hosts` to publish it to the cloud, or copy it into docs_dir"
    ) in lines
    assert any(line.startswith("warning: docs/other.md:5: //i.imgur.com/y.png: is on i.imgur.com") for line in lines)
    assert not any("raw.githubusercontent.com" in line or "example.com" in line for line in lines)
    assert host.seen == [] and emulator.request_count() == 0  # check asks nobody
    assert cli("sync").exit_code == 0
    assert len(host.seen) == 8
    result = cli("check")
    assert result.exit_code == 0 and not [line for line in result.output.splitlines() if line.startswith("docs/")]


def test_rewrite_in_place_migrates_the_sources(here: Path, emulator: Emulator, host: ImageHost) -> None:
    o = origin(host)
    failing = f"# Half\n\n![good]({o}/img/logo.png)\n\n![gone]({o}/gone.png)\n"
    site(here, emulator, host, {"half.md": failing, "again.md": f"![gone again]({o}/gone.png)\n"})
    result = cli("rewrite", "--in-place", "docs")
    assert result.exit_code == 1
    images = manifest(here).images
    after = (here / "docs/index.md").read_text(encoding="utf-8")
    assert after == page(o, lambda name: images[f"{o}/img/{name}"].url)
    assert (here / "docs/half.md").read_text(encoding="utf-8") == failing  # one image failed: not written
    lines = result.output.splitlines()
    assert [seen.path for seen in host.seen].count("/gone.png") == 1  # once a run, however many pages show it
    assert f"error: docs/half.md: not written: no cloud URL for {o}/gone.png (line 5)" in lines
    assert f"error: docs/again.md: not written: no cloud URL for {o}/gone.png (line 1)" in lines
    assert [line for line in lines if "not written" in line] == lines[-2:]  # one line per page, at the end
    said = f"{o}/gone.png: cannot be imported: 127.0.0.1 answered 404 Not Found: the image is gone"
    assert [line for line in lines if "cannot be imported" in line] == [
        f"warning: docs/{where}: {said}; fix the link or copy the image into docs_dir"
        for where in ("again.md:1", "half.md:5")
    ]
    # the migrated page needs the host no more: a build makes no request to it
    asked = len(host.seen)
    (here / "docs/half.md").unlink()
    (here / "docs/again.md").unlink()
    build(here / "mkdocs.yml", strict=True)
    assert len(host.seen) == asked


def test_rewrite_with_a_root_takes_import_hosts_on_the_command_line(
    here: Path, emulator: Emulator, host: ImageHost, monkeypatch: pytest.MonkeyPatch
) -> None:
    o = origin(host)
    (here / "notes").mkdir()
    (here / "notes/a.md").write_text(f"# A\n\n![logo]({o}/img/logo.png)\n", encoding="utf-8")
    for name, value in emulator_options(emulator).items():
        if name != "retries":
            monkeypatch.setenv(f"WXCLOUD_{name.upper()}", str(value))
    result = cli("rewrite", "--in-place", "notes", "--root", "notes")
    assert result.exit_code == 0 and host.seen == []  # not listed: left alone
    result = cli("rewrite", "--in-place", "notes", "--root", "notes", "--import-host", o, "--import-allow-private")
    assert result.exit_code == 0, result.output
    entry = manifest(here).images[o + "/img/logo.png"]  # beside where the command runs, not in the root
    assert (here / "notes/a.md").read_text(encoding="utf-8") == f"# A\n\n![logo]({entry.url})\n"
    assert entry.source == o + "/img/logo.png"
    assert cli("rewrite", "-o", "out", "notes", "--root", "notes", "--import-host", "bad host").exit_code == 2


# -- the manifest ----------------------------------------------------------------------------------

SHA = "a" * 64
ENTRY = {"sha256": SHA, "size": 3, "cloud_path": "docs/imported/h/a.aaaaaaaaaaaa.png",
         "file_id": "cloud://env.b/docs/imported/h/a.aaaaaaaaaaaa.png", "url": "https://cdn.example/a.png"}  # fmt: skip


@pytest.mark.parametrize(
    ("key", "source", "wrong"),
    [
        ("https://cdn.jsdelivr.net/gh/a/b@main/a.png", "https://CDN.jsdelivr.net/gh/a/b@main/a.png#x", None),
        ("img/a.png", "", None),
        ("https://cdn.jsdelivr.net/a.png", "", "the image path must be a normalised path inside docs_dir"),
        ("img/a.png", "https://cdn.jsdelivr.net/a.png", "the source URL must be an http(s) URL without a #fragment"),
        ("https://cdn.jsdelivr.net/a.png#x", "https://cdn.jsdelivr.net/a.png#x", "the source URL must be an http(s)"),
        ("javascript:alert(1)", "https://cdn.jsdelivr.net/a.png", "the source URL must be an http(s) URL"),
        ("https://cdn.jsdelivr.net/a.png", "javascript:alert(1)", "field `source`: must be an http:// or https://"),
        ("https://cdn.jsdelivr.net/a b.png", "https://cdn.jsdelivr.net/a b.png", "the source URL must be an http(s)"),
    ],
)
def test_the_manifest_keys_imported_entries_by_their_url_and_nothing_else(key: str, source: str, wrong: str) -> None:
    """An https key is accepted exactly for an entry with a source URL; everything refused before still is."""
    raw = {**ENTRY, **({"source": source} if source else {})}
    text = mf.to_yaml(mf.Manifest(images={})).replace(
        "images: {}", "images:\n  " + yaml.safe_dump({key: raw}).replace("\n", "\n  ")
    )
    if wrong is None:
        assert mf.from_yaml(text, "m.yml").images[key].source == source
        return
    with pytest.raises(ManifestError) as raised:
        mf.from_yaml(text, "m.yml")
    assert wrong in str(raised.value) and "m.yml:" in str(raised.value)
    with pytest.raises(schema.Invalid):
        schema.check_image(key, raw)  # journal lines too


def test_an_imported_entry_round_trips() -> None:
    entry = mf.Entry(SHA, 3, ENTRY["cloud_path"], ENTRY["file_id"], ENTRY["url"], source="https://cdn.example/A.png")
    manifest_ = mf.Manifest(
        images={"https://cdn.example/A.png": entry, "img/a.png": mf.Entry(SHA, 3, "p", "cloud://e.b/p")}
    )
    text = mf.to_yaml(manifest_)
    assert "    source: https://cdn.example/A.png\n" in text and text.count("source:") == 1
    assert mf.from_yaml(text, "m.yml") == manifest_


# -- Zensical --------------------------------------------------------------------------------------


def test_zensical_imports_every_image_and_a_second_build_asks_nobody(
    tmp_path: Path, emulator: Emulator, host: ImageHost
) -> None:
    pytest.importorskip("zensical")
    o = origin(host)
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs/index.md").write_text(page(o) + f"\n![gone]({o}/gone.png)\n", encoding="utf-8")
    (tmp_path / "zensical.toml").write_text(
        '[project]\nsite_name = "z"\ndocs_dir = "docs"\nsite_dir = "site"\n'
        "[project.markdown_extensions.attr_list]\n[project.markdown_extensions.md_in_html]\n"
        f'[project.markdown_extensions.wxcloud]\nupload = true\nimport_hosts = ["{o}"]\nimport_allow_private = true\n',
        encoding="utf-8",
    )
    env = {**os.environ, **{f"WXCLOUD_{k.upper()}": str(v) for k, v in emulator_options(emulator).items()}}
    zensical = [str(Path(sys.executable).parent / "zensical"), "build"]
    result = subprocess.run(zensical, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=180)
    assert result.returncode == 0 and "Traceback" not in result.stderr, result.stdout + result.stderr
    said = [line for line in (result.stdout + result.stderr).splitlines() if f"{o}/gone.png" in line]
    assert len(said) == 1 and f"index.md:23: image '{o}/gone.png' cannot be imported: 127.0.0.1 answered 404" in said[0]
    images = manifest(tmp_path).images
    assert len(images) == 7 and len(emulator.stored_files()) == 5
    out = html(tmp_path)
    assert out.count(emulator.base_url) == 7 and images[f"{o}/img/anim.gif"].url + "#dark" in out
    assert f"{images[f'{o}/img/wide.png'].url} 2x" in out and f'href="{o}/img/wide.png"' in out
    assert f'src="{o}/gone.png"' in out
    asked = len(host.seen)
    emulator.reset_counts()
    result = subprocess.run([*zensical, "--clean"], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=180)
    assert result.returncode == 0, result.stdout + result.stderr
    assert [seen.path for seen in host.seen[asked:]] == ["/gone.png"]  # only a failure is tried again
    assert emulator.request_count() == 0
    assert html(tmp_path) == out


def test_a_migrated_page_keeps_its_imports_referenced(here: Path, emulator: Emulator, host: ImageHost) -> None:
    """After `rewrite --in-place`, the pages link the cloud: check and prune still count those files as
    used, and a build links them from the manifest, even once `import_hosts` is gone."""
    site(here, emulator, host)
    assert cli("rewrite", "--in-place", "docs").exit_code == 0
    migrated = (here / "docs/index.md").read_text(encoding="utf-8")
    make_site(here, {}, emulator_options(emulator))  # no import_hosts any more
    result = cli("check")
    assert result.exit_code == 0, result.output
    twins = [line for line in result.output.splitlines() if "no page references it" in line]
    assert [line.split(": ")[2] for line in twins] == [f"{origin(host)}/img/{n}" for n in ("moved.png", "same.png")]
    result = cli("prune")  # the twins' entries go, not their file
    assert result.exit_code == 0 and "no cloud file to delete" in result.output
    asked = len(host.seen)
    emulator.reset_counts()
    build(here / "mkdocs.yml", strict=True)
    assert (len(host.seen), emulator.request_count()) == (asked, 0)
    assert (here / "docs/index.md").read_text(encoding="utf-8") == migrated


def test_imports_are_optimized_like_local_images(tmp_path: Path, emulator: Emulator) -> None:
    pytest.importorskip("oxipng")
    routes = {"/a.png": file(PNG, "image/png"), "/lies.png": file(JPEG, "image/png"), "/b": file(png(43))}
    with ImageHost(routes) as server:
        o = origin(server)
        text = f"![a]({o}/a.png) ![jpeg]({o}/lies.png) ![b]({o}/b)\n"
        build(site(tmp_path, emulator, server, {"index.md": text}, optimize="lossless"))
    images = manifest(tmp_path).images
    assert images[f"{o}/a.png"].optimize == "lossless" and images[f"{o}/a.png"].cloud_path.endswith(".png")
    assert images[f"{o}/lies.png"].cloud_path.endswith(".jpg")  # named by its bytes
    assert images[f"{o}/b"].cloud_path.endswith(".png")
    assert f'src="{o}' not in html(tmp_path)
    assert html(tmp_path).count(emulator.base_url) == 3


def test_offline_links_what_the_manifest_has_and_asks_no_host(
    tmp_path: Path, emulator: Emulator, host: ImageHost, caplog_wxcloud: pytest.LogCaptureFixture
) -> None:
    o = origin(host)
    config = site(tmp_path, emulator, host, offline=True)
    build(config)
    assert host.seen == [] and emulator.request_count() == 0
    said = [r.getMessage() for r in caplog_wxcloud.records if f"{o}/img/logo.png" in r.getMessage()]
    assert said == [f"index.md:3: image '{o}/img/logo.png' {imports.NOT_IMPORTED}"]
    assert f'src="{o}/img/logo.png"' in html(tmp_path)


def test_a_bad_import_host_is_one_configuration_error(
    tmp_path: Path, emulator: Emulator, caplog: pytest.LogCaptureFixture
) -> None:
    config = make_site(tmp_path, {"index.md": "hi\n"}, emulator_options(emulator, import_hosts=["https://a.example/x"]))
    with pytest.raises(Abort):
        build(config)
    errors = [r.getMessage() for r in caplog.records if "import_hosts" in r.getMessage()]
    assert len(errors) == 1 and "option `import_hosts`: 'https://a.example/x' is not an origin" in errors[0], errors


def test_cloud_names_come_from_the_url_and_the_bytes(tmp_path: Path, emulator: Emulator) -> None:
    routes = {"/mmbiz/640": file(PNG, "application/octet-stream"), "/img/%E5%9B%BE.gif": file(GIF, "image/gif")}
    with ImageHost(routes) as server:
        o = origin(server)
        text = f"![wechat]({o}/mmbiz/640?wx_fmt=png&amp;from=appmsg) ![图]({o}/img/图.gif)\n"  # the browser loads &
        build(site(tmp_path, emulator, server, {"index.md": text}))
    folder = f"docs/imported/127.0.0.1_{server.port}"
    images = manifest(tmp_path).images
    assert {key: e.cloud_path for key, e in images.items()} == {
        f"{o}/mmbiz/640?wx_fmt=png&from=appmsg": f"{folder}/640.{hashlib.sha256(PNG).hexdigest()[:12]}.png",
        f"{o}/img/%E5%9B%BE.gif": f"{folder}/图.{hashlib.sha256(GIF).hexdigest()[:12]}.gif",
    }
    assert images[f"{o}/img/%E5%9B%BE.gif"].source == f"{o}/img/图.gif"  # as the page wrote it
    # the character reference is the Markdown's, not the URL's: the page shows (and loads) a plain '&'
    assert images[f"{o}/mmbiz/640?wx_fmt=png&from=appmsg"].source == f"{o}/mmbiz/640?wx_fmt=png&from=appmsg"
    assert [seen.path for seen in server.seen if seen.path.startswith("/mmbiz")] == [
        "/mmbiz/640?wx_fmt=png&from=appmsg"
    ]


def test_a_download_cache_that_cannot_be_written_is_one_warning(
    tmp_path: Path, emulator: Emulator, host: ImageHost, caplog_wxcloud: pytest.LogCaptureFixture
) -> None:
    config = site(tmp_path, emulator, host)
    (tmp_path / ".cache/plugin/wxcloud").mkdir(parents=True)
    (tmp_path / ".cache/plugin/wxcloud/remote").write_text("a file, not a folder")
    build(config)
    said = [r.getMessage() for r in caplog_wxcloud.records if f"{origin(host)}/img/logo.png" in r.getMessage()]
    assert len(said) == 1 and "cannot be imported: the download cache" in said[0] and "`cache_dir`" in said[0]
    result = CliRunner().invoke(main, ["sync", "-f", str(config)], catch_exceptions=False)  # no traceback
    assert result.output.count("cannot be imported: the download cache") == 7
    assert CliRunner().invoke(main, ["check", "-f", str(config)]).exit_code == 1  # the gate


def test_dimensions_apply_to_imported_images(tmp_path: Path, emulator: Emulator, host: ImageHost) -> None:
    pytest.importorskip("PIL")
    o = origin(host)
    config = site(tmp_path, emulator, host, {"index.md": f"![logo]({o}/img/logo.png)\n"}, dimensions=True)
    build(config)
    url = manifest(tmp_path).images[f"{o}/img/logo.png"].url
    assert f'<img alt="logo" height="8" src="{url}" width="8" />' in html(tmp_path)
    shutil.rmtree(tmp_path / ".cache")
    asked = len(host.seen)
    build(config)
    assert len(host.seen) == asked and f'height="8" src="{url}" width="8"' in html(tmp_path)


def test_a_migrated_page_keeps_the_source_urls_as_pages_first_wrote_them(
    here: Path, emulator: Emulator, host: ImageHost
) -> None:
    """The manifest records an import's URL as the page wrote it. Once pages link the cloud (`rewrite
    --in-place`), no page shows that form any more: a new `base_url` relinks the entries and keeps it."""
    o = origin(host)

    def written(name: str) -> str:
        return f"HTTP://127.0.0.1:{host.port}/img/{name}"

    options = {"import_hosts": [o], "import_allow_private": True}
    make_site(here, {"index.md": page(o, written)}, emulator_options(emulator, base_url="https://a.example", **options))
    assert cli("rewrite", "--in-place", "docs").exit_code == 0
    sources = {key: entry.source for key, entry in manifest(here).images.items()}
    assert sources[f"{o}/img/logo.png"] == written("logo.png")
    assert "](https://a.example/docs/imported/" in (here / "docs/index.md").read_text(encoding="utf-8")
    make_site(here, {}, emulator_options(emulator, base_url="https://b.example", **options))
    build(here / "mkdocs.yml", strict=True)
    images = manifest(here).images
    assert {key: entry.source for key, entry in images.items()} == sources
    assert images[f"{o}/img/logo.png"].url.startswith("https://b.example/docs/imported/")


def test_a_download_whose_cached_copy_was_deleted_before_its_upload_is_downloaded_again(
    tmp_path: Path, emulator: Emulator, host: ImageHost
) -> None:
    """The cache is a folder others may clean (CI caches, a user) between the download and the upload."""
    source = f"{origin(host)}/img/logo.png"
    options = emulator_options(emulator, import_hosts=[origin(host)], import_allow_private=True)
    docs = tmp_path / "docs"
    docs.mkdir()
    with open_run(resolve(options, tmp_path), docs) as run:
        assert not run.resolve(source).linkable  # downloaded, and known to this run
        shutil.rmtree(run.settings.cache_dir / "remote")
        report = run.publish_all([source])
    assert report.errors == {} and list(report.urls) == [source]
    assert [seen.path for seen in host.seen] == ["/img/logo.png"] * 2
    assert emulator.stored_files()[manifest(tmp_path).images[source].cloud_path] == PNG
