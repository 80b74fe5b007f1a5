"""Behaviours of the core package ``publishing/`` that its mutants showed no other test pins down
(``python tools/mutation.py --package publishing``): each through the public surface (a run against
the emulator, the resolved settings, the report's wording, the decider), so it holds when code moves."""

from __future__ import annotations

import dataclasses
import hashlib
import io
import json
import logging
import os
import re
import socket
import statistics
import subprocess
import sys
import time
import xml.etree.ElementTree as ET
from contextlib import AbstractContextManager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import SimpleNamespace
from typing import Callable, Iterator

import pytest
from conftest import emulator_options, free_port, png, wx_client
from imagehosts import ImageHost, file
from loopback import Background
from PIL import Image
from proxy import Exchange, Proxy
from servers import Reply, Server, answer_json

from mkdocs_wxcloud import caches
from mkdocs_wxcloud.emulator import DEFAULT_APPID, DEFAULT_ENV, DEFAULT_SECRET, Emulator, bucket_name
from mkdocs_wxcloud.errors import ConfigError, WxCloudError
from mkdocs_wxcloud.manifest import model as mf
from mkdocs_wxcloud.manifest.model import Entry
from mkdocs_wxcloud.publishing.cloudpath import cloud_path
from mkdocs_wxcloud.publishing.connection import connect, unreachable
from mkdocs_wxcloud.publishing.current import State
from mkdocs_wxcloud.publishing.doctor import Doctor, Step
from mkdocs_wxcloud.publishing.imports import remote_problem
from mkdocs_wxcloud.publishing.linker import Linker, Problem
from mkdocs_wxcloud.publishing.links import get, serves, unsigned
from mkdocs_wxcloud.publishing.placeholders import Placeholders
from mkdocs_wxcloud.publishing.probes import probes
from mkdocs_wxcloud.publishing.remote import missing_in_cloud
from mkdocs_wxcloud.publishing.reporting import Report, Summary, human_size, not_published
from mkdocs_wxcloud.publishing.run import Mode, Run, open_run
from mkdocs_wxcloud.publishing.settings import Option, Settings, choice, number, optional, resolve, text
from mkdocs_wxcloud.publishing.sources import ImageProblem
from mkdocs_wxcloud.publishing.stylesheets import stylesheets
from mkdocs_wxcloud.references.treeprocessor import MARKDOWN, RAW, Reference
from mkdocs_wxcloud.wechat.errors import FILE_NONEXIST

# -- the diagnostic's probe files: what a browser or a PDF reader opens -----------------------------


def test_each_probe_is_a_file_its_reader_opens() -> None:
    files = probes()
    assert sorted(files) == ["probe.pdf", "probe.png", "probe.svg", "探针图片.png"]
    colours = set()
    for name in ("probe.png", "探针图片.png"):
        with Image.open(io.BytesIO(files[name])) as image:
            image.load()  # decodes every chunk: a wrong length, CRC or compressed stream fails here
            assert (image.format, image.mode, image.size) == ("PNG", "RGB", (4, 4))
            [(count, colour)] = image.getcolors()  # one colour
            colours.add(colour)
    assert len(colours) == 2  # two files, two contents
    root = ET.fromstring(files["probe.svg"])
    assert root.tag == "{http://www.w3.org/2000/svg}svg" and (root.get("width"), root.get("height")) == ("16", "16")
    assert [child.tag for child in root] == ["{http://www.w3.org/2000/svg}circle"]


def test_the_pdf_probe_has_a_cross_reference_table_a_reader_trusts() -> None:
    pdf = probes()["probe.pdf"]
    assert pdf.startswith(b"%PDF-1.4\n") and pdf.endswith(b"%%EOF\n")
    xref = int(re.search(rb"startxref\n(\d+)\n", pdf)[1])  # type: ignore[index]
    table = pdf[xref:].split(b"trailer")[0].splitlines()
    assert table[:3] == [b"xref", b"0 4", b"0000000000 65535 f "]
    offsets = [int(line.split()[0]) for line in table[3:]]
    assert [line[10:] for line in table[3:]] == [b" 00000 n "] * 3
    for n, offset in enumerate(offsets, 1):
        assert pdf[offset:].startswith(b"%d 0 obj\n<<" % n)
    assert b"trailer\n<< /Size 4 /Root 1 0 R >>\n" in pdf
    assert b"/Type /Catalog /Pages 2 0 R" in pdf and b"/Kids [3 0 R] /Count 1" in pdf
    assert b"/Type /Page /Parent 2 0 R /MediaBox [0 0 72 72]" in pdf


# -- settings: the one schema ---------------------------------------------------------------------


def test_equal_options_make_equal_settings_that_hash_alike(tmp_path: Path) -> None:
    """Hosts reuse a run for equal settings (the Markdown extension's pages): equality is by every value."""
    a, b = resolve({"prefix": "x"}, tmp_path, {}), resolve({"prefix": "x"}, tmp_path, {})
    assert a == b and hash(a) == hash(b) and len({a, b}) == 1
    other = resolve({"prefix": "y"}, tmp_path, {})
    assert a != other and hash(a) != hash(other)
    assert a != resolve({"prefix": "x"}, tmp_path / "elsewhere", {})
    assert a != "not settings"


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"offline": "yes"}, "option `offline` must be true or false, not 'yes'"),
        ({"appid": 5}, "option `appid` must be a text, not 5"),
        ({"manifest": ""}, "option `manifest` must be a path, not ''"),
        ({"concurrency": 0}, "option `concurrency` must be a whole number from 1 to 64, not 0"),
        ({"concurrency": 2.5}, "option `concurrency` must be a whole number from 1 to 64, not 2.5"),
        ({"timeout": 0}, "option `timeout` must be a number from 0.001 to 3600, not 0"),
        ({"on_error": "stop"}, "option `on_error` must be one of warn, fail, not 'stop'"),
        ({"emulator": 1}, "option `emulator` must be one of false, true, auto, not 1"),
        ({"api_base": ""}, "option `api_base` must be an http(s) URL, not ''"),
    ],
)
def test_a_bad_option_is_one_line_naming_it_and_what_it_takes(tmp_path: Path, options: dict, message: str) -> None:
    with pytest.raises(ConfigError) as caught:
        resolve(options, tmp_path, {})
    assert str(caught.value) == message


def test_an_option_knows_its_name_default_variable_and_help() -> None:
    class Declared:
        label = Option("fallback", text, "What to call it.", variable="X_LABEL")

    option = Declared.label
    assert (option.name, option.default, option.doc, option.variable) == (
        "label",
        "fallback",
        "What to call it.",
        "X_LABEL",
    )
    assert option.value({}, {}) == "fallback"
    assert option.value({}, {"X_LABEL": "from the variable"}) == "from the variable"
    assert option.value({"label": ""}, {"X_LABEL": "from the variable"}) == "from the variable"
    assert option.value({"label": "given"}, {"X_LABEL": "from the variable"}) == "given"
    assert option.value({"label": ""}, {}) is None
    with pytest.raises(ConfigError, match=r"^option `label` must be a text, not 5$"):
        option.value({"label": 5}, {})


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (
            {"base_url": "cdn.example.com"},
            "option `base_url` must be an absolute http(s) URL such as https://img.example.com, not 'cdn.example.com'",
        ),
        ({"optimize": "max"}, "option `optimize` must be false, lossless or lossy, not 'max'"),
        ({"optimize": True}, "option `optimize` must be false, lossless or lossy, not True"),
        (
            {"keep_local": ["a.png", ""]},
            "option `keep_local` must be a list of path patterns such as "
            "[assets/images/favicon.png, 'avatars/*'], not ['a.png', '']",
        ),
        (
            {"keep_local": 5},
            "option `keep_local` must be a list of path patterns such as "
            "[assets/images/favicon.png, 'avatars/*'], not 5",
        ),
        ({"max_width": 15}, "option `max_width` must be a whole number from 16 to 100000, not 15"),
        ({"concurrency": True}, "option `concurrency` must be a whole number from 1 to 64, not True"),
        ({"concurrency": "8"}, "option `concurrency` must be a whole number from 1 to 64, not '8'"),
        ({"link_max_age": 86401}, "option `link_max_age` must be a whole number from 1 to 86400, not 86401"),
        ({"emulator": "yes"}, "option `emulator` must be one of false, true, auto, not 'yes'"),
        ({"manifest": 3}, "option `manifest` must be a path, not 3"),
    ],
)
def test_more_bad_options_are_one_line_each(tmp_path: Path, options: dict, message: str) -> None:
    with pytest.raises(ConfigError) as caught:
        resolve(options, tmp_path, {})
    assert str(caught.value) == message


def test_options_are_normalized_as_the_run_uses_them(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    settings = resolve(
        {"base_url": "https://cdn.example.com/", "api_base": "http://127.0.0.1:9/", "prefix": "/site/docs/",
         "keep_local": "/favicon.png/", "optimize": "off", "concurrency": 64.0, "timeout": 2, "link_max_age": 1,
         "manifest": "m.yml", "max_width": 16, "emulator": "auto"},
        tmp_path / "site" / "..", {},
    )  # fmt: skip
    assert settings.root == tmp_path.resolve() and settings.manifest == tmp_path.resolve() / "m.yml"
    assert (settings.base_url, settings.api_base, settings.prefix) == (
        "https://cdn.example.com",
        "http://127.0.0.1:9",
        "site/docs",
    )
    assert settings.keep_local == ["favicon.png"] and settings.optimize == "off"
    assert (settings.concurrency, type(settings.concurrency), settings.timeout, type(settings.timeout)) == (
        64,
        int,
        2.0,
        float,
    )
    assert (settings.link_max_age, settings.max_width) == (1, 16)
    assert resolve({"optimize": False}, tmp_path, {}).optimize == "off"
    assert resolve({"optimize": "lossy", "quality": 70, "webp": True}, tmp_path, {}).optimization.quality == 70
    assert resolve({"prefix": ""}, tmp_path, {}).prefix == ""
    assert settings.use_emulator  # auto, and no credentials
    assert not resolve({"emulator": "auto", "appid": "wx1"}, tmp_path, {}).use_emulator
    assert not resolve({"emulator": "auto", "secret": "s"}, tmp_path, {}).use_emulator
    assert not resolve({"emulator": "auto", "auth": "openapi"}, tmp_path, {}).use_emulator
    assert resolve({"emulator": True, "appid": "wx1"}, tmp_path, {}).use_emulator
    assert not resolve({}, tmp_path, {}).use_emulator
    monkeypatch.setenv("WXCLOUD_ENV", "from-the-environment")
    assert resolve({}, tmp_path).env == "from-the-environment"  # the process's variables by default
    secret = resolve({"secret": "hunter2", "env": "e1"}, tmp_path, {})
    assert repr(secret) == f"Settings(root={tmp_path.resolve()!r}, env='e1', prefix='docs')"


def test_the_checks_an_option_is_declared_with() -> None:
    """Made here, not at import: the checks of Settings are made when the module loads."""
    whole, real, maybe = number(1, 64, int), number(0.001, 3600), optional(number(16, 100_000, int))
    assert (whole("c", 1), whole("c", 64), whole("c", 2.0), type(whole("c", 2.0))) == (1, 64, 2, int)
    assert (real("t", 2), type(real("t", 2)), real("t", 0.001)) == (2.0, float, 0.001)
    assert (maybe("w", None), maybe("w", 16)) == (None, 16)
    for check, name, value, what in [
        (whole, "c", 0, "a whole number from 1 to 64"), (whole, "c", 65, "a whole number from 1 to 64"),
        (whole, "c", 2.5, "a whole number from 1 to 64"), (whole, "c", True, "a whole number from 1 to 64"),
        (whole, "c", "8", "a whole number from 1 to 64"), (real, "t", 0, "a number from 0.001 to 3600"),
        (real, "t", 3600.5, "a number from 0.001 to 3600"), (maybe, "w", 15, "a whole number from 16 to 100000"),
    ]:  # fmt: skip
        with pytest.raises(ConfigError) as caught:
            check(name, value)
        assert str(caught.value) == f"option `{name}` must be {what}, not {value!r}"
    one = choice(False, True, "auto")
    assert (one("e", False), one("e", True), one("e", "auto")) == (False, True, "auto")
    for value in (1, 0, "true", None):
        with pytest.raises(ConfigError) as caught:
            one("e", value)
        assert str(caught.value) == f"option `e` must be one of false, true, auto, not {value!r}"
    assert choice("warn", "fail")("on_error", "fail") == "fail"


# -- connection: the bundled emulator ---------------------------------------------------------------


def _emulator_settings(root: Path, address: str) -> Settings:
    return resolve({"emulator": True, "emulator_address": address, "emulator_data": "emu"}, root, {})


def test_the_bundled_emulator_says_where_it_keeps_files_and_how_to_view_them(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="mkdocs")
    port = free_port()
    settings = _emulator_settings(tmp_path, f"localhost:{port}")
    client = connect(settings)
    data = tmp_path / "emu"
    assert caplog.messages == [
        f"wxcloud: no credentials set, so assets go to the bundled emulator at http://localhost:{port} (files in "
        f"{data}); run `mkdocs-wxcloud emulator --data {data} --host localhost --port {port}` to view the built "
        "site with its assets"
    ]
    client.upload("docs/a.png", io.BytesIO(png(1)), "a.png")
    client.close()
    assert any(path.is_file() for path in data.rglob("*"))  # in emulator_data
    caplog.clear()
    connect(_emulator_settings(tmp_path, f"localhost:{port}")).close()  # the same one: said once a process
    assert caplog.messages == []
    connect(_emulator_settings(tmp_path, f"127.0.0.1:{port}")).close()  # found listening there
    assert caplog.messages == [f"wxcloud: using the emulator already running at http://127.0.0.1:{port}"]


def test_the_default_host_is_not_repeated_in_the_advice(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="mkdocs")
    port = free_port()
    connect(_emulator_settings(tmp_path, f"127.0.0.1:{port}")).close()
    assert f"`mkdocs-wxcloud emulator --data {tmp_path / 'emu'} --port {port}`" in caplog.messages[0]


def test_an_ipv6_emulator_address_is_bracketed(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="mkdocs")
    port = free_port()
    connect(_emulator_settings(tmp_path, f"[::1]:{port}")).close()
    assert f"bundled emulator at http://[::1]:{port} (files in" in caplog.messages[0]
    with pytest.raises(ConfigError) as caught:
        connect(_emulator_settings(tmp_path, "[::1]:99999"))
    assert str(caught.value).startswith("cannot start the bundled emulator on [::1]:99999 (")


@pytest.mark.parametrize("address", ["nohost", "127.0.0.1:http"])
def test_an_emulator_address_without_a_port_is_one_line(tmp_path: Path, address: str) -> None:
    with pytest.raises(ConfigError) as caught:
        connect(_emulator_settings(tmp_path, address))
    assert str(caught.value) == f"option `emulator_address` must be HOST:PORT, not {address!r}"


class _Health(BaseHTTPRequestHandler):
    """Answers every GET with ``self.server.answer``: a server on the emulator's port that is not it."""

    def do_GET(self) -> None:  # noqa: N802
        body = self.server.answer  # type: ignore[attr-defined]
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.mark.parametrize("answer", [b'{"emulator": "another"}', b"not json"])
def test_a_port_taken_by_another_server_is_one_line_with_the_fix(tmp_path: Path, answer: bytes) -> None:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Health)
    server.answer = answer  # type: ignore[attr-defined]
    with Background(server) as taken:
        with pytest.raises(ConfigError) as caught:
            connect(_emulator_settings(tmp_path, f"127.0.0.1:{taken.port}"))
    assert str(caught.value) == (
        f"cannot start the bundled emulator on 127.0.0.1:{taken.port} (Address already in use): stop what uses "
        "that port, set `emulator_address`, or remove a damaged `emulator_data`"
    )


@pytest.mark.timeout(20)
def test_a_port_taken_by_a_server_that_never_answers_is_one_line_too(tmp_path: Path) -> None:
    """The check for an emulator already there waits a bounded time (2 s), then says the port is taken."""
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen()
        port = silent.getsockname()[1]
        with pytest.raises(ConfigError) as caught:
            connect(_emulator_settings(tmp_path, f"127.0.0.1:{port}"))
    assert str(caught.value).startswith(
        f"cannot start the bundled emulator on 127.0.0.1:{port} (Address already in use)"
    )


# -- remote: is each recorded file still in the cloud? ------------------------------------------------


def test_files_deleted_in_the_cloud_are_missing_and_others_unconfirmed(emulator: Emulator) -> None:
    def refuse_one(exchange: Exchange) -> Exchange | None:
        if not exchange.path.startswith("/tcb/batchdownloadfile"):
            return None
        answer = json.loads(exchange.answer)
        for item in answer["file_list"]:
            if item["fileid"].endswith("refused.png"):
                item.update(status=-1, errmsg="STORAGE_EXCEED_AUTHORITY", download_url="")
        return dataclasses.replace(exchange, answer=json.dumps(answer).encode())

    with Proxy(emulator.base_url, after=refuse_one) as proxy:
        client = wx_client(proxy.base_url, env=DEFAULT_ENV, appid=DEFAULT_APPID, secret=DEFAULT_SECRET)
        ids = {name: client.upload(f"docs/{name}", io.BytesIO(png(n)), name) for n, name in
               enumerate(["kept.png", "gone.png", "refused.png"])}  # fmt: skip
        client.delete([ids["gone.png"]])
        entries = {
            name: Entry(sha256="0" * 64, size=1, cloud_path=f"docs/{name}", file_id=ids[name.replace("twin", "gone")])
            for name in ["kept.png", "gone.png", "twin.png", "refused.png"]
        }
        missing, unknown = missing_in_cloud(client, entries)
        client.close()
    assert missing == {"gone.png", "twin.png"}
    assert unknown == {"refused.png": "STORAGE_EXCEED_AUTHORITY"}


# -- runs against the emulator ------------------------------------------------------------------------


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _picture(width: int, height: int) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (width, height), (200, 30, 30)).save(out, "PNG")
    return out.getvalue()


def _run_once(
    root: Path, emu: Emulator, paths: list[str], api_base: str = "", **options: object
) -> tuple[Report, dict]:
    """Publish ``paths`` of ``root/docs`` in one run; the report and the manifest's entries of ``paths``."""
    settings = resolve({**emulator_options(emu, **options), **({"api_base": api_base} if api_base else {})}, root, {})
    with open_run(settings, root / "docs") as run:
        report = run.publish_all(paths)
        return report, {path: run.store.get(path) for path in paths}


# -- the optimizer's cache: by the source's hash and the profile, trusted only when intact ----------


def _optimized_site(root: Path, emu: Emulator, **options: object) -> tuple[Entry, Path]:
    (root / "docs").mkdir()
    (root / "docs/a.png").write_bytes(png(1))
    report, entries = _run_once(root, emu, ["a.png"], optimize="lossless", **options)
    assert not report.errors
    [meta] = (root / ".cache/plugin/wxcloud/optimized").glob("*.json")
    (root / "wxcloud-manifest.yml").unlink()  # the next run uploads it again
    return entries["a.png"], meta


def _again(root: Path, emu: Emulator, **options: object) -> Entry:
    report, entries = _run_once(root, emu, ["a.png"], optimize="lossless", **options)
    assert not report.errors
    return entries["a.png"]


def test_an_optimized_image_is_taken_from_the_cache_when_uploaded_again(tmp_path: Path, emulator: Emulator) -> None:
    first, meta_path = _optimized_site(tmp_path, emulator, webp=True)
    stored = emulator.stored_files()[first.cloud_path]
    assert (first.done, first.stored_size, first.width, first.height) == ("WebP lossless", len(stored), 8, 8)
    assert first.cloud_path == f"docs/a.{_sha(stored)[:12]}.webp" and first.sha256 == _sha(png(1))
    meta = json.loads(meta_path.read_text(encoding="utf-8"))
    assert meta == {"ext": ".webp", "width": 8, "height": 8, "done": "WebP lossless", "sha256": _sha(stored)}
    assert meta_path.with_suffix(".bin").read_bytes() == stored
    cached = b"RIFF the bytes an earlier run made"
    meta_path.with_suffix(".bin").write_bytes(cached)
    meta.update(sha256=_sha(cached), width=9, height=7, done="WebP lossless, cached")
    meta_path.write_text(json.dumps(meta), encoding="utf-8")
    again = _again(tmp_path, emulator, webp=True)
    assert (again.done, again.width, again.height, again.stored_size) == ("WebP lossless, cached", 9, 7, len(cached))
    assert again.cloud_path == f"docs/a.{_sha(cached)[:12]}.webp" and again.sha256 == _sha(png(1))
    assert emulator.stored_files()[again.cloud_path] == cached


def test_a_verdict_to_keep_the_bytes_is_cached_too(tmp_path: Path, emulator: Emulator) -> None:
    first, meta_path = _optimized_site(tmp_path, emulator)
    assert (first.done, first.stored_size, first.cloud_path) == ("kept: already as small", None, first.cloud_path)
    meta = json.loads(meta_path.read_text(encoding="utf-8"))
    assert meta["sha256"] is None and not meta_path.with_suffix(".bin").exists()
    meta_path.write_text(json.dumps({**meta, "done": "kept: cached"}), encoding="utf-8")
    again = _again(tmp_path, emulator)
    assert (again.done, again.stored_size, again.cloud_path) == (
        "kept: cached",
        None,
        f"docs/a.{_sha(png(1))[:12]}.png",
    )
    assert emulator.stored_files()[again.cloud_path] == png(1)


@pytest.mark.parametrize(
    "damage",
    [{"width": 0}, {"done": 5}, {"ext": ".exe"}, {"sha256": "0" * 64}, {"ext": None, "sha256": None}],
    ids=["width", "done", "ext", "bytes", "no-bytes"],
)
def test_a_damaged_cache_entry_is_optimized_again(tmp_path: Path, emulator: Emulator, damage: dict) -> None:
    first, meta_path = _optimized_site(tmp_path, emulator, webp=True)
    meta = json.loads(meta_path.read_text(encoding="utf-8"))
    meta_path.write_text(json.dumps({**meta, **damage, "done": damage.get("done", "from the cache")}), encoding="utf-8")
    again = _again(tmp_path, emulator, webp=True)
    assert (again.done, again.cloud_path, again.width) == ("WebP lossless", first.cloud_path, 8)


def test_an_optimized_image_too_large_for_the_manifest_is_recorded_without_its_size(
    tmp_path: Path, emulator: Emulator
) -> None:
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs/wide.png").write_bytes(_picture(100_001, 1))
    report, entries = _run_once(tmp_path, emulator, ["wide.png"], optimize="lossless")
    assert not report.errors and report.urls["wide.png"]
    assert (entries["wide.png"].width, entries["wide.png"].height) == (None, None)
    assert entries["wide.png"].done  # optimized all the same


# -- sizes on screen (``dimensions``) ----------------------------------------------------------------


def test_sizes_on_screen_come_from_the_manifest_or_the_image_itself(tmp_path: Path, emulator: Emulator) -> None:
    (tmp_path / "docs/sub").mkdir(parents=True)
    (tmp_path / "docs/a.png").write_bytes(_picture(12, 8))
    _run_once(tmp_path, emulator, ["a.png"])  # recorded without its size
    settings = resolve(emulator_options(emulator, dimensions=True), tmp_path, {})
    problems: list[Problem] = []
    with open_run(settings, tmp_path / "docs") as run:
        assert run.publish("a.png")  # current: its size is read from the image, recorded at the end
        assert run.size_on_screen("a.png") == (12, 8)
        assert run.size_on_screen("never-published.png") is None
        linker = Linker(run, problems.append, lambda page: page.removesuffix(".md") + "/index.html")
        pending = Placeholders()
        assert linker.size_attributes("../a.png", "sub/page.md", MARKDOWN, pending) == {"width": "12", "height": "8"}
        assert linker.size_attributes("../../a.png", "sub/page.md", RAW, pending) == {"width": "12", "height": "8"}
        assert linker.size_attributes("b.png", "sub/page.md", MARKDOWN, pending) is None
        assert linker.size_attributes("https://example.com/a.png", "sub/page.md", MARKDOWN, pending) is None
        report = run.finish()
    assert report.sizes == {} and problems == []
    assert run.store.get("a.png").width == 12  # type: ignore[union-attr]


def test_an_image_uploaded_anew_has_no_size_until_it_is_stored(tmp_path: Path, emulator: Emulator) -> None:
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs/a.png").write_bytes(_picture(12, 8))
    _run_once(tmp_path, emulator, ["a.png"], dimensions=True)
    (tmp_path / "docs/a.png").write_bytes(_picture(20, 10))
    settings = resolve(emulator_options(emulator, dimensions=True), tmp_path, {})
    with open_run(settings, tmp_path / "docs") as run:
        assert run.publish("a.png") is None  # changed: uploaded, and the manifest's size is the old image's
        assert run.size_on_screen("a.png") is None
        assert run.finish().sizes == {"a.png": (20, 10)}


def test_an_entry_with_a_width_and_no_height_gives_no_size(tmp_path: Path, emulator: Emulator) -> None:
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs/a.png").write_bytes(_picture(12, 8))
    _run_once(tmp_path, emulator, ["a.png"], dimensions=True)
    manifest = tmp_path / "wxcloud-manifest.yml"
    manifest.write_text(re.sub(r"\n *height: 8", "", manifest.read_text(encoding="utf-8")), encoding="utf-8")
    settings = resolve(emulator_options(emulator, dimensions=True), tmp_path, {})
    with open_run(settings, tmp_path / "docs", Mode(offline=True)) as run:
        assert run.publish("a.png")
        assert run.size_on_screen("a.png") is None


# -- a file that changes while it is sent ---------------------------------------------------------------


def test_a_file_rewritten_while_sent_is_sent_again_and_its_twin_keeps_the_old_content(
    tmp_path: Path, emulator: Emulator
) -> None:
    """Rewritten once, with its old size and time (the hash cache cannot tell): the bytes sent are hashed,
    so it is hashed again and sent under its new hash; its twin waited for the old content and gets it."""
    docs = tmp_path / "docs"
    docs.mkdir()
    old, new = png(1), png(2)
    assert len(old) == len(new)
    for name in ("a.png", "b.png"):
        (docs / name).write_bytes(old)
    rewritten: list[str] = []

    def rewrite_a(request: Exchange) -> None:
        if "tcb/uploadfile" in request.path and b"/a." in request.body and not rewritten:
            info = (docs / "a.png").stat()
            (docs / "a.png").write_bytes(new)
            os.utime(docs / "a.png", ns=(info.st_atime_ns, info.st_mtime_ns))
            rewritten.append("a.png")
        return None

    with Proxy(emulator.base_url, before=rewrite_a) as api:
        report, entries = _run_once(tmp_path, emulator, ["a.png", "b.png"], api_base=api.base_url, concurrency=1)
    assert rewritten and report.errors == {}
    assert (entries["a.png"].sha256, entries["b.png"].sha256) == (_sha(new), _sha(old))
    stored = emulator.stored_files()
    assert stored[entries["a.png"].cloud_path] == new and stored[entries["b.png"].cloud_path] == old
    report, _ = _run_once(tmp_path, emulator, ["a.png", "b.png"])  # the hash cache learnt the new content
    assert (report.summary.uploaded, report.summary.reused) == (0, 2)


# -- the diagnostic -------------------------------------------------------------------------------------

_BUCKET = bucket_name(DEFAULT_ENV)
_PROBES = r"docs/\.wxcloud-doctor/[0-9a-f]{12}"  # where one diagnosis puts its probes


def _diagnose(root: Path, api_base: str, **options: object) -> dict[str, Step]:
    options = {"api_base": api_base, "appid": DEFAULT_APPID, "secret": DEFAULT_SECRET, "env": DEFAULT_ENV, **options}
    return {step.name: step for step in Doctor(resolve(options, root, {}), {}).run()}


def _downloads_through(proxy: Proxy, emu: Emulator, change: Callable[[Exchange], Exchange | None]) -> None:
    """The links the API answers lead to ``proxy`` too, where ``change`` may edit each download."""

    def after(exchange: Exchange) -> Exchange | None:
        if exchange.path.startswith("/tcb/batchdownloadfile"):
            return dataclasses.replace(
                exchange, answer=exchange.answer.replace(emu.base_url.encode(), proxy.base_url.encode())
            )
        return change(exchange) if exchange.path.startswith("/dl/") else None

    proxy.after = after


def test_a_diagnosis_names_each_call_it_timed_and_what_concurrency_gives(tmp_path: Path) -> None:
    with Emulator(latency=0.02, infer_content_type=True, cors=True) as emu:
        found = _diagnose(tmp_path, emu.base_url)
    assert [step.status for step in found.values()] == ["ok"] * 8
    assert found["configuration"].detail == (
        f"auth: token; appid from the configuration, secret from the configuration, env from the configuration; "
        f"api_base {emu.base_url}"
    )
    assert found["token"].detail == "got an access token from cgi-bin/stable_token (never force_refresh)"
    assert found["environment"].detail == f"env {DEFAULT_ENV!r} answers: a file that does not exist is {FILE_NONEXIST}"
    assert re.fullmatch(rf"4 probes stored under {_PROBES}/ \(PNG, SVG, PDF, a Chinese name\)", found["upload"].detail)
    assert found["links"].detail == "links are unsigned: the storage is public, links never expire"
    assert found["read back"].detail == (
        "every probe read back byte for byte; probe.png as image/png, probe.svg as image/svg+xml, probe.pdf as "
        "application/pdf, 探针图片.png as image/png"
    )
    assert found["cleanup"].detail == f"4 probes deleted; batchdownloadfile answers {FILE_NONEXIST} for each"
    latency = re.fullmatch(
        r"median round trip: stable_token (\d+) ms, batchdownloadfile (\d+) ms, upload (\d+) ms, download (\d+) ms",
        found["latency"].detail,
    )
    assert latency is not None, found["latency"].detail
    upload = statistics.median(found["upload"].timings)
    assert abs(int(latency[3]) - upload * 1000) <= 1 and 0.04 <= upload < 30  # two requests of 20 ms at least
    advice = re.fullmatch(
        r"`concurrency: 16` \(now 16\): an upload is two requests one after the other \((\d+) ms together here\), "
        r"so C uploads keep about C requests open; WeChat takes about 20 concurrent requests per environment "
        r"\(-501004 beyond\), so 16 leaves room for the link calls and uploads about (\d+) files a second",
        found["latency"].advice,
    )
    assert advice is not None, found["latency"].advice
    assert advice[1] == latency[3] and abs(int(advice[2]) - 16 / upload) <= 1
    assert [len(found[name].timings) for name in ("token", "environment", "upload", "read back")] == [1, 1, 4, 4]
    assert sorted(found["latency"].timings) == sorted(
        t for name in ("token", "environment", "upload", "links", "read back") for t in found[name].timings
    )


def test_a_step_reports_each_call_and_the_median_in_milliseconds() -> None:
    step = Step("upload", "ok", "4 probes", timings=[0.0123456, 0.02, 0.5])
    assert step.as_json() == {
        "name": "upload", "ok": True, "status": "ok", "detail": "4 probes", "advice": "",
        "timings": {"calls_ms": [12.3, 20.0, 500.0], "median_ms": 20.0},
    }  # fmt: skip
    assert Step("links", "fail", "no link").as_json()["timings"] == {"calls_ms": [], "median_ms": None}
    assert not Step("links", "fail", "no link").ok and Step("links", "warn", "").ok


def test_missing_credentials_are_named_with_their_variables(tmp_path: Path) -> None:
    steps = Doctor(resolve({"env": "e1"}, tmp_path, {}), {}).run()
    assert [(s.name, s.status, s.detail, s.advice) for s in steps] == [(
        "configuration", "fail", "missing: appid, secret", "set WXCLOUD_APPID, WXCLOUD_SECRET (or the options in the "
        "site's configuration; the secret only as a variable), then run again",
    )]  # fmt: skip


def test_a_secret_written_in_the_configuration_is_warned_about(tmp_path: Path) -> None:
    settings = resolve({"appid": "wx1", "secret": "s", "env": "e1", "api_base": "http://127.0.0.1:9"}, tmp_path, {})
    sources = {"appid": "WXCLOUD_APPID", "secret": "option `secret` in mkdocs.yml"}
    step = Doctor(settings, sources).run()[0]
    assert (step.status, step.advice) == (
        "warn",
        "a secret in the site's configuration gets committed: use WXCLOUD_SECRET",
    )
    assert step.detail == (
        "auth: token; appid from WXCLOUD_APPID, secret from option `secret` in mkdocs.yml, env from the configuration; "
        "api_base http://127.0.0.1:9"
    )


def test_the_diagnosis_retries_a_failing_call_at_most_twice(tmp_path: Path) -> None:
    with Server(answer_json({"cgi-bin/stable_token": Reply(b"busy", status=503)})) as server:
        step = _diagnose(tmp_path, server.base_url, retries=6, quota_wait=0)["token"]
        assert step.status == "fail" and server.requests == ["/cgi-bin/stable_token"] * 3


@pytest.mark.parametrize("auth", ["openapi", "cloudbase"])
def test_tokens_of_cloud_hosting_are_no_step_of_their_own(tmp_path: Path, auth: str) -> None:
    token_file = tmp_path / "cloudbase_access_token"
    token_file.write_text("cloudbase-token-0123456789\n", encoding="utf-8")
    emulator = Emulator(open_api=True) if auth == "openapi" else Emulator(cloudbase_token="cloudbase-token-0123456789")
    with emulator as emu:
        found = _diagnose(tmp_path, emu.base_url, auth=auth, cloudbase_token_file=str(token_file))
    assert found["token"].status == "skip" and found["upload"].status == "ok"
    assert found["token"].detail == (
        "auth: openapi: the open API service of Cloud Hosting signs the calls, no token is needed"
        if auth == "openapi" else f"auth: cloudbase: calls carry the token of {token_file}"
    )  # fmt: skip


def test_an_environment_that_answers_otherwise_for_a_missing_file_is_a_warning(tmp_path: Path) -> None:
    def other_answer(exchange: Exchange) -> Exchange | None:
        if not exchange.path.startswith("/tcb/batchdownloadfile") or b"no-such-file" not in exchange.body:
            return None
        answer = json.loads(exchange.answer)
        answer["file_list"][0].update(status=-1, errmsg="STORAGE_EXCEED_AUTHORITY")
        return dataclasses.replace(exchange, answer=json.dumps(answer).encode())

    with Emulator() as emu, Proxy(emu.base_url, after=other_answer) as api:
        step = _diagnose(tmp_path, api.base_url)["environment"]
    assert (step.status, step.detail) == (
        "warn",
        f"env {DEFAULT_ENV!r} answers, a file that does not exist is 'STORAGE_EXCEED_AUTHORITY'",
    )


def test_a_probe_whose_bytes_never_went_is_deleted_by_the_id_it_was_given(tmp_path: Path) -> None:
    with Emulator() as emu:
        emu.fail_next("cos_expired_token", count=10, path_prefix="/cos/")
        found = _diagnose(tmp_path, emu.base_url)
    assert found["upload"].status == "fail"
    assert found["cleanup"].detail == f"1 probes deleted; batchdownloadfile answers {FILE_NONEXIST} for each"


def test_signed_links_of_public_storage_are_read_back_unsigned(tmp_path: Path) -> None:
    with Emulator(sign_public_links=True, infer_content_type=True, cors=True) as emu, Proxy(emu.base_url) as api:
        _downloads_through(api, emu, lambda exchange: None)
        found = _diagnose(tmp_path, api.base_url, link_max_age=600)
        links = [json.loads(e.body) for e in api.seen if e.path.startswith("/tcb/batchdownloadfile")]
        downloads = [e.path for e in api.seen if e.path.startswith("/dl/")]
    assert found["links"].detail == (
        "links are signed (sign=/t=), but the URL without its query serves the file: the storage is public; builds "
        "store that URL, which never expires"
    )
    assert found["read back"].detail.startswith("every probe read back byte for byte; probe.png as image/png")
    assert len(downloads) == 5 and not any("?" in path for path in downloads)  # the storage asked once, 4 probes
    assert [item["max_age"] for item in links[1]["file_list"]] == [600] * 4  # as a build asks them
    assert re.fullmatch(r"median round trip: stable_token \d+ ms, batchdownloadfile \d+ ms, upload \d+ ms, "
                        r"download \d+ ms", found["latency"].detail)  # fmt: skip


def test_links_with_a_query_that_is_no_signature_are_read_as_given(tmp_path: Path) -> None:
    def with_query(exchange: Exchange) -> Exchange | None:
        if exchange.path.startswith("/tcb/batchdownloadfile"):
            answer = exchange.answer.replace(emu.base_url.encode(), api.base_url.encode()).replace(
                b'.png"', b'.png?v=1"'
            )
            return dataclasses.replace(exchange, answer=answer)
        return None

    with Emulator(infer_content_type=True, cors=True) as emu, Proxy(emu.base_url, after=with_query) as api:
        found = _diagnose(tmp_path, api.base_url)
        downloads = sorted(e.path.rsplit("/", 1)[1] for e in api.seen if e.path.startswith("/dl/"))
    assert found["read back"].detail.startswith("every probe read back byte for byte; probe.png as image/png")
    assert downloads == ["%E6%8E%A2%E9%92%88%E5%9B%BE%E7%89%87.png?v=1", "probe.pdf", "probe.png?v=1", "probe.svg"]


def test_a_storage_that_does_not_answer_the_unsigned_url_in_time_is_taken_as_private(tmp_path: Path) -> None:
    def slow(exchange: Exchange) -> None:
        if exchange.path.startswith("/dl/") and "?" not in exchange.path:
            time.sleep(2.5)

    with Emulator(sign_public_links=True) as emu, Proxy(emu.base_url, before=slow) as api:
        _downloads_through(api, emu, lambda exchange: None)
        step = _diagnose(tmp_path, api.base_url, timeout=1.0)["links"]
    assert step.status == "fail"
    assert step.detail.startswith("links are signed and the URL without its query is refused (no answer (ReadTimeout))")


def test_types_and_cors_that_pages_need_are_warned_about_with_what_to_do(tmp_path: Path) -> None:
    def untyped(exchange: Exchange) -> Exchange:
        return dataclasses.replace(exchange, headers={"Content-Type": "application/octet-stream"})

    with Emulator() as emu, Proxy(emu.base_url) as api:  # a storage that serves every object untyped, without CORS
        _downloads_through(api, emu, untyped)
        step = _diagnose(tmp_path, api.base_url)["read back"]
    served = ", ".join(
        f"{name} as application/octet-stream" for name in ("probe.png", "probe.svg", "probe.pdf", "探针图片.png")
    )
    assert (step.status, step.detail) == ("warn", (
        f"every probe read back byte for byte; {served}; probe.svg is served as application/octet-stream, not "
        "image/svg+xml; probe.pdf is served as application/octet-stream, not application/pdf; no "
        "Access-Control-Allow-Origin header: pages on another domain cannot load subtitles (<track>) or web fonts "
        "from the storage (images, video and links work)"
    ))  # fmt: skip
    assert step.advice == (
        "browsers show an SVG in <img> only as image/svg+xml and open a PDF inline only as application/pdf: please "
        "report this output (wechat-api.md section 9, question 2); for subtitles and fonts, add the site's domain to "
        "the environment's security domains (云开发控制台 → 环境设置 → 安全配置)"
    )


def test_the_read_back_takes_the_type_without_parameters_and_sends_an_origin(tmp_path: Path) -> None:
    def as_cos(exchange: Exchange) -> Exchange:
        """``; charset`` added to each type, and CORS headers only for a request with an Origin, as COS does."""
        headers = {"Content-Type": exchange.headers["Content-Type"] + "; charset=utf-8"}
        if "Origin" in api.headers[-1]:
            headers["Access-Control-Allow-Origin"] = "*"
        if exchange.path.endswith("/probe.png"):
            headers = {k: v for k, v in headers.items() if k != "Content-Type"}
        return dataclasses.replace(exchange, headers=headers)

    with Emulator(infer_content_type=True) as emu, Proxy(emu.base_url) as api:
        _downloads_through(api, emu, as_cos)
        step = _diagnose(tmp_path, api.base_url)["read back"]
    assert (step.status, step.advice) == ("ok", "")
    assert step.detail == (
        "every probe read back byte for byte; probe.png as no type, probe.svg as image/svg+xml, probe.pdf as "
        "application/pdf, 探针图片.png as image/png"
    )


@pytest.mark.parametrize(
    ("status", "body", "what"), [(404, b"", "HTTP 404"), (200, b"other", "other bytes than were uploaded")]
)
def test_a_probe_read_back_wrong_names_the_file_and_its_url(
    tmp_path: Path, status: int, body: bytes, what: str
) -> None:
    def wrong(exchange: Exchange) -> Exchange | None:
        return dataclasses.replace(exchange, status=status, answer=body) if "/probe.png" in exchange.path else None

    with Emulator(sign_public_links=True) as emu, Proxy(emu.base_url) as api:
        _downloads_through(api, emu, wrong)
        found = _diagnose(tmp_path, api.base_url)
    step = found["read back"]
    assert step.status == "fail" and step.advice == ""
    assert re.fullmatch(
        rf"probe\.png read back from {api.base_url}/dl/{_BUCKET}/{_PROBES}/probe\.png: {what}", step.detail
    )
    assert found["cleanup"].ok and not emu.stored_files()


def test_a_download_host_that_does_not_answer_fails_the_read_back_without_a_traceback(tmp_path: Path) -> None:
    dead = f"http://127.0.0.1:{free_port()}"
    with Emulator() as emu, Proxy(emu.base_url) as api:
        _downloads_through(api, emu, lambda exchange: None)
        api.after = lambda exchange: (
            dataclasses.replace(exchange, answer=exchange.answer.replace(emu.base_url.encode(), dead.encode()))
            if exchange.path.startswith("/tcb/batchdownloadfile") else None
        )  # fmt: skip
        found = _diagnose(tmp_path, api.base_url)
    step = found["read back"]
    assert step.status == "fail"
    assert re.fullmatch(rf"probe\.png read back from {dead}/dl/{_BUCKET}/{_PROBES}/probe\.png: no answer \(ConnectionError\)",
                        step.detail)  # fmt: skip
    assert found["cleanup"].ok and not emu.stored_files()


def test_a_download_slower_than_the_timeout_fails_the_read_back(tmp_path: Path) -> None:
    def slow(exchange: Exchange) -> None:
        if exchange.path.startswith("/dl/"):
            time.sleep(2.5)

    with Emulator() as emu, Proxy(emu.base_url, before=slow) as api:
        _downloads_through(api, emu, lambda exchange: None)
        step = _diagnose(tmp_path, api.base_url, timeout=1.0)["read back"]
    assert step.status == "fail" and step.detail.endswith("probe.png: no answer (ReadTimeout)")


def test_private_storage_fails_the_links_with_both_ways_out(tmp_path: Path) -> None:
    with Emulator(private=True) as emu:
        found = _diagnose(tmp_path, emu.base_url)
    step = found["links"]
    assert (step.status, step.detail, step.advice) == ("fail", (
        "links are signed and the URL without its query is refused (HTTP 403): the storage is private, links "
        "expire after `link_max_age` and pages lose their images"
    ), "make the storage readable by everyone: 云开发控制台 → 存储 → 权限设置 (所有用户可读), or set `base_url` to a CDN "
       "domain bound to the storage")  # fmt: skip
    assert found["read back"].status == "warn"  # still read, with the signed links


def test_private_storage_behind_base_url_is_a_warning_and_the_probes_are_read_from_base_url(tmp_path: Path) -> None:
    with Emulator(private=True) as emu:
        base = f"{emu.base_url}/dl/{_BUCKET}"
        found = _diagnose(tmp_path, emu.base_url, base_url=base)
    step = found["links"]
    assert (step.status, step.advice) == (
        "warn", "pages use `base_url`; to read links too, make the storage readable by everyone: 云开发控制台 → 存储 → "
        "权限设置 (所有用户可读)"
    )  # fmt: skip
    assert re.fullmatch(rf"probe\.png read back from {base}/{_PROBES}/probe\.png: HTTP 403", found["read back"].detail)


def test_public_storage_behind_base_url_is_read_back_from_base_url(tmp_path: Path) -> None:
    with Emulator(sign_public_links=True, infer_content_type=True, cors=True) as emu, Proxy(emu.base_url) as cdn:
        found = _diagnose(tmp_path, emu.base_url, base_url=f"{cdn.base_url}/dl/{_BUCKET}")
        assert cdn.count("/dl/") == 4  # every probe, where pages load it
    assert found["links"].status == "ok" and found["read back"].detail.startswith("every probe read back byte for byte")


@pytest.mark.parametrize(
    ("name", "advice"),
    [
        ("probe.png", ""),
        ("探针图片.png", "the answer did not give this non-ASCII file id back as sent: please report this output"),
    ],
)
def test_a_link_missing_from_the_answer_fails_the_links_step(tmp_path: Path, name: str, advice: str) -> None:
    def drop(exchange: Exchange) -> Exchange | None:
        if not exchange.path.startswith("/tcb/batchdownloadfile") or b"probe.svg" not in exchange.body:
            return None
        answer = json.loads(exchange.answer)
        answer["file_list"] = [item for item in answer["file_list"] if not item["fileid"].endswith(f"/{name}")]
        return dataclasses.replace(exchange, answer=json.dumps(answer, ensure_ascii=False).encode())

    with Emulator() as emu, Proxy(emu.base_url, after=drop) as api:
        step = _diagnose(tmp_path, api.base_url)["links"]
    assert step.status == "fail" and step.advice == advice
    assert re.fullmatch(rf"no link for {_PROBES}/{re.escape(name)}: .*missing from.*", step.detail), step.detail


def test_an_environment_that_links_a_missing_file_fails(tmp_path: Path) -> None:
    def link_everything(exchange: Exchange) -> Exchange | None:
        if not exchange.path.startswith("/tcb/batchdownloadfile"):
            return None
        answer = json.loads(exchange.answer)
        for item in answer["file_list"]:
            item.update(status=0, errmsg="ok", download_url="https://example.com/x.png")
        return dataclasses.replace(exchange, answer=json.dumps(answer).encode())

    with Emulator() as emu, Proxy(emu.base_url, after=link_everything) as api:
        found = _diagnose(tmp_path, api.base_url)
    step = found["environment"]
    assert (step.status, step.detail, step.advice) == (
        "fail",
        f"env {DEFAULT_ENV!r}: a file that does not exist got a link",
        "",
    )
    assert "upload" not in found


def test_probes_the_service_says_it_deleted_but_still_links_are_named(tmp_path: Path) -> None:
    def pretend(request: Exchange) -> Exchange | None:
        if not request.path.startswith("/tcb/batchdeletefile"):
            return None
        ids = json.loads(request.body)["fileid_list"]
        answer = {
            "errcode": 0,
            "errmsg": "ok",
            "delete_list": [{"fileid": i, "status": 0, "errmsg": "ok"} for i in ids],
        }
        return Exchange(request.method, request.path, b"", 200, {"Content-Type": "application/json"},
                        json.dumps(answer).encode())  # fmt: skip

    with Emulator() as emu, Proxy(emu.base_url, before=pretend) as api:
        step = _diagnose(tmp_path, api.base_url)["cleanup"]
        ids = sorted(emu.file_ids().values())
    folder = re.search(_PROBES, ids[0])[0]  # type: ignore[index]
    assert (step.status, step.detail, step.advice) == (
        "fail",
        f"4 probe(s) may still be stored: {', '.join(ids)}",
        f"delete the folder {folder}/ in 云开发控制台 → 存储",
    )


def test_a_probe_whose_upload_failed_is_deleted_by_the_id_it_would_have(tmp_path: Path) -> None:
    uploads: list[str] = []

    def refuse_second(request: Exchange) -> Exchange | None:
        if request.path.startswith("/tcb/uploadfile"):
            uploads.append(json.loads(request.body)["path"])
            if len(uploads) == 2:
                body = json.dumps({"errcode": 45009, "errmsg": "reach max api daily quota limit"}).encode()
                return Exchange(request.method, request.path, b"", 200, {"Content-Type": "application/json"}, body)
        return None

    with Emulator() as emu, Proxy(emu.base_url, before=refuse_second) as api:
        found = _diagnose(tmp_path, api.base_url)
        [deleted] = [json.loads(e.body)["fileid_list"] for e in api.seen if e.path.startswith("/tcb/batchdeletefile")]
    assert found["upload"].status == "fail" and len(uploads) == 2
    assert deleted == [f"cloud://{DEFAULT_ENV}.{_BUCKET}/{path}" for path in uploads]
    assert found["cleanup"].detail == f"2 probes deleted; batchdownloadfile answers {FILE_NONEXIST} for each"


@pytest.mark.parametrize(
    ("reply", "advice"),
    [
        (
            {"errcode": 40164, "errmsg": "invalid ip, not in whitelist"},
            "add this machine's public IP (the IP WeChat "
            "saw) to 微信公众平台 → 开发管理 → 开发设置 → IP白名单, then run again",
        ),
        (Reply(b"bad gateway", status=502), ""),
        ({"errcode": 40002, "errmsg": "invalid grant_type"}, ""),
    ],
    ids=["ip-not-said", "http-502", "unknown-code"],
)
def test_the_advice_of_a_refused_token(tmp_path: Path, reply: object, advice: str) -> None:
    with Server(answer_json({"cgi-bin/stable_token": reply})) as server:  # type: ignore[dict-item]
        step = _diagnose(tmp_path, server.base_url, retries=0)["token"]
    assert step.status == "fail" and step.advice == advice


# -- the wording of a failed upload, and storage access -------------------------------------------------


def test_a_failed_upload_says_who_links_the_local_file() -> None:
    assert not_published("img/a.png", "quota exceeded", "guide/index.md") == (
        "wxcloud: guide/index.md: image 'img/a.png' not published, the page links the local file: quota exceeded"
    )
    assert not_published("clip.mp4", "quota exceeded") == (
        "wxcloud: video 'clip.mp4' not published, the site links the local file: quota exceeded"
    )


def _signed_site(root: Path) -> None:
    (root / "docs").mkdir()
    (root / "docs/a.png").write_bytes(png(1))


def test_every_request_of_a_run_is_counted_in_its_summary(tmp_path: Path) -> None:
    """The one-byte GET that tells public storage from private is a request of the run too."""
    _signed_site(tmp_path)
    with Emulator(sign_public_links=True) as emu:
        report, entries = _run_once(tmp_path, emu, ["a.png"])
        assert report.summary.requests == emu.request_count() > 0
    assert not report.signed and "?" not in entries["a.png"].url  # public: the permanent URL


def test_a_storage_that_does_not_answer_in_time_keeps_signed_links_this_run(tmp_path: Path) -> None:
    _signed_site(tmp_path)

    def slow(exchange: Exchange) -> None:
        if exchange.path.startswith("/dl/") and "?" not in exchange.path:  # the unsigned URL
            time.sleep(2.5)

    with Emulator(sign_public_links=True) as emu, Proxy(emu.base_url, before=slow) as api:
        _downloads_through(api, emu, lambda exchange: None)
        report, entries = _run_once(tmp_path, emu, ["a.png"], api_base=api.base_url, timeout=1.0)
    assert report.signed and "sign=" in entries["a.png"].url  # no answer proves nothing: asked again next run
    assert not (tmp_path / ".cache/plugin/wxcloud/storage-access.json").exists()


def test_a_storage_access_cache_of_unknown_words_is_asked_again(tmp_path: Path) -> None:
    _signed_site(tmp_path)
    with Emulator(sign_public_links=True) as emu:
        host = emu.base_url.split("://")[1]
        cache = tmp_path / ".cache/plugin/wxcloud/storage-access.json"
        cache.parent.mkdir(parents=True)
        caches.save(cache, "storage-access", 1, {f"{DEFAULT_ENV} {host}": "maybe"})
        report, entries = _run_once(tmp_path, emu, ["a.png"])
    assert not report.signed and "?" not in entries["a.png"].url
    assert caches.load(cache, "storage-access", 1) == {f"{DEFAULT_ENV} {host}": "public"}


# -- a network failure that stopped every upload: said once ----------------------------------------------


def test_an_api_that_refuses_connections_is_one_line_naming_the_first_files(tmp_path: Path) -> None:
    (tmp_path / "docs").mkdir()
    names = [f"{letter}.png" for letter in "gfedcba"]
    for n, name in enumerate(names):
        (tmp_path / "docs" / name).write_bytes(png(n))
    dead = f"http://127.0.0.1:{free_port()}"
    settings = resolve({"api_base": dead, "appid": "wx1", "secret": "s", "env": "e", "retries": 0}, tmp_path, {})
    with open_run(settings, tmp_path / "docs") as run:
        report = run.publish_all(names)
        assert run.fatal is not None
        assert unreachable(settings, run.fatal, list(report.errors)) == (
            f"wxcloud: the WeChat API at {dead} could not be reached (connection refused): 7 files not published "
            "(a.png, b.png, c.png, d.png, e.png and 2 more), the pages link the local files"
        )
        assert unreachable(settings, run.fatal, names[2:]) == (
            f"wxcloud: the WeChat API at {dead} could not be reached (connection refused): 5 files not published "
            "(a.png, b.png, c.png, d.png, e.png), the pages link the local files"
        )
        assert unreachable(settings, run.fatal, ["a.png"]) == (
            f"wxcloud: the WeChat API at {dead} could not be reached (connection refused): 1 file not published "
            "(a.png), the pages link the local files"
        )


@pytest.mark.parametrize(
    ("message", "what"),
    [
        ("WeChat API cgi-bin/stable_token: Read timed out. (read timeout=30)", "could not be reached (timed out)"),
        ("WeChat API tcb/uploadfile: HTTP 500", "failed (WeChat API tcb/uploadfile: HTTP 500)"),
    ],
)
def test_a_failure_that_stopped_the_uploads_says_what_happened(tmp_path: Path, message: str, what: str) -> None:
    settings = resolve({"api_base": "https://api.example.com/"}, tmp_path, {})
    assert unreachable(settings, WxCloudError(message)) == (
        f"wxcloud: the WeChat API at https://api.example.com {what}: no more files are published, the pages link the "
        "local files"
    )
    emulated = _emulator_settings(tmp_path, "127.0.0.1:9")
    assert unreachable(emulated, WxCloudError(message)).startswith(f"wxcloud: the WeChat API at 127.0.0.1:9 {what}: ")


# -- links: what a download host answers ----------------------------------------------------------------


class _Download(BaseHTTPRequestHandler):
    """Answers ``GET /<status>`` with that status (``/302`` redirects to ``/200``); keeps each request's headers."""

    def do_GET(self) -> None:  # noqa: N802
        self.server.seen.append(dict(self.headers.items()))  # type: ignore[attr-defined]
        status = int(self.path.strip("/").split("?")[0])
        self.send_response(status)
        if status == 302:
            self.send_header("Location", "/200")
        self.send_header("Content-Length", "1")
        self.end_headers()
        self.wfile.write(b"x")

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def download_host() -> Iterator[tuple[str, list[dict[str, str]]]]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Download)
    server.seen = []  # type: ignore[attr-defined]
    with Background(server) as host:
        yield f"http://127.0.0.1:{host.port}", server.seen  # type: ignore[attr-defined]


def test_serves_asks_one_byte_without_credentials_and_follows_no_redirect(
    download_host: tuple[str, list[dict[str, str]]], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    base, seen = download_host
    netrc = tmp_path / "netrc"
    netrc.write_text("machine 127.0.0.1 login someone password hunter2\n", encoding="utf-8")
    netrc.chmod(0o600)
    monkeypatch.setenv("NETRC", str(netrc))
    assert [serves(f"{base}/{status}", 5) for status in (200, 201, 206, 299, 300, 302, 403)] == [
        (True, "HTTP 200"), (True, "HTTP 201"), (True, "HTTP 206"), (True, "HTTP 299"),
        (False, "HTTP 300"), (False, "HTTP 302"), (False, "HTTP 403"),
    ]  # fmt: skip
    assert all(headers.get("Range") == "bytes=0-0" and "Authorization" not in headers for headers in seen)
    assert len(seen) == 7  # the redirect was not followed
    assert get(f"{base}/200", 5).status_code == 200 and "Range" not in seen[-1]


@pytest.mark.timeout(20)
def test_serves_says_no_answer_for_a_host_that_refuses_or_hangs() -> None:
    assert serves(f"http://127.0.0.1:{free_port()}/a.png", 5) == (None, "no answer (ConnectionError)")
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen()
        assert serves(f"http://127.0.0.1:{silent.getsockname()[1]}/a.png", 0.5) == (None, "no answer (ReadTimeout)")


def test_unsigned_drops_the_query_and_the_fragment() -> None:
    assert unsigned("https://cdn.example.com/docs/a.png?sign=x&t=1#top") == "https://cdn.example.com/docs/a.png"


# -- the words of a problem ------------------------------------------------------------------------------


def test_a_problem_names_the_page_its_line_the_kind_and_the_url() -> None:
    assert str(Problem("guide.md", 3, "a.png", "not found")) == "guide.md:3: image 'a.png' not found"
    assert str(Problem("guide.md", None, "a.png", "not found")) == "guide.md: image 'a.png' not found"
    assert str(Problem("guide.md", 0, "clip", "not found", "video")) == "guide.md: video 'clip' not found"
    assert str(Problem("guide.md", 2, "", "is over budget")) == "guide.md:2: is over budget"


def test_a_reference_to_a_host_unreliable_in_china_says_how_to_import_it() -> None:
    why = remote_problem(Reference("//raw.githubusercontent.com/o/r/main/a.png", "img", MARKDOWN))
    assert why is not None and why.startswith("is on raw.githubusercontent.com, which readers in mainland China")
    assert why.endswith(": list the host in `import_hosts` to publish it to the cloud, or copy it into docs_dir")
    assert remote_problem(Reference("https://raw.githubusercontent.com/o/r/main/a.png", "a", MARKDOWN)) is None
    assert remote_problem(Reference("https://example.com/a.png", "img", MARKDOWN)) is None


def test_an_import_that_is_no_http_url_is_refused_in_words(tmp_path: Path, emulator: Emulator) -> None:
    (tmp_path / "docs").mkdir()
    settings = resolve(emulator_options(emulator, import_hosts=["cdn.example.com"]), tmp_path, {})
    with open_run(settings, tmp_path / "docs") as run, pytest.raises(ImageProblem) as caught:
        run.resolve("ftp://cdn.example.com/a.png")
    assert str(caught.value) == "cannot be imported: is not an http(s) URL, or carries a user name or password: refused"


# -- cloud paths -----------------------------------------------------------------------------------------

_SHA = "0123456789abcdef" * 4


def test_a_cloud_path_is_the_docs_path_with_the_hash_made_safe_for_the_storage() -> None:
    assert cloud_path("docs", "img/a b.PNG", _SHA) == "docs/img/a_b.0123456789ab.png"
    assert cloud_path("/site//v1/", "./img/../a.png", _SHA) == "site/v1/img/a.0123456789ab.png"
    assert cloud_path("", "a.png", _SHA, ".webp") == "a.0123456789ab.webp"
    assert cloud_path("docs", "a@2x.png", _SHA) == "docs/a@2x.0123456789ab.png"
    unsafe = "`^\"\\{}[]~%#<>|+?&=;$: '(),\x7f\t"
    assert cloud_path("my docs", f"x{unsafe}y/a.png", _SHA) == f"my_docs/x{'_' * len(unsafe)}y/a.0123456789ab.png"


def test_a_cloud_path_too_long_for_the_storage_is_the_hash_alone() -> None:
    assert cloud_path("docs", "a" * 828 + ".png", _SHA) == "docs/" + "a" * 828 + ".0123456789ab.png"  # 850 bytes
    assert cloud_path("my docs/v1", "sub/" + "a" * 829 + ".PNG", _SHA) == f"my_docs/v1/{_SHA}.png"
    assert cloud_path("docs", "图" * 95 + ".png", _SHA, ".webp") == f"docs/{_SHA}.webp"  # 9 bytes a character, quoted


def test_a_cloud_path_cut_to_the_hash_keeps_the_prefix_as_the_manifest_takes_it(
    tmp_path: Path, emulator: Emulator
) -> None:
    """The prefix loses its empty, '.' and '..' parts in a long path too: the manifest refuses them."""
    name = "长" * 80 + "/" + "图" * 80 + ".png"  # 1,449 bytes quoted: only the hash fits
    (tmp_path / "docs" / name).parent.mkdir(parents=True)
    (tmp_path / "docs" / name).write_bytes(png(1))
    report, entries = _run_once(tmp_path, emulator, [name], prefix="./site//../v1")
    assert not report.errors
    assert entries[name].cloud_path == f"site/v1/{_sha(png(1))}.png"
    assert mf.read(tmp_path / "wxcloud-manifest.yml").images == entries  # what the next run reads


# -- the report's words ------------------------------------------------------------------------------------


def test_sizes_are_said_in_binary_units_with_one_decimal() -> None:
    assert [human_size(n) for n in (0, 1023, 1024, 1536, 1024**2 * 1.3, 5 << 30, 2 << 40)] == [
        "0 B", "1023 B", "1.0 KB", "1.5 KB", "1.3 MB", "5.0 GB", "2048.0 GB",
    ]  # fmt: skip


def test_the_summary_line_says_what_optimizing_saved_only_when_it_saved() -> None:
    line = Summary(uploaded=12, reused=240, failed=1, bytes=1363149, saved=2048, seconds=2.14).line()
    assert line == "12 uploaded (1.3 MB, 2.0 KB saved by optimizing), 240 reused, 1 failed in 2.1 s"
    assert Summary(uploaded=1, bytes=10).line() == "1 uploaded (10 B), 0 reused, 0 failed in 0.0 s"


# -- the site's own stylesheets ------------------------------------------------------------------------------


@dataclasses.dataclass
class _File:
    src_uri: str
    abs_src_path: str | None = "/docs/x"
    generated_by: str | None = None


def test_only_the_css_files_of_docs_dir_are_stylesheets_to_publish() -> None:
    files = {
        "css/a.css": _File("css/a.css"), "B.CSS": _File("B.CSS"), "gen.css": _File("gen.css", generated_by="plugin"),
        "outside.css": _File("outside.css", abs_src_path=None), "js/x.js": _File("js/x.js"),
        "./css/c.css": _File("css/c.css"),
    }  # fmt: skip

    class Files:
        def get_file_from_path(self, path: str) -> object | None:
            return files.get(path)

    extra = ["css/a.css", "B.CSS", "gen.css", "outside.css", "js/x.js", "missing.css", "https://cdn.example.com/x.css",
             "./css/c.css"]  # fmt: skip
    assert stylesheets(extra, Files()) == ["css/a.css", "B.CSS", "css/c.css"]


def test_a_stylesheet_is_taken_by_what_its_file_says_and_a_remote_one_is_never_looked_up() -> None:
    """A host's file objects may lack fields (no generator: not generated; no source: not in docs_dir; no
    src_uri: the path as written), and a file of docs_dir never stands for a URL."""
    files = {"old.css": SimpleNamespace(abs_src_path="/docs/old.css"), "bare.css": SimpleNamespace(src_uri="bare.css")}

    class Files:
        def get_file_from_path(self, path: str) -> object | None:
            return files.get(path, _File(path))  # a file for any path, as docs_dir/https:/… would be

    extra = ["old.css", "bare.css", "https://cdn.example.com/x.css", "HTTP://cdn.example.com/y.CSS"]
    assert stylesheets(extra, Files()) == ["old.css"]


# -- what the manifest has for a file: the one decision ------------------------------------------------------


def test_each_state_of_a_file_as_a_lookup_finds_it(tmp_path: Path) -> None:
    docs = tmp_path / "docs"
    docs.mkdir()
    for name, n in (("a.png", 1), ("changed.png", 2)):
        (docs / name).write_bytes(png(n))
    with Emulator(private=True) as emu:
        report, entries = _run_once(tmp_path, emu, ["a.png", "changed.png"], link_max_age=600)
        assert report.signed and not report.errors
    (docs / "copy.png").write_bytes(png(1))
    (docs / "new.png").write_bytes(png(3))
    (docs / "changed.png").write_bytes(png(4))

    def states(**options: object) -> dict[str, tuple[State, str | None]]:
        settings = resolve({"offline": True, **options}, tmp_path, {})
        with open_run(settings, docs, Mode(offline=True)) as run:
            found = {name: run.resolve(name) for name in ("a.png", "copy.png", "new.png", "changed.png")}
        return {name: (status.state, status.url) for name, status in found.items()}

    a_url = entries["a.png"].url
    assert states(link_max_age=600) == {
        "a.png": (State.CURRENT, a_url), "copy.png": (State.ELSEWHERE, a_url),
        "new.png": (State.MISSING, None), "changed.png": (State.CHANGED, None),
    }  # fmt: skip
    assert states()["a.png"] == (State.EXPIRING, None)  # 600 s left of a day's links: refreshed by the next build
    assert states(link_max_age=1100)["a.png"] == (State.CURRENT, a_url)  # more than half of 1100 s is left
    assert states(link_max_age=1500)["a.png"] == (State.EXPIRING, None)  # less than half of 1500 s is left
    cdn = states(base_url="https://cdn.example.com/")
    assert cdn["a.png"] == (State.CURRENT, f"https://cdn.example.com/{entries['a.png'].cloud_path}")
    assert states(link_max_age=600, optimize="lossless")["a.png"] == (State.OUTDATED, None)


def _published_then(root: Path, emu: Emulator, edit: Callable[[Entry], Entry], **options: object) -> Entry:
    """Publish ``docs/a.png``, then rewrite its manifest entry with ``edit`` (as an older release, or a
    hand, left it); the entry as published."""
    (root / "docs").mkdir()
    (root / "docs/a.png").write_bytes(png(1))
    report, entries = _run_once(root, emu, ["a.png"], "", **options)
    assert not report.errors
    path = root / "wxcloud-manifest.yml"
    manifest = mf.read(path)
    manifest.images["a.png"] = edit(manifest.images["a.png"])
    path.write_text(mf.to_yaml(manifest), encoding="utf-8")
    return entries["a.png"]


def _offline(root: Path, **options: object) -> AbstractContextManager[Run]:
    return open_run(resolve({"offline": True, **options}, root, {}), root / "docs", Mode(offline=True))


def test_an_entry_uploaded_without_a_link_gets_the_base_url_one(tmp_path: Path, emulator: Emulator) -> None:
    entry = _published_then(tmp_path, emulator, lambda e: dataclasses.replace(e, url="", expires=None))
    with _offline(tmp_path) as run:
        unlinked = run.resolve("a.png")
    unlinked_entry = dataclasses.replace(entry, url="", expires=None)
    assert (unlinked.state, unlinked.entry, unlinked.stored) == (State.UNLINKED, unlinked_entry, unlinked_entry)
    assert (unlinked.url, unlinked.adopted) == (None, False)
    with _offline(tmp_path, base_url="https://cdn.example.com") as run:
        linked = run.resolve("a.png")
    url = f"https://cdn.example.com/{entry.cloud_path}"
    assert (linked.state, linked.url, linked.adopted) == (State.CURRENT, url, True)


def test_a_file_taking_its_twins_upload_records_its_own_size(tmp_path: Path, emulator: Emulator) -> None:
    entry = _published_then(tmp_path, emulator, lambda e: dataclasses.replace(e, size=1))  # a size gone wrong
    (tmp_path / "docs/copy.png").write_bytes(png(1))
    with _offline(tmp_path) as run:
        twin = run.resolve("copy.png")
    assert twin.state is State.ELSEWHERE and twin.stored is None
    assert twin.entry == dataclasses.replace(entry, size=len(png(1)))


def test_a_file_the_manifest_has_otherwise_comes_with_the_entry_it_has(tmp_path: Path, emulator: Emulator) -> None:
    """`check` words a changed or differently optimized file from the manifest's entry for it."""
    entry = _published_then(tmp_path, emulator, lambda e: e)
    with _offline(tmp_path, optimize="lossless") as run:
        outdated = run.resolve("a.png")
    (tmp_path / "docs/a.png").write_bytes(png(2))
    with _offline(tmp_path) as run:
        changed = run.resolve("a.png")
    assert (outdated.state, outdated.entry, outdated.stored) == (State.OUTDATED, None, entry)
    assert (changed.state, changed.entry, changed.stored) == (State.CHANGED, None, entry)


def test_a_current_or_expiring_file_comes_with_its_own_entry(tmp_path: Path) -> None:
    with Emulator(private=True) as emu:  # signed links, which expire
        entry = _published_then(tmp_path, emu, lambda e: e, link_max_age=600)
    assert entry.expires is not None
    with _offline(tmp_path, link_max_age=600) as run:
        current = run.resolve("a.png")
    with _offline(tmp_path) as run:  # a day's links: the 600 s left are too few
        expiring = run.resolve("a.png")
    assert (current.state, current.entry, current.stored, current.adopted) == (State.CURRENT, entry, entry, False)
    assert (expiring.state, expiring.entry, expiring.stored, expiring.url) == (State.EXPIRING, entry, entry, None)


_KILLED_RUN = """
import json, os, sys
from pathlib import Path
from mkdocs_wxcloud.manifest.model import Entry
from mkdocs_wxcloud.manifest.store import ManifestStore
root = Path(sys.argv[1])
store = ManifestStore(root / "wxcloud-manifest.yml", root / ".cache/plugin/wxcloud", sys.argv[2])
store.put("a.png", Entry(**json.loads(sys.argv[3])))  # an upload, journaled
os._exit(9)  # killed before it wrote the manifest
"""


def test_a_file_known_only_from_a_killed_runs_journal_is_linked_and_said_so(tmp_path: Path, emulator: Emulator) -> None:
    entry = _published_then(tmp_path, emulator, lambda e: e)
    (tmp_path / "wxcloud-manifest.yml").unlink()  # this run uploaded it, and was killed before it wrote the manifest
    fields = json.dumps(dataclasses.asdict(entry))
    killed = subprocess.run([sys.executable, "-c", _KILLED_RUN, str(tmp_path), DEFAULT_ENV, fields], timeout=60)
    assert killed.returncode == 9
    with _offline(tmp_path) as run:
        recovered = run.resolve("a.png")
    assert (recovered.state, recovered.entry, recovered.url) == (State.RECOVERED, entry, entry.url)
    assert recovered.linkable and not recovered.adopted


# -- files that cannot be read ---------------------------------------------------------------------------


def test_an_image_that_is_a_symlink_loop_says_to_fix_the_path(tmp_path: Path) -> None:
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs/loop.png").symlink_to("loop.png")
    with open_run(resolve({}, tmp_path, {}), tmp_path / "docs", Mode(offline=True)) as run:
        with pytest.raises(ImageProblem) as caught:
            run.resolve("loop.png")
    assert str(caught.value) == "cannot be read (Too many levels of symbolic links): fix the path"


# -- the linker: each problem once per page, in the words of the problem ------------------------------------


def _linked_site(root: Path, emu: Emulator, **options: object) -> Settings:
    (root / "docs/sub").mkdir(parents=True)
    (root / "docs/big.png").write_bytes(png(1, 64, noisy=True))  # about 12 KB
    (root / "docs/clip.mp4").write_bytes(b"\x00" * 3000)
    _run_once(root, emu, ["big.png", "clip.mp4"])
    return resolve(emulator_options(emu, max_size="1 KB", **options), root, {})


def test_a_missing_image_is_warned_about_once_per_page_with_its_line(tmp_path: Path, emulator: Emulator) -> None:
    settings = _linked_site(tmp_path, emulator)
    problems: list[Problem] = []
    source = "# Title\n\n![x](missing.png)\n"
    with open_run(settings, tmp_path / "docs", Mode(offline=True)) as run:
        linker = Linker(run, problems.append)
        target = linker.target("missing.png", "img", "index.md")
        assert target is not None and (target.path, target.kind) == ("missing.png", "image")
        assert linker.lookup(target, "missing.png", "index.md", source) == (False, None)
        assert linker.lookup(target, "missing.png", "index.md", source) == (False, None)
        assert linker.lookup(target, "missing.png", "other.md", "![x](missing.png)") == (False, None)
    assert [str(p) for p in problems] == [
        "index.md:3: image 'missing.png' not found in docs_dir: fix the path or add the file",
        "other.md:1: image 'missing.png' not found in docs_dir: fix the path or add the file",
    ]


def test_a_warning_names_the_kind_it_is_given_or_the_url_s(tmp_path: Path) -> None:
    (tmp_path / "docs").mkdir()
    problems: list[Problem] = []
    with open_run(resolve({}, tmp_path, {}), tmp_path / "docs", Mode(offline=True)) as run:
        linker = Linker(run, problems.append)
        linker.warn("index.md", "![](a.png)\n<video src=clip>", "a.png", "is odd")
        linker.warn("index.md", "![](a.png)\n<video src=clip>", "clip", "is odd too", "video")
    assert [str(p) for p in problems] == ["index.md:1: image 'a.png' is odd", "index.md:2: video 'clip' is odd too"]


def test_raw_html_resolved_against_the_page_url_says_where_it_looked(tmp_path: Path, emulator: Emulator) -> None:
    settings = _linked_site(tmp_path, emulator)
    problems: list[Problem] = []
    with open_run(settings, tmp_path / "docs", Mode(offline=True)) as run:
        linker = Linker(run, problems.append, lambda page: page.removesuffix(".md") + "/index.html")
        target = linker.target("x.png", "img", "sub/page.md", RAW)
        assert target is not None and target.path == "sub/page/x.png"
        linker.lookup(target, "x.png", "sub/page.md", '<img src="x.png">')
        markdown = linker.target("y.png", "img", "sub/page.md")
        assert markdown is not None and markdown.path == "sub/y.png"
        linker.lookup(markdown, "y.png", "sub/page.md", "![](y.png)")
    assert [p.message for p in problems] == [
        "not found in docs_dir: fix the path or add the file; looked for sub/page/x.png (raw HTML is relative to "
        "the page's URL)",
        "not found in docs_dir: fix the path or add the file",
    ]


@pytest.mark.parametrize(
    ("options", "image_advice"),
    [
        (
            {},
            "(not optimized), over `max_size` (1.0 KB): make the image smaller, or set `optimize: lossy` (with `max_width`)",
        ),
        (
            {"optimize": "lossy"},
            "(not optimized), over `max_size` (1.0 KB): lower `quality`, set `max_width`, or make the image smaller",
        ),
    ],
)
def test_a_file_over_max_size_is_warned_about_with_what_to_do(
    tmp_path: Path, emulator: Emulator, options: dict, image_advice: str
) -> None:
    settings = _linked_site(tmp_path, emulator, **options)
    problems: list[Problem] = []
    with open_run(settings, tmp_path / "docs", Mode(offline=True, any_profile=True)) as run:
        linker = Linker(run, problems.append)
        stored = run.store.get("big.png").stored  # type: ignore[union-attr]
        for url in ("big.png", "clip.mp4", "big.png"):
            target = linker.target(url, "img" if url.endswith("png") else "video", "index.md")
            assert target is not None and linker.lookup(target, url, "index.md", f"![]({url})")[0]
        assert linker.size_problem("missing.png") is None
    assert [str(p) for p in problems] == [
        f"index.md:1: image 'big.png' is {human_size(stored)} in the cloud {image_advice}",
        "index.md:1: video 'clip.mp4' is 2.9 KB in the cloud (not optimized), over `max_size` (1.0 KB): make the video "
        "smaller, or host it elsewhere",
    ]


def test_a_new_upload_over_max_size_is_warned_about_once_it_is_stored(tmp_path: Path, emulator: Emulator) -> None:
    settings = _linked_site(tmp_path, emulator, optimize="lossless")
    (tmp_path / "docs/new.png").write_bytes(png(2, 64, noisy=True))
    problems: list[Problem] = []
    with open_run(settings, tmp_path / "docs") as run:
        linker = Linker(run, problems.append)
        target = linker.target("new.png", "img", "index.md")
        assert target is not None and linker.lookup(target, "new.png", "index.md", "![](new.png)", upload=True) == (
            True,
            None,
        )
        assert problems == []
        run.finish()
        linker.check_sizes()
        linker.check_sizes()  # said once
    [problem] = problems
    assert re.fullmatch(r"index\.md:1: image 'new\.png' is [\d.]+ KB in the cloud after optimizing, over `max_size` "
                        r"\(1\.0 KB\): make the image smaller, or set `optimize: lossy` \(with `max_width`\)", str(problem))  # fmt: skip


# -- placeholders: a marker now, the cloud URL (or the local one) later ---------------------------------------


def test_placeholders_become_cloud_urls_with_their_suffix_or_the_local_url() -> None:
    pending = Placeholders()
    assert not pending and pending.fill("no marker", {}) == "no marker"
    first, second = pending.add("a.png", "?v=1#x", "a.png?v=1#x"), pending.add("b.png", "", "b.png")
    assert pending and "a.png" in pending and "c.png" not in pending and pending.paths == ["a.png", "b.png"]
    assert first != second and not first.startswith(second)
    html = f'<img src="{first}"><img src="{second}"><a href="{first}">'
    urls = {"a.png": "https://cdn.example.com/a.png?sign=1&t=2"}
    assert pending.fill(html, urls) == (
        '<img src="https://cdn.example.com/a.png?sign=1&amp;t=2&amp;v=1#x"><img src="b.png">'
        '<a href="https://cdn.example.com/a.png?sign=1&amp;t=2&amp;v=1#x">'
    )
    assert pending.fill(f"url({first})", urls, escape=False) == "url(https://cdn.example.com/a.png?sign=1&t=2&v=1#x)"


def test_size_placeholders_become_the_stored_size_or_go() -> None:
    pending = Placeholders()
    marker = pending.add("a.png", "", "a.png")
    assert not Placeholders() and bool(Placeholders().sized("a.png"))
    a, b = pending.sized("a.png"), pending.sized("b.png")
    assert set(a) == {"width", "height"} and a != b
    html = f'<img src="{marker}" width="{a["width"]}" height="{a["height"]}"><img width="{b["width"]}" height="{b["height"]}">'
    assert pending.fill(html, {"a.png": "https://cdn.example.com/a.png"}, {"a.png": (12, 8)}) == (
        '<img src="https://cdn.example.com/a.png" width="12" height="8"><img>'
    )
    assert pending.fill(html, {}) == '<img src="a.png"><img>'


# -- files hashed on the pool ----------------------------------------------------------------------------------


def test_a_file_hashed_on_the_pool_that_the_manifest_has_under_another_name_is_not_uploaded(
    tmp_path: Path, emulator: Emulator
) -> None:
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs/a.png").write_bytes(png(1))
    _, entries = _run_once(tmp_path, emulator, ["a.png"])
    (tmp_path / "docs/copy.png").write_bytes(png(1))
    (tmp_path / "docs/new.png").write_bytes(png(2))
    settings = resolve(emulator_options(emulator), tmp_path, {})
    emulator.reset_counts()
    with open_run(settings, tmp_path / "docs") as run:
        assert run.publish("copy.png") is None and run.publish("new.png") is None  # not hashed yet: on the pool
        report = run.finish()
    assert (report.summary.uploaded, report.summary.reused, report.summary.failed) == (1, 1, 0)
    assert report.urls["copy.png"] == entries["a.png"].url and report.urls["new.png"] != entries["a.png"].url
    assert emulator.request_count("/tcb/uploadfile") == 1
    assert run.store.get("copy.png").cloud_path == entries["a.png"].cloud_path  # type: ignore[union-attr]


# -- imported files: named by their URL and their bytes ---------------------------------------------------------


def test_imported_files_are_named_by_host_port_and_name_and_refused_by_their_bytes(
    tmp_path: Path, emulator: Emulator
) -> None:
    (tmp_path / "docs").mkdir()
    routes = {
        "/img/": file(png(1), "image/png"), "/img/a%20b.jpeg": file(png(2)), "/doc": file(b"%PDF-1.4 hello", ""),
        "/page": file(b"plain words, no picture", "text/plain"), "/blob": file(b"\x00\x01\x02\x03", ""),
    }  # fmt: skip
    with ImageHost(routes) as host:
        origin = f"http://127.0.0.1:{host.port}"
        options = emulator_options(emulator, import_hosts=[origin], import_allow_private=True)
        with open_run(resolve(options, tmp_path, {}), tmp_path / "docs") as run:
            linker = Linker(run, lambda problem: None)
            urls = [
                f"{origin}/img/?v=1?w=2",
                f"{origin}/img/a%20b.jpeg",
                f"{origin}/doc",
                f"{origin}/page",
                f"{origin}/blob",
            ]
            sources = []
            for url in urls:
                target = linker.target(url, "img", "index.md")
                assert target is not None
                sources.append(target.path)
            report = run.publish_all(sources[:2])
            names = [run.store.get(source).cloud_path for source in sources[:2]]  # type: ignore[union-attr]
            problems = []
            for source in sources[2:]:
                with pytest.raises(ImageProblem) as caught:
                    run.resolve(source)
                problems.append(str(caught.value))
    assert not report.errors
    host_name = f"127.0.0.1_{host.port}"
    assert names == [f"docs/imported/{host_name}/file.{_sha(png(1))[:12]}.png",
                     f"docs/imported/{host_name}/a_b.{_sha(png(2))[:12]}.png"]  # fmt: skip
    assert problems == [
        "cannot be imported: its bytes are document (.pdf), a kind that `assets` does not publish",
        "cannot be imported: 127.0.0.1 sent 23 bytes that are no image, video or audio format (it said text/plain): "
        "fix the link, or copy the file into docs_dir",
        "cannot be imported: 127.0.0.1 sent 4 bytes that are no image, video or audio format: fix the link, or copy "
        "the file into docs_dir",
    ]
