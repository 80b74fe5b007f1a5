"""The emulator's application called in-process: no socket, the same rules as over HTTP."""

from __future__ import annotations

import json
import re
from typing import Any

from mkdocs_wxcloud.emulator import DEFAULT_APPID, DEFAULT_ENV, DEFAULT_SECRET, HEALTH_PATH
from mkdocs_wxcloud.emulator.application import Application
from mkdocs_wxcloud.emulator.messages import Request, Response
from mkdocs_wxcloud.emulator.options import Options

BOUNDARY = "b0undary"


def call(app: Application, target: str, body: dict[str, Any] | None = None, method: str = "POST") -> Response:
    data = b"" if body is None else json.dumps(body, ensure_ascii=False).encode("utf-8")
    return app.handle(Request.of(method, target, data, {"Content-Type": "application/json; charset=utf-8"}))


def token(app: Application) -> str:
    body = {"grant_type": "client_credential", "appid": DEFAULT_APPID, "secret": DEFAULT_SECRET}
    return call(app, "/cgi-bin/stable_token", body).json()["access_token"]


def form(fields: list[tuple[str, str]], data: bytes) -> bytes:
    parts = [f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n{v}\r\n'.encode() for k, v in fields]
    file_part = f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="file"; filename="x"\r\n\r\n'.encode()
    return b"".join(parts) + file_part + data + f"\r\n--{BOUNDARY}--\r\n".encode()


def upload(app: Application, tok: str, path: str, data: bytes, *extra: tuple[str, str]) -> str:
    grant = call(app, f"/tcb/uploadfile?access_token={tok}", {"env": DEFAULT_ENV, "path": path}).json()
    fields = [("key", path), ("signature", grant["authorization"]), ("x-cos-security-token", grant["token"]),
              ("x-cos-meta-fileid", grant["cos_file_id"]), *extra]  # fmt: skip
    target = grant["url"].removeprefix(app.base_url)
    headers = {"Content-Type": f"multipart/form-data; boundary={BOUNDARY}"}
    response = app.handle(Request.of("POST", target, form(fields, data), headers))
    assert response.status == 204 and response.header("ETag"), response.body
    return grant["file_id"]


def test_the_whole_flow_in_process() -> None:
    app = Application()
    tok = token(app)
    file_id = upload(app, tok, "文档/a.svg", b"<svg/>", ("Content-Type", "image/svg+xml"))
    links = call(app, f"/tcb/batchdownloadfile?access_token={tok}",
                 {"env": DEFAULT_ENV, "file_list": [{"fileid": file_id, "max_age": 60}]}).json()  # fmt: skip
    [item] = links["file_list"]
    assert item["status"] == 0 and item["download_url"].startswith(app.base_url + "/dl/")
    download = app.handle(Request.of("GET", item["download_url"].removeprefix(app.base_url)))
    assert download.status == 200 and download.header("Content-Type") == "image/svg+xml"
    assert download.read() == b"<svg/>"
    assert app.request_count("/tcb/") == 2 and app.request_count("/cos/") == 1


def test_health_faults_and_counts_in_process() -> None:
    app = Application(Options(envs=("a-1",)))
    assert call(app, HEALTH_PATH, method="GET").json() == {"emulator": "mkdocs-wxcloud", "envs": ["a-1"]}
    app.faults.fail_next("drop")
    assert call(app, "/cgi-bin/stable_token", {}).drop
    app.faults.fail_next("http502")
    assert call(app, "/cgi-bin/stable_token", {}).status == 502
    busy = call(app, "/tcb/uploadfile", {"env": "a-1", "path": "a"})
    assert busy.status == 200 and busy.json()["errcode"] == 41001
    assert app.request_count() == 3


def test_range_in_process() -> None:
    app = Application()
    tok = token(app)
    file_id = upload(app, tok, "a.bin", b"0123456789")
    target = "/dl/" + file_id.split(".", 1)[1]
    part = app.handle(Request.of("GET", target, headers={"range": "bytes=2-4"}))
    assert part.status == 206 and part.header("Content-Range") == "bytes 2-4/10" and part.read() == b"234"
    assert re.fullmatch(r'"[0-9a-f]{32}"', part.header("ETag") or "")


def test_refusals_in_process() -> None:
    app = Application(Options(max_upload_bytes=10))
    assert app.body_limit("/cos/b/a.png") > 10 and app.body_limit("/tcb/uploadfile") == 1 << 20
    cos = app.refuse("/cos/b/a.png", 413, "the body is over the limit")
    assert cos.status == 400 and cos.close and b"<Code>EntityTooLarge</Code>" in cos.body
    plain = app.refuse("/tcb/uploadfile", 400, "bad chunk")
    assert (
        plain.status == 400 and plain.body == b"400 Bad Request: bad chunk\n" and plain.header("Connection") == "close"
    )
    assert app.request_count() == 2
