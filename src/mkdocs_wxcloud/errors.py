"""Errors a user can act on, and the redaction that keeps secrets out of them.

Every exception that reaches a user is a :class:`WxCloudError` whose ``str()`` is one line that
says what is wrong and what to do. Tokens travel in URLs and secrets in request bodies, so any
text that may carry either goes through :func:`redact` before it is shown or logged.
"""

from __future__ import annotations

import re
import threading

_QUERY_SECRET = re.compile(
    r"((?:cloudbase_)?access_token|secret|appsecret|authorization|x-cos-security-token)"
    r"(=|\"?\s*:\s*\"?)[^&\s\"',;}]+",
    re.IGNORECASE,
)
_known: set[str] = set()
_known_lock = threading.Lock()


def register_secret(value: str | None) -> None:
    """Remember a secret value (AppSecret, token) so that :func:`redact` masks it anywhere."""
    if value and len(value) >= 6:
        with _known_lock:
            _known.add(value)


def redact(text: object) -> str:
    """Return ``str(text)`` with every known secret and every token-bearing parameter masked."""
    out = _QUERY_SECRET.sub(lambda m: f"{m.group(1)}{m.group(2)}***", str(text))
    with _known_lock:
        known = sorted(_known, key=len, reverse=True)
    for value in known:
        if value in out:
            out = out.replace(value, "***")
    return out


class WxCloudError(Exception):
    """An error with a one-line, secret-free message meant for the user."""

    def __init__(self, message: str) -> None:
        super().__init__(redact(" ".join(str(message).split())))


class ConfigError(WxCloudError):
    """A missing or invalid option, variable or file: fixed by the user, never retried."""


class ManifestError(WxCloudError):
    """The manifest cannot be read or does not belong to this site; it is left untouched."""


class NetworkError(WxCloudError):
    """The service could not be reached (after retries)."""


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
