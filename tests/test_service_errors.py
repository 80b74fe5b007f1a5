"""How each refusal of the service is handled, as ``wechat-api.md`` sections 2, 4, 5 and 7 say.

Quotas stop at once with one line (waiting minutes would not help), busy answers and COS's slow-down
answers back off, a stale upload link is asked for again at once, a file COS refuses alone fails alone
(``error.per_file``), the open API service's refusals name the switch or the path to whitelist, and
batch answers are matched to the ids asked without ever giving one file another file's link.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import wx_client
from servers import Reply, Server, answer_json

from mkdocs_wxcloud.errors import WxCloudError
from mkdocs_wxcloud.wechat.client import WxCloudClient
from mkdocs_wxcloud.wechat.errors import ApiError, CosError, ServiceRefusal
from mkdocs_wxcloud.wechat.retry import RetryPolicy
from mkdocs_wxcloud.wechat.tokens import TokenCache

RETRIES = 3
FAST = {"max_retries": RETRIES, "backoff": 0.001, "quota_wait": 0.01, "timeout": 10.0}
LINK = {
    "authorization": "q-sign-abcdef",
    "token": "cos-token-abcdef",
    "cos_file_id": "cos-id",
    "file_id": "cloud://e.b/a",
}


def client_for(base: str, **options: object) -> WxCloudClient:
    settings = {"api_base": base, "env": "e", "appid": "wx1", "secret": "service-secret-1", **FAST, **options}
    return wx_client(token_cache=TokenCache(None), **settings)  # type: ignore[arg-type]


def upload(base: str, tmp_path: Path, **options: object) -> str:
    (tmp_path / "a.png").write_bytes(b"a")
    with client_for(base, **options) as client:
        return client.upload("docs/a.png", tmp_path / "a.png")


def one_line(error: BaseException) -> str:
    assert "\n" not in str(error)
    return str(error)


def failure(errcode: int, errmsg: str = "refused rid: 1-2-3") -> dict:
    return {"errcode": errcode, "errmsg": errmsg}


# -- quotas, busy answers, permissions (section 2) ------------------------------------------------


@pytest.mark.parametrize(
    ("errcode", "needle"),
    [
        (45009, "daily quota of this API is used up"),
        (-501003, "request-count quota is used up: raise the environment's plan"),
        (-501015, "read quota is used up"),
        (-501016, "write quota is used up"),
    ],
)
def test_a_used_up_quota_stops_at_once_naming_it(errcode: int, needle: str, tmp_path: Path) -> None:
    with Server(answer_json({"tcb/uploadfile": failure(errcode)})) as server:
        with pytest.raises(ApiError) as caught:
            upload(server.base_url, tmp_path)
    assert needle in one_line(caught.value) and "busy" not in str(caught.value)
    assert server.requests.count("/tcb/uploadfile") == 1
    assert not caught.value.per_file


@pytest.mark.parametrize(("errcode", "needle"), [(-501004, "lower `concurrency`"), (45011, "per-minute quota")])
def test_too_many_at_once_and_the_minute_quota_back_off(errcode: int, needle: str, tmp_path: Path) -> None:
    with Server(answer_json({"tcb/uploadfile": failure(errcode)})) as server:
        with pytest.raises(ApiError) as caught:
            upload(server.base_url, tmp_path)
    assert needle in one_line(caught.value)
    assert server.requests.count("/tcb/uploadfile") == RETRIES + 1


def test_minute_quota_waits_quota_wait_and_recovers(tmp_path: Path) -> None:
    link = {**LINK, "url": ""}
    with Server(answer_json({})) as cos:
        link["url"] = cos.base_url + "/b/docs/a.png"
        answers = {"tcb/uploadfile": [failure(45011), failure(-501004), link]}
        with Server(answer_json(answers)) as server:
            assert upload(server.base_url, tmp_path) == "cloud://e.b/a"
    assert RetryPolicy(quota_wait=42.0).delay(ApiError("x", 45011, ""), 0) == 42.0
    assert RetryPolicy(quota_wait=42.0).delay(ApiError("x", 85113, ""), 0) == 42.0
    assert RetryPolicy(backoff=1e-9).delay(ApiError("x", -501004, ""), 0) is not None


def test_no_permission_on_a_file_fails_that_file_with_a_hint(tmp_path: Path) -> None:
    with Server(answer_json({"tcb/uploadfile": failure(-503002, "permission denied")})) as server:
        with pytest.raises(ApiError) as caught:
            upload(server.base_url, tmp_path)
    assert caught.value.per_file
    assert "storage security rules (云开发控制台 → 存储 → 权限设置)" in one_line(caught.value)
    assert server.requests.count("/tcb/uploadfile") == 1


# -- COS (section 4) -------------------------------------------------------------------------------


def cos_error(status: int, code: str, message: str = "refused") -> Reply:
    body = f"<Error><Code>{code}</Code><Message>{message}</Message><RequestId>r-1</RequestId></Error>"
    return Reply(body.encode(), status, {"Content-Type": "application/xml"})


def upload_through(cos_answers: list, tmp_path: Path) -> tuple[str | CosError, int, int]:
    """Upload once against a COS that answers ``cos_answers`` in turn: (file id or error, links, posts)."""
    with Server(answer_json({"b/": cos_answers})) as cos:
        with Server(answer_json({"tcb/uploadfile": {**LINK, "url": cos.base_url + "/b/docs/a.png"}})) as api:
            try:
                result: str | CosError = upload(api.base_url, tmp_path)
            except CosError as error:
                result = error
            return result, api.requests.count("/tcb/uploadfile"), len(cos.requests)


@pytest.mark.parametrize(
    "answer",
    [
        cos_error(400, "RequestTimeOut"),
        cos_error(400, "RequestTimeout"),
        cos_error(503, "SlowDown"),
        cos_error(500, "InternalError"),
        cos_error(403, "RequestTimeTooSkewed"),
        cos_error(403, "ExpiredToken"),
        cos_error(403, "InvalidAccessKeyId"),
        cos_error(403, "AccessDenied", "Request has expired"),
        cos_error(403, "SignatureDoesNotMatch"),
    ],
)
def test_cos_answers_worth_another_link_are_retried(answer: Reply, tmp_path: Path) -> None:
    result, links, posts = upload_through([answer, answer, Reply(b"", 204)], tmp_path)
    if answer.body.find(b"SignatureDoesNotMatch") >= 0:  # once with a fresh link, then that file fails
        assert isinstance(result, CosError) and result.per_file and (links, posts) == (2, 2)
        assert "COS could not sign this cloud path even with a fresh link" in one_line(result)
    else:
        assert result == "cloud://e.b/a" and (links, posts) == (3, 3)


@pytest.mark.parametrize(
    ("code", "transient", "stale"),
    [("RequestTimeOut", True, False), ("SlowDown", True, False), ("RequestTimeTooSkewed", False, True),
     ("ExpiredToken", False, True), ("InvalidAccessKeyId", False, True), ("EntityTooLarge", False, False)],
)  # fmt: skip
def test_cos_codes_are_classified(code: str, transient: bool, stale: bool) -> None:
    error = CosError(400, code, "x")
    assert (error.transient, error.stale_link) == (transient, stale)
    delay = RetryPolicy(backoff=1.0).delay(error, 0)
    if stale:
        assert delay == 0.0  # a new link at once
    elif transient:
        assert delay is not None and 0.0 <= delay <= 1.0  # backoff
    else:
        assert delay is None


@pytest.mark.parametrize("code", ["EntityTooLarge", "KeyTooLong", "InvalidArgument"])
def test_cos_answers_about_one_file_fail_that_file_at_once(code: str, tmp_path: Path) -> None:
    result, links, posts = upload_through([cos_error(400, code)], tmp_path)
    assert isinstance(result, CosError) and result.per_file and result.code == code
    assert (links, posts) == (1, 1)


def test_a_malformed_form_is_final_for_every_file(tmp_path: Path) -> None:
    result, links, posts = upload_through([cos_error(400, "MalformedPOSTRequest")], tmp_path)
    assert isinstance(result, CosError) and not result.per_file and "report a bug" in one_line(result)
    assert (links, posts) == (1, 1)


def test_only_errors_about_one_file_say_so() -> None:
    assert not WxCloudError("x").per_file
    assert ApiError("tcb/uploadfile", 40097, "").per_file and ApiError("tcb/uploadfile", -503003, "").per_file
    assert not ApiError("tcb/uploadfile", -1, "").per_file
    assert not CosError(404, "NoSuchBucket", "").per_file


# -- the open API service (section 7) -------------------------------------------------------------


def test_a_bare_502_of_the_open_api_service_names_the_path_to_whitelist(tmp_path: Path) -> None:
    with Server(answer_json({"tcb/uploadfile": Reply(b"Bad Gateway", 502)})) as server:
        with pytest.raises(ServiceRefusal) as caught:
            upload(server.base_url, tmp_path, auth="openapi", appid=None, secret=None)
    assert "does not let /tcb/uploadfile through: add it in 云调用 → 微信令牌权限配置" in one_line(caught.value)
    assert server.requests == ["/tcb/uploadfile"]


@pytest.mark.parametrize(
    ("auth", "headers"), [("openapi", {"x-openapi-seqid": "1-2"}), ("token", {})], ids=["seqid", "token"]
)
def test_other_502s_are_transient(auth: str, headers: dict, tmp_path: Path) -> None:
    with Server(answer_json({"tcb/uploadfile": Reply(b"Bad Gateway", 502, headers)})) as server:
        with pytest.raises(WxCloudError, match="gave up after 4 attempts"):
            upload(server.base_url, tmp_path, auth=auth)
    assert server.requests.count("/tcb/uploadfile") == RETRIES + 1


@pytest.mark.parametrize(
    ("errcode", "needle", "sent"),
    [
        (85107, "add /tcb/uploadfile in 云调用 → 微信令牌权限配置", 1),
        (41001, "switch 开放接口服务 on (云托管 → 云调用) and deploy a new version", 1),
        (85112, "switch 开放接口服务 on (云托管 → 云调用) and deploy a new version", 1),
        (85113, "token is still not ready (a first deployment): run again in a few minutes", RETRIES + 1),
    ],
)
def test_open_api_service_refusals_say_what_to_do(errcode: int, needle: str, sent: int, tmp_path: Path) -> None:
    with Server(answer_json({"tcb/uploadfile": failure(errcode)})) as server:
        with pytest.raises(ApiError) as caught:
            upload(server.base_url, tmp_path, auth="openapi")
    assert needle in one_line(caught.value)
    assert server.requests.count("/tcb/uploadfile") == sent


# -- batch answers matched to the ids asked (section 5) ------------------------------------------

ASKED = ["cloud://e.b/docs/图.png", "cloud://e.b/docs/caf\u00e9.png", "cloud://e.b/docs/c.png"]


def links(items: list[dict], asked: list[str] = ASKED) -> tuple[dict[str, str], dict[str, str]]:
    with Server(answer_json({"tcb/batchdownloadfile": {"errcode": 0, "file_list": items}})) as server:
        with client_for(server.base_url) as client:
            return client.download_urls(asked)


def item(file_id: str, url: str) -> dict:
    return {"fileid": file_id, "download_url": url, "status": 0, "errmsg": "ok"}


def test_items_are_matched_by_id_in_any_order() -> None:
    urls, errors = links([item(ASKED[2], "u2"), item(ASKED[0], "u0"), item(ASKED[1], "u1")])
    assert urls == {ASKED[0]: "u0", ASKED[1]: "u1", ASKED[2]: "u2"} and errors == {}


def test_items_echoed_percent_encoded_or_decomposed_are_matched() -> None:
    encoded = "cloud://e.b/docs/%E5%9B%BE.png"
    decomposed = "cloud://e.b/docs/cafe\u0301.png"
    urls, errors = links([item(decomposed, "u1"), item(encoded, "u0"), item(ASKED[2], "u2")])
    assert urls == {ASKED[0]: "u0", ASKED[1]: "u1", ASKED[2]: "u2"} and errors == {}


def test_unrecognised_ids_fall_back_to_request_order_where_positions_pair() -> None:
    urls, errors = links([item("cloud://e.b/docs/??.png", "u0"), item("cloud://e.b/docs/caf?.png", "u1"),
                          item(ASKED[2], "u2")])  # fmt: skip
    assert urls == {ASKED[0]: "u0", ASKED[1]: "u1", ASKED[2]: "u2"} and errors == {}


def test_no_file_gets_another_files_link() -> None:
    # ASKED[0] is answered at position 1: the other two positions do not pair with the ids left
    urls, errors = links([item("cloud://e.b/docs/x.png", "ux"), item(ASKED[0], "u0"), item("cloud://e.b/y", "uy")])
    assert urls == {ASKED[0]: "u0"}
    assert set(errors) == {ASKED[1], ASKED[2]} and all("missing from the file_list" in e for e in errors.values())


def test_no_order_fallback_when_the_counts_differ() -> None:
    urls, errors = links([item("cloud://e.b/docs/??.png", "u0"), item(ASKED[2], "u2")])
    assert urls == {ASKED[2]: "u2"} and set(errors) == {ASKED[0], ASKED[1]}


def test_a_failed_item_keeps_its_own_error() -> None:
    failed = {
        "fileid": "cloud://e.b/docs/%E5%9B%BE.png",
        "download_url": "",
        "status": -1,
        "errmsg": "STORAGE_FILE_NONEXIST",
    }
    urls, errors = links([failed, item(ASKED[1], "u1"), item(ASKED[2], "u2")])
    assert errors == {ASKED[0]: "STORAGE_FILE_NONEXIST"} and set(urls) == {ASKED[1], ASKED[2]}
