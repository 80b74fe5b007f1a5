"""What the service answers when it refuses, as one-line errors that say what to do.

The JSON APIs answer HTTP 200 with an ``errcode``; COS answers an HTTP status with an XML body.
Both become errors whose message ends with a hint for the codes a user can act on (section 1 and 2
of ``wechat-api.md``); the ``rid`` WeChat appends is kept, since support asks for it.
"""

from __future__ import annotations

import ipaddress
import re
import xml.etree.ElementTree as ElementTree
from typing import Mapping

from ..errors import WxCloudError, redact

TOKEN_ERRORS = frozenset({40001, 40014, 42001})
BUSY_ERRORS = frozenset({-1, -1000, -501001, -501002, -501004})
"""Busy, or too many requests at once for the environment: retried with backoff."""
WAIT_ERRORS = frozenset({45011, 85113})
"""The minute quota, or the open API service's token not ready yet: retried after ``quota_wait``."""
QUOTA_ERRORS = frozenset({45009, -501003, -501015, -501016})
"""A daily or plan quota used up: final at once, waiting minutes would not help."""
PER_FILE_ERRCODES = frozenset({40097, -503002, -503003})
"""A path refused, no permission on the file, a vanished file: only that file fails."""
FILE_NONEXIST = "STORAGE_FILE_NONEXIST"
"""A batch item's ``errmsg`` for a file WeChat does not know (deleted, or not visible yet)."""

_SECRET_HINT = "check `secret` / WXCLOUD_SECRET (the AppSecret of the mini program)"
_MALFORMED_HINT = (
    "the request was refused as malformed: check the cloud path (avoid "
    '` ^ " \\ { } [ ] ~ % # > < and control characters), otherwise report a bug'
)
_OPENAPI_PATHS = "/tcb/uploadfile, /tcb/batchdownloadfile and /tcb/batchdeletefile"
_PLAN_HINT = "raise the environment's plan in the 云开发 console (环境 → 资源包/套餐), or wait for the quota to renew"
_HINTS = {
    45009: "the daily quota of this API is used up: try again tomorrow",
    -501003: f"the cloud environment's request-count quota is used up: {_PLAN_HINT}",
    -501015: f"the cloud environment's read quota is used up: {_PLAN_HINT}",
    -501016: f"the cloud environment's write quota is used up: {_PLAN_HINT}",
    45011: "the per-minute quota stayed exhausted: try again in a few minutes",
    -501004: "too many requests at once for this environment: lower `concurrency`",
    -503002: "no permission on this cloud file: check the storage security rules (云开发控制台 → 存储 → 权限设置)",
    85113: "the open API service's token is still not ready (a first deployment): run again in a few minutes, "
    "not while the container starts",
    **{
        code: "the open API service sent no token: switch 开放接口服务 on (云托管 → 云调用) and deploy a new version "
        "of the service (versions deployed before keep calling without it)"
        for code in (41001, 85112)
    },
    43003: "the API needs https: `api_base` may be plain http only inside a Cloud Hosting container (auth: openapi)",
    40013: "the AppID is invalid: check `appid` / WXCLOUD_APPID",
    40125: f"the AppSecret is wrong: {_SECRET_HINT}",
    41002: "no AppID was sent: set `appid` / WXCLOUD_APPID",
    41004: "no AppSecret was sent: set `secret` / WXCLOUD_SECRET",
    40243: "the AppSecret is frozen: unfreeze or reset it in 微信公众平台 → 开发管理 → 开发设置",
    89503: "an administrator must first approve calls from this IP (see the notification in "
    "微信公众平台), then run again",
    89506: "an administrator refused this IP: its calls are blocked for 24 hours",
    89507: "an administrator refused this IP: its calls are blocked for 1 hour",
    85088: "cloud development (云开发) is not enabled for this AppID: open it in WeChat DevTools, "
    "or check `appid` / WXCLOUD_APPID",
    **{code: _MALFORMED_HINT for code in (40097, 40101, 44002, 47001, 40033)},
    **{code: "WeChat stayed busy: try again later" for code in BUSY_ERRORS - {-501004}},
}
_STALE_TOKEN_HINT = (
    "the access token was refused although stable_token still hands it out: another service of this mini "
    "program may be replacing tokens (force_refresh, or the classic cgi-bin/token); run again later, or "
    "set `force_refresh` to replace it (at most 20 a day, and it logs out the mini program's other services)"
)
_COS_TRANSIENT = frozenset({"RequestTimeOut", "RequestTimeout", "SlowDown"})
_COS_STALE_LINK = frozenset({"ExpiredToken", "InvalidToken", "RequestTimeTooSkewed", "InvalidAccessKeyId"})
_COS_PER_FILE = frozenset({"EntityTooLarge", "InvalidArgument", "KeyTooLong", "SignatureDoesNotMatch"})
_COS_HINTS = {
    "EntityTooLarge": "the file is larger than COS accepts: make it smaller",
    "KeyTooLong": "the cloud path is too long: use a shorter file name or folder",
    "SignatureDoesNotMatch": "COS could not sign this cloud path even with a fresh link: rename the file "
    "(letters, digits, - _ .)",
    "MalformedPOSTRequest": "the upload form was refused: please report a bug",
    "NoSuchBucket": "the storage bucket does not exist: check `env` / WXCLOUD_ENV",
    "RequestTimeOut": "uploads were too slow: lower `concurrency` or raise `timeout`",
}


class NetworkError(WxCloudError):
    """The service could not be reached (after retries)."""


class TransientError(NetworkError):
    """A fault worth retrying (connection dropped, HTTP 5xx); the retry loop never lets it out."""


class ServiceRefusal(WxCloudError):
    """The service refused every call of this kind (a path not whitelisted): final at once."""


class Cancelled(WxCloudError):
    """The run was interrupted (Ctrl-C): no new request is started."""


class ApiError(WxCloudError):
    """A WeChat JSON API answered with a non-zero ``errcode``."""

    def __init__(self, api: str, errcode: int, errmsg: str, hint: str = "") -> None:
        self.api = api
        self.errcode = errcode
        self.errmsg = redact(errmsg or "")
        match = re.search(r"rid:\s*([\w-]+)", self.errmsg)
        self.rid = match.group(1) if match else ""
        text = f"WeChat API {api} failed: errcode {errcode}: {self.errmsg or 'no message'}"
        super().__init__(f"{text}. {hint}" if hint else text)

    @property
    def per_file(self) -> bool:  # type: ignore[override]
        return self.errcode in PER_FILE_ERRCODES

    def stale_token(self) -> ApiError:
        """The same refusal, explained: the token was refused although stable_token hands it out still."""
        return ApiError(self.api, self.errcode, self.errmsg, _STALE_TOKEN_HINT)


class CosError(WxCloudError):
    """The COS upload host refused a file (it answers in XML)."""

    def __init__(self, status: int, code: str, message: str, request_id: str = "") -> None:
        self.status = status
        self.code = code
        self.cos_message = message
        self.request_id = request_id
        rid = f" (RequestId {request_id})" if request_id else ""
        hint = _COS_HINTS.get("RequestTimeOut" if code in _COS_TRANSIENT else code, "")
        super().__init__(f"COS upload failed: HTTP {status} {code}: {message}{rid}" + (f". {hint}" if hint else ""))

    @property
    def per_file(self) -> bool:  # type: ignore[override]
        return self.code in _COS_PER_FILE

    @property
    def transient(self) -> bool:
        """Worth retrying with backoff: COS was busy or the upload too slow."""
        return self.code in _COS_TRANSIENT or self.status >= 500

    @property
    def stale_link(self) -> bool:
        """The upload link (its signature) is no longer valid: ask for a new one at once."""
        return self.code in _COS_STALE_LINK or (self.code == "AccessDenied" and "expired" in self.cos_message.lower())


def http_status_error(api: str, status: int, headers: Mapping[str, str], host: str, *, openapi: bool) -> WxCloudError:
    """A 5xx answer: transient, except the open API service's bare 502 for a path it does not let through."""
    if openapi and status == 502 and not headers.get("x-openapi-seqid"):
        return ServiceRefusal(
            f"WeChat API {api}: HTTP 502 from {host} without x-openapi-seqid: the open API service does not let "
            f"/{api} through: add it in 云调用 → 微信令牌权限配置 (with {_OPENAPI_PATHS}), then run again"
        )
    return TransientError(f"WeChat API {api}: HTTP {status} from {host}")


def api_error(api: str, errcode: int, errmsg: str, env: str) -> ApiError:
    """The error for a non-zero ``errcode``, with what the user should do about it."""
    return ApiError(api, errcode, errmsg, _hint(api, errcode, errmsg, env))


def _hint(api: str, errcode: int, errmsg: str, env: str) -> str:
    if errcode == 40001 and api == "cgi-bin/stable_token":
        return f"the AppSecret is wrong: {_SECRET_HINT}"
    if errcode == 40164:
        ip = _caller_ip(errmsg) or "this machine's public IP"
        return f"add {ip} to the API IP whitelist: 微信公众平台 → 开发管理 → 开发设置 → IP白名单"
    if errcode == -501005:
        return (
            f"the cloud environment {env!r} is unknown or abnormal: check `env` / "
            f"WXCLOUD_ENV against the environment id in the 云开发 console"
        )
    if errcode == 48001:
        return f"this account is not authorised to call {api}"
    if errcode == 85107:
        return f"add /{api} in 云调用 → 微信令牌权限配置 (the open API service lets through {_OPENAPI_PATHS} only once listed)"
    if errcode in TOKEN_ERRORS:
        return "the access token was refused even after renewing it"
    return _HINTS.get(errcode, "")


def _caller_ip(errmsg: str) -> str:
    """The first IP address in a 40164 message (``invalid ip 1.2.3.4 ipv6 ::ffff:1.2.3.4, …``)."""
    for word in re.split(r"[\s,;]+", errmsg):
        try:
            return str(ipaddress.ip_address(word))
        except ValueError:
            continue
    return ""


def cos_error(status: int, content: bytes) -> CosError:
    """COS's ``<Error><Code/><Message/><RequestId/></Error>``, or whatever it sent instead."""
    try:
        root = ElementTree.fromstring(content)
    except ElementTree.ParseError:
        text = " ".join(content[:200].decode("utf-8", "replace").split())
        return CosError(status, "UnknownError", text or "no error body")
    fields = {child.tag.rsplit("}", 1)[-1]: (child.text or "").strip() for child in root}
    return CosError(
        status, fields.get("Code") or "UnknownError", fields.get("Message") or "no message", fields.get("RequestId", "")
    )
