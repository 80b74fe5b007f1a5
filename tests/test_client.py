"""The WeChat cloud-storage client and its token cache, against the emulator over real HTTP."""

from __future__ import annotations

import contextlib
import http.server
import logging
import os
import socket
import stat
import subprocess
import sys
import textwrap
import threading
import time
import traceback
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Iterator

import pytest
import requests
from conftest import wx_client

import mkdocs_wxcloud
from mkdocs_wxcloud.emulator import DEFAULT_APPID, DEFAULT_ENV, DEFAULT_SECRET, Emulator
from mkdocs_wxcloud.errors import ConfigError, WxCloudError
from mkdocs_wxcloud.wechat.auth import AUTH_MODES
from mkdocs_wxcloud.wechat.client import WxCloudClient
from mkdocs_wxcloud.wechat.errors import ApiError, CosError, NetworkError, cos_error
from mkdocs_wxcloud.wechat.tokens import TokenCache, default_cache_dir, token_cache_key

FAST = {"max_retries": 4, "backoff": 0.01, "quota_wait": 0.05, "timeout": 10.0}


@pytest.fixture
def emu() -> Iterator[Emulator]:
    server = Emulator().start()
    yield server
    server.stop()


def make_client(server: Emulator, cache_dir: Path | None = None, **kwargs: object) -> WxCloudClient:
    options = {
        "api_base": server.base_url,
        "env": DEFAULT_ENV,
        "appid": DEFAULT_APPID,
        "secret": DEFAULT_SECRET,
        "token_cache": TokenCache(cache_dir),
        **FAST,
    }
    options.update(kwargs)
    return wx_client(**options)  # type: ignore[arg-type]


def write(path: Path, data: bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


def fetch(url: str) -> bytes:
    response = requests.get(url, timeout=10)
    response.raise_for_status()
    return response.content


# --- the normal path -------------------------------------------------------------------------


def test_upload_link_and_download_give_identical_bytes(emu: Emulator, tmp_path: Path) -> None:
    data = os.urandom(70_000)
    with make_client(emu) as client:
        file_id = client.upload("docs/img/a.png", write(tmp_path / "a.png", data))
        urls, errors = client.download_urls([file_id])
    assert errors == {}
    assert fetch(urls[file_id]) == data
    assert emu.stored_files()["docs/img/a.png"] == data


def test_chinese_file_and_folder_names(emu: Emulator, tmp_path: Path) -> None:
    data = b"\x89PNG chinese"
    local = write(tmp_path / "图片" / "示例 图.png", data)
    with make_client(emu) as client:
        file_id = client.upload("文档/图片/示例图.png", local)
        urls, errors = client.download_urls([file_id])
    assert errors == {}
    assert emu.stored_files()["文档/图片/示例图.png"] == data
    assert fetch(urls[file_id]) == data


def test_every_request_is_counted(emu: Emulator, tmp_path: Path) -> None:
    with make_client(emu) as client:
        assert client.requests_made == 0
        client.upload("c.txt", write(tmp_path / "c.txt", b"c"))
        assert client.requests_made == 3  # stable_token, uploadfile, the COS POST
    assert emu.request_count() == 3


# --- tokens -----------------------------------------------------------------------------------


def test_token_is_reused_across_clients_through_the_disk_cache(emu: Emulator, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    file = write(tmp_path / "a.txt", b"a")
    with make_client(emu, cache) as first:
        first.upload("a.txt", file)
    assert emu.request_count("/cgi-bin/stable_token") == 1
    with make_client(emu, cache) as second:
        second.upload("b.txt", file)
        assert second.token() == first.token()
    assert emu.request_count("/cgi-bin/stable_token") == 1


def test_token_file_is_private(emu: Emulator, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    with make_client(emu, cache) as client:
        token = client.token()
    files = list(cache.iterdir())
    assert len(files) == 1
    assert stat.S_IMODE(files[0].stat().st_mode) == 0o600
    assert stat.S_IMODE(cache.stat().st_mode) == 0o700
    assert token in files[0].read_text()
    assert DEFAULT_SECRET not in files[0].read_text()
    assert DEFAULT_SECRET not in files[0].name and DEFAULT_APPID not in files[0].name


def test_concurrent_workers_fetch_one_token(emu: Emulator, tmp_path: Path) -> None:
    files = [write(tmp_path / f"{i}.txt", b"%d" % i) for i in range(16)]
    with make_client(emu) as client, ThreadPoolExecutor(max_workers=8) as pool:
        ids = list(pool.map(lambda f: client.upload(f"t/{f.name}", f), files))
    assert len(set(ids)) == 16
    assert emu.request_count("/cgi-bin/stable_token") == 1
    assert len(emu.stored_files()) == 16


def test_token_expired_mid_run_is_replaced(emu: Emulator, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    file = write(tmp_path / "a.txt", b"a")
    with make_client(emu, cache) as client:
        client.upload("a.txt", file)
        old = client.token()
        emu.expire_tokens()
        client.upload("b.txt", file)
        assert client.token() != old
    assert emu.request_count("/cgi-bin/stable_token") == 2
    with make_client(emu, cache) as later:  # the cache holds the new token, not the dead one
        assert later.token() != old


def test_token_refused_once_while_still_current_is_tried_again_without_force_refresh(
    emu: Emulator, tmp_path: Path
) -> None:
    with make_client(emu) as client:
        client.token()
        emu.fail_next("token_expired", path_prefix="/tcb/uploadfile")
        client.upload("a.txt", write(tmp_path / "a.txt", b"a"))
    assert emu.stored_files() == {"a.txt": b"a"}
    assert emu.request_count("/cgi-bin/stable_token") == 2  # the first token, the same one again: no force_refresh
    assert len(emu.issued_tokens()) == 1


def test_token_refused_twice_while_still_current_stops_with_an_explanation(emu: Emulator, tmp_path: Path) -> None:
    with make_client(emu) as client:
        client.token()
        emu.fail_next("token_expired", count=2, path_prefix="/tcb/uploadfile")
        with pytest.raises(ApiError) as caught:
            client.upload("a.txt", write(tmp_path / "a.txt", b"a"))
    assert "another service of this mini program may be replacing tokens" in one_line(caught.value)
    assert "`force_refresh`" in str(caught.value) and "20 a day" in str(caught.value)
    assert emu.request_count("/cgi-bin/stable_token") == 2 and len(emu.issued_tokens()) == 1
    assert emu.request_count("/tcb/uploadfile") == 2


def test_force_refresh_replaces_a_refused_current_token_only_when_asked(emu: Emulator, tmp_path: Path) -> None:
    with make_client(emu, force_refresh=True) as client:
        first = client.token()
        emu.fail_next("token_expired", path_prefix="/tcb/uploadfile")
        client.upload("a.txt", write(tmp_path / "a.txt", b"a"))
        assert client.token() != first
    assert emu.stored_files() == {"a.txt": b"a"}
    # the first token, the same one again (force_refresh false), then a forced new one
    assert emu.request_count("/cgi-bin/stable_token") == 3


def test_token_cache_drops_expiring_and_unreadable_entries(tmp_path: Path) -> None:
    cache = TokenCache(tmp_path)
    cache.store("k", "token-one", time.time() + 200)
    assert cache.load("k") is None  # less than 300 s left
    cache.store("k", "token-two", time.time() + 3600)
    assert cache.load("k")[0] == "token-two"  # type: ignore[index]
    cache.discard("k", "token-one")  # not the current one: kept
    assert TokenCache(tmp_path).load("k")[0] == "token-two"  # type: ignore[index]
    cache.discard("k", "token-two")
    assert cache.load("k") is None and TokenCache(tmp_path).load("k") is None
    (tmp_path / "token-k.json").write_text("{not json")
    assert TokenCache(tmp_path).load("k") is None


def test_token_cache_falls_back_to_memory_when_unwritable(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    blocker = write(tmp_path / "file", b"")  # a file where the directory should be
    cache = TokenCache(blocker / "sub")
    with caplog.at_level(logging.DEBUG, logger="mkdocs.plugins.wxcloud"):
        cache.store("k", "token-mem", time.time() + 3600)
    assert cache.load("k")[0] == "token-mem"  # type: ignore[index]
    assert "not writable" in caplog.text


def test_cache_location_and_key(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert default_cache_dir() == tmp_path / "mkdocs-wxcloud"
    monkeypatch.delenv("XDG_CACHE_HOME")
    assert default_cache_dir() == Path.home() / ".cache" / "mkdocs-wxcloud"
    key = token_cache_key("https://api.weixin.qq.com/", "wx123")
    assert key == token_cache_key("https://api.weixin.qq.com", "wx123")
    assert key != token_cache_key("http://127.0.0.1:1", "wx123")


# --- upload links and retries -----------------------------------------------------------------


def test_stale_upload_link_is_asked_again(emu: Emulator, tmp_path: Path) -> None:
    file = write(tmp_path / "a.txt", b"fresh")
    with make_client(emu) as client:
        emu.fail_next("upload_expired")
        client.upload("a.txt", file)
    assert emu.request_count("/tcb/uploadfile") == 2
    assert emu.stored_files() == {"a.txt": b"fresh"}


def test_stale_upload_links_are_asked_again_a_bounded_number_of_times(tmp_path: Path) -> None:
    server = Emulator(upload_ttl=0).start()
    try:
        with make_client(server) as client:
            with pytest.raises(CosError) as caught:
                client.upload("a.txt", write(tmp_path / "a.txt", b"a"))
        assert "expired" in str(caught.value).lower()
        assert server.request_count("/tcb/uploadfile") == FAST["max_retries"] + 1
    finally:
        server.stop()


@pytest.mark.parametrize("kind", ["busy", "quota", "http502", "drop"])
@pytest.mark.parametrize("path_prefix", ["/cgi-bin/stable_token", "/tcb/uploadfile", "/cos/"])
def test_retryable_faults_recover(kind: str, path_prefix: str, tmp_path: Path) -> None:
    server = Emulator().start()
    try:
        server.fail_next(kind, count=2, path_prefix=path_prefix)
        with make_client(server) as client:
            file_id = client.upload("a.txt", write(tmp_path / "a.txt", b"abc"))
            server.fail_next(kind, count=2, path_prefix="/tcb/batchdownloadfile")
            urls, errors = client.download_urls([file_id])
        assert errors == {}
        assert fetch(urls[file_id]) == b"abc"
        assert server.request_count(path_prefix) == 3  # two faults, then success
        assert server.request_count("/tcb/batchdownloadfile") == 3
    finally:
        server.stop()


def test_retries_are_bounded(emu: Emulator, tmp_path: Path) -> None:
    emu.fail_next("busy", count=50)
    with make_client(emu, max_retries=2) as client, pytest.raises(ApiError) as caught:
        client.token()
    assert caught.value.errcode == -1
    assert emu.request_count("/cgi-bin/stable_token") == 3


# --- final errors -----------------------------------------------------------------------------


def one_line(error: BaseException) -> str:
    text = str(error)
    assert "\n" not in text
    return text


@pytest.mark.parametrize(
    ("server_options", "client_options", "errcode", "expected", "sent"),
    [
        ({}, {"secret": "a-wrong-secret-000"}, 40125, "WXCLOUD_SECRET", 1),
        ({}, {"appid": "wx0000000000000000"}, 40013, "WXCLOUD_APPID", 1),
        ({}, {"env": "no-such-env"}, -501005, "'no-such-env'", 2),
        ({"ip_whitelist": ["10.9.8.7"]}, {}, 40164, "127.0.0.1", 1),
    ],
)
def test_final_errors_fail_fast(
    server_options: dict, client_options: dict, errcode: int, expected: str, sent: int, tmp_path: Path
) -> None:
    server = Emulator(**server_options).start()
    try:
        started = time.monotonic()
        with make_client(server, **client_options) as client, pytest.raises(ApiError) as caught:
            client.upload("a.txt", write(tmp_path / "a.txt", b"a"))
        assert time.monotonic() - started < 2
        assert caught.value.errcode == errcode
        assert expected in one_line(caught.value)
        assert client.requests_made == sent  # no retry
    finally:
        server.stop()


def test_ip_whitelist_error_says_where_to_add_it(tmp_path: Path) -> None:
    server = Emulator(ip_whitelist=["10.9.8.7"]).start()
    try:
        with make_client(server) as client, pytest.raises(ApiError) as caught:
            client.token()
        assert "IP白名单" in str(caught.value) and "add 127.0.0.1" in str(caught.value)
    finally:
        server.stop()


def test_missing_credentials_name_option_and_variable(emu: Emulator) -> None:
    with pytest.raises(ConfigError, match=r"`appid`.*WXCLOUD_APPID"):
        make_client(emu, appid=None)
    with pytest.raises(ConfigError, match=r"`secret`.*WXCLOUD_SECRET"):
        make_client(emu, secret="")
    with pytest.raises(ConfigError, match="auth"):
        make_client(emu, auth="magic")
    assert AUTH_MODES == ("token", "openapi", "cloudbase")


def test_missing_file_is_a_clear_error(emu: Emulator, tmp_path: Path) -> None:
    with make_client(emu) as client, pytest.raises(ConfigError, match="cannot read"):
        client.upload("a.txt", tmp_path / "absent.txt")
    assert emu.request_count() == 0


@contextlib.contextmanager
def canned_server(body: bytes) -> Iterator[str]:
    """A server answering every POST with ``body``: for answers the emulator never gives."""

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 (http.server's naming)
            self.rfile.read(int(self.headers.get("Content-Length", 0)))
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()


@pytest.mark.parametrize(
    ("body", "error_type", "expected"),
    [
        (b"<html><body>Please log in</body></html>", NetworkError, "than a JSON object"),
        (b'{"errcode": 45009, "errmsg": "reach max api daily quota limit rid: 1-2-3"}', ApiError, "try again tomorrow"),
        (b'{"errcode": 40001, "errmsg": "invalid credential rid: 1-2-3"}', ApiError, "`secret` / WXCLOUD_SECRET"),
        (b'{"errcode": 85088, "errmsg": "no cloud env rid: 1-2-3"}', ApiError, "云开发"),
    ],
)
def test_answers_the_emulator_never_gives_fail_fast(body: bytes, error_type: type, expected: str) -> None:
    with canned_server(body) as base:
        with (
            wx_client(api_base=base, env="e", appid="wx1", secret="canned-secret", **FAST) as client,
            pytest.raises(error_type) as caught,
        ):
            client.token()
        assert expected in one_line(caught.value)
        assert client.requests_made == 1


def test_malformed_request_is_final(emu: Emulator, tmp_path: Path) -> None:
    with make_client(emu) as client, pytest.raises(ApiError) as caught:
        client.upload("a//b.txt", write(tmp_path / "a.txt", b"a"))
    assert caught.value.errcode == 40097 and "cloud path" in str(caught.value)
    assert emu.request_count("/tcb/uploadfile") == 1


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_unreachable_service_gives_network_error_without_secrets(caplog: pytest.LogCaptureFixture) -> None:
    secret = "unreachable-secret-42"
    client = wx_client(
        api_base=f"http://127.0.0.1:{free_port()}", env="e", appid="wx1", secret=secret, max_retries=2, backoff=0.01
    )
    with caplog.at_level(logging.DEBUG), client, pytest.raises(NetworkError) as caught:
        client.token()
    assert "after 3 attempts" in one_line(caught.value)
    assert client.requests_made == 3
    assert_no_leak(caught.value, caplog.text, [secret])


# --- links and deletion -----------------------------------------------------------------------


def test_links_come_50_to_a_call_and_every_item_is_checked(emu: Emulator, tmp_path: Path) -> None:
    with make_client(emu) as client:
        file_id = client.upload("one.txt", write(tmp_path / "one.txt", b"1"))
        prefix = file_id[: -len("one.txt")]
        missing = [f"{prefix}missing/{i}.txt" for i in range(119)]
        urls, errors = client.download_urls([file_id, *missing])
    assert emu.request_count("/tcb/batchdownloadfile") == 3
    assert list(urls) == [file_id]
    assert set(errors) == set(missing)
    assert all(errors.values())


def test_delete(emu: Emulator, tmp_path: Path) -> None:
    with make_client(emu) as client:
        ids = [client.upload(f"d/{i}.txt", write(tmp_path / f"{i}.txt", b"x")) for i in range(3)]
        errors = client.delete(ids)
        assert errors == {}
        assert emu.stored_files() == {}
        again = client.delete(ids[:1])
    assert list(again) == ids[:1]
    assert client.delete([]) == {}


# --- other ways to authenticate ---------------------------------------------------------------


def test_openapi_mode_sends_no_token(tmp_path: Path) -> None:
    server = Emulator(open_api=True).start()
    try:
        with wx_client(api_base=server.base_url, env=DEFAULT_ENV, auth="openapi", **FAST) as client:
            file_id = client.upload("o.txt", write(tmp_path / "o.txt", b"open"))
            urls, errors = client.download_urls([file_id])
        assert errors == {} and fetch(urls[file_id]) == b"open"
        assert server.request_count("/cgi-bin/stable_token") == 0
    finally:
        server.stop()


def test_cloudbase_mode_reads_the_token_file(tmp_path: Path) -> None:
    token = "cloudbase-token-0123456789"
    server = Emulator(cloudbase_token=token).start()
    try:
        token_file = write(tmp_path / "cloudbase_access_token", token.encode() + b"\n")
        with wx_client(
            api_base=server.base_url, env=DEFAULT_ENV, auth="cloudbase", cloudbase_token_file=str(token_file), **FAST
        ) as client:
            file_id = client.upload("c.txt", write(tmp_path / "c.txt", b"cb"))
            assert client.delete([file_id]) == {}
        assert server.request_count("/cgi-bin/stable_token") == 0
        with wx_client(
            api_base=server.base_url,
            env=DEFAULT_ENV,
            auth="cloudbase",
            cloudbase_token_file=str(tmp_path / "none"),
            **FAST,
        ) as client:
            with pytest.raises(ConfigError, match="Cloud Hosting"):
                client.upload("c.txt", tmp_path / "c.txt")
    finally:
        server.stop()


def test_cloudbase_token_file_is_read_again_after_a_refusal(tmp_path: Path) -> None:
    server = Emulator(cloudbase_token="cloudbase-token-new-0001").start()
    try:
        token_file = write(tmp_path / "token", b"cloudbase-token-old-0000")
        file = write(tmp_path / "c.txt", b"cb")
        with wx_client(
            api_base=server.base_url, env=DEFAULT_ENV, auth="cloudbase", cloudbase_token_file=str(token_file), **FAST
        ) as client:
            with pytest.raises(ApiError) as caught:
                client.upload("c.txt", file)
            assert caught.value.errcode == 40001
            assert client.requests_made == 2  # the refused call, retried once after a re-read
            token_file.write_text("cloudbase-token-new-0001")  # the sidecar renewed it
            client.upload("c.txt", file)
        assert server.stored_files() == {"c.txt": b"cb"}
    finally:
        server.stop()


# --- secrets ----------------------------------------------------------------------------------


def assert_no_leak(error: BaseException, log_text: str, secrets: list[str]) -> None:
    texts = [
        str(error),
        repr(error),
        "".join(traceback.format_exception(type(error), error, error.__traceback__)),
        log_text,
    ]
    for secret in secrets:
        for text in texts:
            assert secret not in text


@pytest.mark.parametrize("kind", ["drop", "http502", "busy", "down"])
def test_secret_and_token_never_leak(kind: str, tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    server = Emulator().start()
    try:
        with caplog.at_level(logging.DEBUG):
            with make_client(server, max_retries=1) as client:
                token = client.token()
                if kind == "down":  # connection refused: requests' own text holds the URL
                    server.stop()
                else:
                    server.fail_next(kind, count=10, path_prefix="/tcb/uploadfile")
                with pytest.raises(WxCloudError) as caught:
                    client.upload("a.txt", write(tmp_path / "a.txt", b"a"))
        assert caught.value.__cause__ is None and caught.value.__context__ is None
        assert_no_leak(caught.value, caplog.text, [DEFAULT_SECRET, token])
        assert "retry 1/1" in caplog.text
        if kind in ("http502", "busy"):  # answered: urllib3 logged the request line, masked
            assert "uploadfile?access_token=*** " in caplog.text
    finally:
        server.stop()


def test_bad_secret_does_not_leak(emu: Emulator, caplog: pytest.LogCaptureFixture) -> None:
    secret = "a-wrong-secret-123456"
    with caplog.at_level(logging.DEBUG), make_client(emu, secret=secret) as client:
        with pytest.raises(ApiError) as caught:
            client.token()
    assert_no_leak(caught.value, caplog.text, [secret, DEFAULT_SECRET])


# --- streaming --------------------------------------------------------------------------------

_MEASURE = textwrap.dedent("""
    import sys, tracemalloc
    from pathlib import Path
    from mkdocs_wxcloud.wechat.auth import Account
    from mkdocs_wxcloud.wechat.client import WxCloudClient
    base, env, appid, secret, path = sys.argv[1:]
    with WxCloudClient(base, Account(env, appid, secret)) as client:
        client.token()
        tracemalloc.start()
        client.upload("big.bin", Path(path))
        print(tracemalloc.get_traced_memory()[1])
""")


def test_large_file_is_streamed(emu: Emulator, tmp_path: Path) -> None:
    size = 20 * 1024 * 1024
    big = tmp_path / "big.bin"
    with big.open("wb") as out:
        out.truncate(size)
    # The client runs in its own process, so the emulator's copy of the file is not counted.
    package_root = str(Path(mkdocs_wxcloud.__file__).resolve().parents[1])
    environ = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [package_root, os.environ.get("PYTHONPATH")]))}
    result = subprocess.run(
        [sys.executable, "-c", _MEASURE, emu.base_url, DEFAULT_ENV, DEFAULT_APPID, DEFAULT_SECRET, str(big)],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
        env=environ,
    )
    peak = int(result.stdout.strip())
    assert peak < size / 10, f"peak {peak} bytes for a {size} byte file"
    assert len(emu.stored_files()["big.bin"]) == size


def test_cos_error_body_is_parsed() -> None:
    xml = (
        b"<?xml version='1.0'?><Error><Code>EntityTooLarge</Code><Message>too big</Message>"
        b"<RequestId>NjA=</RequestId></Error>"
    )
    error = cos_error(400, xml)
    assert (error.status, error.code, error.cos_message, error.request_id) == (400, "EntityTooLarge", "too big", "NjA=")
    assert cos_error(502, b"<html>bad gateway").code == "UnknownError"
