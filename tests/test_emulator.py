"""The emulator speaks the protocol of wechat-api.md over real HTTP, strictly."""

from __future__ import annotations

import http.client
import json
import re
import signal
import socket
import subprocess
import sys
import threading
import time
import xml.etree.ElementTree as ET
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterator

import pytest
import requests

from mkdocs_wxcloud.emulator import (
    DEFAULT_APPID,
    DEFAULT_ENV,
    DEFAULT_SECRET,
    HEALTH_PATH,
    Emulator,
)

RID = re.compile(r" rid: [0-9a-f-]+$")
PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4
SCRIPT = Path(sys.executable).parent / "mkdocs-wxcloud"


def _has_ipv6_loopback() -> bool:
    try:
        with socket.socket(socket.AF_INET6) as sock:
            sock.bind(("::1", 0))
        return True
    except OSError:
        return False


IPV6 = pytest.mark.skipif(not _has_ipv6_loopback(), reason="no IPv6 loopback here")


@pytest.fixture
def emu() -> Iterator[Emulator]:
    with Emulator() as emulator:
        yield emulator


def post_json(emu: Emulator, path: str, body: Any, **params: str) -> dict[str, Any]:
    """POST a body as raw UTF-8 JSON, the way the reference asks clients to."""
    data = json.dumps(body, ensure_ascii=False).encode("utf-8")
    response = requests.post(
        emu.base_url + path,
        params=params,
        data=data,
        headers={"Content-Type": "application/json; charset=utf-8"},
        timeout=10,
    )
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "application/json; charset=utf-8"
    return response.json()


def stable_token(emu: Emulator, **extra: Any) -> dict[str, Any]:
    body = {"grant_type": "client_credential", "appid": DEFAULT_APPID, "secret": DEFAULT_SECRET}
    return post_json(emu, "/cgi-bin/stable_token", {**body, **extra})


def token(emu: Emulator) -> str:
    return stable_token(emu)["access_token"]


def api(emu: Emulator, name: str, body: dict[str, Any], tok: str | None = None) -> dict[str, Any]:
    params = {"access_token": tok} if tok else {}
    return post_json(emu, f"/tcb/{name}", body, **params)


def grant(emu: Emulator, tok: str, path: str) -> dict[str, Any]:
    answer = api(emu, "uploadfile", {"env": DEFAULT_ENV, "path": path}, tok)
    assert answer["errcode"] == 0, answer
    return answer


def cos_post(
    g: dict[str, Any],
    path: str,
    data: bytes,
    *,
    file_first: bool = False,
    fileid: bool = True,
    **overrides: str,
) -> requests.Response:
    fields = {
        "key": path,
        "Signature": g["authorization"],
        "x-cos-security-token": g["token"],
        "x-cos-meta-fileid": g["cos_file_id"],
        **overrides,
    }
    if not fileid:
        del fields["x-cos-meta-fileid"]
    parts: list[tuple[str, Any]] = [(k, (None, v)) for k, v in fields.items()]
    file_part = ("file", (path.rsplit("/", 1)[-1], data, "application/octet-stream"))
    parts = [file_part, *parts] if file_first else [*parts, file_part]
    return requests.post(g["url"], files=parts, timeout=10)


def upload(emu: Emulator, tok: str, path: str, data: bytes, **kwargs: Any) -> dict[str, Any]:
    g = grant(emu, tok, path)
    response = cos_post(g, path, data, **kwargs)
    assert response.status_code == 204, response.text
    return g


def links(emu: Emulator, tok: str, *file_ids: str, max_age: int = 3600) -> list[dict[str, Any]]:
    body = {"env": DEFAULT_ENV, "file_list": [{"fileid": f, "max_age": max_age} for f in file_ids]}
    answer = api(emu, "batchdownloadfile", body, tok)
    assert answer["errcode"] == 0, answer
    return answer["file_list"]


def cos_error(response: requests.Response) -> str:
    root = ET.fromstring(response.content)
    assert root.tag == "Error" and root.findtext("RequestId")
    return f"{root.findtext('Code')}: {root.findtext('Message')}"


# -- tokens ---------------------------------------------------------------------------------


def test_health_is_neither_counted_nor_faulted(emu: Emulator) -> None:
    emu.fail_next("http502")
    answer = requests.get(emu.base_url + HEALTH_PATH, timeout=10).json()
    assert answer == {"emulator": "mkdocs-wxcloud", "envs": [DEFAULT_ENV]}
    assert emu.request_count() == 0


def test_the_verbose_log_masks_access_tokens(capfd: pytest.CaptureFixture[str]) -> None:
    with Emulator(verbose=True) as emulator:
        access = token(emulator)
        api(emulator, "uploadfile", {"env": DEFAULT_ENV, "path": "a.png"}, access)
    err = capfd.readouterr().err
    assert "POST /tcb/uploadfile?access_token=*** " in err and access not in err


def test_stable_token_is_reused_until_force_refresh(emu: Emulator) -> None:
    first = stable_token(emu)
    assert len(first["access_token"]) >= 100 and 7100 <= first["expires_in"] <= 7200
    assert "errcode" not in first
    assert token(emu) == first["access_token"]
    refreshed = stable_token(emu, force_refresh=True)["access_token"]
    assert refreshed != first["access_token"]
    old = api(emu, "uploadfile", {"env": DEFAULT_ENV, "path": "a.png"}, first["access_token"])
    assert old["errcode"] == 40001 and RID.search(old["errmsg"])
    assert grant(emu, refreshed, "a.png")["errcode"] == 0


def test_stable_token_is_renewed_when_little_time_is_left() -> None:
    with Emulator(token_ttl=2) as emu:
        first = token(emu)
        time.sleep(1.1)
        second = token(emu)
        assert second != first
        assert grant(emu, first, "a.png")["errcode"] == 0  # the old one is still valid


@pytest.mark.parametrize(
    "change, errcode",
    [
        ({"secret": "wrong-secret"}, 40125),
        ({"appid": "wx1111111111111111"}, 40013),
        ({"appid": ""}, 41002),
        ({"secret": None}, 41004),
        ({"grant_type": "password"}, 40002),
    ],
)
def test_stable_token_rejects_bad_credentials(emu: Emulator, change: dict, errcode: int) -> None:
    answer = stable_token(emu, **change)
    assert answer["errcode"] == errcode and RID.search(answer["errmsg"])
    assert "access_token" not in answer


def test_ip_whitelist_names_the_caller() -> None:
    with Emulator(ip_whitelist=["203.0.113.9"]) as emu:
        answer = stable_token(emu)
        assert answer["errcode"] == 40164
        assert answer["errmsg"].startswith("invalid ip 127.0.0.1 ipv6 ::ffff:127.0.0.1, not in whitelist rid: ")
    with Emulator(ip_whitelist=["127.0.0.1"]) as emu:
        assert "access_token" in stable_token(emu)


def test_classic_token_invalidates_the_previous_one(emu: Emulator) -> None:
    params = {"grant_type": "client_credential", "appid": DEFAULT_APPID, "secret": DEFAULT_SECRET}

    def get():
        return requests.get(emu.base_url + "/cgi-bin/token", params=params, timeout=10).json()

    first, second = get()["access_token"], get()["access_token"]
    assert first != second
    assert api(emu, "uploadfile", {"env": DEFAULT_ENV, "path": "a"}, first)["errcode"] == 40001
    assert grant(emu, second, "a")["errcode"] == 0


def test_token_errors_on_storage_apis(emu: Emulator) -> None:
    body = {"env": DEFAULT_ENV, "path": "a.png"}
    assert api(emu, "uploadfile", body)["errcode"] == 41001
    answer = api(emu, "uploadfile", body, "not-a-token")
    assert answer["errcode"] == 40001
    assert answer["errmsg"].startswith("invalid credential, access_token is invalid or not latest")
    tok = token(emu)
    emu.expire_tokens()
    answer = api(emu, "uploadfile", body, tok)
    assert answer["errcode"] == 42001 and answer["errmsg"].startswith("access_token expired rid: ")
    fresh = token(emu)
    assert fresh != tok and grant(emu, fresh, "a.png")["errcode"] == 0


def test_open_api_and_cloudbase_token() -> None:
    with Emulator(open_api=True) as emu:
        assert api(emu, "uploadfile", {"env": DEFAULT_ENV, "path": "a.png"})["errcode"] == 0
    with Emulator(cloudbase_token="cb-token-123456") as emu:
        body = {"env": DEFAULT_ENV, "path": "a.png"}
        ok = post_json(emu, "/tcb/uploadfile", body, cloudbase_access_token="cb-token-123456")
        bad = post_json(emu, "/tcb/uploadfile", body, cloudbase_access_token="other")
        assert ok["errcode"] == 0 and bad["errcode"] == 40001


# -- JSON bodies and arguments ---------------------------------------------------------------


def test_body_errors(emu: Emulator) -> None:
    url = f"{emu.base_url}/tcb/uploadfile?access_token={token(emu)}"
    assert requests.post(url, data=b"", timeout=10).json()["errcode"] == 44002
    assert requests.post(url, data=b"{not json", timeout=10).json()["errcode"] == 47001
    missing = requests.post(url, json={"env": DEFAULT_ENV}, timeout=10).json()
    assert missing["errcode"] == 40101 and "path" in missing["errmsg"]
    assert requests.get(url, timeout=10).json()["errcode"] == 43002


def test_escaped_non_ascii_is_rejected(emu: Emulator) -> None:
    url = f"{emu.base_url}/tcb/uploadfile?access_token={token(emu)}"
    escaped = {"env": DEFAULT_ENV, "path": "图片/a.png"}  # requests' json= escapes non-ASCII
    answer = requests.post(url, json=escaped, timeout=10).json()
    assert answer["errcode"] == 40033
    assert answer["errmsg"].startswith(
        "invalid charset. please check your request, if include \\uxxxx will create fail! rid: "
    )
    # An escaped backslash followed by "u00e9" is plain ASCII text, and so are ASCII escapes.
    plain = b'{"env": "%s", "path": "a\\\\u00e9\\u002fb.png"}' % DEFAULT_ENV.encode()
    assert requests.post(url, data=plain, timeout=10).json()["errcode"] == 0


def test_unknown_env_is_named(emu: Emulator) -> None:
    answer = api(emu, "uploadfile", {"env": "prod-9z9z9z", "path": "a.png"}, token(emu))
    assert answer["errcode"] == -501005 and "prod-9z9z9z" in answer["errmsg"]


@pytest.mark.parametrize("path", ["", "/a.png", "a//b.png", "a\x01b.png", "x" * 851, "图" * 100])
def test_bad_paths_are_rejected(emu: Emulator, path: str) -> None:
    answer = api(emu, "uploadfile", {"env": DEFAULT_ENV, "path": path}, token(emu))
    assert answer["errcode"] == 40097 and answer["errmsg"].startswith("invalid args: path")


def test_unknown_path_is_404(emu: Emulator) -> None:
    assert requests.get(emu.base_url + "/nothing/here", timeout=10).status_code == 404


# -- upload, links, delete ---------------------------------------------------------------------


def test_full_upload_flow(emu: Emulator) -> None:
    tok = token(emu)
    g = grant(emu, tok, "docs/img/logo.png")
    assert g["file_id"] == f"cloud://{DEFAULT_ENV}.7765-{DEFAULT_ENV}-1300000000/docs/img/logo.png"
    assert g["url"].startswith(emu.base_url + "/cos/")
    response = cos_post(g, "docs/img/logo.png", PNG, **{"Content-Type": "image/png"})
    assert response.status_code == 204 and response.content == b""
    assert response.headers["ETag"].startswith('"')
    [item] = links(emu, tok, g["file_id"])
    assert item["status"] == 0 and item["errmsg"] == "ok" and item["fileid"] == g["file_id"]
    assert "sign=" not in item["download_url"]
    download = requests.get(item["download_url"], timeout=10)
    assert download.status_code == 200 and download.content == PNG
    assert download.headers["Content-Type"] == "image/png"
    assert download.headers["ETag"] == response.headers["ETag"]
    head = requests.head(item["download_url"], timeout=10)
    assert head.headers["Content-Length"] == str(len(PNG)) and head.content == b""
    assert emu.stored_files() == {"docs/img/logo.png": PNG}
    assert emu.file_ids() == {"docs/img/logo.png": g["file_id"]}


def test_chinese_path(emu: Emulator) -> None:
    tok = token(emu)
    path = "文档/图片 1.png"
    g = upload(emu, tok, path, PNG)
    assert g["file_id"].endswith("/" + path)
    [item] = links(emu, tok, g["file_id"])
    assert "%E6%96%87" in item["download_url"]
    assert requests.get(item["download_url"], timeout=10).content == PNG


def test_overwrite_keeps_the_file_id(emu: Emulator) -> None:
    tok = token(emu)
    first = upload(emu, tok, "a.png", b"one")
    second = upload(emu, tok, "a.png", b"two")
    assert first["file_id"] == second["file_id"]
    assert emu.stored_files() == {"a.png": b"two"}


def test_big_upload() -> None:
    data = bytes(range(256)) * (12 * 4096)  # 12 MiB
    with Emulator() as emu:
        tok = token(emu)
        g = upload(emu, tok, "big.bin", data)
        [item] = links(emu, tok, g["file_id"])
        assert requests.get(item["download_url"], timeout=30).content == data


def test_file_first_is_malformed(emu: Emulator) -> None:
    g = grant(emu, token(emu), "a.png")
    response = cos_post(g, "a.png", PNG, file_first=True)
    assert response.status_code == 400
    assert cos_error(response).startswith("MalformedPOSTRequest")
    assert emu.stored_files() == {}


@pytest.mark.parametrize(
    "override, status, code",
    [
        ({"Signature": "q-sign-algorithm=sha1&q-signature=00"}, 403, "SignatureDoesNotMatch"),
        ({"key": "other.png"}, 403, "SignatureDoesNotMatch"),
        ({"x-cos-security-token": "forged"}, 400, "InvalidToken"),
    ],
)
def test_cos_rejects_forged_forms(emu: Emulator, override: dict, status: int, code: str) -> None:
    g = grant(emu, token(emu), "a.png")
    response = cos_post(g, "a.png", PNG, **override)
    assert response.status_code == status and cos_error(response).startswith(code)
    assert emu.stored_files() == {}


def test_expired_upload_link(emu: Emulator) -> None:
    g = grant(emu, token(emu), "a.png")
    emu.expire_upload_links()
    response = cos_post(g, "a.png", PNG)
    assert response.status_code == 403
    assert cos_error(response) == "AccessDenied: Request has expired"


def test_missing_fileid_meta_makes_the_file_invisible(emu: Emulator) -> None:
    tok = token(emu)
    g = upload(emu, tok, "a.png", PNG, fileid=False)
    [item] = links(emu, tok, g["file_id"])
    assert item == {
        "fileid": g["file_id"],
        "download_url": "",
        "status": 1,
        "errmsg": "STORAGE_FILE_NONEXIST",
    }
    assert emu.stored_files() == {} and emu.file_ids() == {}


def test_batches_are_limited_to_50(emu: Emulator) -> None:
    tok = token(emu)
    ids = [f"cloud://{DEFAULT_ENV}.b/{n}.png" for n in range(51)]
    body = {"env": DEFAULT_ENV, "file_list": [{"fileid": f, "max_age": 60} for f in ids]}
    too_many = api(emu, "batchdownloadfile", body, tok)
    assert too_many["errcode"] == 40097 and "at most 50" in too_many["errmsg"]
    deleted = api(emu, "batchdeletefile", {"env": DEFAULT_ENV, "fileid_list": ids}, tok)
    assert deleted["errcode"] == 40097
    assert [i["status"] for i in links(emu, tok, *ids[:50])] == [1] * 50


def test_batch_delete(emu: Emulator) -> None:
    tok = token(emu)
    g = upload(emu, tok, "a.png", PNG)
    [url] = [i["download_url"] for i in links(emu, tok, g["file_id"])]
    body = {"env": DEFAULT_ENV, "fileid_list": [g["file_id"], "cloud://nope.b/x.png"]}
    answer = api(emu, "batchdeletefile", body, tok)
    assert answer["errcode"] == 0
    assert [(i["fileid"], i["status"]) for i in answer["delete_list"]] == [
        (g["file_id"], 0),
        ("cloud://nope.b/x.png", 1),
    ]
    assert links(emu, tok, g["file_id"])[0]["status"] == 1
    assert requests.get(url, timeout=10).status_code == 404


def test_private_links_carry_an_expiring_sign() -> None:
    with Emulator(private=True) as emu:
        tok = token(emu)
        g = upload(emu, tok, "a.png", PNG)
        [item] = links(emu, tok, g["file_id"])
        url = item["download_url"]
        assert re.search(r"\?sign=[0-9a-f]+&t=\d+$", url)
        assert requests.get(url, timeout=10).content == PNG
        assert requests.get(url.split("?")[0], timeout=10).status_code == 403
        assert requests.get(url.replace("sign=", "sign=0"), timeout=10).status_code == 403
        [expired] = links(emu, tok, g["file_id"], max_age=0)
        response = requests.get(expired["download_url"], timeout=10)
        assert response.status_code == 403 and "expired" in cos_error(response)


def test_persistence_across_restart(tmp_path: Path) -> None:
    with Emulator(data_dir=tmp_path) as first:
        tok = token(first)
        g = upload(first, tok, "文档/a.png", PNG)
        [url] = [i["download_url"] for i in links(first, tok, g["file_id"])]
        port = first.port
    with Emulator(port=port, data_dir=tmp_path) as second:
        assert second.file_ids() == {"文档/a.png": g["file_id"]}
        assert requests.get(url, timeout=10).content == PNG
        [item] = links(second, token(second), g["file_id"])
        assert item["download_url"] == url
    assert json.loads((tmp_path / "state.json").read_text(encoding="utf-8"))["files"]


# -- faults, latency, counting -----------------------------------------------------------------


def test_fail_next_json_faults(emu: Emulator) -> None:
    tok = token(emu)
    body = {"env": DEFAULT_ENV, "path": "a.png"}
    for kind, errcode in [("busy", -1), ("quota", 45011), ("token_expired", 42001)]:
        emu.fail_next(kind, path_prefix="/tcb/")
        answer = api(emu, "uploadfile", body, tok)
        assert answer["errcode"] == errcode and RID.search(answer["errmsg"]), kind
    assert stable_token(emu, force_refresh=False)["access_token"] == tok
    assert api(emu, "uploadfile", body, tok)["errcode"] == 0


def test_fail_next_http_faults(emu: Emulator) -> None:
    emu.fail_next("http502", count=2)
    for _ in range(2):
        response = requests.get(emu.base_url + "/cgi-bin/token", timeout=10)
        assert response.status_code == 502 and "text/html" in response.headers["Content-Type"]
    emu.fail_next("drop")
    with pytest.raises(requests.ConnectionError):
        token(emu)
    assert "access_token" in stable_token(emu)


def test_fail_next_cos_faults(emu: Emulator) -> None:
    g = grant(emu, token(emu), "a.png")
    emu.fail_next("busy", path_prefix="/cos/")
    busy = cos_post(g, "a.png", PNG)
    assert busy.status_code == 503 and cos_error(busy).startswith("SlowDown")
    emu.fail_next("upload_expired")
    expired = cos_post(g, "a.png", PNG)
    assert expired.status_code == 403 and cos_error(expired) == "AccessDenied: Request has expired"
    emu.fail_next("drop", path_prefix="/cos/")
    with pytest.raises(requests.ConnectionError):
        cos_post(g, "a.png", PNG)
    assert cos_post(g, "a.png", PNG).status_code == 204


def test_random_faults_are_reproducible() -> None:
    def kinds(seed: int) -> list[int]:
        with Emulator(fault_rate=0.5, faults=("busy", "quota"), seed=seed) as emu:
            return [stable_token(emu).get("errcode", 0) for _ in range(20)]

    first = kinds(7)
    assert first == kinds(7)
    assert {-1, 45011, 0} <= set(first)


def test_latency_overlaps_between_clients() -> None:
    with Emulator(latency=0.3) as emu:
        started = time.monotonic()
        token(emu)
        assert time.monotonic() - started >= 0.3
        threads = [threading.Thread(target=token, args=(emu,)) for _ in range(5)]
        started = time.monotonic()
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert time.monotonic() - started < 1.0


def test_request_count(emu: Emulator) -> None:
    tok = token(emu)
    g = upload(emu, tok, "a.png", PNG)
    [url] = [i["download_url"] for i in links(emu, tok, g["file_id"])]
    requests.get(url, timeout=10)
    assert emu.request_count() == 5
    assert emu.request_count("/tcb/") == 2
    assert emu.request_count("/cos/") == 1
    assert emu.request_count("/dl/") == 1
    emu.reset_counts()
    assert emu.request_count() == 0


def test_keep_alive(emu: Emulator) -> None:
    body = json.dumps({"grant_type": "client_credential", "appid": DEFAULT_APPID, "secret": DEFAULT_SECRET})
    connection = http.client.HTTPConnection("127.0.0.1", emu.port, timeout=10)
    sockets = []
    for _ in range(3):
        connection.request("POST", "/cgi-bin/stable_token", body=body)
        response = connection.getresponse()
        assert response.getheader("Content-Length")
        assert "access_token" in json.loads(response.read())
        sockets.append(connection.sock)
    connection.close()
    assert sockets[0] is not None and sockets.count(sockets[0]) == 3


# -- malformed requests, limits, the command ---------------------------------------------------


def raw_request(emu: Emulator, data: bytes) -> tuple[http.client.HTTPResponse, bytes, bool]:
    """Send bytes as they are; the answer, its body, and whether the server closed the connection."""
    with socket.create_connection(("127.0.0.1", emu.port), timeout=10) as sock:
        sock.sendall(data)
        response = http.client.HTTPResponse(sock)
        response.begin()
        body = response.read()
        try:
            closed = sock.recv(1) == b""
        except TimeoutError:  # safety timeout only: the connection stayed open
            closed = False
        return response, body, closed


def healthy(emu: Emulator) -> bool:
    return requests.get(emu.base_url + HEALTH_PATH, timeout=10).ok


@pytest.mark.parametrize(
    "framing",
    [
        b"Content-Length: abc\r\n\r\n{}",
        b"Content-Length: -5\r\n\r\n{}",
        b"Content-Length: +2\r\n\r\n{}",
        b"Content-Length: 1_0\r\n\r\n{}",
        b"Content-Length: 2\r\nContent-Length: 3\r\n\r\n{}",
        b"Content-Length: 1234567890123456789012345\r\n\r\n{}",
        b"Transfer-Encoding: chunked\r\n\r\nzz\r\n{}\r\n0\r\n\r\n",
        b"Transfer-Encoding: chunked\r\n\r\n-2\r\n{}\r\n0\r\n\r\n",
        b"Transfer-Encoding: chunked\r\n\r\n1\r\n{}\r\n0\r\n\r\n",
        b"Transfer-Encoding: gzip\r\n\r\n{}",
        b"Transfer-Encoding: chunked\r\nContent-Length: 2\r\n\r\n2\r\n{}\r\n0\r\n\r\n",
    ],
)
def test_broken_framing_is_400_then_closed(emu: Emulator, capfd: pytest.CaptureFixture, framing: bytes) -> None:
    request = b"POST /cgi-bin/stable_token HTTP/1.1\r\nHost: x\r\n" + framing
    response, body, closed = raw_request(emu, request)
    assert response.status == 400 and response.getheader("Connection") == "close"
    assert body.startswith(b"400 Bad Request: ") and len(body) < 200
    assert closed and healthy(emu)
    assert "Traceback" not in capfd.readouterr().err


def test_chunked_bodies_still_work(emu: Emulator) -> None:
    body = json.dumps({"grant_type": "client_credential", "appid": DEFAULT_APPID, "secret": DEFAULT_SECRET}).encode()
    chunks = b"%x; ext=1\r\n%s\r\n0\r\nX-Trailer: y\r\n\r\n" % (len(body), body)
    request = (
        b"POST /cgi-bin/stable_token HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
    )
    response, answer, _ = raw_request(emu, request + chunks)
    assert response.status == 200 and "access_token" in json.loads(answer)


@pytest.mark.parametrize("path", ["/cgi-bin/stable_token", "/tcb/uploadfile"])
def test_deeply_nested_json_is_a_format_error(emu: Emulator, capfd: pytest.CaptureFixture, path: str) -> None:
    connection = http.client.HTTPConnection("127.0.0.1", emu.port, timeout=10)
    connection.request("POST", f"{path}?access_token={token(emu)}", body=b"[" * 100_000 + b"]" * 100_000)
    answer = json.loads(connection.getresponse().read())
    assert answer["errcode"] == 47001 and answer["errmsg"].startswith("data format error rid: ")
    connection.request("GET", HEALTH_PATH)  # the same connection goes on
    assert connection.getresponse().status == 200
    connection.close()
    assert "Traceback" not in capfd.readouterr().err


@pytest.mark.parametrize(
    "target, host, status",
    [
        ("http://[::1/__emulator__/health", "x", 400),
        ("http://[fe80::1/cos/b/a.png", "x", 400),
        ("//[::1/__emulator__/health", "x", 404),  # an origin form: a path, never a host
        ("http://[::1]:8765/__emulator__/health", "[::1]:8765", 200),
        (HEALTH_PATH, "[fe80::1", 200),
    ],
)
def test_ipv6_looking_targets_and_hosts(emu: Emulator, capfd: pytest.CaptureFixture, target: str, host: str,
                                        status: int) -> None:  # fmt: skip
    response, _, _ = raw_request(emu, f"GET {target} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n".encode())
    assert response.status == status
    assert "Traceback" not in capfd.readouterr().err


def test_non_ascii_secrets_are_compared_as_utf8(emu: Emulator) -> None:
    assert stable_token(emu, secret="密钥")["errcode"] == 40125
    with Emulator(secret="密钥-secret", cloudbase_token="cb-token") as chinese:
        assert stable_token(chinese, secret="密钥")["errcode"] == 40125
        assert "access_token" in stable_token(chinese, secret="密钥-secret")
        params = {"grant_type": "client_credential", "appid": DEFAULT_APPID, "secret": "密钥"}
        classic = requests.get(chinese.base_url + "/cgi-bin/token", params=params, timeout=10).json()
        assert classic["errcode"] == 40125
        body = {"env": DEFAULT_ENV, "path": "a.png"}
        assert post_json(chinese, "/tcb/uploadfile", body, cloudbase_access_token="密钥")["errcode"] == 40001


def test_private_links_with_non_ascii_sign_or_time_are_refused() -> None:
    with Emulator(private=True) as emu:
        tok = token(emu)
        [item] = links(emu, tok, upload(emu, tok, "a.png", PNG)["file_id"])
        base = item["download_url"].split("?")[0]
        for query in ["sign=密&t=9999999999", "sign=00&t=²", "sign=00&t=" + "9" * 5000]:
            assert requests.get(f"{base}?{query}", timeout=10).status_code == 403


@pytest.mark.parametrize(
    "framing",
    [
        b"Content-Length: 1048577\r\n\r\n",
        b"Content-Length: 99999999999\r\nExpect: 100-continue\r\n\r\n",  # no "100 Continue" first
        b"Transfer-Encoding: chunked\r\n\r\n100001\r\n",
    ],
)
def test_json_bodies_over_1_mib_get_413_unread(emu: Emulator, framing: bytes) -> None:
    response, body, closed = raw_request(emu, b"POST /tcb/uploadfile HTTP/1.1\r\nHost: x\r\n" + framing)
    assert response.status == 413 and body.startswith(b"413 ") and closed
    big = b'{"env": "%s", "path": "%s"}' % (DEFAULT_ENV.encode(), b"x" * (1 << 20))
    over = requests.post(f"{emu.base_url}/tcb/uploadfile?access_token={token(emu)}", data=big, timeout=30)
    assert over.status_code == 413  # and the client can read it while still sending


def test_cos_uploads_over_the_limit_are_entity_too_large() -> None:
    with Emulator(max_upload_bytes=1000) as emu:
        g = grant(emu, token(emu), "a.png")
        assert cos_post(g, "a.png", b"x" * 1000).status_code == 204
        for size in (1001, 300_000):  # read and parsed; refused from its Content-Length alone
            response = cos_post(g, "a.png", b"y" * size)
            assert response.status_code == 400 and cos_error(response).startswith("EntityTooLarge: ")
        assert emu.stored_files() == {"a.png": b"x" * 1000}
        request = b"POST /cos/b/a.png HTTP/1.1\r\nHost: x\r\nContent-Length: 6000000000\r\n\r\n"
        response, body, closed = raw_request(emu, request)
        assert response.status == 400 and b"<Code>EntityTooLarge</Code>" in body and closed


def test_emulator_reports_the_address_bound() -> None:
    with Emulator(host="localhost") as emu:
        assert emu.host == "127.0.0.1" and emu.base_url == f"http://127.0.0.1:{emu.port}" and emu.loopback_only


@IPV6
def test_emulator_binds_ipv6() -> None:
    with Emulator(host="[::1]") as emu:
        assert emu.base_url == f"http://[::1]:{emu.port}" and emu.loopback_only
        assert healthy(emu) and "access_token" in stable_token(emu)


@contextmanager
def emulator_command(*args: str) -> Iterator[tuple[str, list[str]]]:
    """Run ``mkdocs-wxcloud emulator``; yields its first stdout line and, once stopped by Ctrl-C, its stderr."""
    proc = subprocess.Popen([str(SCRIPT), "emulator", *args], stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)  # fmt: skip
    safety = threading.Timer(60, proc.kill)  # never hang the suite; not an assertion on time
    safety.start()
    stderr: list[str] = []
    try:
        yield proc.stdout.readline() if proc.stdout else "", stderr
        proc.send_signal(signal.SIGINT)
        stderr.append(proc.communicate()[1])
    finally:
        safety.cancel()
        proc.kill()
        proc.wait()
    assert proc.returncode == 0, stderr


@pytest.mark.parametrize("port", ["99999", "-1"])
def test_command_refuses_a_port_out_of_range(port: str) -> None:
    result = subprocess.run([str(SCRIPT), "emulator", "--port", port], capture_output=True, text=True, timeout=60)
    assert result.returncode == 2 and result.stdout == ""
    assert "Traceback" not in result.stderr and f"{port} is not in the range 0<=x<=65535" in result.stderr


def test_command_banner_shows_the_port_bound() -> None:
    with emulator_command("--port", "0") as (banner, stderr):
        url = re.search(r"at (http://127\.0\.0\.1:(\d+)) ", banner)
        assert url and url[2] != "0", banner
        assert requests.get(url[1] + HEALTH_PATH, timeout=10).ok
    assert stderr == [""]


@IPV6
def test_command_listens_on_ipv6() -> None:
    with emulator_command("--host", "::1", "--port", "0") as (banner, _):
        url = re.search(r"at (http://\[::1\]:\d+) ", banner)
        assert url, banner
        assert requests.get(url[1] + HEALTH_PATH, timeout=10).ok


def test_command_warns_when_other_machines_can_reach_it() -> None:
    with emulator_command("--host", "0.0.0.0", "--port", "0") as (banner, stderr):
        assert re.search(r"at http://127\.0\.0\.1:\d+ ", banner), banner
    [warning] = stderr[0].splitlines()
    assert warning.startswith("warning: the emulator listens on 0.0.0.0, so other machines can reach it")


# -- the modes of the open questions (wechat-api.md section 9) ---------------------------------


def stored_link(emu: Emulator, path: str, data: bytes = PNG, **fields: str) -> str:
    """Upload ``data`` at ``path`` (with extra form fields) and return its download link."""
    tok = token(emu)
    [item] = links(emu, tok, upload(emu, tok, path, data, **fields)["file_id"])
    return item["download_url"]


def test_sign_public_links_signs_links_that_never_expire_and_the_bare_url_serves_too() -> None:
    with Emulator(sign_public_links=True) as emu:
        before = int(time.time())
        url = stored_link(emu, "a.png")
        signed = re.fullmatch(r"(http://[^?]+)\?sign=[0-9a-f]{32}&t=(\d+)", url)
        assert signed and before <= int(signed[2]) <= time.time()  # t is the signing time
        bare = signed[1]
        assert requests.get(url, timeout=10).content == PNG
        assert requests.get(bare, timeout=10).content == PNG
        head = requests.head(bare, timeout=10)
        assert head.status_code == 200 and head.headers["Content-Length"] == str(len(PNG)) and head.content == b""
        [never] = links(emu, token(emu), emu.file_ids()["a.png"], max_age=0)
        assert "sign=" in never["download_url"] and requests.get(never["download_url"], timeout=10).content == PNG


def test_default_public_links_stay_unsigned(emu: Emulator) -> None:
    url = stored_link(emu, "a.png")
    assert "?" not in url and requests.get(url + "?sign=whatever&t=1", timeout=10).content == PNG


@pytest.mark.parametrize(
    "range_, status, content_range, body",
    [
        ("bytes=0-0", 206, "bytes 0-0/10", b"0"),
        ("bytes=2-4", 206, "bytes 2-4/10", b"234"),
        ("bytes=7-", 206, "bytes 7-9/10", b"789"),
        ("bytes=-3", 206, "bytes 7-9/10", b"789"),
        ("bytes=8-99", 206, "bytes 8-9/10", b"89"),
        ("bytes=0-0,2-3", 200, None, b"0123456789"),  # several ranges: the whole object
        ("bytes=5-2", 200, None, b"0123456789"),  # not a valid range: ignored
        ("items=0-1", 200, None, b"0123456789"),
    ],
)
def test_downloads_answer_a_byte_range(emu: Emulator, range_: str, status: int, content_range: str | None,
                                       body: bytes) -> None:  # fmt: skip
    url = stored_link(emu, "a.bin", b"0123456789")
    response = requests.get(url, headers={"Range": range_}, timeout=10)
    assert response.status_code == status and response.content == body
    assert response.headers.get("Content-Range") == content_range
    assert response.headers["Content-Length"] == str(len(body)) and response.headers["Accept-Ranges"] == "bytes"


@pytest.mark.parametrize("range_", ["bytes=10-", "bytes=10-20", "bytes=-0"])
def test_a_range_past_the_object_is_416(emu: Emulator, range_: str) -> None:
    url = stored_link(emu, "a.bin", b"0123456789")
    response = requests.get(url, headers={"Range": range_}, timeout=10)
    assert response.status_code == 416 and response.headers["Content-Range"] == "bytes */10"
    assert cos_error(response) == "InvalidRange: The requested range is not satisfiable"


def test_private_storage_refuses_every_probe_of_the_unsigned_url() -> None:
    with Emulator(private=True) as emu:
        url = stored_link(emu, "a.png")
        bare = url.split("?")[0]
        for response in (
            requests.head(bare, timeout=10),
            requests.get(bare, headers={"Range": "bytes=0-0"}, timeout=10),
        ):
            assert response.status_code == 403
        refused = requests.get(bare, headers={"Range": "bytes=0-0"}, timeout=10)
        assert cos_error(refused) == "AccessDenied: Access Denied: sign and t are required."
        part = requests.get(url, headers={"Range": "bytes=0-0"}, timeout=10)
        assert part.status_code == 206 and part.content == PNG[:1]


@pytest.mark.parametrize("field", ["Content-Type", "content-type", "CONTENT-TYPE"])
def test_the_content_type_form_field_is_the_type_served(emu: Emulator, field: str) -> None:
    url = stored_link(emu, "a.svg", b"<svg/>", **{field: "image/svg+xml"})
    response = requests.get(url, timeout=10)
    assert response.headers["Content-Type"] == "image/svg+xml" and response.content == b"<svg/>"
    assert requests.head(url, timeout=10).headers["Content-Type"] == "image/svg+xml"


@pytest.mark.parametrize("infer, served", [(False, "application/octet-stream"), (True, "application/pdf")])
def test_without_the_field_the_type_is_octet_stream_or_inferred(infer: bool, served: str) -> None:
    with Emulator(infer_content_type=infer) as emu:
        assert requests.get(stored_link(emu, "doc.pdf", b"%PDF-"), timeout=10).headers["Content-Type"] == served
        assert requests.get(stored_link(emu, "noext", b"x"), timeout=10).headers["Content-Type"] == (
            "application/octet-stream"
        )
        pinned = stored_link(emu, "b.pdf", b"%PDF-", **{"Content-Type": "application/octet-stream"})
        assert requests.get(pinned, timeout=10).headers["Content-Type"] == "application/octet-stream"  # stored wins


def test_the_content_type_survives_a_restart(tmp_path: Path) -> None:
    with Emulator(data_dir=tmp_path) as first:
        url = stored_link(first, "a.svg", b"<svg/>", **{"Content-Type": "image/svg+xml"})
        port = first.port
    with Emulator(port=port, data_dir=tmp_path):
        assert requests.get(url, timeout=10).headers["Content-Type"] == "image/svg+xml"


def test_a_content_type_field_with_control_characters_is_refused(emu: Emulator) -> None:
    g = grant(emu, token(emu), "a.png")
    response = cos_post(g, "a.png", PNG, **{"Content-Type": "image/png\r\nX-Evil: 1"})
    assert response.status_code == 400 and cos_error(response) == "InvalidArgument: Invalid Content-Type."
    assert emu.stored_files() == {}


def test_cors_headers_on_downloads_only_when_asked() -> None:
    with Emulator(cors=True) as emu:
        url = stored_link(emu, "a.png")
        for response in (
            requests.get(url, timeout=10),
            requests.get(url, headers={"Range": "bytes=0-0"}, timeout=10),
            requests.get(url + "-missing", timeout=10),
        ):
            assert response.headers["Access-Control-Allow-Origin"] == "*", response.status_code
    with Emulator() as emu:
        assert "Access-Control-Allow-Origin" not in requests.get(stored_link(emu, "a.png"), timeout=10).headers


@pytest.mark.parametrize(
    "how, echoed",
    [
        ("exact", "文档/café.png"),
        ("percent", "%E6%96%87%E6%A1%A3/caf%C3%A9.png"),
        ("nfd", "文档/cafe\u0301.png"),
    ],
)
def test_batch_answers_echo_a_non_ascii_fileid_as_configured(how: str, echoed: str) -> None:
    with Emulator(fileid_echo=how) as emu:
        tok = token(emu)
        file_id = upload(emu, tok, "文档/café.png", PNG)["file_id"]
        ascii_id = upload(emu, tok, "plain a+b.png", PNG)["file_id"]
        prefix = file_id[: -len("文档/café.png")]
        items = links(emu, tok, file_id, ascii_id)
        assert [i["fileid"] for i in items] == [prefix + echoed, ascii_id]
        assert all(i["status"] == 0 for i in items)
        deleted = api(emu, "batchdeletefile", {"env": DEFAULT_ENV, "fileid_list": [file_id, ascii_id]}, tok)
        assert [(i["fileid"], i["status"]) for i in deleted["delete_list"]] == [(prefix + echoed, 0), (ascii_id, 0)]


def test_open_api_answers_carry_a_seqid() -> None:
    with Emulator(open_api=True) as emu:
        response = requests.post(emu.base_url + "/tcb/uploadfile", data=b'{"env": "%s", "path": "a"}' % DEFAULT_ENV.encode(),
                                 timeout=10)  # fmt: skip
        assert response.json()["errcode"] == 0 and re.fullmatch(r"[0-9a-f]{32}", response.headers["x-openapi-seqid"])
        emu.fail_next("busy")
        busy = requests.post(emu.base_url + "/tcb/uploadfile", data=b"{}", timeout=10)
        assert busy.json()["errcode"] == -1 and "x-openapi-seqid" in busy.headers
    with Emulator() as emu:
        assert "x-openapi-seqid" not in requests.post(emu.base_url + "/tcb/uploadfile", data=b"{}", timeout=10).headers


def open_api_call(emu: Emulator, name: str, **params: str) -> requests.Response:
    body = {"uploadfile": {"env": DEFAULT_ENV, "path": "a.png"}, "batchdeletefile": {"env": DEFAULT_ENV,
            "fileid_list": []}}[name]  # fmt: skip
    data = json.dumps(body).encode()
    return requests.post(f"{emu.base_url}/tcb/{name}", params=params, data=data, timeout=10)


def test_open_api_path_not_whitelisted_is_85107() -> None:
    with Emulator(open_api=True, openapi_whitelist=["/tcb/uploadfile"], cloudbase_token="cb-token") as emu:
        assert open_api_call(emu, "uploadfile").json()["errcode"] == 0
        for refused in (open_api_call(emu, "batchdeletefile"),
                        open_api_call(emu, "batchdeletefile", cloudbase_access_token="cb-token")):  # fmt: skip
            answer = refused.json()
            assert answer["errcode"] == 85107 and "/tcb/batchdeletefile" in answer["errmsg"]
            assert "x-openapi-seqid" in refused.headers
        with_token = open_api_call(emu, "batchdeletefile", access_token=token(emu))
        assert with_token.json()["errcode"] == 0  # an access_token goes around the sidecar's whitelist


def test_open_api_path_not_whitelisted_can_be_a_bare_502() -> None:
    with Emulator(open_api=True, openapi_whitelist=["/tcb/uploadfile"], openapi_unlisted="502") as emu:
        refused = open_api_call(emu, "batchdeletefile")
        assert refused.status_code == 502 and "text/html" in refused.headers["Content-Type"]
        assert "x-openapi-seqid" not in refused.headers
        assert "x-openapi-seqid" in open_api_call(emu, "uploadfile").headers


@pytest.mark.parametrize("code", [41001, 85112])
def test_open_api_not_activated_answers_its_errcode(code: int) -> None:
    with Emulator(open_api=True, openapi_inactive=code) as emu:
        for _ in range(2):
            refused = open_api_call(emu, "uploadfile")
            assert refused.json()["errcode"] == code and "x-openapi-seqid" in refused.headers


def test_open_api_token_not_ready_for_the_first_calls() -> None:
    with Emulator(open_api=True, openapi_not_ready=2) as emu:
        answers = [open_api_call(emu, "uploadfile").json() for _ in range(3)]
        assert [a["errcode"] for a in answers] == [85113, 85113, 0]
        assert answers[0]["errmsg"].startswith("cloudbase_token is not ready yet rid: ")


@pytest.mark.parametrize(
    "options, message",
    [
        ({"openapi_whitelist": []}, "the openapi_* options (--openapi-*) need open_api (--open-api)"),
        ({"openapi_inactive": 41001}, "the openapi_* options (--openapi-*) need open_api (--open-api)"),
        ({"openapi_not_ready": 1}, "the openapi_* options (--openapi-*) need open_api (--open-api)"),
        ({"open_api": True, "openapi_inactive": 40001}, "openapi_inactive must be None or one of (41001, 85112)"),
        ({"open_api": True, "openapi_unlisted": "404"}, "openapi_unlisted must be one of ('85107', '502')"),
        ({"fileid_echo": "nfc"}, "fileid_echo must be one of ('exact', 'percent', 'nfd')"),
        ({"private": True, "sign_public_links": True}, "sign_public_links (--sign-public-links) is a mode of public"),
        ({"faults": ("busy", "nope")}, "unknown fault kinds ['nope']; known: busy, quota, http502, drop,"),
    ],
)
def test_mode_options_are_checked(options: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError) as error:
        Emulator(**options)
    assert str(error.value).startswith(message)


@pytest.mark.parametrize(
    "kind, errcode",
    [
        ("env_quota", -501003),
        ("env_concurrency", -501004),
        ("read_quota", -501015),
        ("write_quota", -501016),
        ("daily_quota", 45009),
        ("quota", 45011),
        ("no_permission", -503002),
    ],
)
def test_quota_and_permission_faults_on_the_storage_apis(emu: Emulator, kind: str, errcode: int) -> None:
    tok = token(emu)
    g = grant(emu, tok, "a.png")
    emu.fail_next(kind)
    if kind != "quota":  # the token API and COS are not where these happen (the minute quota is anywhere)
        assert stable_token(emu)["access_token"] == tok
        assert cos_post(g, "a.png", PNG).status_code == 204
    answer = api(emu, "uploadfile", {"env": DEFAULT_ENV, "path": "b.png"}, tok)
    assert answer["errcode"] == errcode and RID.search(answer["errmsg"])
    assert grant(emu, tok, "b.png")["errcode"] == 0


def test_no_permission_fails_the_first_item_of_a_batch_only(emu: Emulator) -> None:
    tok = token(emu)
    first, second = (upload(emu, tok, f"{n}.png", PNG)["file_id"] for n in (1, 2))
    emu.fail_next("no_permission", path_prefix="/tcb/batchdownloadfile")
    denied, served = links(emu, tok, first, second)
    assert denied == {"fileid": first, "download_url": "", "status": -503002, "errmsg": "STORAGE_EXCEED_AUTHORITY"}
    assert served["status"] == 0 and served["download_url"]
    emu.fail_next("no_permission", path_prefix="/tcb/batchdeletefile")
    answer = api(emu, "batchdeletefile", {"env": DEFAULT_ENV, "fileid_list": [first, second]}, tok)
    assert answer["errcode"] == 0 and answer["delete_list"] == [
        {"fileid": first, "status": -503002, "errmsg": "STORAGE_EXCEED_AUTHORITY"},
        {"fileid": second, "status": 0, "errmsg": "ok"},
    ]
    assert emu.stored_files() == {"1.png": PNG}  # the denied file is still there


@pytest.mark.parametrize(
    "kind, status, code",
    [
        ("cos_request_timeout", 400, "RequestTimeOut"),
        ("cos_slow_down", 503, "SlowDown"),
        ("cos_time_skewed", 403, "RequestTimeTooSkewed"),
        ("cos_expired_token", 403, "ExpiredToken"),
        ("cos_invalid_access_key", 403, "InvalidAccessKeyId"),
        ("cos_entity_too_large", 400, "EntityTooLarge"),
        ("cos_key_too_long", 400, "KeyTooLong"),
        ("cos_invalid_argument", 400, "InvalidArgument"),
        ("cos_signature_mismatch", 403, "SignatureDoesNotMatch"),
        ("cos_malformed", 400, "MalformedPOSTRequest"),
        ("upload_expired", 403, "AccessDenied"),
    ],
)
def test_cos_error_faults(emu: Emulator, kind: str, status: int, code: str) -> None:
    emu.fail_next(kind)
    g = grant(emu, token(emu), "a.png")  # the fault waits for COS
    failed = cos_post(g, "a.png", PNG)
    assert failed.status_code == status and cos_error(failed).split(":")[0] == code
    assert emu.stored_files() == {}
    assert cos_post(g, "a.png", PNG).status_code == 204


def test_random_faults_of_one_host_spare_the_others() -> None:
    with Emulator(fault_rate=1.0, faults=("cos_slow_down", "no_permission"), seed=1) as emu:
        tok = token(emu)
        answer = api(emu, "uploadfile", {"env": DEFAULT_ENV, "path": "a.png"}, tok)
        assert answer["errcode"] == -503002
        emu.fault_rate = 0.0
        g = grant(emu, tok, "a.png")
        emu.fault_rate = 1.0
        assert cos_post(g, "a.png", PNG).status_code == 503


@pytest.mark.parametrize("path", ["a?b.png", "a#b.png", "dir/x?.png"])
def test_paths_that_would_split_the_cos_url_are_refused(emu: Emulator, path: str) -> None:
    answer = api(emu, "uploadfile", {"env": DEFAULT_ENV, "path": path}, token(emu))
    assert answer["errcode"] == 40097 and answer["errmsg"].startswith("invalid args: path must not contain '?' or '#'")


def test_plus_ampersand_and_friends_are_stored_and_served_as_they_are(emu: Emulator) -> None:
    path = "a+b&c=d@2x $,;.png"
    url = stored_link(emu, path)
    assert url.endswith("/a%2Bb%26c%3Dd%402x%20%24%2C%3B.png")
    assert requests.get(url, timeout=10).content == PNG
    assert emu.stored_files() == {path: PNG}


def test_command_help_documents_every_mode() -> None:
    result = subprocess.run([str(SCRIPT), "emulator", "--help"], capture_output=True, text=True, timeout=60)
    for flag in ("--sign-public-links", "--infer-content-type", "--cors", "--fileid-echo", "--open-api",
                 "--openapi-whitelist", "--openapi-unlisted", "--openapi-inactive", "--openapi-not-ready",
                 "cos_signature_mismatch", "no_permission"):  # fmt: skip
        assert flag in result.stdout, flag


def test_command_flags_set_the_modes() -> None:
    flags = ["--sign-public-links", "--infer-content-type", "--cors", "--fileid-echo", "percent", "--open-api",
             "--openapi-whitelist", "/tcb/uploadfile", "--openapi-unlisted", "502"]  # fmt: skip
    with emulator_command("--port", "0", *flags) as (banner, _):
        base = re.search(r"at (http://127\.0\.0\.1:\d+) ", banner)
        assert base, banner
        grant_ = requests.post(base[1] + "/tcb/uploadfile", data=b'{"env": "%s", "path": "a.svg"}' % DEFAULT_ENV.encode(),
                               timeout=10)  # fmt: skip
        assert grant_.json()["errcode"] == 0 and "x-openapi-seqid" in grant_.headers
        g = grant_.json()
        assert cos_post(g, "a.svg", b"<svg/>").status_code == 204
        assert requests.post(base[1] + "/tcb/batchdownloadfile", data=b"{}", timeout=10).status_code == 502
        bare = g["url"].replace("/cos/", "/dl/")
        served = requests.get(bare, timeout=10)
        assert (
            served.headers["Content-Type"] == "image/svg+xml" and served.headers["Access-Control-Allow-Origin"] == "*"
        )


def test_command_refuses_openapi_modes_without_open_api() -> None:
    result = subprocess.run([str(SCRIPT), "emulator", "--port", "0", "--openapi-not-ready", "2"], capture_output=True,
                            text=True, timeout=60)  # fmt: skip
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert result.stderr.strip().endswith("the openapi_* options (--openapi-*) need open_api (--open-api)")
