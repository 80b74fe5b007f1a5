"""Behaviours that mutation testing found unpinned in ``wechat/auth.py`` and ``wechat/transport.py`` (issue 26).

Each test goes through :class:`WxCloudClient` over real HTTP to a loopback server.
"""

from __future__ import annotations

import secrets
import threading
import time
from pathlib import Path
from typing import Any

import pytest
from servers import Server, answer_json
from test_mutation_wechat import Recorded, client_for, failure, upload_error

from mkdocs_wxcloud.errors import WxCloudError
from mkdocs_wxcloud.wechat.tokens import TokenCache, token_cache_key


def _unique(kind: str) -> str:
    """A token of the test's own: secrets are remembered process-wide, so a shared one would be masked anyway."""
    return f"{kind}-{secrets.token_hex(8)}"


@pytest.mark.parametrize("source", ["cloudbase token file", "disk cache", "renewed token"])
def test_a_token_the_server_echoes_is_masked_whatever_gave_it(source: str, tmp_path: Path) -> None:
    token = _unique(source.replace(" ", "-"))
    options: dict[str, Any] = {}
    tokens: dict[str, Any] = {}
    uploads: list[Any] = [failure(45009, f"quota exceeded for {token}")]
    if source == "cloudbase token file":
        (tmp_path / "token").write_text(token)
        options = {"auth": "cloudbase", "cloudbase_token_file": str(tmp_path / "token")}
    elif source == "disk cache":
        options = {"token_cache": TokenCache(tmp_path / "tokens")}
    else:  # the first token is refused, the one renew() fetches is echoed
        tokens = {"cgi-bin/stable_token": [{"access_token": _unique("first"), "expires_in": 7200},
                                           {"access_token": token, "expires_in": 7200}]}  # fmt: skip
        uploads.insert(0, failure(40001, "invalid credential"))
    with Recorded(answer_json({**tokens, "tcb/uploadfile": uploads})) as server:
        if source == "disk cache":
            options["token_cache"].store(token_cache_key(server.base_url, "wx1"), token, time.time() + 7200)
        error = upload_error(server.base_url, tmp_path, **options)
    assert str(error) == (
        "WeChat API tcb/uploadfile failed: errcode 45009: quota exceeded for ***. "
        "the daily quota of this API is used up: try again tomorrow"
    )


def test_threads_that_waited_for_the_first_token_fetch_get_that_token(tmp_path: Path) -> None:
    token = _unique("shared")

    def slow_token(body: bytes) -> dict[str, Any]:
        time.sleep(0.3)  # long enough for the other threads to queue behind the first fetch
        return {"access_token": token, "expires_in": 7200}

    got: list[object] = []
    with Recorded(answer_json({"cgi-bin/stable_token": slow_token})) as server:
        with client_for(server.base_url) as client:
            threads = [threading.Thread(target=lambda: got.append(client.token())) for _ in range(4)]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
    assert got == [token] * 4
    assert [path for path, _, _ in server.requests] == ["/cgi-bin/stable_token"]


def _stalling(declared: int) -> Any:
    """An answer that declares ``declared`` bytes, sends 10 of them, and then nothing until the client hangs up."""

    def respond(handler: Any) -> None:
        handler.send_response(200)
        handler.send_header("Content-Length", str(declared))
        handler.end_headers()
        handler.wfile.write(b'{"errcode"')
        handler.wfile.flush()
        handler.rfile.read(1)  # returns when the client closes the connection

    return respond


@pytest.mark.parametrize("declared", [2 << 20, 100])
def test_a_json_answer_is_refused_by_its_declared_size_before_its_body_stalls(declared: int, tmp_path: Path) -> None:
    with Server(_stalling(declared)) as server:
        with client_for(server.base_url, timeout=0.5, max_retries=0) as client:
            with pytest.raises(WxCloudError) as caught:
                client.token()
    if declared > 1 << 20:
        assert str(caught.value) == (
            "WeChat API cgi-bin/stable_token: 127.0.0.1 answered more than 1024 KB, which no answer of this API "
            f"comes near: check `api_base` ({server.base_url}) and any proxy in between"
        )
    else:
        assert str(caught.value) == (
            "WeChat API cgi-bin/stable_token: 127.0.0.1 did not answer within `timeout` (0.5 s) (gave up after 1 attempts)"
        )
