"""The WeChat client's behaviours that mutation testing found unpinned (issue 26, ``wechat/``).

Each test goes through the public surface (a :class:`WxCloudClient` against the emulator, or a small
loopback server for answers the emulator never gives), over real HTTP, so that it still holds when
the code moves.
"""

from __future__ import annotations

import base64
import contextlib
import email.policy
import importlib.util
import io
import json
import logging
import mimetypes
import random
import re
import socket
import threading
import time
from email.parser import BytesParser
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from importlib import metadata
from pathlib import Path
from typing import Any, Callable, Iterator

import pytest
from conftest import wx_client
from loopback import Background
from processes import until
from proxy import Exchange, Proxy
from servers import TOKEN, Reply, Respond, Server, answer_json

from mkdocs_wxcloud.emulator import DEFAULT_APPID, DEFAULT_ENV, DEFAULT_SECRET, Emulator, bucket_name
from mkdocs_wxcloud.errors import ConfigError, WxCloudError
from mkdocs_wxcloud.wechat.answers import MalformedAnswer
from mkdocs_wxcloud.wechat.client import WxCloudClient
from mkdocs_wxcloud.wechat.errors import ApiError, Cancelled, CosError, NetworkError
from mkdocs_wxcloud.wechat.tokens import TokenCache, token_cache_key
from mkdocs_wxcloud.wechat.transport import Transport

FAST = {"max_retries": 2, "backoff": 0.001, "quota_wait": 0.001, "timeout": 10.0}
SECRET = "mutation-secret-0123"


class Recorded:
    """What a loopback server was sent: each request's path (with its query), headers (by lower-case
    name) and body."""

    def __init__(self, respond: Respond) -> None:
        self.requests: list[tuple[str, dict[str, str], bytes]] = []

        def recording(handler: BaseHTTPRequestHandler) -> None:
            headers = {name.lower(): value for name, value in handler.headers.items()}  # names are case-insensitive
            self.requests.append((handler.path, headers, handler.body))  # type: ignore[attr-defined]
            respond(handler)

        self.server = Server(recording)

    def __enter__(self) -> Recorded:
        self.server.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.__exit__(*exc)

    @property
    def base_url(self) -> str:
        return self.server.base_url


def client_for(base: str, **options: Any) -> WxCloudClient:
    settings = {"api_base": base, "env": "e", "appid": "wx1", "secret": SECRET, "token_cache": TokenCache(None),
                **FAST, **options}  # fmt: skip
    return wx_client(**settings)


def test_json_calls_name_the_client_and_send_raw_utf8_json(tmp_path: Path) -> None:
    with Recorded(answer_json({"tcb/batchdeletefile": {"errcode": 0, "delete_list": []}})) as server:
        with client_for(server.base_url) as client:
            client.delete(["cloud://e.b/文档/图.png"])
    (token_path, token_headers, token_body), (path, headers, body) = server.requests
    version = metadata.version("mkdocs-wxcloud")
    assert token_path == "/cgi-bin/stable_token" and path.startswith("/tcb/batchdeletefile?access_token=")
    for sent in (token_headers, headers):
        assert sent["user-agent"] == f"mkdocs-wxcloud/{version}"
        assert sent["content-type"] == "application/json; charset=utf-8"
    assert json.loads(token_body) == {"grant_type": "client_credential", "appid": "wx1", "secret": SECRET,
                                      "force_refresh": False}  # fmt: skip
    assert body == '{"env": "e", "fileid_list": ["cloud://e.b/文档/图.png"]}'.encode()


def failure(errcode: int, errmsg: str) -> dict:
    return {"errcode": errcode, "errmsg": errmsg}


def link_to(cos: Server | Recorded, path: str = "docs/a.png") -> dict[str, str]:
    return {"url": f"{cos.base_url}/b/{path}", "authorization": "q-sign-0123456", "token": "cos-token-0123456",
            "cos_file_id": "cos-id", "file_id": f"cloud://e.b/{path}"}  # fmt: skip


def upload(base: str, tmp_path: Path, **options: Any) -> str:
    (tmp_path / "a.png").write_bytes(b"a")
    with client_for(base, **options) as client:
        return client.upload("docs/a.png", tmp_path / "a.png")


def upload_error(base: str, tmp_path: Path, **options: Any) -> WxCloudError:
    with pytest.raises(WxCloudError) as caught:
        upload(base, tmp_path, **options)
    assert "\n" not in str(caught.value)
    return caught.value


# -- token refusals: the whole message, and who asks for a new token ------------------------------

_STALE = (
    "the access token was refused although stable_token still hands it out: another service of this mini "
    "program may be replacing tokens (force_refresh, or the classic cgi-bin/token); run again later, or "
    "set `force_refresh` to replace it (at most 20 a day, and it logs out the mini program's other services)"
)
_RENEWED = "the access token was refused even after renewing it"


def test_a_current_token_refused_twice_names_the_api_the_code_and_the_likely_cause(tmp_path: Path) -> None:
    answers = {"tcb/uploadfile": failure(42001, "access_token expired rid: 6a-7b")}
    with Recorded(answer_json(answers)) as server:
        error = upload_error(server.base_url, tmp_path)
    assert isinstance(error, ApiError) and (error.api, error.errcode, error.rid) == ("tcb/uploadfile", 42001, "6a-7b")
    assert str(error) == f"WeChat API tcb/uploadfile failed: errcode 42001: access_token expired rid: 6a-7b. {_STALE}"
    assert [p.split("?")[0] for p, _, _ in server.requests] == ["/cgi-bin/stable_token", "/tcb/uploadfile"] * 2


@pytest.mark.parametrize("auth", ["openapi", "cloudbase"])
def test_a_refusal_without_an_access_token_is_asked_once_more_then_final(auth: str, tmp_path: Path) -> None:
    """The open API service's call, or the container's token file read again: one more try, then the
    refusal as it is (never the advice about stable_token, which these modes never call)."""
    token = f"cloudbase-token-echoed-{auth}"  # a token of its own: secrets are remembered process-wide
    token_file = tmp_path / "cloudbase_access_token"
    token_file.write_text(token + "\n")
    answers = {"tcb/uploadfile": failure(40001, f"invalid credential {token} rid: 1-2")}
    with Recorded(answer_json(answers)) as server:
        error = upload_error(server.base_url, tmp_path, auth=auth, cloudbase_token_file=str(token_file))
    shown = "***" if auth == "cloudbase" else token  # the token read is a secret; openapi reads none
    assert (
        str(error)
        == f"WeChat API tcb/uploadfile failed: errcode 40001: invalid credential {shown} rid: 1-2. {_RENEWED}"
    )
    query = f"?cloudbase_access_token={token}" if auth == "cloudbase" else ""
    assert [p for p, _, _ in server.requests] == [f"/tcb/uploadfile{query}"] * 2


def test_the_cloudbase_token_file_is_read_once_for_minutes_not_for_every_call(tmp_path: Path) -> None:
    token_file = tmp_path / "cloudbase_access_token"
    token_file.write_text("cloudbase-token-good-0001")
    emulator = Emulator(cloudbase_token="cloudbase-token-good-0001").start()
    try:
        (tmp_path / "a.png").write_bytes(b"a")
        with client_for(
            emulator.base_url, env=DEFAULT_ENV, auth="cloudbase", cloudbase_token_file=str(token_file)
        ) as client:
            client.upload("a.png", tmp_path / "a.png")
            token_file.write_text("cloudbase-token-later-0002")  # the sidecar's next token, not valid yet here
            client.upload("b.png", tmp_path / "a.png")
        assert set(emulator.stored_files()) == {"a.png", "b.png"}
        assert emulator.request_count("/tcb/uploadfile") == 2
    finally:
        emulator.stop()


def test_a_missing_or_empty_cloudbase_token_file_says_why_and_where(tmp_path: Path) -> None:
    token_file = tmp_path / "cloudbase_access_token"
    cases = ((None, "No such file or directory"), (b"  \n", "it is empty"), (b"\xff\xfe", "it is not UTF-8 text"))
    for content, reason in cases:
        if content is not None:
            token_file.write_bytes(content)
        with pytest.raises(ConfigError) as caught:
            upload("http://127.0.0.1:9", tmp_path, auth="cloudbase", cloudbase_token_file=str(token_file))
        assert str(caught.value) == (f"auth 'cloudbase' needs the token file {token_file} ({reason}); "
                                     "it exists only inside a WeChat Cloud Hosting container")  # fmt: skip


def test_force_refresh_replaces_a_refused_current_token_once_a_run_and_says_so(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    emulator = Emulator().start()
    try:
        (tmp_path / "a.png").write_bytes(b"a")
        with caplog.at_level(logging.WARNING, logger="mkdocs.plugins.wxcloud"):
            with client_for(emulator.base_url, env=DEFAULT_ENV, appid=DEFAULT_APPID, secret=DEFAULT_SECRET,
                            force_refresh=True) as client:  # fmt: skip
                tokens = [client.token()]
                for name in ("a.png", "b.png"):
                    emulator.fail_next("token_expired", path_prefix="/tcb/uploadfile")
                    client.upload(name, tmp_path / "a.png")
                    tokens.append(client.token())
        assert set(emulator.stored_files()) == {"a.png", "b.png"}
        # a: the token, the same one again, one forced; b: the same one again, and no second force_refresh
        assert emulator.request_count("/cgi-bin/stable_token") == 4
        assert tokens[0] != tokens[1] == tokens[2]
        assert [r.getMessage() for r in caplog.records] == [
            "wxcloud: the access token was refused while still current: replacing it with force_refresh, as asked "
            "(the mini program's other services must fetch a new one)"
        ]
    finally:
        emulator.stop()


def test_a_refused_token_from_the_disk_cache_is_replaced_there(tmp_path: Path) -> None:
    emulator = Emulator().start()
    cache = tmp_path / "cache"
    options = {"env": DEFAULT_ENV, "appid": DEFAULT_APPID, "secret": DEFAULT_SECRET}
    try:
        (tmp_path / "a.png").write_bytes(b"a")
        with wx_client(emulator.base_url, token_cache=TokenCache(cache), **options, **FAST) as first:
            old = first.token()
        emulator.expire_tokens()
        with wx_client(emulator.base_url, token_cache=TokenCache(cache), **options, **FAST) as second:
            second.upload("a.png", tmp_path / "a.png")  # the cached token, refused, then a new one
            new = second.token()
        assert new != old and emulator.stored_files() == {"a.png": b"a"}
        assert emulator.request_count("/cgi-bin/stable_token") == 2
        assert TokenCache(cache).load(token_cache_key(emulator.base_url, DEFAULT_APPID))[0] == new  # type: ignore[index]
    finally:
        emulator.stop()


def test_a_refused_token_is_never_handed_to_the_next_run_even_when_no_new_one_comes(tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    refused = {"cgi-bin/stable_token": [TOKEN, failure(45009, "reach max api daily quota limit rid: 1")],
               "tcb/uploadfile": failure(42001, "access_token expired rid: 2")}  # fmt: skip
    with Recorded(answer_json(refused)) as server:
        error = upload_error(server.base_url, tmp_path, token_cache=TokenCache(cache))
        assert isinstance(error, ApiError) and error.errcode == 45009
        assert TokenCache(cache).load(token_cache_key(server.base_url, "wx1")) is None


# -- COS's answers, as the user reads them --------------------------------------------------------


def cos_refusal(reply: Reply, tmp_path: Path) -> CosError:
    with Server(answer_json({"b/": reply})) as cos, Server(answer_json({"tcb/uploadfile": link_to(cos)})) as api:
        error = upload_error(api.base_url, tmp_path)
    assert isinstance(error, CosError)
    return error


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (b"", "HTTP 400 UnknownError: no error body"),
        (b"<html>\n  Bad   request\xff</html>", "HTTP 400 UnknownError: <html> Bad request\ufffd</html>"),
        (b"x" * 300, "HTTP 400 UnknownError: " + "x" * 200),
        (b'<Error xmlns="http://www.qcloud.com/doc"><Code>KeyTooLong</Code><Message> long </Message></Error>',
         "HTTP 400 KeyTooLong: long. the cloud path is too long: use a shorter file name or folder"),
        (b"<Error><Code></Code><Message></Message><RequestId>r-9</RequestId></Error>",
         "HTTP 400 UnknownError: no message (RequestId r-9)"),
        (b"<Error><Message>refused</Message></Error>", "HTTP 400 UnknownError: refused"),
        (b"<Error><Code>InvalidArgument</Code></Error>", "HTTP 400 InvalidArgument: no message"),
    ],
    ids=["empty", "html", "long", "namespace", "empty-fields", "no-code", "no-message"],
)  # fmt: skip
def test_a_cos_refusal_is_one_line_whatever_its_body(body: bytes, expected: str, tmp_path: Path) -> None:
    error = cos_refusal(Reply(body, 400), tmp_path)
    assert str(error) == f"COS upload failed: {expected}"
    assert error.request_id == ("r-9" if b"<RequestId>" in body else "")  # what support asks for, when given


# -- answers of the wrong type: the field, what it is and what it should be -----------------------


@pytest.mark.parametrize(
    ("api", "body", "what"),
    [
        ("cgi-bin/stable_token", {"access_token": 5, "expires_in": 7200}, "access_token is a number, not a string"),
        ("cgi-bin/stable_token", {"access_token": "t" * 20, "expires_in": "7200"}, "expires_in is a string, not a number"),
        ("cgi-bin/stable_token", {"access_token": "t" * 20, "expires_in": 0}, "expires_in is 0"),
        ("cgi-bin/stable_token", {"access_token": "", "expires_in": 7200}, "access_token is empty"),
        ("cgi-bin/stable_token", {"errcode": 1.5}, "errcode is a number, not an integer"),
        ("cgi-bin/stable_token", {"errcode": 40013, "errmsg": None, "x": 1}, None),
        ("tcb/uploadfile", {"url": ["x"]}, "url is a list, not a string"),
        ("tcb/uploadfile", {"url": {"x": 1}}, "url is an object, not a string"),
        ("tcb/uploadfile", {"url": True}, "url is a boolean, not a string"),
        ("tcb/uploadfile", {}, "url is missing, not a string"),
    ],
)  # fmt: skip
def test_an_answer_of_the_wrong_type_names_the_field_and_its_type(
    api: str, body: dict, what: str | None, tmp_path: Path
) -> None:
    with Server(answer_json({api: body})) as server:
        error = upload_error(server.base_url, tmp_path)
    if what is None:  # errmsg may be null: the errcode is what counts
        assert isinstance(error, ApiError) and error.errcode == 40013
        assert (
            str(error)
            == "WeChat API cgi-bin/stable_token failed: errcode 40013: no message. the AppID is invalid: check `appid` / WXCLOUD_APPID"
        )
        return
    assert isinstance(error, MalformedAnswer)
    assert str(error) == (f"WeChat API {api} answered something other than its documented answer ({what}): "
                          "check `api_base` and any proxy in between")  # fmt: skip


@pytest.mark.parametrize(
    ("items", "what"),
    [
        ([{"fileid": "cloud://e.b/a", "status": 1.0}], "file_list[0].status is a number, not an integer"),
        ([{"fileid": ""}], "file_list[0].fileid is empty"),
        ([{"fileid": "cloud://e.b/a"}, 7], "file_list[1] is a number, not an object"),
        ([{"fileid": "cloud://e.b/a", "download_url": None, "errmsg": None, "status": None}], None),
    ],
)  # fmt: skip
def test_a_batch_item_of_the_wrong_type_fails_the_batch_with_its_position(items: list, what: str | None) -> None:
    with Server(answer_json({"tcb/batchdownloadfile": {"file_list": items}})) as server:
        with client_for(server.base_url) as client:
            urls, errors = client.download_urls(["cloud://e.b/a"])
    assert urls == {}
    expected = ("WeChat API tcb/batchdownloadfile answered something other than its documented answer "
                f"({what}): check `api_base` and any proxy in between")  # fmt: skip
    assert errors == {"cloud://e.b/a": "no download_url in the answer" if what is None else expected}


def test_a_batch_items_error_is_shown_on_one_line() -> None:
    item = {"fileid": "cloud://e.b/a", "status": -1, "errmsg": "file\n  vanished\tmeanwhile"}
    with Server(answer_json({"tcb/batchdownloadfile": {"file_list": [item]}})) as server:
        with client_for(server.base_url) as client:
            assert client.download_urls(["cloud://e.b/a"]) == ({}, {"cloud://e.b/a": "file vanished meanwhile"})


# -- network failures: what failed, where, and how often it was tried -----------------------------


def test_a_5xx_answer_names_the_api_the_status_and_the_host(tmp_path: Path) -> None:
    with Server(answer_json({"tcb/uploadfile": Reply(b"busy", 503)})) as server:
        error = upload_error(server.base_url, tmp_path)
    assert type(error) is NetworkError
    assert str(error) == "WeChat API tcb/uploadfile: HTTP 503 from 127.0.0.1 (gave up after 3 attempts)"


def test_a_refused_connection_names_the_host_and_the_cause() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    with client_for(f"http://127.0.0.1:{port}", max_retries=0) as client, pytest.raises(NetworkError) as caught:
        client.token()
    assert str(caught.value).startswith(
        "WeChat API cgi-bin/stable_token: connection to 127.0.0.1 failed: NewConnectionError: "
    )
    assert str(caught.value).endswith("Connection refused (gave up after 1 attempts)")


def failing_within(seconds: float, call: Callable[[], object]) -> BaseException:
    """The error ``call`` ends with, on a thread of its own: a test of a timeout fails in ``seconds``
    (and a call that hangs fails the test) instead of hanging the run."""
    outcome: list[BaseException] = []

    def run() -> None:
        try:
            call()
        except BaseException as error:  # noqa: BLE001 - handed to the test's thread
            outcome.append(error)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    thread.join(seconds)
    assert not thread.is_alive(), f"still waiting after {seconds} s"
    assert outcome, "the call succeeded"
    return outcome[0]


@contextlib.contextmanager
def silent_server(drop: bool = False) -> Iterator[tuple[str, list[socket.socket]]]:
    """A loopback port that accepts connections and never answers (or, with ``drop``, reads the
    request and hangs up); its base URL and the connections it accepted."""
    accepted: list[socket.socket] = []
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()

        def serve() -> None:
            while True:
                try:
                    conn, _ = sock.accept()
                except OSError:
                    return
                accepted.append(conn)
                if drop:
                    conn.recv(65536)
                    conn.close()

        threading.Thread(target=serve, daemon=True).start()
        try:
            yield f"http://127.0.0.1:{sock.getsockname()[1]}", accepted
        finally:
            for conn in accepted:
                conn.close()


def test_a_server_that_never_answers_fails_at_the_timeout_naming_it() -> None:
    with silent_server() as (base, _), client_for(base, max_retries=0, timeout=0.2) as client:
        error = failing_within(20, client.token)
    assert str(error) == (
        "WeChat API cgi-bin/stable_token: 127.0.0.1 did not answer within `timeout` (0.2 s) (gave up after 1 attempts)"
    )


def test_a_cos_host_that_stops_reading_cannot_hold_an_upload_past_the_timeout() -> None:
    with silent_server() as (cos, _):
        link: dict[str, str] = {}
        with (
            Server(answer_json({"tcb/uploadfile": link})) as api,
            client_for(api.base_url, max_retries=0, timeout=0.3) as client,
        ):
            link.update(link_to(api, "docs/a.bin"), url=f"{cos}/b/docs/a.bin")
            error = failing_within(20, lambda: client.upload("docs/a.bin", io.BytesIO(bytes(8 << 20))))
    assert str(error) == (
        "COS upload of docs/a.bin: connection to 127.0.0.1 failed: ProtocolError: ('Connection aborted.', "
        "TimeoutError('timed out')) (gave up after 1 attempts)"
    )


def test_a_dropped_connection_is_tried_again_by_the_client_alone() -> None:
    with silent_server(drop=True) as (base, accepted), client_for(base, max_retries=1) as client:
        error = failing_within(20, client.token)
        assert len(accepted) == 2 == client.requests_made  # no hidden retry below the client's own
    # hung up before the answer: RemoteDisconnected, or a reset when the request was not all read yet
    assert str(error).startswith(
        "WeChat API cgi-bin/stable_token: connection to 127.0.0.1 failed: ProtocolError: ('Connection aborted.', "
    )
    assert str(error).endswith(")) (gave up after 2 attempts)")


def test_an_ip_refusal_without_an_address_still_says_what_to_whitelist(tmp_path: Path) -> None:
    with Server(answer_json({"cgi-bin/stable_token": failure(40164, "invalid ip, not in whitelist rid: 3")})) as server:
        error = upload_error(server.base_url, tmp_path)
    assert str(error) == (
        "WeChat API cgi-bin/stable_token failed: errcode 40164: invalid ip, not in whitelist rid: 3. add this "
        "machine's public IP to the API IP whitelist: 微信公众平台 → 开发管理 → 开发设置 → IP白名单"
    )


# -- retries: the waits, and what each one logs ---------------------------------------------------


def test_retries_wait_a_random_share_of_a_doubling_backoff_and_log_each_one(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """Full jitter: retry k waits uniform(0, backoff·2^(k-1)), capped at 30 s; a stale upload link is
    asked for again at once; a refused token is renewed outside the retry budget. The log says so."""
    seed = 26
    draws = random.Random(seed)
    shares = [draws.random() for _ in range(4)]  # one draw per failure that counts against the retries
    busy = failure(-1, "system error rid: 5")
    stale = Reply(b"<Error><Code>AccessDenied</Code><Message>Request has expired</Message></Error>", 403)
    with Server(answer_json({"b/": [stale, Reply(b"", 204)]})) as cos:
        answers = {"tcb/uploadfile": [failure(42001, "access_token expired rid: 4"), busy, busy, busy, link_to(cos)]}
        with Server(answer_json(answers)) as api:
            random.seed(seed)
            with caplog.at_level(logging.DEBUG, logger="mkdocs.plugins.wxcloud"):
                assert upload(api.base_url, tmp_path, backoff=0.04, max_retries=4) == "cloud://e.b/docs/a.png"
    what = "wxcloud: upload of docs/a.png:"
    busy_error = (
        "WeChat API tcb/uploadfile failed: errcode -1: system error rid: 5. WeChat stayed busy: try again later"
    )
    assert [r.getMessage() for r in caplog.records if r.name == "mkdocs.plugins.wxcloud"] == [
        "wxcloud: got an access token valid for 7200 s",
        f"{what} token refused (errcode 42001), renewing it",
        "wxcloud: got an access token valid for 7200 s",
        *(f"{what} retry {k + 1}/4 in {0.04 * 2**k * shares[k]:.2f} s after: {busy_error}" for k in range(3)),
        f"{what} retry 4/4 in 0.00 s after: COS upload failed: HTTP 403 AccessDenied: Request has expired",
    ]


# -- the connections: proxies from the environment, read once per host ---------------------------


def _no_proxy_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("HTTP_PROXY", "http_proxy", "HTTPS_PROXY", "https_proxy", "ALL_PROXY", "all_proxy", "NO_PROXY",
                 "no_proxy"):  # fmt: skip
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def proxied(monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Emulator, Proxy]]:
    """The emulator, and a loopback proxy in front of it; no proxy variable of the caller's is set."""
    _no_proxy_variables(monkeypatch)
    with Emulator() as emulator, Proxy(emulator.base_url) as proxy:
        yield emulator, proxy


def _client(emulator: Emulator) -> WxCloudClient:
    return client_for(emulator.base_url, env=DEFAULT_ENV, appid=DEFAULT_APPID, secret=DEFAULT_SECRET)


def test_a_proxy_named_without_scheme_and_with_credentials_is_used_with_them(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, proxied: tuple[Emulator, Proxy]
) -> None:
    emulator, proxy = proxied
    monkeypatch.setenv("HTTP_PROXY", f"us%20er:p%40ss@127.0.0.1:{proxy.port}")
    (tmp_path / "a.png").write_bytes(b"a")
    with _client(emulator) as client:
        client.upload("a.png", tmp_path / "a.png")
    assert [e.path.split("?")[0] for e in proxy.seen] == [
        f"{emulator.base_url}/cgi-bin/stable_token",
        f"{emulator.base_url}/tcb/uploadfile",
        f"{emulator.base_url}/cos/{bucket_name(DEFAULT_ENV)}/a.png",
    ]
    expected = "Basic " + base64.b64encode(b"us er:p@ss").decode()
    assert [{k.lower(): v for k, v in h.items()}.get("proxy-authorization") for h in proxy.headers] == [expected] * 3
    assert emulator.stored_files() == {"a.png": b"a"}


def test_the_route_of_a_host_is_read_from_the_environment_once_a_run(
    monkeypatch: pytest.MonkeyPatch, proxied: tuple[Emulator, Proxy]
) -> None:
    emulator, proxy = proxied
    with _client(emulator) as client:
        client.token()
        monkeypatch.setenv("HTTP_PROXY", proxy.base_url)  # too late for this run's host
        assert client.delete([f"cloud://{DEFAULT_ENV}.x/a.png"])
    assert proxy.seen == []
    with _client(emulator) as client:
        client.token()
        monkeypatch.setenv("NO_PROXY", "127.0.0.1")  # too late for this run's host too
        client.delete([f"cloud://{DEFAULT_ENV}.x/a.png"])
    assert [e.path.split("?")[0] for e in proxy.seen] == [
        f"{emulator.base_url}/cgi-bin/stable_token",
        f"{emulator.base_url}/tcb/batchdeletefile",
    ]
    assert not any("proxy-authorization" in {k.lower() for k in h} for h in proxy.headers)  # none to send


# -- a client's settings ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"api_base": "ftp://example.com"}, "`api_base` must be an http(s) URL, not 'ftp://example.com'"),
        ({"api_base": "http://[::1:80"}, "`api_base` must be an http(s) URL, not 'http://[::1:80'"),
        ({"env": ""}, "no cloud environment: set the option `env` or WXCLOUD_ENV"),
        ({"appid": ""}, "no AppID: set the option `appid` or the variable WXCLOUD_APPID"),
        ({"secret": None}, "no AppSecret (option `secret` or variable WXCLOUD_SECRET)"),
        ({"auth": "oauth"}, "unknown auth 'oauth': use one of token, openapi, cloudbase"),
    ],
)
def test_a_client_that_cannot_work_is_refused_in_one_line(options: dict, message: str) -> None:
    with pytest.raises(ConfigError) as caught:
        client_for(**{"base": "http://127.0.0.1:9", **options})
    assert str(caught.value) == message


def test_openapi_and_cloudbase_need_no_appid_or_secret(tmp_path: Path) -> None:
    for auth in ("openapi", "cloudbase"):
        with client_for("http://127.0.0.1:9", auth=auth, appid=None, secret=None) as client:
            assert client.auth == auth and client.env == "e"
            with pytest.raises(ConfigError, match=f"auth '{auth}' uses no access token"):
                client.token()


def test_no_concurrency_and_negative_retries_still_mean_one_request_at_a_time_tried_once() -> None:
    with Recorded(answer_json({"tcb/batchdownloadfile": Reply(b"", 502)})) as server:
        with client_for(server.base_url, concurrency=0, max_retries=-1) as client:
            urls, errors = client.download_urls(["cloud://e.b/a"])
    assert urls == {} and errors == {
        "cloud://e.b/a": "WeChat API tcb/batchdownloadfile: HTTP 502 from 127.0.0.1 (gave up after 1 attempts)"
    }
    assert [p.split("?")[0] for p, _, _ in server.requests] == ["/cgi-bin/stable_token", "/tcb/batchdownloadfile"]


# -- JSON answers that are not what they should be ----------------------------------------------


@pytest.mark.parametrize(
    ("reply", "message"),
    [
        (Reply(b"[1, 2]"), "answered HTTP 200 with something other than a JSON object ('[1, 2]')"),
        (Reply(b"<html>" + b"x" * 100, 404),
         "answered HTTP 404 with something other than a JSON object ('<html>" + "x" * 74 + "')"),
        (Reply("\u56fe".encode()[:2]), "answered HTTP 200 with something other than a JSON object ('\ufffd')"),
    ],
)  # fmt: skip
def test_an_answer_that_is_no_json_object_shows_its_start_and_the_api_base(reply: Reply, message: str) -> None:
    with Server(answer_json({"cgi-bin/stable_token": reply})) as server:
        with client_for(server.base_url) as client, pytest.raises(NetworkError) as caught:
            client.token()
        assert str(caught.value) == f"WeChat API cgi-bin/stable_token {message}: check `api_base` ({server.base_url})"
        assert client.requests_made == 1


def test_an_http_500_is_worth_another_try(tmp_path: Path) -> None:
    with Server(answer_json({"cgi-bin/stable_token": [Reply(b"oops", 500), TOKEN]})) as server:
        with client_for(server.base_url) as client:
            assert client.token() == TOKEN["access_token"]
            assert client.requests_made == 2


@pytest.mark.parametrize("status", [300, 301, 307, 399])
def test_a_redirect_is_never_followed_and_names_where_it_pointed(status: int) -> None:
    reply = Reply(b"", status, {"Location": "https://collector.example/steal"})
    with Recorded(answer_json({"cgi-bin/stable_token": reply})) as server:
        with client_for(server.base_url) as client, pytest.raises(NetworkError) as caught:
            client.token()
        assert client.requests_made == 1 and len(server.requests) == 1
    assert str(caught.value) == (
        f"WeChat API cgi-bin/stable_token: 127.0.0.1 answered HTTP {status}, a redirect to collector.example, which "
        "was not followed (WeChat never redirects, and the request carries credentials): check `api_base` "
        f"({server.base_url})"
    )


@pytest.mark.parametrize("headers", [{}, {"Location": "/elsewhere"}, {"Location": "http://[oops/x"}])
def test_a_redirect_to_no_host_that_can_be_named_is_refused_too(headers: dict[str, str]) -> None:
    with Server(answer_json({"cgi-bin/stable_token": Reply(b"", 302, headers)})) as server:
        with client_for(server.base_url) as client, pytest.raises(NetworkError, match="a redirect to elsewhere, "):
            client.token()


@pytest.mark.parametrize("status", [299, 400])
def test_a_status_next_to_the_redirects_is_read_as_an_answer(status: int) -> None:
    body = failure(40013, "invalid appid rid: 7")
    with Server(answer_json({"cgi-bin/stable_token": Reply(body, status)})) as server:
        with client_for(server.base_url) as client, pytest.raises(ApiError) as caught:
            client.token()
    assert caught.value.errcode == 40013


def test_an_answer_larger_than_any_wechat_answer_is_refused_by_its_length() -> None:
    huge = json.dumps({"access_token": "t" * (1 << 20), "expires_in": 7200}).encode()
    with Server(answer_json({"cgi-bin/stable_token": huge})) as server:
        with client_for(server.base_url) as client, pytest.raises(NetworkError) as caught:
            client.token()
    assert str(caught.value) == (
        "WeChat API cgi-bin/stable_token: 127.0.0.1 answered more than 1024 KB, which no answer of this API comes "
        f"near: check `api_base` ({server.base_url}) and any proxy in between"
    )


# -- the COS form --------------------------------------------------------------------------------


def form_fields(body: bytes, content_type: str) -> list[tuple[str, str | None, str | None, bytes]]:
    """(name, filename, part type, value) of each part of a multipart/form-data body, in order."""
    message = BytesParser(policy=email.policy.HTTP).parsebytes(
        b"Content-Type: " + content_type.encode() + b"\r\n\r\n" + body
    )
    parts = list(message.iter_parts())
    for part in parts:  # as urllib3 writes it, which COS reads
        assert re.fullmatch(r'form-data; name="[^"]+"(; filename="[^"]+")?', part["Content-Disposition"])
    return [(part.get_param("name", header="content-disposition"), part.get_filename(),
             part.get("Content-Type"), part.get_payload(decode=True)) for part in parts]  # fmt: skip


@pytest.mark.parametrize(
    ("cloud_path", "stored_as", "size"),
    [
        ("docs/图/A.PNG", "image/png", 10),
        ("docs/a.svg", "image/svg+xml", 1 << 20),
        ("docs/notes.md", "text/markdown", (1 << 20) + 1),
        ("docs/blob.bin", None, 10),
        ("docs/blob.zzq", None, 10),
    ],
)
def test_the_cos_form_carries_the_link_the_type_and_the_file_last(
    cloud_path: str, stored_as: str | None, size: int, tmp_path: Path
) -> None:
    data = bytes(range(256)) * (size // 256) + b"x" * (size % 256)
    (tmp_path / "local.bin").write_bytes(data)
    with Recorded(answer_json({"b/": Reply(b"", 200)})) as cos:
        link = link_to(cos, cloud_path)
        with Server(answer_json({"tcb/uploadfile": link})) as api, client_for(api.base_url) as client:
            seen: list[str] = []
            assert client.upload(cloud_path, tmp_path / "local.bin", on_link=seen.append) == link["file_id"]
    assert seen == [link["file_id"]]
    ((path, headers, body),) = cos.requests
    assert path == f"/b/{cloud_path}".replace("图", "%E5%9B%BE")
    assert int(headers["content-length"]) == len(body)
    fields = [("key", None, None, cloud_path.encode()), ("Signature", None, None, b"q-sign-0123456"),
              ("x-cos-security-token", None, None, b"cos-token-0123456"), ("x-cos-meta-fileid", None, None, b"cos-id")]  # fmt: skip
    if stored_as:
        fields.append(("Content-Type", None, None, stored_as.encode()))
    fields.append(("file", "local.bin", stored_as or "application/octet-stream", data))
    assert form_fields(body, headers["content-type"]) == fields
    assert re.fullmatch("multipart/form-data; boundary=[0-9a-f]{32}", headers["content-type"])


def test_a_reader_is_sent_whole_again_on_every_try_under_its_given_or_cloud_name(tmp_path: Path) -> None:
    busy = Reply(b"<Error><Code>SlowDown</Code><Message>slow</Message></Error>", 503)
    with Recorded(answer_json({"b/": [busy, Reply(b"", 204)]})) as cos:
        with Server(answer_json({"tcb/uploadfile": link_to(cos, "docs/a.webp")})) as api:
            with client_for(api.base_url) as client:
                client.upload("docs/a.webp", io.BytesIO(b"webp-bytes"))
                client.upload("docs/a.webp", io.BytesIO(b"webp-bytes"), filename="原图.webp")
    assert len({headers["content-type"] for _, headers, _ in cos.requests}) == 3  # a boundary of its own each
    parts = [form_fields(body, headers["content-type"])[-1] for _, headers, body in cos.requests]
    assert parts == [("file", "a.webp", "image/webp", b"webp-bytes")] * 2 + [
        ("file", "原图.webp", "image/webp", b"webp-bytes")
    ]


def test_a_cos_answer_of_any_2xx_is_success_and_a_3xx_is_not(tmp_path: Path) -> None:
    for status in (200, 201, 299):
        with Server(answer_json({"b/": Reply(b"", status)})) as cos:
            with Server(answer_json({"tcb/uploadfile": link_to(cos)})) as api:
                assert upload(api.base_url, tmp_path) == "cloud://e.b/docs/a.png"
    with Server(answer_json({"b/": Reply(b"", 304)})) as cos:
        with Server(answer_json({"tcb/uploadfile": link_to(cos)})) as api:
            assert "answered HTTP 304, a redirect to elsewhere" in str(upload_error(api.base_url, tmp_path))


# -- links and deletions: the request, the batches, the answers ---------------------------------


def test_links_are_asked_for_with_their_lifetime_once_per_id_50_to_a_call() -> None:
    ids = [f"cloud://e.b/{i}.png" for i in range(120)]

    def answer(body: bytes) -> dict:
        asked = json.loads(body)["file_list"]
        return {"file_list": [{"fileid": a["fileid"], "download_url": "https://dl/" + a["fileid"][-7:], "status": 0}
                              for a in asked]}  # fmt: skip

    with Recorded(answer_json({"tcb/batchdownloadfile": answer})) as server:
        with client_for(server.base_url, concurrency=2) as client:
            urls, errors = client.download_urls([*ids, *ids[:10]], max_age=600)
            default = client.download_urls(ids[:1])
    assert errors == {} and urls == {i: "https://dl/" + i[-7:] for i in ids}
    bodies = sorted(
        (json.loads(body) for path, _, body in server.requests if "batch" in path),
        key=lambda b: b["file_list"][0]["fileid"],
    )
    sent = [[(item["fileid"], item["max_age"]) for item in body["file_list"]] for body in bodies]
    assert sorted(len(group) for group in sent) == [1, 20, 50, 50]
    assert [b["env"] for b in bodies] == ["e"] * 4
    assert sorted(i for group in sent for i, age in group if age == 600) == sorted(ids)
    assert default == ({ids[0]: "https://dl/" + ids[0][-7:]}, {})
    assert [age for group in sent for i, age in group if age != 600] == [86400]


def test_an_item_without_a_link_or_with_a_bare_status_says_so() -> None:
    items = [{"fileid": "cloud://e.b/a", "status": 0}, {"fileid": "cloud://e.b/b", "status": 7},
             {"fileid": "cloud://e.b/c", "status": 0, "download_url": "", "errmsg": ""},
             {"fileid": "cloud://e.b/d", "status": 0, "errmsg": "not  ready"},
             {"fileid": "cloud://e.b/e", "status": 0, "errmsg": " \t\n"}]  # fmt: skip
    asked = ["cloud://e.b/a", "cloud://e.b/b", "cloud://e.b/c", "cloud://e.b/d", "cloud://e.b/e"]
    with Server(answer_json({"tcb/batchdownloadfile": {"file_list": items}, "tcb/batchdeletefile": {}})) as server:
        with client_for(server.base_url) as client:
            urls, errors = client.download_urls(asked)
            failed = client.delete(["cloud://e.b/a"])
    assert urls == {}
    assert errors == {"cloud://e.b/a": "no download_url in the answer", "cloud://e.b/b": "status 7",
                      "cloud://e.b/c": "no download_url in the answer", "cloud://e.b/d": "not ready",
                      "cloud://e.b/e": "no download_url in the answer"}  # fmt: skip
    assert failed == {"cloud://e.b/a": "missing from the delete_list of the answer"}


def test_ids_told_apart_only_by_their_encoding_each_get_their_own_link() -> None:
    asked = ["cloud://e.b/caf%C3%A9.png", "cloud://e.b/café.png"]  # the same file name, once decoded
    items = [{"fileid": asked[1], "download_url": "u1"}, {"fileid": asked[0], "download_url": "u0"}]
    with Server(answer_json({"tcb/batchdownloadfile": {"file_list": items}})) as server:
        with client_for(server.base_url) as client:
            assert client.download_urls(asked) == ({asked[0]: "u0", asked[1]: "u1"}, {})


def test_batches_are_sent_no_more_at_once_than_concurrency_allows() -> None:
    in_flight, most = [0], [0]
    lock = threading.Lock()

    def slow(body: bytes) -> dict:
        with lock:
            in_flight[0] += 1
            most[0] = max(most[0], in_flight[0])
        time.sleep(0.05)
        with lock:
            in_flight[0] -= 1
        return {"delete_list": [{"fileid": i} for i in json.loads(body)["fileid_list"]]}

    with Server(answer_json({"tcb/batchdeletefile": slow})) as server:
        with client_for(server.base_url, concurrency=1) as client:
            assert client.delete([f"cloud://e.b/{i}.png" for i in range(150)]) == {}
    assert most == [1]


def test_after_cancel_no_call_starts_and_each_says_so(tmp_path: Path) -> None:
    with Recorded(answer_json({})) as server, client_for(server.base_url) as client:
        client.cancel()
        assert client.delete(["cloud://e.b/a"]) == {
            "cloud://e.b/a": "tcb/batchdeletefile: not started, the run was interrupted"
        }
        with pytest.raises(Cancelled) as caught:
            client.upload("docs/a.png", io.BytesIO(b"a"))
        assert str(caught.value) == "upload of docs/a.png: not started, the run was interrupted"
    assert server.requests == []


@pytest.mark.parametrize(
    ("api", "errcode", "errmsg", "rid", "hint"),
    [
        ("tcb/uploadfile", 99999, "something new", "", ""),
        ("tcb/uploadfile", 48001, "api unauthorized rid: 64a-0", "64a-0",
         ". this account is not authorised to call tcb/uploadfile"),
        ("tcb/uploadfile", 85107, "not in whitelist rid:  x_1", "x_1",
         ". add /tcb/uploadfile in 云调用 → 微信令牌权限配置 (the open API service lets through /tcb/uploadfile, "
         "/tcb/batchdownloadfile and /tcb/batchdeletefile only once listed)"),
        ("tcb/uploadfile", -501005, "env abnormal", "",
         ". the cloud environment 'e' is unknown or abnormal: check `env` / WXCLOUD_ENV against the environment id "
         "in the 云开发 console"),
        ("cgi-bin/stable_token", 40001, "invalid credential", "", ". the AppSecret is wrong: check `secret` / "
         "WXCLOUD_SECRET (the AppSecret of the mini program)"),
        ("cgi-bin/stable_token", 40164, "invalid ip 203.0.113.9 ipv6 ::ffff:203.0.113.9, not in whitelist", "",
         ". add 203.0.113.9 to the API IP whitelist: 微信公众平台 → 开发管理 → 开发设置 → IP白名单"),
    ],
)  # fmt: skip
def test_a_refusal_is_shown_whole_with_its_request_id_and_what_to_do(
    api: str, errcode: int, errmsg: str, rid: str, hint: str, tmp_path: Path
) -> None:
    with Server(answer_json({api: failure(errcode, errmsg)})) as server:
        error = upload_error(server.base_url, tmp_path)
    assert isinstance(error, ApiError) and (error.api, error.errcode, error.rid) == (api, errcode, rid)
    assert str(error) == f"WeChat API {api} failed: errcode {errcode}: {errmsg}{hint}".replace("  ", " ")


@pytest.mark.parametrize("code", ["SlowDown", "RequestTimeout", "RequestTimeOut"])
def test_cos_staying_slow_says_to_lower_concurrency_or_raise_timeout(code: str, tmp_path: Path) -> None:
    reply = Reply(f"<Error><Code>{code}</Code><Message>m</Message></Error>".encode(), 503)
    error = cos_refusal(reply, tmp_path)
    assert (
        str(error)
        == f"COS upload failed: HTTP 503 {code}: m. uploads were too slow: lower `concurrency` or raise `timeout`"
    )


# -- the access token: its lifetime, its cache, and never shown -----------------------------------


def test_a_token_with_less_than_five_minutes_left_is_never_reused() -> None:
    for expires_in, fetches in ((1, 3), (299, 3), (7200, 1)):
        token = {"access_token": f"short-lived-token-{expires_in}", "expires_in": expires_in}
        with Recorded(answer_json({"cgi-bin/stable_token": token})) as server:
            with client_for(server.base_url) as client:
                assert [client.token() for _ in range(3)] == [token["access_token"]] * 3
        assert len(server.requests) == fetches


def test_refused_credentials_are_asked_for_once_a_run() -> None:
    with Recorded(answer_json({"cgi-bin/stable_token": failure(40125, "invalid appsecret rid: 8")})) as server:
        with client_for(server.base_url) as client:
            for _ in range(2):
                with pytest.raises(ApiError, match="the AppSecret is wrong"):
                    client.token()
    assert len(server.requests) == 1


def test_a_busy_token_service_is_retried_and_logged_under_its_name(caplog: pytest.LogCaptureFixture) -> None:
    answers = {"cgi-bin/stable_token": [failure(-1, "system error rid: 9"), TOKEN]}
    with Server(answer_json(answers)) as server, client_for(server.base_url, backoff=0.0) as client:
        with caplog.at_level(logging.DEBUG, logger="mkdocs.plugins.wxcloud"):
            assert client.token() == TOKEN["access_token"]
    assert [r.getMessage() for r in caplog.records if r.name == "mkdocs.plugins.wxcloud"] == [
        "wxcloud: cgi-bin/stable_token: retry 1/2 in 0.00 s after: WeChat API cgi-bin/stable_token failed: errcode -1: "
        "system error rid: 9. WeChat stayed busy: try again later",
        "wxcloud: got an access token valid for 7200 s",
    ]


def test_tokens_from_the_cache_or_a_renewal_are_never_shown(tmp_path: Path) -> None:
    """A server that echoes the token in its errmsg: the message masks it, however it was obtained."""
    cached, renewed = "cached-token-never-shown-1", "renewed-token-never-shown-2"
    first = {"access_token": "first-token-of-the-run-3", "expires_in": 7200}
    for token, answers in (
        (cached, {"tcb/uploadfile": failure(40097, f"invalid path for {cached}")}),
        (renewed, {"cgi-bin/stable_token": [first, {"access_token": renewed, "expires_in": 7200}],
                   "tcb/uploadfile": [failure(40001, "invalid credential"), failure(40097, f"invalid path for {renewed}")]}),
    ):  # fmt: skip
        with Server(answer_json(answers)) as server:
            if token == cached:  # left by an earlier build
                TokenCache(tmp_path).store(token_cache_key(server.base_url, "wx1"), cached, time.time() + 3600)
            error = upload_error(server.base_url, tmp_path, token_cache=TokenCache(tmp_path))
        assert str(error).startswith("WeChat API tcb/uploadfile failed: errcode 40097: invalid path for ***. ")


def test_the_token_cache_keeps_the_token_that_lasts_longest(tmp_path: Path) -> None:
    now = time.time()
    mine, theirs = TokenCache(tmp_path / "a" / "b"), TokenCache(tmp_path / "a" / "b")
    mine.store("k", "z-mine-earlier", now + 3600)
    theirs.store("k", "a-theirs-later", now + 7200)  # another build, sharing the disk cache
    assert mine.load("k") == ("a-theirs-later", now + 7200)
    mine.store("k", "m-mine-latest", now + 9000)
    assert theirs.load("k") == ("m-mine-latest", now + 9000) == TokenCache(tmp_path / "a" / "b").load("k")
    assert sorted(p.name for p in (tmp_path / "a" / "b").iterdir()) == ["token-k.json"]


@pytest.mark.parametrize(
    "data",
    [{"token": "", "expires_at": 9e9}, {"token": 5, "expires_at": 9e9}, {"token": "t", "expires_at": "9e9"},
     {"expires_at": 9e9}, {"token": "t"}, ["t", 9e9]],
)  # fmt: skip
def test_a_cache_file_that_is_not_a_token_is_ignored(data: object, tmp_path: Path) -> None:
    (tmp_path / "token-k.json").write_text(json.dumps(data))
    assert TokenCache(tmp_path).load("k") is None


def test_a_cache_that_cannot_be_written_keeps_the_token_in_memory_and_says_why(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    (tmp_path / "token-k.json").mkdir()  # where the file should go
    cache = TokenCache(tmp_path)
    with caplog.at_level(logging.DEBUG, logger="mkdocs.plugins.wxcloud"):
        cache.store("k", "memory-only-token", time.time() + 3600)
    assert cache.load("k")[0] == "memory-only-token"  # type: ignore[index]
    assert [p.name for p in tmp_path.iterdir()] == ["token-k.json"]  # no temporary file left
    assert caplog.messages == [
        f"wxcloud: token cache {tmp_path} not writable (Is a directory); keeping the token in memory"
    ]


# -- reading answers: their length, however they are framed ---------------------------------------


def _token_answer(size: int) -> bytes:
    """A token answer of exactly ``size`` bytes (JSON allows any amount of white space)."""
    data = json.dumps(TOKEN).encode()
    return data[:-1] + b" " * (size - len(data)) + b"}"


def without_length(body: bytes) -> Respond:
    """Answers with ``body`` as HTTP/1.0 does: no Content-Length, the end of the answer is the end of the connection."""

    def respond(handler: BaseHTTPRequestHandler) -> None:
        handler.send_response(200)
        handler.send_header("Connection", "close")
        handler.end_headers()
        handler.wfile.write(body)
        handler.close_connection = True

    return respond


@pytest.mark.parametrize("framed", ["length", "close"])
def test_an_answer_of_exactly_the_largest_size_is_read_whole(framed: str) -> None:
    body = _token_answer(1 << 20)
    respond = answer_json({"cgi-bin/stable_token": body}) if framed == "length" else without_length(body)
    with Server(respond) as server, client_for(server.base_url) as client:
        assert client.token() == TOKEN["access_token"]


def test_an_answer_over_the_largest_size_without_a_length_is_refused_once_read_that_far() -> None:
    with Server(without_length(_token_answer((1 << 20) + 1))) as server, client_for(server.base_url) as client:
        with pytest.raises(NetworkError) as caught:
            client.token()
    assert str(caught.value) == (
        "WeChat API cgi-bin/stable_token: 127.0.0.1 answered more than 1024 KB, which no answer of this API comes "
        f"near: check `api_base` ({server.base_url}) and any proxy in between"
    )


def test_a_cos_success_with_a_long_body_is_success(tmp_path: Path) -> None:
    with Server(answer_json({"b/": Reply(b"<ok/>" * 8000, 200)})) as cos:
        with Server(answer_json({"tcb/uploadfile": link_to(cos)})) as api:
            assert upload(api.base_url, tmp_path) == "cloud://e.b/docs/a.png"


def test_an_api_base_with_a_path_and_a_trailing_slash_is_used_as_given() -> None:
    with Recorded(answer_json({"wx/gateway-X/cgi-bin/stable_token": TOKEN})) as server:
        with client_for(f"{server.base_url}/wx/gateway-X/") as client:
            assert client.token() == TOKEN["access_token"]
            assert client.api_base == f"{server.base_url}/wx/gateway-X"
    assert [p for p, _, _ in server.requests] == ["/wx/gateway-X/cgi-bin/stable_token"]


def test_an_api_base_urllib3_cannot_parse_is_one_final_line() -> None:
    with client_for("http://bad host:1") as client, pytest.raises(NetworkError) as caught:
        client.token()
    assert str(caught.value) == (
        "WeChat API cgi-bin/stable_token: request to bad host failed: LocationParseError: Failed to parse: "
        "Host 'bad host' contains invalid character ' '"
    )
    assert client.requests_made == 1


# -- uploads: what is asked for, and the type stored on any machine ------------------------------


def test_an_upload_link_is_asked_for_the_env_and_the_cloud_path_in_raw_utf8(tmp_path: Path) -> None:
    with Recorded(answer_json({"b/": Reply(b"", 204)})) as cos:
        with Recorded(answer_json({"tcb/uploadfile": link_to(cos, "文档/a.png")})) as api:
            (tmp_path / "a.png").write_bytes(b"a")
            with client_for(api.base_url) as client:
                client.upload("文档/a.png", tmp_path / "a.png")
    assert api.requests[1][2] == '{"env": "e", "path": "文档/a.png"}'.encode()


def test_a_file_that_cannot_be_read_is_named_with_the_reason(tmp_path: Path) -> None:
    with client_for("http://127.0.0.1:9") as client, pytest.raises(ConfigError) as caught:
        client.upload("docs/a.png", tmp_path / "absent.png")
    assert str(caught.value) == f"cannot read {tmp_path / 'absent.png'}: No such file or directory"
    assert client.requests_made == 0


class SizedReader(io.RawIOBase):
    """A reader that knows its size and can only rewind, like the one that hashes what it sends."""

    def __init__(self, data: bytes) -> None:
        self._data, self._at = data, 0

    def __len__(self) -> int:
        return len(self._data) - self._at

    def readable(self) -> bool:
        return True

    def seek(self, offset: int, whence: int = 0) -> int:
        if (offset, whence) != (0, 0):
            raise OSError("this reader can only rewind")
        self._at = 0
        return 0

    def readinto(self, buffer: Any) -> int:
        chunk = self._data[self._at : self._at + len(buffer)]
        buffer[: len(chunk)] = chunk
        self._at += len(chunk)
        return len(chunk)


def test_a_reader_that_knows_its_size_is_sent_without_seeking_its_end(tmp_path: Path) -> None:
    with Recorded(answer_json({"b/": Reply(b"", 204)})) as cos:
        with (
            Server(answer_json({"tcb/uploadfile": link_to(cos, "docs/a.pdf")})) as api,
            client_for(api.base_url) as client,
        ):
            client.upload("docs/a.pdf", SizedReader(b"%PDF-1.7 sized"), filename="a.pdf")  # type: ignore[arg-type]
    ((_, headers, body),) = cos.requests
    assert form_fields(body, headers["content-type"])[-1] == ("file", "a.pdf", "application/pdf", b"%PDF-1.7 sized")


def test_the_stored_type_of_every_kind_of_asset_is_the_same_on_a_machine_that_knows_few(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A slim container has no /etc/mime.types: Python's own table lacks several asset types, or names
    them otherwise (audio/x-wav). The type stored, which the CDN serves, must not depend on it."""
    monkeypatch.setattr(mimetypes, "guess_type", mimetypes.MimeTypes().guess_type)
    expected = {"a.jfif": "image/jpeg", "a.APNG": "image/apng", "a.ico": "image/x-icon", "a.m4v": "video/mp4",
                "a.Ogv": "video/ogg", "a.m4a": "audio/mp4", "a.ogg": "audio/ogg", "a.oga": "audio/ogg",
                "a.opus": "audio/ogg", "a.wav": "audio/wav", "a.FLAC": "audio/flac", "a.tiff": "image/tiff"}  # fmt: skip
    (tmp_path / "local").write_bytes(b"x")
    with Recorded(answer_json({"b/": Reply(b"", 204)})) as cos:
        with Server(answer_json({"tcb/uploadfile": link_to(cos)})) as api, client_for(api.base_url) as client:
            for name in expected:
                client.upload(f"docs/{name}", tmp_path / "local")
    stored = [dict((n, v.decode()) for n, _, _, v in form_fields(body, headers["content-type"])[:-1])
              for _, headers, body in cos.requests]  # fmt: skip
    assert {name: fields.get("Content-Type") for name, fields in zip(expected, stored)} == expected


def test_threads_refused_together_renew_the_token_once_and_each_says_why(tmp_path: Path) -> None:
    """Two uploads sent with the same token, refused together: one thread fetches a new token, the
    other finds it already replaced. Refused again, each ends with the plain refusal (never the advice
    about a token stable_token keeps handing out: it handed out a new one)."""
    together = threading.Barrier(2, timeout=10)
    seen: list[str] = []

    def hold(request: Exchange) -> Exchange | None:
        if not request.path.startswith("/tcb/uploadfile"):
            return None
        seen.append(request.path)
        if len(seen) <= 2:
            together.wait()  # both threads' first tries are under way before either is answered
            return None  # the emulator refuses the expired token
        body = json.dumps(failure(42001, "access_token expired rid: 10")).encode()
        return Exchange(request.method, request.path, request.body, 200, {"Content-Type": "application/json"}, body)

    emulator = Emulator().start()
    try:
        with Proxy(emulator.base_url, before=hold) as proxy:
            options = {"env": DEFAULT_ENV, "appid": DEFAULT_APPID, "secret": DEFAULT_SECRET}
            with client_for(proxy.base_url, **options) as client:
                client.token()
                emulator.expire_tokens()
                (tmp_path / "a.png").write_bytes(b"a")
                errors: list[BaseException] = []

                def attempt(name: str) -> None:
                    try:
                        client.upload(name, tmp_path / "a.png")
                    except WxCloudError as error:
                        errors.append(error)

                threads = [threading.Thread(target=attempt, args=(name,)) for name in ("a.png", "b.png")]
                for thread in threads:
                    thread.start()
                for thread in threads:
                    thread.join(timeout=30)
        assert emulator.request_count("/cgi-bin/stable_token") == 2  # the first token, and one new one for both
        assert [str(e) for e in errors] == [
            f"WeChat API tcb/uploadfile failed: errcode 42001: access_token expired rid: 10. {_RENEWED}"
        ] * 2
        assert len(seen) == 4
    finally:
        emulator.stop()


def test_the_appsecret_is_never_shown_even_when_the_server_echoes_it(tmp_path: Path) -> None:
    secret = "echoed-appsecret-4711"  # a secret of its own: secrets are remembered process-wide
    answers = {"cgi-bin/stable_token": failure(40125, f"invalid appsecret {secret} rid: 11")}
    with Server(answer_json(answers)) as server:
        error = upload_error(server.base_url, tmp_path, secret=secret)
    assert str(error) == (
        "WeChat API cgi-bin/stable_token failed: errcode 40125: invalid appsecret *** rid: 11. the AppSecret is "
        "wrong: check `secret` / WXCLOUD_SECRET (the AppSecret of the mini program)"
    )


def test_a_type_only_the_lenient_table_knows_is_stored_with_the_object(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Past the project's own table, Python's non-standard (lenient) one counts too: a type is better
    stored than left for COS to guess."""
    monkeypatch.setattr(mimetypes, "guess_type", mimetypes.MimeTypes().guess_type)  # the same on any machine
    (tmp_path / "local").write_bytes(b"x")
    with Recorded(answer_json({"b/": Reply(b"", 204)})) as cos:
        with Server(answer_json({"tcb/uploadfile": link_to(cos)})) as api, client_for(api.base_url) as client:
            for name in ("a.pict", "a.rtf"):
                client.upload(f"docs/{name}", tmp_path / "local")
    stored = [dict((n, v.decode()) for n, _, _, v in form_fields(body, headers["content-type"])[:-1])
              for _, headers, body in cos.requests]  # fmt: skip
    assert [fields.get("Content-Type") for fields in stored] == ["image/pict", "application/rtf"]


def test_an_api_without_documented_fields_is_checked_for_its_errcode_alone() -> None:
    answers = {"tcb/databasequery": [{"errcode": 0, "data": ["x"]}, failure(-501005, "env gone")]}
    with Server(answer_json(answers)) as api:
        transport = Transport(api.base_url, "e", concurrency=1, timeout=5.0, openapi=False)
        try:
            assert transport.call_json("tcb/databasequery", {"env": "e"}, None) == {"errcode": 0, "data": ["x"]}
            with pytest.raises(ApiError) as caught:
                transport.call_json("tcb/databasequery", {"env": "e"}, None)
        finally:
            transport.close()
    assert caught.value.errcode == -501005


def test_each_host_of_a_run_has_its_own_route(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The API host is reached directly (NO_PROXY), the COS host through the proxy: same scheme, two routes."""
    _no_proxy_variables(monkeypatch)
    (tmp_path / "a.png").write_bytes(b"a")
    with Recorded(answer_json({"": Reply(b"", 204)})) as cos, Proxy(cos.base_url) as proxy:
        monkeypatch.setenv("HTTP_PROXY", proxy.base_url)
        monkeypatch.setenv("NO_PROXY", "127.0.0.1")
        link = {**link_to(cos), "url": f"http://localhost:{cos.server.port}/b/docs/a.png"}
        with Recorded(answer_json({"tcb/uploadfile": link})) as api, client_for(api.base_url) as client:
            client.upload("docs/a.png", tmp_path / "a.png")
    assert [path.split("?")[0] for path, _, _ in api.requests] == ["/cgi-bin/stable_token", "/tcb/uploadfile"]
    assert [e.path for e in proxy.seen] == [link["url"]] and [path for path, _, _ in cos.requests] == ["/b/docs/a.png"]


@pytest.mark.parametrize(("tail", "target"), [("", "/"), ("?sign=1", "/?sign=1")])
def test_a_cos_link_without_a_path_is_posted_to_the_root(tail: str, target: str, tmp_path: Path) -> None:
    (tmp_path / "a.png").write_bytes(b"a")
    with Recorded(answer_json({"": Reply(b"", 204)})) as cos:
        link = {**link_to(cos), "url": cos.base_url + tail}
        with Server(answer_json({"tcb/uploadfile": link})) as api, client_for(api.base_url) as client:
            client.upload("docs/a.png", tmp_path / "a.png")
    assert [path for path, _, _ in cos.requests] == [target]


class Counting(Background):
    """A loopback server answering ``respond``, that counts the connections open to it."""

    def __init__(self, respond: Respond) -> None:
        self.open = 0
        outer = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def setup(self) -> None:
                super().setup()
                outer.open += 1

            def finish(self) -> None:
                outer.open -= 1
                super().finish()

            def do_POST(self) -> None:  # noqa: N802
                self.body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                respond(self)

            def log_message(self, format: str, *args: object) -> None:  # noqa: A002
                pass

        super().__init__(ThreadingHTTPServer(("127.0.0.1", 0), Handler))

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"


def test_a_closed_client_leaves_no_connection_open_to_any_host(tmp_path: Path) -> None:
    (tmp_path / "a.png").write_bytes(b"a")
    with Counting(answer_json({"": Reply(b"", 204)})) as cos:
        link = {**link_to(cos), "url": f"{cos.base_url}/b/docs/a.png"}
        with Counting(answer_json({"tcb/uploadfile": link})) as api:
            client = client_for(api.base_url)
            with client:
                client.upload("docs/a.png", tmp_path / "a.png")
                assert (api.open, cos.open) == (1, 1)  # kept alive
            assert until(lambda: api.open == cos.open == 0, seconds=10), (api.open, cos.open)


@pytest.mark.skipif(importlib.util.find_spec("socks") is not None, reason="PySocks is installed here")
@pytest.mark.filterwarnings("error")  # and nothing more: no DependencyWarning of urllib3's
def test_a_socks_proxy_without_pysocks_is_one_line_saying_what_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    _no_proxy_variables(monkeypatch)
    monkeypatch.setenv("HTTP_PROXY", "socks5h://user:proxy-secret@127.0.0.1:1")
    with Server(answer_json({})) as api, client_for(api.base_url) as client, pytest.raises(NetworkError) as caught:
        client.token()
    assert str(caught.value) == (
        "the proxy socks5h://127.0.0.1:1 is a SOCKS proxy, which needs PySocks: `pip install pysocks`, or set "
        "NO_PROXY for the host"
    )
    assert api.requests == []


# -- the deadline of a streamed upload; what logs and errors may show --------------------------


@contextlib.contextmanager
def slow_cos(chunk: int, pause: float) -> Iterator[str]:
    """A COS host that reads the first half of an upload's body ``chunk`` bytes every ``pause`` seconds,
    the rest at once, then answers 204 at once (so the answer comes as soon as the client has sent
    all, and not once a slow reader has drained the sockets' buffers); its base URL."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()

        def serve() -> None:
            conn, _ = sock.accept()
            with conn:
                data = b""
                while b"\r\n\r\n" not in data:
                    data += conn.recv(65536)
                head, _, body = data.partition(b"\r\n\r\n")
                length = int(re.search(rb"(?i)\r\ncontent-length: *(\d+)", head).group(1))  # type: ignore[union-attr]
                got, paced = len(body), 0
                while got < length:
                    slow = got < length // 2
                    read = conn.recv(chunk - paced if slow else 1 << 20)
                    if not read:
                        return
                    got += len(read)
                    paced += len(read) if slow else 0
                    if paced >= chunk:
                        time.sleep(pause)
                        paced = 0
                conn.sendall(b"HTTP/1.1 204 No Content\r\nContent-Length: 0\r\n\r\n")

        threading.Thread(target=serve, daemon=True).start()
        yield f"http://127.0.0.1:{sock.getsockname()[1]}"


def test_a_quick_answer_after_an_upload_slower_to_send_than_the_timeout_is_read(tmp_path: Path) -> None:
    """`timeout` bounds the answer, not the sending: the first 8 MiB of this upload are read at about
    3.5 MB/s, far longer than the 1 s allowed, and the answer that follows once all is sent is taken."""
    big = tmp_path / "big.bin"
    with big.open("wb") as handle:
        handle.truncate(16 << 20)
    link: dict[str, str] = {}
    with slow_cos(1 << 19, 0.15) as cos, Server(answer_json({"tcb/uploadfile": link})) as api:
        link.update(link_to(api, "docs/big.bin"), url=f"{cos}/b/docs/big.bin")
        with client_for(api.base_url, max_retries=0, timeout=1.0) as client:
            started = time.monotonic()
            assert client.upload("docs/big.bin", big) == "cloud://e.b/docs/big.bin"
            assert time.monotonic() - started > 2.0  # it did take longer than `timeout` to send


def test_an_appsecret_that_a_server_echoes_is_masked_in_the_error(tmp_path: Path) -> None:
    """A secret of its own (not one that other tests' clients have made known): the client makes it known."""
    secret = f"echoed-secret-{random.getrandbits(64):016x}"
    refusal = failure(40125, f"invalid appsecret {secret}, view more at http://t.cn/RAEkdVq")
    with Server(answer_json({"cgi-bin/stable_token": refusal})) as api:
        with client_for(api.base_url, secret=secret) as client, pytest.raises(WxCloudError) as caught:
            client.token()
    assert secret not in str(caught.value) and "invalid appsecret ***" in str(caught.value)


def test_urllib3s_debug_lines_never_show_an_access_token(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """urllib3 logs each request's URL, query string included: the client's filter masks it."""
    for name in ("urllib3.connectionpool", "urllib3.util.retry"):
        monkeypatch.setattr(logging.getLogger(name), "filters", [])  # as in a new process
    with Emulator() as emulator:
        with client_for(emulator.base_url, env=DEFAULT_ENV, appid=DEFAULT_APPID, secret=DEFAULT_SECRET) as client:
            token = client.token()
            caplog.set_level(logging.DEBUG, logger="urllib3")
            client.delete([f"cloud://{DEFAULT_ENV}.{bucket_name(DEFAULT_ENV)}/x.png"])
    lines = [record.getMessage() for record in caplog.records if record.name == "urllib3.connectionpool"]
    assert any("/tcb/batchdeletefile?access_token=*** " in line for line in lines), lines
    assert not any(token in line for line in lines)


def test_a_copy_run_from_its_source_tree_names_itself_version_0(monkeypatch: pytest.MonkeyPatch) -> None:
    def not_installed(name: str) -> str:
        raise metadata.PackageNotFoundError(name)

    monkeypatch.setattr(metadata, "version", not_installed)
    with Recorded(answer_json({})) as server, client_for(server.base_url) as client:
        client.token()
    [(_, headers, _)] = server.requests
    assert headers["user-agent"] == "mkdocs-wxcloud/0"
