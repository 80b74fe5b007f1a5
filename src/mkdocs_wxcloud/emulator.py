"""A local emulator of the WeChat cloud-storage HTTP API, for tests and offline previews.

One HTTP port serves the JSON APIs of ``api.weixin.qq.com`` (``/cgi-bin/stable_token``,
``/cgi-bin/token``, ``/tcb/uploadfile``, ``/tcb/batchdownloadfile``, ``/tcb/batchdeletefile``),
the COS upload host (``/cos/<bucket>/<path>``) and the download host (``/dl/<bucket>/<path>``).

It follows ``wechat-api.md`` strictly: whatever the real service is known to reject is rejected
here too, so a client that passes against the emulator is honest for the real service. Notably:

* JSON bodies must be UTF-8 without ``\\uXXXX`` escapes of non-ASCII characters (errcode 40033).
* In the multipart COS upload the ``file`` part must come last (400 ``MalformedPOSTRequest``).
* A COS upload without the right ``x-cos-meta-fileid`` is accepted with 204, exactly like the real
  COS, but the file stays invisible to WeChat: ``batchdownloadfile`` answers
  ``STORAGE_FILE_NONEXIST`` for it and ``batchdeletefile`` does not find it.

Latency and faults (busy, quota, HTTP 502, dropped connections, expired tokens or upload links)
can be injected at random or deterministically with :meth:`Emulator.fail_next`.
"""

from __future__ import annotations

import hashlib
import hmac
import io
import json
import mimetypes
import mmap
import os
import random
import re
import secrets
import shutil
import socket
import sys
import tempfile
import threading
import time
from collections import Counter
from dataclasses import dataclass
from email.message import Message
from email.parser import BytesHeaderParser
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, BinaryIO, Iterable
from urllib.parse import parse_qs, quote, unquote, urlsplit
from xml.sax.saxutils import escape

DEFAULT_APPID = "wx0000000000e0a7e5"
DEFAULT_SECRET = "emulator-app-secret-0000000000000"
DEFAULT_ENV = "emulator-0a1b2c"

HEALTH_PATH = "/__emulator__/health"
FAULT_KINDS = (
    "busy", "quota", "http502", "drop", "token_expired", "upload_expired", "daily_quota", "not_enabled",
)  # fmt: skip
_API_ONLY_FAULTS = frozenset(("token_expired", "daily_quota", "not_enabled"))
MAX_BATCH = 50
MAX_PATH_BYTES = 850

_ANY_ENDPOINT_FAULTS = frozenset(("busy", "quota", "http502", "drop"))
_MIN_TOKEN_LEFT = 300
_MAX_PRE_DATA = 20 * 1024  # COS limits the form fields preceding the file, like S3
_CHUNK = 1 << 20
_STATE_FILE = "state.json"
_ESCAPE = re.compile(r"(?<!\\)(?:\\\\)*\\u([0-9a-fA-F]{4})")
_CHARSET_MSG = "invalid charset. please check your request, if include \\uxxxx will create fail!"
_BAD_GATEWAY = (
    b"<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n"
    b"<center><h1>502 Bad Gateway</h1></center>\r\n<hr><center>stgw</center>\r\n"
    b"</body>\r\n</html>\r\n"
)
_API_PATHS = ("/tcb/uploadfile", "/tcb/batchdownloadfile", "/tcb/batchdeletefile")
_TOKEN_PATHS = ("/cgi-bin/token", "/cgi-bin/stable_token")


class _ApiError(Exception):
    """A JSON API failure: answered with HTTP 200 and this errcode."""

    def __init__(self, code: int, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message

    def answer(self) -> dict[str, Any]:
        return {"errcode": self.code, "errmsg": f"{self.message} rid: {_rid()}"}


class _CosError(Exception):
    """A COS or download-host failure: answered with this HTTP status and an XML body."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message


@dataclass
class _Grant:
    """One upload authorization handed out by ``uploadfile``."""

    env: str
    bucket: str
    path: str
    token: str
    cos_file_id: str
    expires: float


@dataclass
class _Stored:
    """One object in a bucket; ``data`` holds the bytes only when there is no data_dir."""

    env: str
    visible: bool
    etag: str
    size: int
    data: bytes | None = None


def _rid() -> str:
    return "-".join(secrets.token_hex(4) for _ in range(3))


def bucket_name(env: str) -> str:
    """The bucket of an environment, fixed so that URLs survive restarts of the emulator."""
    return f"7765-{env}-1300000000"


def _endpoint(path: str) -> str:
    if path in _TOKEN_PATHS:
        return "token"
    if path in _API_PATHS:
        return "api"
    if path.startswith("/cos/"):
        return "cos"
    if path.startswith("/dl/"):
        return "download"
    return "other"


def _fault_applies(kind: str, endpoint: str) -> bool:
    return (
        kind in _ANY_ENDPOINT_FAULTS
        or (kind in _API_ONLY_FAULTS and endpoint == "api")
        or (kind == "upload_expired" and endpoint == "cos")
    )


def _parse_json(raw: bytes) -> dict[str, Any]:
    """Decode a request body the way WeChat does, refusing escaped non-ASCII characters."""
    if not raw.strip():
        raise _ApiError(44002, "empty post data")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise _ApiError(40033, _CHARSET_MSG) from None
    try:
        body = json.loads(text)
    except ValueError:
        raise _ApiError(47001, "data format error") from None
    if not isinstance(body, dict):
        raise _ApiError(47001, "data format error: the body must be a JSON object")
    if any(int(m.group(1), 16) >= 0x80 for m in _ESCAPE.finditer(text)):
        raise _ApiError(40033, _CHARSET_MSG)
    return body


def _require(body: dict[str, Any], name: str, kind: type) -> Any:
    """Return ``body[name]``, which must be present and of type ``kind``."""
    if body.get(name) is None:
        raise _ApiError(40101, f"missing required parameter: {name}")
    value = body[name]
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        raise _ApiError(40097, f"invalid args: {name} must be a {kind.__name__}")
    return value


def _check_path(path: str) -> None:
    """Apply the documented cloud-path rules (errcode 40097)."""
    if not path:
        raise _ApiError(40097, "invalid args: path is empty")
    if path.startswith("/"):
        raise _ApiError(40097, "invalid args: path must not start with '/'")
    if "//" in path:
        raise _ApiError(40097, "invalid args: path must not contain '//'")
    if any(ord(c) < 0x20 or ord(c) == 0x7F for c in path):
        raise _ApiError(40097, "invalid args: path contains control characters")
    size = len(quote(path, safe="/"))
    if size > MAX_PATH_BYTES:
        raise _ApiError(
            40097, f"invalid args: path is {size} bytes URL-encoded, at most {MAX_PATH_BYTES}"
        )


def _split_file_id(file_id: str) -> tuple[str, str, str] | None:
    """``cloud://env.bucket/path`` -> (env, bucket, path), or None when it is not one."""
    if not file_id.startswith("cloud://"):
        return None
    head, _, path = file_id[len("cloud://") :].partition("/")
    env, _, bucket = head.partition(".")
    return (env, bucket, path) if env and bucket and path else None


def _malformed(detail: str = "") -> _CosError:
    text = "The body of your POST request is not well-formed multipart/form-data."
    return _CosError(400, "MalformedPOSTRequest", f"{text} {detail}".strip())


def _parse_form(mm: mmap.mmap, content_type: str) -> tuple[dict[str, str], tuple[int, int]]:
    """Parse a spooled multipart/form-data body in place.

    Returns the text fields (names lower-cased) and the byte range of the ``file`` part, which must
    be the last part. Working on the mmap of the spool keeps big files out of memory.
    """
    header = Message()
    header["Content-Type"] = content_type
    boundary = header.get_param("boundary")
    if header.get_content_type() != "multipart/form-data" or not isinstance(boundary, str):
        raise _malformed("Expected a multipart/form-data Content-Type with a boundary.")
    delimiter = b"--" + boundary.encode("latin-1")
    if mm[: len(delimiter)] == delimiter:
        pos = len(delimiter)
    else:
        found = mm.find(b"\r\n" + delimiter)
        if found < 0:
            raise _malformed()
        pos = found + 2 + len(delimiter)
    fields: dict[str, str] = {}
    file_range: tuple[int, int] | None = None
    pre_data = 0
    while mm[pos : pos + 2] != b"--":
        if mm[pos : pos + 2] != b"\r\n":
            raise _malformed()
        headers_end = mm.find(b"\r\n\r\n", pos)
        if headers_end < 0:
            raise _malformed()
        part = BytesHeaderParser().parsebytes(mm[pos + 2 : headers_end + 2])
        start = headers_end + 4
        end = mm.find(b"\r\n" + delimiter, start)
        name = part.get_param("name", header="content-disposition")
        if end < 0 or not isinstance(name, str):
            raise _malformed()
        if file_range is not None:
            raise _malformed("The file field must be the last field of the form.")
        if name.lower() == "file":
            file_range = (start, end)
        else:
            pre_data += end - start
            if pre_data > _MAX_PRE_DATA:
                raise _CosError(
                    400,
                    "MaxPostPreDataLengthExceeded",
                    "Your POST request fields preceding the upload file were too large.",
                )
            fields[name.lower()] = mm[start:end].decode("utf-8", "replace")
        pos = end + 2 + len(delimiter)
    if file_range is None:
        raise _CosError(
            400, "InvalidArgument", "POST requires exactly one file upload per request."
        )
    return fields, file_range


class Emulator:
    """The WeChat cloud-storage emulator: configure, :meth:`start`, use :attr:`base_url`, stop.

    With ``data_dir`` the objects and a JSON state file are kept on disk so that a restart on the
    same port serves the same URLs and files; without it everything lives in memory.
    """

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        data_dir: Path | str | None = None,
        *,
        appid: str = DEFAULT_APPID,
        secret: str = DEFAULT_SECRET,
        envs: Iterable[str] = (DEFAULT_ENV,),
        latency: float = 0.0,
        fault_rate: float = 0.0,
        faults: Iterable[str] = ("busy", "quota", "http502", "drop"),
        seed: int | None = None,
        token_ttl: int = 7200,
        upload_ttl: int = 900,
        private: bool = False,
        ip_whitelist: list[str] | None = None,
        open_api: bool = False,
        cloudbase_token: str | None = None,
        verbose: bool = False,
    ) -> None:
        self.host = host
        self.port = port
        self.data_dir = Path(data_dir) if data_dir is not None else None
        self.appid = appid
        self.envs = tuple(envs)
        if not self.envs or any(not e or "." in e or "/" in e for e in self.envs):
            raise ValueError("envs must be non-empty environment ids without '.' or '/'")
        self.faults = tuple(faults)
        unknown = set(self.faults) - set(FAULT_KINDS)
        if unknown:
            raise ValueError(f"unknown fault kinds {sorted(unknown)}; known: {FAULT_KINDS}")
        if not 0.0 <= fault_rate <= 1.0:
            raise ValueError("fault_rate must be between 0 and 1")
        self.fault_rate = fault_rate
        self.latency = latency
        self.token_ttl = token_ttl
        self.upload_ttl = upload_ttl
        self.private = private
        self.open_api = open_api
        self.verbose = verbose
        self._secret = secret
        self._ip_whitelist = None if ip_whitelist is None else set(ip_whitelist)
        self._cloudbase_token = cloudbase_token
        self._link_key = hashlib.sha256(b"download-link:" + secret.encode()).digest()
        self._rng = random.Random(seed)
        self._lock = threading.Lock()
        self._counts: Counter[str] = Counter()
        self._queued: list[list[Any]] = []  # [kind, remaining, path_prefix]
        self._tokens: dict[str, float] = {}  # token -> expiry (unix time)
        self._stable: str | None = None
        self._classic: str | None = None
        self._grants: dict[str, _Grant] = {}  # authorization -> grant
        self._files: dict[tuple[str, str], _Stored] = {}  # (bucket, path) -> object
        self._buckets = {env: bucket_name(env) for env in self.envs}
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        if self.data_dir is not None:
            self._load_state()

    # -- lifecycle ---------------------------------------------------------------------------

    @property
    def base_url(self) -> str:
        """The API base, standing in for ``https://api.weixin.qq.com``."""
        host = "127.0.0.1" if self.host in ("", "0.0.0.0") else self.host
        return f"http://{host}:{self.port}"

    def start(self) -> Emulator:
        """Bind and serve in a daemon thread."""
        if self._server is None:
            self._server = _Server((self.host, self.port), self)
            self.port = self._server.server_address[1]
            self._thread = threading.Thread(
                target=self._server.serve_forever,
                args=(0.05,),  # poll interval: keeps stop() fast
                name="wxcloud-emulator",
                daemon=True,
            )
            self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and cut open keep-alive connections, so no client talks to a stale state."""
        if self._server is None:
            return
        self._server.shutdown()
        self._server.server_close()
        self._server.close_connections()
        if self._thread is not None:
            self._thread.join()
        self._server = None
        self._thread = None

    def __enter__(self) -> Emulator:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- test controls -----------------------------------------------------------------------

    def request_count(self, path_prefix: str = "") -> int:
        """Requests received on paths starting with ``path_prefix`` (health checks excluded)."""
        with self._lock:
            return sum(n for path, n in self._counts.items() if path.startswith(path_prefix))

    def reset_counts(self) -> None:
        with self._lock:
            self._counts.clear()

    def fail_next(self, kind: str, count: int = 1, path_prefix: str = "") -> None:
        """Inject fault ``kind`` into the next ``count`` requests it applies to under the prefix."""
        if kind not in FAULT_KINDS:
            raise ValueError(f"unknown fault kind {kind!r}; known: {FAULT_KINDS}")
        if count < 1:
            raise ValueError("count must be at least 1")
        with self._lock:
            self._queued.append([kind, count, path_prefix])

    def expire_tokens(self) -> None:
        """Make every issued access token expired now (42001 from then on)."""
        now = time.time()
        with self._lock:
            for token, expires in self._tokens.items():
                self._tokens[token] = min(expires, now)

    def expire_upload_links(self) -> None:
        """Make every issued upload authorization expired now."""
        now = time.time()
        with self._lock:
            for grant in self._grants.values():
                grant.expires = min(grant.expires, now)

    def stored_files(self, env: str | None = None) -> dict[str, bytes]:
        """Cloud path -> bytes of the files visible to WeChat (in ``env``, or in every env)."""
        with self._lock:
            items = [(k, v) for k, v in self._files.items() if v.visible and env in (None, v.env)]
        return {path: self._read_all(bucket, path, stored) for (bucket, path), stored in items}

    def file_ids(self, env: str | None = None) -> dict[str, str]:
        """Cloud path -> file_id of the files visible to WeChat (in ``env``, or in every env)."""
        with self._lock:
            return {
                path: f"cloud://{stored.env}.{bucket}/{path}"
                for (bucket, path), stored in self._files.items()
                if stored.visible and env in (None, stored.env)
            }

    # -- request bookkeeping -----------------------------------------------------------------

    def _count(self, path: str) -> None:
        with self._lock:
            self._counts[path] += 1

    def _draw_fault(self, path: str, endpoint: str) -> str | None:
        """The fault to inject into this request: queued ones first, then the random ones."""
        with self._lock:
            for index, (kind, remaining, prefix) in enumerate(self._queued):
                if path.startswith(prefix) and _fault_applies(kind, endpoint):
                    if remaining <= 1:
                        del self._queued[index]
                    else:
                        self._queued[index][1] = remaining - 1
                    return kind
            kinds = [k for k in self.faults if _fault_applies(k, endpoint)]
            if self.fault_rate > 0 and kinds and self._rng.random() < self.fault_rate:
                return self._rng.choice(kinds)
        return None

    # -- access tokens -----------------------------------------------------------------------

    def _check_credentials(self, grant_type: Any, appid: Any, secret: Any, ip: str) -> None:
        if grant_type != "client_credential":
            raise _ApiError(40002, "invalid grant_type")
        if not appid:
            raise _ApiError(41002, "appid missing")
        if not secret:
            raise _ApiError(41004, "appsecret missing")
        if not isinstance(appid, str) or appid != self.appid:
            raise _ApiError(40013, "invalid appid")
        if self._ip_whitelist is not None and ip not in self._ip_whitelist:
            raise _ApiError(40164, f"invalid ip {ip} ipv6 ::ffff:{ip}, not in whitelist")
        if not isinstance(secret, str) or not hmac.compare_digest(secret, self._secret):
            raise _ApiError(40125, "invalid appsecret")

    def _issue_token(self, now: float) -> str:
        token = secrets.token_urlsafe(102)  # 136 characters, like the real ones
        self._tokens[token] = now + self.token_ttl
        return token

    def _classic_token(self, query: dict[str, str], ip: str) -> dict[str, Any]:
        """``GET /cgi-bin/token``: every call invalidates the previous classic token at once."""
        self._check_credentials(
            query.get("grant_type"), query.get("appid"), query.get("secret"), ip
        )
        with self._lock:
            if self._classic is not None:
                self._tokens.pop(self._classic, None)
            self._classic = self._issue_token(time.time())
            return {"access_token": self._classic, "expires_in": self.token_ttl}

    def _stable_token(self, body: dict[str, Any], ip: str) -> dict[str, Any]:
        """``POST /cgi-bin/stable_token``: the same token while it has enough time left.

        A token is handed out again only with at least 300 s left (half the TTL when the TTL is
        shorter); otherwise a new one is issued and the old stays valid until its own expiry.
        """
        force = body.get("force_refresh", False)
        if not isinstance(force, bool):
            raise _ApiError(40097, "invalid args: force_refresh must be a boolean")
        self._check_credentials(body.get("grant_type"), body.get("appid"), body.get("secret"), ip)
        now = time.time()
        with self._lock:
            current = self._stable
            if current is not None and force:
                self._tokens.pop(current, None)
            elif current is not None:
                left = self._tokens.get(current, now) - now
                if left >= min(_MIN_TOKEN_LEFT, self.token_ttl / 2):
                    return {"access_token": current, "expires_in": int(left)}
            self._stable = self._issue_token(now)
            return {"access_token": self._stable, "expires_in": self.token_ttl}

    def _authorize(self, query: dict[str, str]) -> None:
        """Check the credential of a ``/tcb/`` call: access_token, cloudbase token or open API."""
        token = query.get("access_token")
        cloudbase = query.get("cloudbase_access_token")
        if token:
            with self._lock:
                expires = self._tokens.get(token)
            if expires is None:
                raise _ApiError(
                    40001, "invalid credential, access_token is invalid or not latest"
                )
            if expires <= time.time():
                raise _ApiError(42001, "access_token expired")
        elif cloudbase:
            if self._cloudbase_token is None or not hmac.compare_digest(
                cloudbase, self._cloudbase_token
            ):
                raise _ApiError(40001, "invalid credential, cloudbase_access_token is invalid")
        elif not self.open_api:
            raise _ApiError(41001, "access_token missing")

    # -- storage APIs ------------------------------------------------------------------------

    def _env(self, body: dict[str, Any]) -> str:
        env = _require(body, "env", str)
        if env not in self.envs:
            raise _ApiError(
                -501005, f"INVALID_ENV: environment {env} does not exist or is abnormal"
            )
        return env

    def _upload_file(self, body: dict[str, Any]) -> dict[str, Any]:
        """``/tcb/uploadfile``: hand out a short-lived authorization to POST one path to COS."""
        env = self._env(body)
        path = _require(body, "path", str)
        _check_path(path)
        bucket = self._buckets[env]
        now = int(time.time())
        end = now + self.upload_ttl
        authorization = (
            f"q-sign-algorithm=sha1&q-ak=AKIDemulator{secrets.token_hex(8)}"
            f"&q-sign-time={now};{end}&q-key-time={now};{end}"
            f"&q-header-list=&q-url-param-list=&q-signature={secrets.token_hex(20)}"
        )
        grant = _Grant(
            env, bucket, path, secrets.token_urlsafe(96), secrets.token_urlsafe(48), float(end)
        )
        with self._lock:
            self._grants[authorization] = grant
        return {
            "url": f"{self.base_url}/cos/{bucket}/{quote(path, safe='/')}",
            "authorization": authorization,
            "token": grant.token,
            "cos_file_id": grant.cos_file_id,
            "file_id": f"cloud://{env}.{bucket}/{path}",
        }

    def _visible(self, env: str, file_id: Any) -> tuple[str, str] | None:
        """The (bucket, path) of a file WeChat can see in ``env``; the caller holds the lock."""
        parts = _split_file_id(file_id) if isinstance(file_id, str) else None
        if parts is None or parts[0] != env or parts[1] != self._buckets[env]:
            return None
        stored = self._files.get((parts[1], parts[2]))
        return (parts[1], parts[2]) if stored is not None and stored.visible else None

    def _batch(self, body: dict[str, Any], name: str) -> list[Any]:
        items = _require(body, name, list)
        if len(items) > MAX_BATCH:
            raise _ApiError(
                40097, f"invalid args: {name} has {len(items)} items, at most {MAX_BATCH} a call"
            )
        return items

    def _batch_download(self, body: dict[str, Any]) -> dict[str, Any]:
        """``/tcb/batchdownloadfile``: links per file; unknown files fail per item only."""
        env = self._env(body)
        items = self._batch(body, "file_list")
        for index, item in enumerate(items):
            if not isinstance(item, dict):
                raise _ApiError(40097, f"invalid args: file_list[{index}] must be an object")
            _require(item, "fileid", str)
            if _require(item, "max_age", int) < 0:
                raise _ApiError(40097, f"invalid args: file_list[{index}].max_age is negative")
        now = int(time.time())
        answers = []
        with self._lock:
            for item in items:
                found = self._visible(env, item["fileid"])
                if found is None:
                    answers.append(
                        {
                            "fileid": item["fileid"],
                            "download_url": "",
                            "status": 1,
                            "errmsg": "STORAGE_FILE_NONEXIST",
                        }
                    )
                    continue
                bucket, path = found
                url = f"{self.base_url}/dl/{bucket}/{quote(path, safe='/')}"
                if self.private:
                    expires = now + item["max_age"]
                    url += f"?sign={self._link_sign(bucket, path, expires)}&t={expires}"
                answers.append(
                    {"fileid": item["fileid"], "download_url": url, "status": 0, "errmsg": "ok"}
                )
        return {"file_list": answers}

    def _batch_delete(self, body: dict[str, Any]) -> dict[str, Any]:
        """``/tcb/batchdeletefile``: delete visible files; unknown ones fail per item only."""
        env = self._env(body)
        file_ids = self._batch(body, "fileid_list")
        if not all(isinstance(f, str) for f in file_ids):
            raise _ApiError(40097, "invalid args: fileid_list must hold strings")
        answers = []
        with self._lock:
            for file_id in file_ids:
                found = self._visible(env, file_id)
                if found is None:
                    answers.append(
                        {"fileid": file_id, "status": 1, "errmsg": "STORAGE_FILE_NONEXIST"}
                    )
                    continue
                del self._files[found]
                if self.data_dir is not None:
                    self._blob(*found).unlink(missing_ok=True)
                answers.append({"fileid": file_id, "status": 0, "errmsg": "ok"})
            if self.data_dir is not None and any(a["status"] == 0 for a in answers):
                self._save_state()
        return {"delete_list": answers}

    # -- COS upload and downloads ------------------------------------------------------------

    def _cos_post(self, bucket: str, content_type: str, spool: BinaryIO, size: int) -> str:
        """Check and store a multipart POST Object; returns the ETag."""
        if bucket not in self._buckets.values():
            raise _CosError(404, "NoSuchBucket", "The specified bucket does not exist.")
        if size == 0:
            raise _malformed()
        with mmap.mmap(spool.fileno(), size, access=mmap.ACCESS_READ) as mm:
            fields, (start, end) = _parse_form(mm, content_type)
            grant = self._check_grant(bucket, fields)
            visible = fields.get("x-cos-meta-fileid") == grant.cos_file_id
            return self._store(grant, mm, start, end, visible)

    def _check_grant(self, bucket: str, fields: dict[str, str]) -> _Grant:
        key = fields.get("key")
        if not key:
            raise _CosError(400, "InvalidArgument", "Bucket POST must contain a field named 'key'.")
        signature = fields.get("signature")
        if not signature:
            raise _CosError(403, "AccessDenied", "Access Denied.")
        with self._lock:
            grant = self._grants.get(signature)
        if grant is None or grant.bucket != bucket or grant.path != key:
            raise _CosError(
                403,
                "SignatureDoesNotMatch",
                "The calculated signature does not match the provided one.",
            )
        if grant.expires <= time.time():
            raise _CosError(403, "AccessDenied", "Request has expired")
        if fields.get("x-cos-security-token") != grant.token:
            raise _CosError(
                400, "InvalidToken", "The provided token is malformed or otherwise invalid."
            )
        return grant

    def _store(self, grant: _Grant, mm: mmap.mmap, start: int, end: int, visible: bool) -> str:
        """Keep the bytes ``mm[start:end]``, overwriting the path; the file_id does not change."""
        md5 = hashlib.md5(usedforsecurity=False)
        where = (grant.bucket, grant.path)
        if self.data_dir is None:
            data = mm[start:end]
            md5.update(data)
            etag = f'"{md5.hexdigest()}"'
            with self._lock:
                self._files[where] = _Stored(grant.env, visible, etag, len(data), data)
            return etag
        fd, tmp = tempfile.mkstemp(dir=self.data_dir / "objects", prefix=".upload-")
        try:
            with os.fdopen(fd, "wb") as out:
                for offset in range(start, end, _CHUNK):
                    chunk = mm[offset : min(offset + _CHUNK, end)]
                    md5.update(chunk)
                    out.write(chunk)
            etag = f'"{md5.hexdigest()}"'
            with self._lock:
                os.replace(tmp, self._blob(*where))
                self._files[where] = _Stored(grant.env, visible, etag, end - start)
                self._save_state()
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        return etag

    def _link_sign(self, bucket: str, path: str, expires: int) -> str:
        message = f"{bucket}/{path}\n{expires}".encode()
        return hmac.new(self._link_key, message, hashlib.sha256).hexdigest()[:32]

    def _open_download(
        self, bucket: str, path: str, query: dict[str, str]
    ) -> tuple[_Stored, BinaryIO]:
        """The object and a reader for ``GET /dl/...``; private links must carry a valid sign."""
        if self.private:
            sign, expires = query.get("sign", ""), query.get("t", "")
            if not sign or not expires.isdigit():
                raise _CosError(403, "AccessDenied", "Access Denied: sign and t are required.")
            if not hmac.compare_digest(sign, self._link_sign(bucket, path, int(expires))):
                raise _CosError(403, "AccessDenied", "Access Denied: the sign does not match.")
            if int(expires) <= time.time():
                raise _CosError(403, "AccessDenied", "Request has expired")
        with self._lock:
            stored = self._files.get((bucket, path))
        if stored is not None:
            if stored.data is not None:
                return stored, io.BytesIO(stored.data)
            try:
                return stored, open(self._blob(bucket, path), "rb")
            except FileNotFoundError:
                pass  # deleted meanwhile
        raise _CosError(404, "NoSuchKey", "The specified key does not exist.")

    # -- persistence -------------------------------------------------------------------------

    def _blob(self, bucket: str, path: str) -> Path:
        """Where an object's bytes live: hashed, so any cloud path maps to a safe file name."""
        assert self.data_dir is not None
        name = hashlib.sha256(f"{bucket}/{path}".encode()).hexdigest()
        return self.data_dir / "objects" / name

    def _read_all(self, bucket: str, path: str, stored: _Stored) -> bytes:
        return stored.data if stored.data is not None else self._blob(bucket, path).read_bytes()

    def _load_state(self) -> None:
        assert self.data_dir is not None
        (self.data_dir / "objects").mkdir(parents=True, exist_ok=True)
        state_file = self.data_dir / _STATE_FILE
        if not state_file.exists():
            return
        try:
            state = json.loads(state_file.read_text(encoding="utf-8"))
            self._buckets = {**self._buckets, **state.get("buckets", {})}
            for entry in state.get("files", {}).values():
                where = (entry["bucket"], entry["path"])
                if self._blob(*where).exists():
                    self._files[where] = _Stored(
                        entry["env"], entry["visible"], entry["etag"], entry["size"]
                    )
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            raise ValueError(f"emulator state {state_file} is unreadable: {exc}") from exc

    def _save_state(self) -> None:
        """Write the state file atomically (temp file + os.replace); the caller holds the lock."""
        assert self.data_dir is not None
        state = {
            "version": 1,
            "buckets": self._buckets,
            "files": {
                f"cloud://{stored.env}.{bucket}/{path}": {
                    "env": stored.env,
                    "bucket": bucket,
                    "path": path,
                    "visible": stored.visible,
                    "etag": stored.etag,
                    "size": stored.size,
                }
                for (bucket, path), stored in self._files.items()
            },
        }
        fd, tmp = tempfile.mkstemp(dir=self.data_dir, prefix=".state-", suffix=".json")
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as out:
                json.dump(state, out, ensure_ascii=False, indent=1)
            os.replace(tmp, self.data_dir / _STATE_FILE)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise


class _Server(ThreadingHTTPServer):
    """Threaded server that remembers open connections so :meth:`Emulator.stop` can cut them."""

    daemon_threads = True

    def __init__(self, address: tuple[str, int], emulator: Emulator) -> None:
        self.emulator = emulator
        self._open: set[socket.socket] = set()
        self._open_lock = threading.Lock()
        super().__init__(address, _Handler)

    def process_request(self, request: Any, client_address: Any) -> None:
        with self._open_lock:
            self._open.add(request)
        super().process_request(request, client_address)

    def shutdown_request(self, request: Any) -> None:
        with self._open_lock:
            self._open.discard(request)
        super().shutdown_request(request)

    def close_connections(self) -> None:
        with self._open_lock:
            sockets = list(self._open)
        for sock in sockets:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass  # already closed by the client

    def handle_error(self, request: Any, client_address: Any) -> None:
        """Stay quiet about clients that went away; report real bugs."""
        if self.emulator.verbose or not isinstance(sys.exc_info()[1], OSError):
            super().handle_error(request, client_address)


class _Handler(BaseHTTPRequestHandler):
    """Routes one HTTP/1.1 request (keep-alive) to the emulator."""

    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # headers and body go in two sends: don't wait for a delayed ACK
    server_version = "mkdocs-wxcloud-emulator"
    sys_version = ""
    server: _Server

    def do_GET(self) -> None:
        self._dispatch()

    def do_HEAD(self) -> None:
        self._dispatch()

    def do_POST(self) -> None:
        self._dispatch()

    def log_message(self, format: str, *args: Any) -> None:
        if self.server.emulator.verbose:
            super().log_message(format, *args)

    def _dispatch(self) -> None:
        emulator = self.server.emulator
        url = urlsplit(self.path)
        query = {k: v[0] for k, v in parse_qs(url.query, keep_blank_values=True).items()}
        endpoint = _endpoint(url.path)
        if url.path != HEALTH_PATH:
            emulator._count(url.path)
        with tempfile.TemporaryFile() if endpoint == "cos" else io.BytesIO() as body:
            size = self._read_body(body)
            if size is None:  # the client went away or sent an unreadable body
                self.close_connection = True
                return
            if url.path == HEALTH_PATH:
                self._send_json({"emulator": "mkdocs-wxcloud", "envs": list(emulator.envs)})
                return
            if emulator.latency > 0:
                time.sleep(emulator.latency)
            fault = emulator._draw_fault(url.path, endpoint)
            if fault is not None:
                self._fault(fault, endpoint)
            elif endpoint in ("token", "api"):
                assert isinstance(body, io.BytesIO)
                self._json_api(url.path, query, body.getvalue())
            elif endpoint == "cos":
                self._cos(url.path, body, size)
            elif endpoint == "download":
                self._download(url.path, query)
            else:
                self._send(404, b"404 page not found\n", "text/plain; charset=utf-8")

    def _read_body(self, sink: BinaryIO) -> int | None:
        """Copy the request body (Content-Length or chunked) into ``sink``; None when it breaks."""
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            total = 0
            while True:
                line = self.rfile.readline(65537)
                try:
                    size = int(line.split(b";")[0], 16)
                except ValueError:
                    return None
                if size == 0:
                    while line not in (b"\r\n", b"\n", b""):  # skip trailers
                        line = self.rfile.readline(65537)
                    return total if line else None
                if not self._copy(size, sink) or self.rfile.readline(3) not in (b"\r\n", b"\n"):
                    return None
                total += size
        try:
            length = int(self.headers.get("Content-Length") or 0)
        except ValueError:
            return None
        return length if length >= 0 and self._copy(length, sink) else None

    def _copy(self, size: int, sink: BinaryIO) -> bool:
        while size > 0:
            chunk = self.rfile.read(min(size, _CHUNK))
            if not chunk:
                return False
            sink.write(chunk)
            size -= len(chunk)
        return True

    def _send(
        self,
        status: int,
        body: bytes,
        content_type: str | None = None,
        headers: Iterable[tuple[str, str]] = (),
    ) -> None:
        self.send_response(status)
        if content_type:
            self.send_header("Content-Type", content_type)
        if status != 204:
            self.send_header("Content-Length", str(len(body)))
        for name, value in headers:
            self.send_header(name, value)
        self.end_headers()
        if body and self.command != "HEAD":
            self.wfile.write(body)

    def _send_json(self, answer: dict[str, Any]) -> None:
        data = json.dumps(answer, ensure_ascii=False).encode("utf-8")
        self._send(200, data, "application/json; charset=utf-8")

    def _send_cos_error(self, error: _CosError) -> None:
        request_id = secrets.token_hex(16)
        resource = escape(unquote(urlsplit(self.path).path))
        xml = (
            "<?xml version='1.0' encoding='utf-8' ?><Error>"
            f"<Code>{error.code}</Code><Message>{escape(error.message)}</Message>"
            f"<Resource>{resource}</Resource><RequestId>{request_id}</RequestId></Error>"
        )
        self._send(
            error.status, xml.encode("utf-8"), "application/xml", [("x-cos-request-id", request_id)]
        )

    def _fault(self, kind: str, endpoint: str) -> None:
        if kind == "drop":
            self.close_connection = True
            self.connection.shutdown(socket.SHUT_RDWR)
        elif kind == "http502":
            self._send(502, _BAD_GATEWAY, "text/html")
        elif endpoint in ("token", "api"):
            error = {
                "busy": _ApiError(-1, "system error"),
                "quota": _ApiError(
                    45011, "api minute-quota reach limit mustslower retry next minute"
                ),
                "token_expired": _ApiError(42001, "access_token expired"),
                "daily_quota": _ApiError(45009, "reach max api daily quota limit"),
                "not_enabled": _ApiError(85088, "no cloud dev env, please create it first"),
            }[kind]
            self._send_json(error.answer())
        elif kind == "upload_expired":
            self._send_cos_error(_CosError(403, "AccessDenied", "Request has expired"))
        else:
            self._send_cos_error(_CosError(503, "SlowDown", "Please reduce your request rate."))

    def _json_api(self, path: str, query: dict[str, str], raw: bytes) -> None:
        emulator = self.server.emulator
        ip = self.client_address[0]
        try:
            if path == "/cgi-bin/token":
                if self.command != "GET":
                    raise _ApiError(43001, "require GET method")
                answer = emulator._classic_token(query, ip)
            elif self.command != "POST":
                raise _ApiError(43002, "require POST method")
            elif path == "/cgi-bin/stable_token":
                answer = emulator._stable_token(_parse_json(raw), ip)
            else:
                emulator._authorize(query)
                body = _parse_json(raw)
                call = {
                    "/tcb/uploadfile": emulator._upload_file,
                    "/tcb/batchdownloadfile": emulator._batch_download,
                    "/tcb/batchdeletefile": emulator._batch_delete,
                }[path]
                answer = {"errcode": 0, "errmsg": "ok", **call(body)}
        except _ApiError as error:
            answer = error.answer()
        self._send_json(answer)

    def _cos(self, path: str, body: BinaryIO, size: int) -> None:
        if self.command != "POST":
            self._send_cos_error(
                _CosError(405, "MethodNotAllowed", "The specified method is not allowed.")
            )
            return
        body.flush()
        bucket = unquote(path[len("/cos/") :]).partition("/")[0]
        try:
            etag = self.server.emulator._cos_post(
                bucket, self.headers.get("Content-Type", ""), body, size
            )
        except _CosError as error:
            self._send_cos_error(error)
            return
        self._send(204, b"", headers=[("ETag", etag), ("x-cos-request-id", secrets.token_hex(16))])

    def _download(self, path: str, query: dict[str, str]) -> None:
        if self.command not in ("GET", "HEAD"):
            self._send_cos_error(
                _CosError(405, "MethodNotAllowed", "The specified method is not allowed.")
            )
            return
        bucket, _, key = unquote(path[len("/dl/") :]).partition("/")
        try:
            stored, reader = self.server.emulator._open_download(bucket, key, query)
        except _CosError as error:
            self._send_cos_error(error)
            return
        with reader:
            size = reader.seek(0, io.SEEK_END)
            reader.seek(0)
            self.send_response(200)
            content_type = mimetypes.guess_type(key)[0] or "application/octet-stream"
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(size))
            self.send_header("ETag", stored.etag)
            self.end_headers()
            if self.command != "HEAD":
                shutil.copyfileobj(reader, self.wfile, _CHUNK)


def serve(host: str, port: int, data_dir: str | None, **options: Any) -> None:
    """Run the emulator in the foreground until Ctrl-C (the ``mkdocs-wxcloud emulator`` command)."""
    emulator = Emulator(host, port, data_dir, **options).start()
    where = f"in {Path(data_dir).resolve()}" if data_dir else "in memory only"
    print(
        f"WeChat cloud emulator at {emulator.base_url} (appid {emulator.appid}, "
        f"env {', '.join(emulator.envs)}); data kept {where}. Ctrl-C stops it.",
        flush=True,
    )
    try:
        while True:
            time.sleep(1)
    except KeyboardInterrupt:
        pass
    finally:
        emulator.stop()
