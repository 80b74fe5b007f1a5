"""A hostile or broken server: wrong types, trickled answers, huge answers, terminal control sequences.

Each answer here is one the real service never gives, but a proxy, a captive portal or a compromised
host can: the client must end each with one line naming the API, within ``timeout``, in bounded
memory, and never let the server write to the terminal.
"""

from __future__ import annotations

import json
import logging
import subprocess
import sys
import time
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Callable

import pytest
from conftest import emulator_options, make_site, png, wx_client
from proxy import Exchange, Proxy
from servers import TOKEN, Respond, Server, answer_json

from mkdocs_wxcloud.emulator import Emulator
from mkdocs_wxcloud.errors import WxCloudError, printable
from mkdocs_wxcloud.wechat.answers import MalformedAnswer
from mkdocs_wxcloud.wechat.client import WxCloudClient
from mkdocs_wxcloud.wechat.errors import NetworkError
from mkdocs_wxcloud.wechat.tokens import TokenCache

BIN = Path(sys.executable).parent
FAST = {"max_retries": 2, "backoff": 0.01, "quota_wait": 0.05}
LINK = {
    "url": "http://127.0.0.1:9/b/a",
    "authorization": "q-sign",
    "token": "cos-token",
    "cos_file_id": "cos-id",
    "file_id": "cloud://e.b/a",
}


def client_for(base: str, **options: object) -> WxCloudClient:
    settings = {"api_base": base, "env": "e", "appid": "wx1", "secret": "hostile-secret-1", **FAST, "timeout": 10.0}
    settings.update(options)
    return wx_client(token_cache=TokenCache(None), **settings)  # type: ignore[arg-type]


def one_line(error: BaseException) -> str:
    assert "\n" not in str(error)
    return str(error)


# -- every field has its documented type ---------------------------------------------------------

MALFORMED = {
    "errcode-text": ("cgi-bin/stable_token", {"errcode": "oops", "errmsg": "x"}, "errcode is a string"),
    "errcode-float": ("cgi-bin/stable_token", {"errcode": 1.5}, "errcode is a number, not an integer"),
    "errmsg-list": ("cgi-bin/stable_token", {"errcode": 40013, "errmsg": ["x"]}, "errmsg is a list"),
    "token-number": ("cgi-bin/stable_token", {"access_token": 5, "expires_in": 7200}, "access_token is a number"),
    "expires-text": (
        "cgi-bin/stable_token",
        {"access_token": "t" * 20, "expires_in": "7200"},
        "expires_in is a string",
    ),
    "expires-bool": ("cgi-bin/stable_token", {"access_token": "t" * 20, "expires_in": True}, "expires_in is a boolean"),
    "file-id-number": ("tcb/uploadfile", {**LINK, "file_id": 7}, "file_id is a number"),
    "field-missing": (
        "tcb/uploadfile",
        {k: v for k, v in LINK.items() if k != "authorization"},
        "authorization is missing",
    ),
}


@pytest.mark.parametrize("case", list(MALFORMED))
def test_a_field_of_the_wrong_type_is_one_final_line_naming_the_api(case: str, tmp_path: Path) -> None:
    api, body, needle = MALFORMED[case]
    (tmp_path / "a.png").write_bytes(b"a")
    with Server(answer_json({api: body})) as server, client_for(server.base_url) as client:
        with pytest.raises(MalformedAnswer) as caught:
            client.upload("a.png", tmp_path / "a.png")
    assert f"WeChat API {api} answered something other than its documented answer" in one_line(caught.value)
    assert needle in str(caught.value) and "check `api_base`" in str(caught.value)
    assert server.requests.count(f"/{api}") == 1  # final: asking again gets the same answer


BATCHES = {
    "list-object": ({"file_list": {"fileid": "x"}}, "file_list is an object, not a list"),
    "item-text": ({"file_list": ["cloud://e.b/a"]}, "file_list[0] is a string, not an object"),
    "status-text": ({"file_list": [{"fileid": "cloud://e.b/a", "status": "ok"}]}, "file_list[0].status is a string"),
    "url-number": ({"file_list": [{"fileid": "cloud://e.b/a", "download_url": 3}]}, "download_url is a number"),
    "fileid-missing": ({"file_list": [{"download_url": "https://x/a"}]}, "file_list[0].fileid is missing"),
    "item-errmsg": ({"file_list": [{"fileid": "cloud://e.b/a", "status": 1, "errmsg": {}}]}, "errmsg is an object"),
}


@pytest.mark.parametrize("case", list(BATCHES))
def test_a_batch_answer_of_the_wrong_shape_fails_its_ids_with_one_line(case: str) -> None:
    body, needle = BATCHES[case]
    answers = {"tcb/batchdownloadfile": body, "tcb/batchdeletefile": {"delete_list": body["file_list"]}}
    with Server(answer_json(answers)) as server, client_for(server.base_url) as client:
        urls, errors = client.download_urls(["cloud://e.b/a"])
        failed = client.delete(["cloud://e.b/a"])
    assert urls == {} and list(errors) == ["cloud://e.b/a"] and list(failed) == ["cloud://e.b/a"]
    assert "WeChat API tcb/batchdownloadfile answered something other" in errors["cloud://e.b/a"]
    assert needle in errors["cloud://e.b/a"]
    assert needle.replace("file_list", "delete_list") in failed["cloud://e.b/a"]
    assert server.requests.count("/tcb/batchdownloadfile") == 1


def run(root: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([str(BIN / "mkdocs-wxcloud"), *args], cwd=root, capture_output=True, text=True, timeout=180)


def rewrite(api: str, body: bytes) -> Callable[[Exchange], Exchange | None]:
    """A proxy hook that answers ``api`` with ``body`` instead of the emulator."""

    def after(exchange: Exchange) -> Exchange | None:
        if exchange.path.startswith(f"/{api}"):
            exchange.answer = body
        return exchange

    return after


@pytest.mark.parametrize(
    ("api", "body", "command"),
    [
        ("tcb/uploadfile", b'{"errcode": "0x1", "errmsg": "no"}', "sync"),
        ("tcb/batchdownloadfile", b'{"errcode": 0, "file_list": {"a": 1}}', "sync"),
        ("tcb/batchdownloadfile", b'{"errcode": 0, "file_list": [{"fileid": 5}]}', "check"),
    ],
)
def test_commands_end_a_malformed_answer_with_one_line(
    tmp_path: Path, emulator: Emulator, api: str, body: bytes, command: str
) -> None:
    site = {"index.md": "![x](x.png)\n", "x.png": png(3)}
    make_site(tmp_path, site, emulator_options(emulator))
    if command == "check":
        assert run(tmp_path, "sync").returncode == 0
    with Proxy(emulator.base_url, after=rewrite(api, body)) as proxy:
        make_site(tmp_path, site, emulator_options(emulator, api_base=proxy.base_url))
        done = run(tmp_path, *(["check", "--remote"] if command == "check" else [command]))
    assert done.returncode == 1, done.stderr
    output = done.stdout + done.stderr
    assert "Traceback" not in output
    assert f"WeChat API {api} answered something other than its documented answer" in output


# -- a request lasts at most `timeout` ------------------------------------------------------------


def trickle(by_api: dict[str, bytes], delay: float) -> Respond:
    """Sends the answer one byte every ``delay`` seconds: each read is quick, the answer endless."""

    def respond(handler: BaseHTTPRequestHandler) -> None:
        data = by_api[handler.path.split("?")[0].lstrip("/")]
        handler.send_response(200)
        handler.send_header("Content-Length", str(len(data)))
        handler.end_headers()
        for byte in data:
            handler.wfile.write(bytes([byte]))
            handler.wfile.flush()
            time.sleep(delay)

    return respond


def test_a_trickled_answer_ends_at_the_timeout() -> None:
    body = json.dumps(TOKEN).encode()  # 60 bytes at 0.25 s each: 15 s to send, 4 reads a second
    with Server(trickle({"cgi-bin/stable_token": body}, 0.25)) as server:
        with client_for(server.base_url, timeout=1.0, max_retries=1) as client, pytest.raises(NetworkError) as caught:
            client.token()
    assert "did not answer within `timeout` (1 s)" in one_line(caught.value)
    assert "gave up after 2 attempts" in str(caught.value)
    assert server.requests == ["/cgi-bin/stable_token"] * 2


def test_trickled_headers_end_at_the_timeout_too() -> None:
    sent = [0]

    def respond(handler: BaseHTTPRequestHandler) -> None:
        for byte in b"HTTP/1.1 200 OK\r\n" + b"X-Padding: " + b"x" * 200 + b"\r\n":
            handler.wfile.write(bytes([byte]))
            handler.wfile.flush()
            sent[0] += 1
            time.sleep(0.1)

    with Server(respond) as server:
        with client_for(server.base_url, timeout=1.0, max_retries=0) as client, pytest.raises(NetworkError) as caught:
            client.token()
    assert "did not answer within `timeout` (1 s)" in one_line(caught.value)
    assert sent[0] < 100  # the client gave up long before the headers' end (each read alone was quick)


# -- answers are read up to a size ----------------------------------------------------------------


def endless(status: int, chunk: bytes, total: int, sent: list[int], length: bool) -> Respond:
    """Answers ``total`` bytes of ``chunk`` (a JSON object's padding), counting what got through."""

    def respond(handler: BaseHTTPRequestHandler) -> None:
        handler.send_response(status)
        if length:
            handler.send_header("Content-Length", str(total + 2))
        else:
            handler.send_header("Connection", "close")
        handler.end_headers()
        handler.wfile.write(b"{")
        for _ in range(total // len(chunk)):
            handler.wfile.write(chunk)
            sent[0] += len(chunk)
        handler.wfile.write(b"}")

    return respond


@pytest.mark.parametrize("length", [True, False])
def test_a_huge_json_answer_is_refused_without_reading_it(length: bool) -> None:
    sent = [0]
    with Server(endless(200, b" " * 65536, 256 << 20, sent, length)) as server:
        with client_for(server.base_url, max_retries=0) as client, pytest.raises(NetworkError) as caught:
            client.token()
    assert "cgi-bin/stable_token: 127.0.0.1 answered more than 1024 KB" in one_line(caught.value)
    assert sent[0] < 64 << 20  # the client hung up: the rest was never sent


def test_a_huge_cos_error_is_read_only_as_far_as_needed(tmp_path: Path) -> None:
    sent = [0]
    with Server(endless(400, b"x" * 65536, 256 << 20, sent, True)) as cos:
        link = {**LINK, "url": cos.base_url + "/bucket/a.png"}
        with Server(answer_json({"tcb/uploadfile": link})) as api, client_for(api.base_url) as client:
            (tmp_path / "a.png").write_bytes(b"a")
            with pytest.raises(WxCloudError) as caught:
                client.upload("a.png", tmp_path / "a.png")
    assert "COS upload failed: HTTP 400 UnknownError: {xxxx" in one_line(caught.value)
    assert len(str(caught.value)) < 400
    assert sent[0] < 64 << 20


# -- nothing from outside drives the terminal ------------------------------------------------------

OSC52 = "\x1b]52;c;cm0gLXJmIH4=\x07"


def test_control_sequences_in_an_error_answer_never_reach_the_terminal(tmp_path: Path, emulator: Emulator) -> None:
    evil = json.dumps({"errcode": 48001, "errmsg": f"api unauthorized {OSC52}\x9b31m rid: 1-2"}).encode()
    with Proxy(emulator.base_url, after=rewrite("tcb/uploadfile", evil)) as proxy:
        make_site(
            tmp_path,
            {"index.md": "![x](x.png)\n", "x.png": png(5)},
            emulator_options(emulator, api_base=proxy.base_url),
        )
        done = run(tmp_path, "sync")
    assert done.returncode == 1
    assert "\x1b" not in done.stderr and "\x07" not in done.stderr and "\x9b" not in done.stderr
    assert "api unauthorized \\x1b]52;c;cm0gLXJmIH4=\\x07\\x9b31m rid: 1-2" in done.stderr


def test_control_sequences_in_a_batch_item_are_escaped() -> None:
    answers = {"tcb/batchdownloadfile": {"file_list": [{"fileid": "cloud://e.b/a", "status": 1, "errmsg": OSC52}]}}
    with Server(answer_json(answers)) as server, client_for(server.base_url) as client:
        _, errors = client.download_urls(["cloud://e.b/a"])
    assert errors == {"cloud://e.b/a": "\\x1b]52;c;cm0gLXJmIH4=\\x07"}


def test_every_line_the_commands_log_is_printable(capsys: pytest.CaptureFixture[str]) -> None:
    from mkdocs_wxcloud.cli.common import setup_logging

    setup_logging(verbose=False, quiet=False)
    logging.getLogger("mkdocs.plugins.wxcloud").warning("wxcloud: img/%s.png: not found\nsecond line", f"a{OSC52}")
    assert capsys.readouterr().err == "warning: img/a\\x1b]52;c;cm0gLXJmIH4=\\x07.png: not found\nsecond line\n"
    assert printable("tab\there\x7f") == "tab\\x09here\\x7f"


def test_printable_leaves_text_alone() -> None:
    text = "图片 café – a/b.png (3 KB)"
    assert printable(text) == text
