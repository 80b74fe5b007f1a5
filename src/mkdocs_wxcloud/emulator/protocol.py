"""The rules of the protocol that every part of the emulator applies the same way as WeChat.

Failures are exceptions that the HTTP layer turns into the service's own answers: HTTP 200 with an
``errcode`` for the JSON APIs, an HTTP status with an XML body for COS and the download host.
"""

from __future__ import annotations

import hmac
import json
import re
import secrets
from typing import Any
from urllib.parse import quote

DEFAULT_APPID = "wx0000000000e0a7e5"
DEFAULT_SECRET = "emulator-app-secret-0000000000000"
DEFAULT_ENV = "emulator-0a1b2c"
HEALTH_PATH = "/__emulator__/health"
MAX_BATCH = 50
MAX_JSON_BODY = 1 << 20  # 1 MiB: the biggest real body, a 50-item batch of 850-byte paths, is under 60 KiB
MAX_PATH_BYTES = 850

_API_PATHS = ("/tcb/uploadfile", "/tcb/batchdownloadfile", "/tcb/batchdeletefile")
_TOKEN_PATHS = ("/cgi-bin/token", "/cgi-bin/stable_token")
_ESCAPE = re.compile(r"(?<!\\)(?:\\\\)*\\u([0-9a-fA-F]{4})")
_DECIMAL = re.compile(r"[0-9]{1,18}")
_CHARSET_MSG = "invalid charset. please check your request, if include \\uxxxx will create fail!"


class ApiFailure(Exception):
    """A JSON API failure: answered with HTTP 200 and this errcode."""

    def __init__(self, code: int, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message

    def answer(self) -> dict[str, Any]:
        return {"errcode": self.code, "errmsg": f"{self.message} rid: {rid()}"}


class CosFailure(Exception):
    """A COS or download-host failure: answered with this HTTP status and an XML body."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message


def rid() -> str:
    return "-".join(secrets.token_hex(4) for _ in range(3))


def bucket_name(env: str) -> str:
    """The bucket of an environment, fixed so that URLs survive restarts of the emulator."""
    return f"7765-{env}-1300000000"


def endpoint(path: str) -> str:
    """Which host a request path stands for: token, api, cos, download or other."""
    if path in _TOKEN_PATHS:
        return "token"
    if path in _API_PATHS:
        return "api"
    if path.startswith("/cos/"):
        return "cos"
    if path.startswith("/dl/"):
        return "download"
    return "other"


def parse_json(raw: bytes) -> dict[str, Any]:
    """Decode a request body the way WeChat does, refusing escaped non-ASCII characters."""
    if not raw.strip():
        raise ApiFailure(44002, "empty post data")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise ApiFailure(40033, _CHARSET_MSG) from None
    try:
        body = json.loads(text)
    except (ValueError, RecursionError):  # RecursionError: nesting too deep for the decoder
        raise ApiFailure(47001, "data format error") from None
    if not isinstance(body, dict):
        raise ApiFailure(47001, "data format error: the body must be a JSON object")
    if any(int(m.group(1), 16) >= 0x80 for m in _ESCAPE.finditer(text)):
        raise ApiFailure(40033, _CHARSET_MSG)
    return body


def decimal(text: str) -> int | None:
    """``text`` as a number of 1 to 18 ASCII digits, else None (``int()`` also takes "+1", " 1",
    "1_0" or "²", and raises on more than 4300 digits)."""
    return int(text) if _DECIMAL.fullmatch(text) else None


def same_secret(given: str, expected: str) -> bool:
    """Compare credentials in constant time, as UTF-8 bytes: ``compare_digest`` refuses non-ASCII str."""
    return hmac.compare_digest(given.encode("utf-8", "surrogatepass"), expected.encode("utf-8", "surrogatepass"))


def require(body: dict[str, Any], name: str, kind: type) -> Any:
    """Return ``body[name]``, which must be present and of type ``kind``."""
    if body.get(name) is None:
        raise ApiFailure(40101, f"missing required parameter: {name}")
    value = body[name]
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        raise ApiFailure(40097, f"invalid args: {name} must be a {kind.__name__}")
    return value


def check_path(path: str) -> None:
    """Apply the documented cloud-path rules (errcode 40097).

    ``+``, ``&``, ``@``, ``=`` and the like are kept (percent-encoded in URLs, served back as
    stored); ``?`` and ``#`` are refused, the strict reading of "a ``?`` splits the COS URL".
    """
    if not path:
        raise ApiFailure(40097, "invalid args: path is empty")
    if path.startswith("/"):
        raise ApiFailure(40097, "invalid args: path must not start with '/'")
    if "//" in path:
        raise ApiFailure(40097, "invalid args: path must not contain '//'")
    if any(ord(c) < 0x20 or ord(c) == 0x7F for c in path):
        raise ApiFailure(40097, "invalid args: path contains control characters")
    if "?" in path or "#" in path:  # they would split the COS URL: its query or fragment
        raise ApiFailure(40097, "invalid args: path must not contain '?' or '#'")
    size = len(quote(path, safe="/"))
    if size > MAX_PATH_BYTES:
        raise ApiFailure(40097, f"invalid args: path is {size} bytes URL-encoded, at most {MAX_PATH_BYTES}")


def split_file_id(file_id: str) -> tuple[str, str, str] | None:
    """``cloud://env.bucket/path`` -> (env, bucket, path), or None when it is not one."""
    if not file_id.startswith("cloud://"):
        return None
    head, _, path = file_id[len("cloud://") :].partition("/")
    env, _, bucket = head.partition(".")
    return (env, bucket, path) if env and bucket and path else None
