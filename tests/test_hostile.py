"""Hostile input: a hand-edited manifest, a server that misbehaves, files that change mid-upload.

Only http(s) URLs ever reach a page, secrets never follow a redirect, a malformed manifest is one
line naming file, line and key (and is never rewritten), the bytes in the cloud are the bytes
hashed, and an error answer that echoes credentials does not show them. The misbehaving server is a proxy in front of the real emulator (``proxy.py``).
"""

from __future__ import annotations

import hashlib
import html
import io
import json
import subprocess
import sys
import threading
from pathlib import Path

import markdown
import pytest
import requests
import yaml
from conftest import build, emulator_options, make_site, png
from inprocess import build_errors, cli
from proxy import Exchange, Proxy

from mkdocs_wxcloud.emulator import DEFAULT_SECRET, Emulator
from mkdocs_wxcloud.errors import ManifestError, redact
from mkdocs_wxcloud.manifest import model as mf
from mkdocs_wxcloud.wechat.errors import CosError
from mkdocs_wxcloud.wechat.transport import Transport

BIN = Path(sys.executable).parent
MANIFEST = "wxcloud-manifest.yml"


def run(root: Path, *args: str) -> subprocess.CompletedProcess:
    command = [str(BIN / "mkdocs"), "build"] if args[0] == "build" else [str(BIN / "mkdocs-wxcloud"), *args]
    return subprocess.run([*command, *args[1:]] if args[0] == "build" else command, cwd=root, capture_output=True,
                          text=True, timeout=180)  # fmt: skip


def one_line(stderr: str, needle: str) -> str:
    """The one line of ``stderr`` that holds ``needle``; no traceback anywhere."""
    assert "Traceback" not in stderr, stderr
    found = [line for line in stderr.splitlines() if needle in line]
    assert len(found) == 1, stderr
    return found[0]


def _published(root: Path, emu: Emulator) -> str:
    build(
        make_site(root, {"index.md": "# Home\n\n![x](x.png)\n\n[big](x.png)\n", "x.png": png(1)}, emulator_options(emu))
    )
    return (root / MANIFEST).read_text(encoding="utf-8")


# -- URLs that are not http(s) -------------------------------------------------------------------


def test_a_javascript_url_in_the_manifest_reaches_no_page(tmp_path: Path, emulator: Emulator) -> None:
    text = _published(tmp_path, emulator)
    entry = mf.from_yaml(text, MANIFEST).images["x.png"]
    evil = text.replace(f"url: {entry.url}", "url: javascript:alert(document.cookie)")
    (tmp_path / MANIFEST).write_text(evil, encoding="utf-8")
    line = evil.splitlines().index("    url: javascript:alert(document.cookie)") + 1

    errors = build_errors(tmp_path / "mkdocs.yml")
    assert sum(f"{MANIFEST}:{line}: image 'x.png' field `url`" in error for error in errors) == 1
    assert "javascript:" not in (tmp_path / "site/index.html").read_text(encoding="utf-8")

    check = cli("check", cwd=tmp_path)
    assert check.exit_code == 2
    assert f"{MANIFEST}:{line}: image 'x.png' field `url`: must be an http:// or https:// URL" in one_line(
        check.stderr, "field `url`"
    )

    rewrite = run(tmp_path, "rewrite", "docs", "-o", "out")
    assert rewrite.returncode == 2 and not (tmp_path / "out").exists()
    assert (tmp_path / MANIFEST).read_text(encoding="utf-8") == evil  # never repaired

    with pytest.raises(ManifestError, match="field `url`"):
        markdown.Markdown(extensions=["wxcloud"], extension_configs={"wxcloud": {
            "docs_dir": str(tmp_path / "docs"), "manifest": str(tmp_path / MANIFEST),
            "cache_dir": str(tmp_path / ".cache/plugin/wxcloud")}}).convert("![x](x.png)")  # fmt: skip


def test_a_link_answered_as_javascript_is_refused(tmp_path: Path, emulator: Emulator) -> None:
    def evil_links(answer: Exchange) -> Exchange | None:
        if answer.path.startswith("/tcb/batchdownloadfile"):
            data = json.loads(answer.answer)
            for item in data["file_list"]:
                item["download_url"] = "javascript:alert(1)"
            answer.answer = json.dumps(data).encode()
        return answer

    with Proxy(emulator.base_url, after=evil_links) as proxy:
        make_site(
            tmp_path,
            {"index.md": "![x](x.png)\n", "x.png": png(2)},
            emulator_options(emulator, api_base=proxy.base_url),
        )
        build = run(tmp_path, "build")
    assert build.returncode == 0  # one image failed: a warning, the page keeps the local file
    assert "not an http(s) URL" in build.stderr
    html = (tmp_path / "site/index.html").read_text(encoding="utf-8")
    assert "javascript:" not in html and 'src="x.png"' in html
    assert "javascript" not in (tmp_path / MANIFEST).read_text(encoding="utf-8")


BAD_BASE_URLS = ["not a url", "javascript:alert(1)", "ftp://cdn.example.com", "//cdn.example.com"]
BASE_URL_ERROR = "option `base_url` must be an absolute http(s) URL"


@pytest.mark.parametrize("base_url", BAD_BASE_URLS)
def test_base_url_must_be_an_absolute_http_url(tmp_path: Path, emulator: Emulator, base_url: str) -> None:
    config = make_site(
        tmp_path, {"index.md": "![x](x.png)\n", "x.png": png(3)}, emulator_options(emulator, base_url=base_url)
    )
    assert sum(BASE_URL_ERROR in line for line in build_errors(config)) == 1
    sync = cli("sync", cwd=tmp_path)
    assert sync.exit_code != 0
    assert BASE_URL_ERROR in one_line(sync.stderr, "base_url")
    assert emulator.request_count() == 0


def test_a_bad_base_url_is_one_line_from_each_command_as_a_process(tmp_path: Path, emulator: Emulator) -> None:
    make_site(
        tmp_path, {"index.md": "![x](x.png)\n", "x.png": png(3)}, emulator_options(emulator, base_url=BAD_BASE_URLS[-1])
    )
    for result in (run(tmp_path, "build"), run(tmp_path, "sync")):
        assert result.returncode != 0
        assert BASE_URL_ERROR in one_line(result.stderr, "base_url")
    assert emulator.request_count() == 0


# -- redirects -----------------------------------------------------------------------------------


def test_secrets_never_follow_a_redirect(tmp_path: Path, emulator: Emulator) -> None:
    with Proxy(emulator.base_url) as elsewhere:  # records anything sent to it

        def redirect(request: Exchange) -> Exchange | None:
            if request.path.startswith("/cgi-bin/"):
                return Exchange(request.method, request.path, b"", 307, {"Location": elsewhere.base_url + request.path})
            return None

        with Proxy(emulator.base_url, before=redirect) as api:
            make_site(
                tmp_path,
                {"index.md": "![x](x.png)\n", "x.png": png(4)},
                emulator_options(emulator, api_base=api.base_url),
            )
            sync = cli("sync", cwd=tmp_path)
        assert elsewhere.seen == []
    assert sync.exit_code == 1
    line = one_line(sync.stderr, "307")
    assert "redirect" in line and "not followed" in line and DEFAULT_SECRET not in sync.stderr
    assert emulator.request_count("/tcb/uploadfile") == 0


# -- malformed manifests -------------------------------------------------------------------------

ENTRY = {"sha256": "a" * 64, "size": 3, "cloud_path": "docs/x.png", "file_id": "cloud://e.b/docs/x.png",
         "url": "https://b.tcb.qcloud.la/docs/x.png"}  # fmt: skip
MALFORMED = {
    "retired-number": ({"images": {}, "retired": 5}, "`retired`: must be a list"),
    "retired-mapping": ({"images": {}, "retired": {"a": "b"}}, "`retired`: must be a list"),
    "retired-string": ({"images": {}, "retired": ["cloud://e.b/x.png"]}, "retired item 1: must be a mapping"),
    "retired-field": ({"images": {}, "retired": [{"file_id": 3, "cloud_path": "x"}]}, "retired item 1 field `file_id`"),
    "images-list": ({"images": ["x.png"]}, "`images`: must be a mapping"),
    "top-list": (["x"], "not a mkdocs-wxcloud manifest"),
    "unknown-key": ({"images": {}, "imgaes": {}}, "`imgaes`: unknown key"),
    "size-text": ({"images": {"x.png": {**ENTRY, "size": "3"}}}, "image 'x.png' field `size`"),
    "size-bool": ({"images": {"x.png": {**ENTRY, "size": True}}}, "image 'x.png' field `size`"),
    "sha-short": ({"images": {"x.png": {**ENTRY, "sha256": "abc"}}}, "image 'x.png' field `sha256`"),
    "missing-file-id": (
        {"images": {"x.png": {k: v for k, v in ENTRY.items() if k != "file_id"}}},
        "field `file_id`: is missing",
    ),
    "path-escapes": ({"images": {"../x.png": ENTRY}}, "image '../x.png': the image path"),
    "cloud-path-dots": ({"images": {"x.png": {**ENTRY, "cloud_path": "docs/../x.png"}}}, "field `cloud_path`"),
    "expires-text": ({"images": {"x.png": {**ENTRY, "expires": "soon"}}}, "field `expires`"),
    "env-number": ({"env": 5, "images": {}}, "`env`: must be"),
    # width and height go into pages as attributes: numbers only
    "width-markup": (
        {"images": {"x.png": {**ENTRY, "width": '1" onerror="alert(1)'}}},
        "field `width`: must be a whole number of pixels",
    ),
    "height-zero": ({"images": {"x.png": {**ENTRY, "height": 0}}}, "field `height`: must be a whole number of pixels"),
    "done-newline": ({"images": {"x.png": {**ENTRY, "done": "oxipng\nrm -rf"}}}, "field `done`: must be a short text"),
    "stored-negative": ({"images": {"x.png": {**ENTRY, "stored_size": -1}}}, "field `stored_size`"),
    # `rewrite --link file-id` writes the id into pages: it must name the entry's own file
    "file-id-elsewhere": (
        {"images": {"x.png": {**ENTRY, "file_id": "cloud://other.b/evil.png"}}},
        "field `file_id`: must be the id of the entry's cloud_path",
    ),
}


def _malformed(root: Path, emu: Emulator, case: str) -> tuple[str, str]:
    """A site whose manifest was hand-edited into ``MALFORMED[case]``: (the manifest's text, the needle)."""
    data, needle = MALFORMED[case]
    make_site(root, {"index.md": "![x](x.png)\n", "x.png": png(5)}, emulator_options(emu))
    text = "# hand-edited\n" + yaml.safe_dump(data, allow_unicode=True)
    (root / MANIFEST).write_text(text, encoding="utf-8")
    return text, needle


@pytest.mark.parametrize("case", list(MALFORMED))
def test_the_schema_refuses_a_malformed_manifest_in_one_line(case: str) -> None:
    data, needle = MALFORMED[case]
    with pytest.raises(ManifestError) as error:
        mf.from_yaml("# hand-edited\n" + yaml.safe_dump(data, allow_unicode=True), MANIFEST)
    message = str(error.value)
    assert needle in message and "\n" not in message
    assert message.startswith(f"{MANIFEST}:") and "left unchanged" in message


@pytest.mark.parametrize("case", list(MALFORMED))
def test_a_malformed_manifest_is_one_line_and_never_rewritten(tmp_path: Path, emulator: Emulator, case: str) -> None:
    text, needle = _malformed(tmp_path, emulator, case)
    assert sum(needle in line for line in build_errors(tmp_path / "mkdocs.yml")) == 1
    for command in (("check",), ("sync",), ("prune", "--yes")):
        result = cli(*command, cwd=tmp_path)
        assert result.exit_code == 2, (command, result.stderr)
        line = one_line(result.stderr, needle)
        assert f"{MANIFEST}:" in line and "left unchanged" in line
    assert (tmp_path / MANIFEST).read_text(encoding="utf-8") == text
    assert emulator.request_count() == 0


def test_a_malformed_manifest_is_one_line_from_each_command_as_a_process(tmp_path: Path, emulator: Emulator) -> None:
    """The in-process test above, end to end for one case: exit statuses and stderr of real processes."""
    text, needle = _malformed(tmp_path, emulator, "width-markup")
    for command in (("check",), ("sync",), ("prune", "--yes")):
        result = run(tmp_path, *command)
        assert result.returncode == 2, (command, result.stderr)
        line = one_line(result.stderr, needle)
        assert f"{MANIFEST}:" in line and "left unchanged" in line
    built = run(tmp_path, "build")
    assert built.returncode != 0 and "Traceback" not in built.stderr
    assert sum(needle in line for line in built.stderr.splitlines()) == 1, built.stderr
    assert (tmp_path / MANIFEST).read_text(encoding="utf-8") == text
    assert emulator.request_count() == 0


def test_a_malformed_manifest_names_the_line_of_the_bad_key(tmp_path: Path) -> None:
    text = f"version: 1\nimages:\n  a.png:\n{''.join(f'    {k}: {v}' + chr(10) for k, v in ENTRY.items())}  b.png:\n    sha256: nope\n"
    with pytest.raises(ManifestError, match=r"^m\.yml:10: image 'b\.png' field `sha256`"):
        mf.from_yaml(text, "m.yml")


def test_the_schema_knows_every_field_of_an_entry() -> None:
    from dataclasses import fields

    from mkdocs_wxcloud.manifest import schema

    assert list(schema.FIELDS) == [f.name for f in fields(mf.Entry)]


# -- the bytes uploaded are the bytes hashed -----------------------------------------------------


@pytest.mark.parametrize("new", [png(61), png(62, size=20), b"\x89PNG"], ids=["same-size", "grown", "shrunk"])
def test_a_file_rewritten_while_it_is_uploaded_is_stored_under_its_new_hash(
    tmp_path: Path, emulator: Emulator, new: bytes
) -> None:
    image = tmp_path / "docs/x.png"
    rewritten = threading.Event()

    def rewrite_first(request: Exchange) -> None:  # between hashing and streaming: the worst moment
        if request.path.startswith("/tcb/uploadfile") and not rewritten.is_set():
            image.write_bytes(new)
            rewritten.set()

    with Proxy(emulator.base_url, before=rewrite_first) as proxy:
        make_site(
            tmp_path,
            {"index.md": "![x](x.png)\n", "x.png": png(60)},
            emulator_options(emulator, api_base=proxy.base_url),
        )
        sync = cli("sync", cwd=tmp_path)
    assert sync.exit_code == 0, sync.stderr
    assert rewritten.is_set()
    manifest = mf.read(tmp_path / MANIFEST)
    entry = manifest.images["x.png"]
    assert entry.sha256 == hashlib.sha256(new).hexdigest() and entry.size == len(new)
    stored = emulator.stored_files()
    assert stored[entry.cloud_path] == new
    assert requests.get(entry.url, timeout=10).content == new
    old_path = next(p for p in stored if p != entry.cloud_path)  # what was sent under the old hash
    assert hashlib.sha256(png(60)).hexdigest()[:12] in old_path
    assert old_path in manifest.retired.values()  # `prune --yes` deletes it
    assert cli("check", cwd=tmp_path).exit_code == 0


# -- where the manifest and the caches may live --------------------------------------------------


def test_cache_dir_inside_docs_dir_is_refused(tmp_path: Path, emulator: Emulator) -> None:
    config = make_site(
        tmp_path, {"index.md": "![x](x.png)\n", "x.png": png(7)}, emulator_options(emulator, cache_dir="docs/.cache")
    )
    errors = [line for line in build_errors(config) if "cache_dir" in line]
    assert len(errors) == 1 and "option `cache_dir`" in errors[0] and "inside docs_dir" in errors[0]
    assert not (tmp_path / "docs/.cache").exists() and emulator.request_count() == 0


def test_a_manifest_reaching_docs_dir_through_a_symlink_is_refused(tmp_path: Path, emulator: Emulator) -> None:
    config = make_site(
        tmp_path, {"index.md": "![x](x.png)\n", "x.png": png(8)}, emulator_options(emulator, manifest="meta/images.yml")
    )
    (tmp_path / "docs/meta").mkdir()
    (tmp_path / "meta").symlink_to(tmp_path / "docs/meta", target_is_directory=True)
    errors = [line for line in build_errors(config) if "option `manifest`" in line]
    assert len(errors) == 1 and "inside docs_dir" in errors[0]
    assert list((tmp_path / "docs/meta").iterdir()) == []


def test_a_manifest_that_is_a_symlink_is_written_through(tmp_path: Path, emulator: Emulator) -> None:
    shared = tmp_path / "shared/images.yml"
    shared.parent.mkdir()
    shared.write_text("", encoding="utf-8")
    (tmp_path / MANIFEST).symlink_to(shared)
    build(make_site(tmp_path, {"index.md": "![x](x.png)\n", "x.png": png(9)}, emulator_options(emulator)))
    assert (tmp_path / MANIFEST).is_symlink()
    assert "x.png" in mf.read(shared).images


def test_a_cos_error_that_echoes_the_upload_credentials_does_not_show_them() -> None:
    signature, token = "q-sign-algorithm=sha1&q-signature=5e1f0c9d2b7a", "sts-token-9a8b7c6d5e4f3a2b"
    echo = (
        f"<Error><Code>SignatureDoesNotMatch</Code><Message>got {html.escape(signature)} and {token}</Message></Error>"
    )

    def answer(request: Exchange) -> Exchange:
        return Exchange(
            request.method, request.path, request.body, 403, {"Content-Type": "application/xml"}, echo.encode()
        )

    with Proxy("http://127.0.0.1:9", before=answer) as cos:
        transport = Transport(cos.base_url, "env", concurrency=1, timeout=10, openapi=False)
        link = {
            "url": cos.base_url + "/",
            "authorization": signature,
            "token": token,
            "cos_file_id": "c",
            "file_id": "f",
        }
        with pytest.raises(CosError) as failed:
            transport.post_to_cos(link, "docs/a.png", "a.png", io.BytesIO(png(1)))
    assert failed.value.code == "SignatureDoesNotMatch"
    assert signature not in str(failed.value) and token not in str(failed.value)
    assert redact(token) == token  # one upload's credentials are forgotten after it: they never pile up
