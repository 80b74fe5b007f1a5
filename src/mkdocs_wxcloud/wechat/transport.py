"""One HTTP request to the WeChat API or to COS, sent the way the real service needs it.

JSON goes as raw UTF-8 (WeChat refuses ``\\uXXXX``-escaped paths), the COS form has ``file`` as its
last part, redirects are never followed, and connections come from pools sized for the upload
concurrency (:mod:`.pools`). Tokens travel in query strings, so no exception or log line leaves
here without being redacted.
"""

from __future__ import annotations

import json
import logging
import os
import threading
import time
from importlib import metadata
from typing import IO, Any, Mapping, NamedTuple, Optional, Tuple
from urllib.parse import urlencode, urlsplit

import urllib3
from requests_toolbelt import MultipartEncoder
from urllib3 import exceptions as http
from urllib3.fields import format_multipart_header_param
from urllib3.filepost import choose_boundary

from ..errors import redact, secrets_while
from .answers import check_common, check_success
from .deadline import answer_by
from .errors import NetworkError, TransientError, api_error, cos_error, http_status_error
from .media import content_type
from .pools import Pools

Credential = Optional[Tuple[str, str]]
"""The query parameter carrying the token (name, value), or None when calls are signed for us."""

_JSON = "application/json; charset=utf-8"
MAX_JSON_ANSWER = 1 << 20  # bytes: the largest JSON answer read (a batch of 50 links is about 20 KB)
MAX_COS_ANSWER = 16 << 10  # bytes: the most of a COS answer read (an XML error is a few hundred)
_CHUNK = 64 << 10
IN_ONE_PIECE = 1 << 20  # bytes: a COS form body is built at once up to this size, streamed above
# dropped or refused connections, timeouts, a proxy that failed: worth another attempt
_RETRYABLE = (http.TimeoutError, http.ProtocolError, http.IncompleteRead, http.ProxyError, http.NewConnectionError)


class _RedactingFilter(logging.Filter):
    """Masks tokens in urllib3's debug lines, which print request URLs with their query string."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg, record.args = redact(record.getMessage()), None
        return True


_REDACTING_FILTER = _RedactingFilter()


def _user_agent() -> str:
    try:
        version = metadata.version("mkdocs-wxcloud")
    except metadata.PackageNotFoundError:
        version = "0"
    return f"mkdocs-wxcloud/{version}"


class Answer(NamedTuple):
    status: int
    headers: Mapping[str, str]
    content: bytes


class Transport:
    """Pooled connections shared by all upload threads, counting every request they send."""

    def __init__(self, api_base: str, env: str, *, concurrency: int, timeout: float, openapi: bool) -> None:
        self.api_base = api_base.rstrip("/")
        self.env = env
        self._timeout = timeout
        self._openapi = openapi  # calls go through the open API service, whose answers carry x-openapi-seqid
        self._requests_made = 0
        self._count_lock = threading.Lock()
        for name in ("urllib3.connectionpool", "urllib3.util.retry"):
            logging.getLogger(name).addFilter(_REDACTING_FILTER)
        self._pools = Pools(maxsize=max(1, concurrency), timeout=timeout, user_agent=_user_agent())

    @property
    def requests_made(self) -> int:
        with self._count_lock:
            return self._requests_made

    def close(self) -> None:
        self._pools.clear()

    def call_json(self, api: str, body: dict[str, Any], credential: Credential) -> dict[str, Any]:
        """POST a JSON API once; a non-zero errcode raises :class:`ApiError` with a hint, an answer of
        the wrong shape :class:`MalformedAnswer`."""
        url = f"{self.api_base}/{api}" + (f"?{urlencode([credential])}" if credential else "")
        data = json.dumps(body, ensure_ascii=False).encode("utf-8")
        answer = self._send(f"WeChat API {api}", url, data, {"Content-Type": _JSON}, limit=MAX_JSON_ANSWER, whole=True)
        if answer.status >= 500:
            raise http_status_error(api, answer.status, answer.headers, _host(url), openapi=self._openapi)
        try:
            parsed = json.loads(answer.content)
        except ValueError:
            parsed = None
        if not isinstance(parsed, dict):
            snippet = answer.content[:80].decode("utf-8", "replace")
            raise NetworkError(
                f"WeChat API {api} answered HTTP {answer.status} with something other "
                f"than a JSON object ({snippet!r}): check `api_base` "
                f"({self.api_base})"
            )
        errcode = check_common(api, parsed)
        if errcode:
            raise api_error(api, errcode, parsed.get("errmsg") or "", self.env)
        return check_success(api, parsed)

    def post_to_cos(self, link: dict[str, str], cloud_path: str, filename: str, handle: IO[bytes]) -> None:
        """Upload step 2: the multipart form, ``file`` last, the object's MIME type in the field before it.

        A file of up to :data:`IN_ONE_PIECE` goes as one body built at once (the common case: docs
        images), larger ones are streamed from ``handle`` so memory stays flat.
        """
        stored_as = content_type(cloud_path)  # the cloud path has the stored bytes' extension
        fields: list[tuple[str, str]] = [
            ("key", cloud_path),
            ("Signature", link["authorization"]),
            ("x-cos-security-token", link["token"]),
            ("x-cos-meta-fileid", link["cos_file_id"]),
            *([("Content-Type", stored_as)] if stored_as else []),
        ]
        part_type = stored_as or "application/octet-stream"
        body: bytes | MultipartEncoder
        with secrets_while(link["authorization"], link["token"]):  # errors made here never show them
            if _remaining(handle) <= IN_ONE_PIECE:
                body, form_type = form_in_one_piece(fields, filename, handle.read(), part_type)
                headers = {"Content-Type": form_type}
            else:
                form = MultipartEncoder(fields=[*fields, ("file", (filename, handle, part_type))])
                headers = {"Content-Type": form.content_type, "Content-Length": str(form.len)}
                body = form
            answer = self._send(
                f"COS upload of {cloud_path}", link["url"], body, headers, limit=MAX_COS_ANSWER, whole=False
            )
            if not 200 <= answer.status < 300:
                raise cos_error(answer.status, answer.content)

    def _send(self, what: str, url: str, body: Any, headers: dict[str, str], *, limit: int, whole: bool) -> Answer:
        """One HTTP POST, its answer read within ``timeout`` and at most ``limit`` bytes of it; errors
        become redacted ones that say what to retry.

        ``timeout`` bounds the answer as a whole, not each read: a server that trickles one byte a
        second cannot hold a request. It starts when the request is sent (a streamed upload may take
        longer than ``timeout`` to send). A successful answer needed ``whole`` (JSON) is an error over
        ``limit`` (no WeChat answer comes near it); any other answer is cut there (only its error code,
        or its status, is read).
        Redirects are never followed: a 307 would send the body (the AppSecret, a COS signature) to
        whatever host it names, and neither WeChat's API nor COS redirects.
        """
        with self._count_lock:
            self._requests_made += 1
        started = time.monotonic()
        streamed = isinstance(body, MultipartEncoder)  # may take longer than `timeout` to send
        response = None
        try:
            with answer_by(lambda: (time.monotonic() if streamed else started) + self._timeout):
                response = self._pools.post(url, body, headers)
            if not 300 <= response.status < 400:
                strict = whole and 200 <= response.status < 300
                content = self._read(what, url, response, limit, strict)
                return Answer(response.status, response.headers, content)
            target = _host(response.headers.get("Location", "")) or "elsewhere"
            failure: NetworkError = NetworkError(
                f"{what}: {_host(url)} answered HTTP {response.status}, a redirect to {target}, "
                f"which was not followed (WeChat never redirects, and the request carries credentials): "
                f"check `api_base` ({self.api_base})"
            )
        except http.ReadTimeoutError:
            failure = self._late(what, url)
        except http.SSLError as exc:
            failure = NetworkError(f"{what}: TLS failure with {_host(url)}: {_reason(exc)}")
        except _RETRYABLE as exc:
            failure = TransientError(f"{what}: connection to {_host(url)} failed: {_reason(exc)}")
        except (http.HTTPError, ValueError) as exc:  # a URL urllib3 cannot parse, for one
            failure = NetworkError(f"{what}: request to {_host(url)} failed: {_reason(exc)}")
        except (NetworkError, OSError) as exc:
            failure = exc if isinstance(exc, NetworkError) else TransientError(f"{what}: {_host(url)}: {_reason(exc)}")
        if response is not None:
            response.close()  # never back to the pool with an answer half read
            response.release_conn()
        raise failure  # outside the except clauses: no chained exception to leak a URL

    def _read(self, what: str, url: str, response: urllib3.BaseHTTPResponse, limit: int, strict: bool) -> bytes:
        """The answer's body, up to ``limit`` bytes (more is an error when ``strict``, else cut); the
        connection reads it against the request's deadline (:mod:`.deadline`)."""
        declared = response.headers.get("Content-Length", "")
        if strict and declared.isdigit() and int(declared) > limit:
            raise self._too_large(what, url, limit)
        chunks: list[bytes] = []
        size = 0
        while size <= limit:  # up to one byte past it: an answer of exactly `limit` bytes is whole
            try:
                chunk = response.read1(min(_CHUNK, limit - size + 1))
            except http.ReadTimeoutError:
                raise self._late(what, url) from None
            if not chunk:
                response.release_conn()
                return b"".join(chunks)
            chunks.append(chunk)
            size += len(chunk)
        if strict:
            raise self._too_large(what, url, limit)
        response.close()  # the rest of an oversized answer is never read
        response.release_conn()
        return b"".join(chunks)[:limit]

    def _late(self, what: str, url: str) -> TransientError:
        return TransientError(f"{what}: {_host(url)} did not answer within `timeout` ({self._timeout:g} s)")

    def _too_large(self, what: str, url: str, limit: int) -> NetworkError:
        return NetworkError(f"{what}: {_host(url)} answered more than {limit // 1024} KB, which no answer of this "
                            f"API comes near: check `api_base` ({self.api_base}) and any proxy in between")  # fmt: skip


def form_in_one_piece(fields: list[tuple[str, str]], filename: str, data: bytes, part_type: str) -> tuple[bytes, str]:
    """The body and type ``urllib3.encode_multipart_formdata`` makes of ``fields`` and the file last,
    byte for byte, in one join: its field objects cost as much CPU as the rest of an upload's framing."""
    boundary = choose_boundary()
    start = f"--{boundary}\r\nContent-Disposition: form-data; ".encode()
    parts = [
        part
        for name, value in fields
        for part in (start, format_multipart_header_param("name", name).encode(), b"\r\n\r\n", value.encode(), b"\r\n")
    ]
    disposition = (
        f"{format_multipart_header_param('name', 'file')}; {format_multipart_header_param('filename', filename)}"
    )
    parts += [
        start,
        f"{disposition}\r\nContent-Type: {part_type}\r\n\r\n".encode(),
        data,
        f"\r\n--{boundary}--\r\n".encode(),
    ]
    return b"".join(parts), f"multipart/form-data; boundary={boundary}"


def _remaining(handle: IO[bytes]) -> int:
    """How many bytes reading ``handle`` to its end gives (a sized reader, or any seekable one)."""
    if hasattr(handle, "__len__"):
        return len(handle)
    position = handle.tell()
    end = handle.seek(0, os.SEEK_END)
    handle.seek(position)
    return end - position


def _host(url: str) -> str:
    """The host named by ``url`` for a message, whatever the server sent ("" when none)."""
    try:
        return urlsplit(url).hostname or ""
    except ValueError:
        return ""


def _reason(exc: Exception) -> str:
    """The innermost cause of a urllib3 exception, without the pool it came from."""
    cause = getattr(exc, "reason", None) or exc
    return f"{type(exc).__name__}: {cause}"
