"""One HTTP request to the WeChat API or to COS, sent the way the real service needs it.

JSON goes as raw UTF-8 (WeChat refuses ``\\uXXXX``-escaped paths), the COS form is streamed with
``file`` as its last part, and connection pools are sized for the upload concurrency. Tokens
travel in query strings, so no exception or log line leaves here without being redacted.
"""

from __future__ import annotations

import json
import logging
import mimetypes
import os
import threading
from importlib import metadata
from typing import IO, Any, Optional, Tuple
from urllib.parse import urlsplit

import requests
from requests.adapters import HTTPAdapter
from requests_toolbelt import MultipartEncoder

from ..errors import redact, register_secret
from .errors import NetworkError, TransientError, api_error, cos_error

Credential = Optional[Tuple[str, str]]
"""The query parameter carrying the token (name, value), or None when calls are signed for us."""

_JSON = "application/json; charset=utf-8"
IN_ONE_PIECE = 1 << 20  # bytes: a COS form body is built at once up to this size, streamed above


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


def _no_auth(request: requests.PreparedRequest) -> requests.PreparedRequest:
    return request


class _Session(requests.Session):
    """A session that reads the environment's proxy and CA settings once per host, not per request.

    ``requests`` re-reads them for every request (``HTTPS_PROXY``, ``NO_PROXY``, ``REQUESTS_CA_BUNDLE``:
    two passes over ``os.environ``), which at 16 uploads at once cost about a sixth of the client's CPU.
    They do not change during a run; the answer still depends on the host, as ``NO_PROXY`` does.
    """

    def __init__(self) -> None:
        super().__init__()
        self._environment: dict[tuple[str, str], dict[str, Any]] = {}
        # No call needs a login: an auth that changes nothing also stops requests from reading
        # ~/.netrc for every request, and from sending what it finds there to WeChat or COS.
        self.auth = _no_auth

    def merge_environment_settings(self, url: Any, proxies: Any, stream: Any, verify: Any, cert: Any) -> dict[str, Any]:
        if proxies or stream is not None or verify is not None or cert is not None:
            return super().merge_environment_settings(url, proxies, stream, verify, cert)
        parts = urlsplit(url)
        key = (parts.scheme, parts.netloc)
        if key not in self._environment:
            self._environment[key] = super().merge_environment_settings(url, {}, None, None, None)
        settings = self._environment[key]
        return {**settings, "proxies": dict(settings["proxies"])}


class Transport:
    """A pooled HTTP session shared by all upload threads, counting every request it sends."""

    def __init__(self, api_base: str, env: str, *, concurrency: int, timeout: float) -> None:
        self.api_base = api_base.rstrip("/")
        self.env = env
        self._timeout = timeout
        self._requests_made = 0
        self._count_lock = threading.Lock()
        for name in ("urllib3.connectionpool", "urllib3.util.retry"):
            logging.getLogger(name).addFilter(_REDACTING_FILTER)
        self._session = _Session()
        # Pools for the API host and the COS host; no urllib3 retries: ours know what is safe.
        adapter = HTTPAdapter(pool_connections=4, pool_maxsize=max(1, concurrency), max_retries=0)
        self._session.mount("https://", adapter)
        self._session.mount("http://", adapter)
        self._session.headers["User-Agent"] = _user_agent()

    @property
    def requests_made(self) -> int:
        with self._count_lock:
            return self._requests_made

    def close(self) -> None:
        self._session.close()

    def call_json(self, api: str, body: dict[str, Any], credential: Credential) -> dict[str, Any]:
        """POST a JSON API once; a non-zero errcode raises :class:`ApiError` with a hint."""
        url = f"{self.api_base}/{api}"
        params = dict([credential]) if credential else None
        data = json.dumps(body, ensure_ascii=False).encode("utf-8")
        with self._send(f"WeChat API {api}", url, params=params, data=data,
                        headers={"Content-Type": _JSON}) as response:
            status, content = response.status_code, response.content
        if status >= 500:
            raise TransientError(f"WeChat API {api}: HTTP {status} from {_host(url)}")
        try:
            answer = json.loads(content)
        except ValueError:
            answer = None
        if not isinstance(answer, dict):
            snippet = content[:80].decode("utf-8", "replace")
            raise NetworkError(f"WeChat API {api} answered HTTP {status} with something other "
                               f"than a JSON object ({snippet!r}): check `api_base` "
                               f"({self.api_base})")
        errcode = answer.get("errcode") or 0
        if errcode:
            raise api_error(api, int(errcode), str(answer.get("errmsg") or ""), self.env)
        return answer

    def post_to_cos(self, link: dict[str, str], cloud_path: str, filename: str,
                    handle: IO[bytes]) -> None:
        """Upload step 2: the multipart form, ``file`` last.

        A file of up to :data:`IN_ONE_PIECE` goes as one body built at once (the common case: docs
        images), larger ones are streamed from ``handle`` so memory stays flat.
        """
        register_secret(link["authorization"])
        register_secret(link["token"])
        content_type = mimetypes.guess_type(filename)[0] or "application/octet-stream"
        fields = [
            ("key", cloud_path),
            ("Signature", link["authorization"]),
            ("x-cos-security-token", link["token"]),
            ("x-cos-meta-fileid", link["cos_file_id"]),
        ]
        what = f"COS upload of {cloud_path}"
        if _remaining(handle) <= IN_ONE_PIECE:
            answer = self._send(what, link["url"], data=fields, files=[("file", (filename, handle.read(), content_type))])
        else:
            encoder = MultipartEncoder(fields=[*fields, ("file", (filename, handle, content_type))])
            answer = self._send(what, link["url"], data=encoder, headers={"Content-Type": encoder.content_type})
        with answer as response:
            status, content = response.status_code, response.content
        if not 200 <= status < 300:
            raise cos_error(status, content)

    def _send(self, what: str, url: str, **kwargs: Any) -> requests.Response:
        """One HTTP POST; ``requests`` exceptions (their text holds the URL) become redacted ones.

        Redirects are never followed: a 307 would send the body (the AppSecret, a COS signature) to
        whatever host it names, and neither WeChat's API nor COS redirects.
        """
        with self._count_lock:
            self._requests_made += 1
        try:
            response = self._session.post(url, timeout=self._timeout, allow_redirects=False, **kwargs)
        except requests.exceptions.SSLError as exc:
            failure: NetworkError = NetworkError(
                f"{what}: TLS failure with {_host(url)}: {_reason(exc)}")
        except (requests.ConnectionError, requests.Timeout,
                requests.exceptions.ChunkedEncodingError) as exc:
            failure = TransientError(f"{what}: connection to {_host(url)} failed: "
                                     f"{_reason(exc)}")
        except requests.RequestException as exc:
            failure = NetworkError(f"{what}: request to {_host(url)} failed: "
                                   f"{_reason(exc)}")
        else:
            if not 300 <= response.status_code < 400:
                return response
            response.close()
            target = _host(response.headers.get("Location", "")) or "elsewhere"
            failure = NetworkError(
                f"{what}: {_host(url)} answered HTTP {response.status_code}, a redirect to {target}, "
                f"which was not followed (WeChat never redirects, and the request carries credentials): "
                f"check `api_base` ({self.api_base})")
        raise failure  # outside the except clauses: no chained requests exception to leak a URL


def _remaining(handle: IO[bytes]) -> int:
    """How many bytes reading ``handle`` to its end gives (a sized reader, or any seekable one)."""
    if hasattr(handle, "__len__"):
        return len(handle)  # type: ignore[arg-type]
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


def _reason(exc: requests.RequestException) -> str:
    """The innermost cause of a ``requests`` exception, without its "url: …" wrapping."""
    cause = exc.args[0] if exc.args else exc
    cause = getattr(cause, "reason", None) or cause  # urllib3's MaxRetryError wraps it
    return f"{type(exc).__name__}: {cause}"
