"""What an object is stored as: a cloud path every part of the service takes, and its MIME type.

The cloud path holds none of the characters WeChat's naming rules warn about (a `?` splits the COS
upload URL); the type COS stores comes from the form field ``Content-Type`` before ``file``.
"""

from __future__ import annotations

import email.parser
import email.policy
import subprocess
import sys
from pathlib import Path

import pytest
import requests
import yaml
from conftest import emulator_options, make_site, png, wx_client
from proxy import Exchange, Proxy

from mkdocs_wxcloud.emulator import DEFAULT_APPID, DEFAULT_ENV, DEFAULT_SECRET, Emulator
from mkdocs_wxcloud.publishing.cloudpath import cloud_path
from mkdocs_wxcloud.wechat.media import content_type
from mkdocs_wxcloud.wechat.tokens import TokenCache

BIN = Path(sys.executable).parent
SHA = "0123456789ab" + "c" * 52
AVOIDED = set("+?&=;$:| `^\"\\{}[]~%#<>'(),")


@pytest.mark.parametrize("name", ["c++.png", "q&a.png", "a?b.png", "x=1;y$2:z|w.png", "a b.png", "a@2x.png"])
def test_cloud_paths_hold_no_character_the_service_warns_about(name: str) -> None:
    path = cloud_path("docs", f"img/{name}", SHA)
    assert not AVOIDED & set(path), path
    assert path.startswith("docs/img/") and path.endswith(".0123456789ab.png")
    assert ("@2x" in path) == (name == "a@2x.png")  # `@` round-trips, as the site test below shows


def run(root: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([str(BIN / "mkdocs-wxcloud"), *args], cwd=root, capture_output=True, text=True, timeout=180)


SITE = {
    "index.md": "![a](c++.png) ![b](q&a.png) ![c](a%3Fb.png) ![d](a@2x.png)\n",
    "c++.png": png(11),
    "q&a.png": png(12),
    "a?b.png": png(13),
    "a@2x.png": png(14),
}


def test_files_named_with_reserved_characters_publish_and_serve_their_bytes(tmp_path: Path, emulator: Emulator) -> None:
    make_site(tmp_path, SITE, emulator_options(emulator))
    done = run(tmp_path, "sync")
    assert done.returncode == 0, done.stderr
    images = yaml.safe_load((tmp_path / "wxcloud-manifest.yml").read_text(encoding="utf-8"))["images"]
    assert sorted(images) == sorted(name for name in SITE if name != "index.md")
    for name, entry in images.items():
        assert not AVOIDED & set(entry["cloud_path"]), entry["cloud_path"]
        assert requests.get(entry["url"], timeout=10).content == SITE[name]
    assert images["a@2x.png"]["cloud_path"].startswith("docs/a@2x.")


def test_entries_stored_under_older_cloud_paths_stay_valid(tmp_path: Path, emulator: Emulator) -> None:
    """Cloud paths are computed for new uploads only: an entry of an older release is still current."""
    make_site(tmp_path, SITE, emulator_options(emulator))
    assert run(tmp_path, "sync").returncode == 0
    manifest = tmp_path / "wxcloud-manifest.yml"
    data = yaml.safe_load(manifest.read_text(encoding="utf-8"))
    old = data["images"]["c++.png"]
    old["cloud_path"] = old["cloud_path"].replace("c__", "c++")
    with wx_client(api_base=emulator.base_url, env=DEFAULT_ENV, appid=DEFAULT_APPID, secret=DEFAULT_SECRET,
                       token_cache=TokenCache(None)) as client:  # fmt: skip
        old["file_id"] = client.upload(old["cloud_path"], tmp_path / "docs" / "c++.png")
        old["url"] = client.download_urls([old["file_id"]])[0][old["file_id"]]
    manifest.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    before = manifest.read_text(encoding="utf-8")
    uploads = emulator.request_count("/tcb/uploadfile")
    done = run(tmp_path, "check", "--remote")
    assert done.returncode == 0, done.stdout + done.stderr
    assert run(tmp_path, "sync").returncode == 0
    assert emulator.request_count("/tcb/uploadfile") == uploads
    assert manifest.read_text(encoding="utf-8") == before


# -- the object's MIME type -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("a.svg", "image/svg+xml"),
        ("a.PDF", "application/pdf"),
        ("a.mp4", "video/mp4"),
        ("a.webp", "image/webp"),
        ("a.avif", "image/avif"),
        ("a.webm", "video/webm"),
        ("a.mov", "video/quicktime"),
        ("a.mp3", "audio/mpeg"),
        ("a.opus", "audio/ogg"),
        ("a.flac", "audio/flac"),
        ("a.jfif", "image/jpeg"),
        ("a.unknownext", None),
        ("noext", None),
    ],
)
def test_every_asset_kind_has_its_type(name: str, expected: str | None) -> None:
    assert content_type(name) == expected


def form_fields(body: bytes, headers: dict[str, str]) -> list[tuple[str, str | None, bytes]]:
    """``(name, part Content-Type, value)`` of each part of a multipart form, in order."""
    kind = next(v for k, v in headers.items() if k.lower() == "content-type")
    message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(
        f"Content-Type: {kind}\r\n\r\n".encode() + body
    )
    return [
        (part.get_param("name", header="content-disposition"), part.get("Content-Type"), part.get_payload(decode=True))
        for part in message.iter_parts()
    ]


def cos_through(proxy: Proxy, emulator: Emulator) -> Proxy:
    """``proxy``, sending the COS upload through itself too (the upload link names the emulator)."""

    def after(exchange: Exchange) -> Exchange:
        if exchange.path.startswith("/tcb/uploadfile"):
            exchange.answer = exchange.answer.replace(emulator.base_url.encode(), proxy.base_url.encode())
        return exchange

    proxy.after = after
    return proxy


@pytest.mark.parametrize(("name", "size"), [("doc.pdf", 10), ("clip.mp4", 2 << 20), ("logo.svg", 10), ("x.bin", 10)])
def test_the_upload_form_names_the_type_before_the_file(
    emulator: Emulator, tmp_path: Path, name: str, size: int
) -> None:
    data = (b"%PDF-1.4 " * (size // 9 + 1))[:size]
    (tmp_path / name).write_bytes(data)
    with cos_through(Proxy(emulator.base_url), emulator) as proxy:
        with wx_client(api_base=proxy.base_url, env=DEFAULT_ENV, appid=DEFAULT_APPID, secret=DEFAULT_SECRET,
                           token_cache=TokenCache(None)) as client:  # fmt: skip
            client.upload(f"docs/{name}", tmp_path / name)
        index = next(i for i, e in enumerate(proxy.seen) if e.path.startswith("/cos/"))
        fields = form_fields(proxy.seen[index].body, proxy.headers[index])
    expected = content_type(name)
    names = [field[0] for field in fields]
    assert names[-1] == "file" and fields[-1][2] == data
    if expected is None:
        assert "Content-Type" not in names  # never application/octet-stream: it would pin the type
        assert fields[-1][1] == "application/octet-stream"
    else:
        assert names[-2] == "Content-Type" and fields[-2][2] == expected.encode()
        assert fields[-1][1] == expected
    assert b"application/octet-stream" not in b"".join(value for _, _, value in fields[:-1])
    assert emulator.stored_files()[f"docs/{name}"] == data
