"""Behaviours of the core package ``publishing/`` that its mutants showed no other test pins down
(``python tools/mutation.py --package publishing``): each through the public surface (a run against
the emulator, the resolved settings, the report's wording, the decider), so it holds when code moves."""

from __future__ import annotations

import dataclasses
import io
import json
import logging
import re
import xml.etree.ElementTree as ET
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from conftest import free_port, png, wx_client
from loopback import Background
from PIL import Image
from proxy import Exchange, Proxy

from mkdocs_wxcloud.emulator import DEFAULT_APPID, DEFAULT_ENV, DEFAULT_SECRET, Emulator
from mkdocs_wxcloud.errors import ConfigError
from mkdocs_wxcloud.manifest.model import Entry
from mkdocs_wxcloud.publishing.connection import connect
from mkdocs_wxcloud.publishing.probes import probes
from mkdocs_wxcloud.publishing.remote import missing_in_cloud
from mkdocs_wxcloud.publishing.settings import Settings, resolve

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
    for number, offset in enumerate(offsets, 1):
        assert pdf[offset:].startswith(b"%d 0 obj\n<<" % number)
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
