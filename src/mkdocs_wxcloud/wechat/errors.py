"""What the service answers when it refuses, as one-line errors that say what to do.

The JSON APIs answer HTTP 200 with an ``errcode``; COS answers an HTTP status with an XML body.
Both become errors whose message ends with a hint for the codes a user can act on (section 1 and 2
of ``wechat-api.md``); the ``rid`` WeChat appends is kept, since support asks for it.
"""

from __future__ import annotations

import ipaddress
import re
import xml.etree.ElementTree as ElementTree

from ..errors import WxCloudError, redact

TOKEN_ERRORS = frozenset({40001, 40014, 42001})
BUSY_ERRORS = frozenset({-1, -1000, -501001, -501002, -501003, -501004})
MINUTE_QUOTA = 45011
FILE_NONEXIST = "STORAGE_FILE_NONEXIST"
"""A batch item's ``errmsg`` for a file WeChat does not know (deleted, or not visible yet)."""

_SECRET_HINT = "check `secret` / WXCLOUD_SECRET (the AppSecret of the mini program)"
_MALFORMED_HINT = (
    "the request was refused as malformed: check the cloud path (avoid "
    '` ^ " \\ { } [ ] ~ % # > < and control characters), otherwise report a bug'
)
_HINTS = {
    45009: "the daily quota of this API is used up: try again tomorrow",
    MINUTE_QUOTA: "the per-minute quota stayed exhausted: try again in a few minutes",
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
    **{code: "the access token was refused even after renewing it" for code in TOKEN_ERRORS},
    **{code: "WeChat stayed busy: try again later" for code in BUSY_ERRORS},
}


class NetworkError(WxCloudError):
    """The service could not be reached (after retries)."""


class TransientError(NetworkError):
    """A fault worth retrying (connection dropped, HTTP 5xx); the retry loop never lets it out."""


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


class CosError(WxCloudError):
    """The COS upload host refused a file (it answers in XML)."""

    def __init__(self, status: int, code: str, message: str, request_id: str = "") -> None:
        self.status = status
        self.code = code
        self.cos_message = message
        self.request_id = request_id
        rid = f" (RequestId {request_id})" if request_id else ""
        super().__init__(f"COS upload failed: HTTP {status} {code}: {message}{rid}")


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
