"""What the application sees of an HTTP exchange: a :class:`Request` in, a :class:`Response` out.

They hold no socket, so the application can be called in-process by tests, and the HTTP server
only frames bytes. Both keep the service's own answer shapes: JSON with HTTP 200 for the APIs, an
XML ``<Error>`` with a status for COS and the download host.
"""

from __future__ import annotations

import io
import json
import secrets
from dataclasses import dataclass, field
from typing import Any, BinaryIO, Iterable
from urllib.parse import parse_qs, unquote
from xml.sax.saxutils import escape

from .protocol import CosFailure

_BAD_GATEWAY = (
    b"<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n"
    b"<center><h1>502 Bad Gateway</h1></center>\r\n<hr><center>stgw</center>\r\n"
    b"</body>\r\n</html>\r\n"
)


@dataclass
class Request:
    """One request as read off the wire: ``path`` and ``query`` still percent-encoded, as sent."""

    method: str
    path: str
    query: str = ""
    headers: Iterable[tuple[str, str]] = ()
    body: BinaryIO = field(default_factory=io.BytesIO)
    size: int = 0
    client_ip: str = "127.0.0.1"

    @classmethod
    def of(cls, method: str, target: str, body: bytes = b"", headers: dict[str, str] | None = None,
           client_ip: str = "127.0.0.1") -> Request:  # fmt: skip
        """A request built in-process (tests): ``target`` is ``/path?query``."""
        path, _, query = target.partition("?")
        return cls(method, path, query, list((headers or {}).items()), io.BytesIO(body), len(body), client_ip)

    def header(self, name: str, default: str = "") -> str:
        """A header's value, looked up case-insensitively as HTTP names are."""
        return next((v for k, v in self.headers if k.lower() == name.lower()), default)

    def params(self) -> dict[str, str]:
        """The query's parameters (the first of each name), decoded."""
        return {k: v[0] for k, v in parse_qs(self.query, keep_blank_values=True).items()}

    def data(self) -> bytes:
        """The whole body (JSON APIs only: their bodies are at most 1 MiB and kept in memory)."""
        self.body.seek(0)
        return self.body.read()


@dataclass
class Response:
    """An answer; ``stream`` (closed by whoever sends it) stands for ``body`` when set.

    ``drop`` cuts the connection without any answer (the ``drop`` fault); ``close`` closes it after
    the answer (a body left unread).
    """

    status: int
    headers: list[tuple[str, str]] = field(default_factory=list)
    body: bytes = b""
    stream: BinaryIO | None = None
    drop: bool = False
    close: bool = False

    def header(self, name: str) -> str | None:
        return next((v for k, v in self.headers if k.lower() == name.lower()), None)

    def read(self) -> bytes:
        """The body, read whole (tests)."""
        if self.stream is None:
            return self.body
        with self.stream:
            return self.stream.read(int(self.header("Content-Length") or 0))

    def json(self) -> Any:
        return json.loads(self.read())


def answer(status: int, body: bytes, content_type: str | None = None,
           headers: Iterable[tuple[str, str]] = ()) -> Response:  # fmt: skip
    """A response with its ``Content-Length`` (none for 204, which has no body)."""
    framing = [("Content-Type", content_type)] if content_type else []
    if status != 204:
        framing.append(("Content-Length", str(len(body))))
    return Response(status, [*framing, *headers], body)


def json_answer(body: dict[str, Any], headers: Iterable[tuple[str, str]] = ()) -> Response:
    """HTTP 200 with raw UTF-8 JSON, as WeChat answers success and failure alike."""
    return answer(200, json.dumps(body, ensure_ascii=False).encode("utf-8"), "application/json; charset=utf-8", headers)


def cos_error(error: CosFailure, path: str, headers: Iterable[tuple[str, str]] = ()) -> Response:
    """COS's XML error document, with a request id in the body and in ``x-cos-request-id``."""
    request_id = secrets.token_hex(16)
    xml = (
        "<?xml version='1.0' encoding='utf-8' ?><Error>"
        f"<Code>{error.code}</Code><Message>{escape(error.message)}</Message>"
        f"<Resource>{escape(unquote(path))}</Resource><RequestId>{request_id}</RequestId></Error>"
    )
    return answer(error.status, xml.encode("utf-8"), "application/xml", [("x-cos-request-id", request_id), *headers])


def bad_gateway() -> Response:
    """The gateway's bare HTML 502, with none of the service's headers."""
    return answer(502, _BAD_GATEWAY, "text/html")


def not_found() -> Response:
    return answer(404, b"404 page not found\n", "text/plain; charset=utf-8")
