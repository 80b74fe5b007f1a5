"""The HTTP side: one keep-alive HTTP/1.1 port for the API, COS and download hosts.

A request that :mod:`.framing` cannot read gets a short plain-text 400, or 413 when its body is
over the limit (COS: 400 ``EntityTooLarge``, as COS answers); then the connection is closed after
a lingering wait, since the rest of the body is unread. Bodies are limited to ``MAX_JSON_BODY``
(1 MiB), COS uploads to ``Emulator(max_upload_bytes=…)`` (5 GB by default, COS's limit).
"""

from __future__ import annotations

import io
import json
import mimetypes
import re
import secrets
import shutil
import socket
import sys
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING, Any, BinaryIO, Iterable
from urllib.parse import parse_qs, unquote
from xml.sax.saxutils import escape

from .cos import too_large
from .faults import api_failure
from .framing import CHUNK, BrokenRequest, body_length, copy, read_chunked, request_target
from .protocol import HEALTH_PATH, MAX_JSON_BODY, ApiFailure, CosFailure, endpoint, parse_json

if TYPE_CHECKING:
    from .app import Emulator

_IN_MEMORY = 1 << 20  # COS bodies up to this many bytes are kept in memory, bigger ones in a temporary file
_LINGER_IDLE, _LINGER_MAX = 5.0, 30.0  # nginx's lingering_timeout and lingering_time
_BAD_GATEWAY = (
    b"<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n"
    b"<center><h1>502 Bad Gateway</h1></center>\r\n<hr><center>stgw</center>\r\n"
    b"</body>\r\n</html>\r\n"
)


def _fits_in_memory(headers: Any) -> bool:
    """Whether a body declares a length small enough to be kept in memory (broken framing: yes, it
    is refused before anything is read)."""
    try:
        length = body_length(headers, 1 << 62)
    except BrokenRequest:
        return True
    return length is not None and length <= _IN_MEMORY


def _family(host: str) -> socket.AddressFamily:
    """IPv6 for an IPv6 address or a name with IPv6 addresses only; IPv4 otherwise ("" is every IPv4 interface)."""
    if not host:
        return socket.AF_INET
    families = {info[0] for info in socket.getaddrinfo(host, None, type=socket.SOCK_STREAM)}
    return socket.AF_INET if socket.AF_INET in families else socket.AF_INET6


_TOKEN_IN_QUERY = re.compile(r"(access_token=)[^&\s\"]+")


class Server(ThreadingHTTPServer):
    """Threaded server that remembers open connections so :meth:`Emulator.stop` can cut them."""

    daemon_threads = True

    def __init__(self, address: tuple[str, int], emulator: Emulator) -> None:
        self.emulator = emulator
        self.address_family = _family(address[0])
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
    error_message_format = "%(code)d %(message)s: %(explain)s\n"  # http.server's own 400, 414, 431 too
    error_content_type = "text/plain; charset=utf-8"
    server: Server
    _continue = False  # the client waits for "100 Continue" before it sends the body

    def do_GET(self) -> None:  # noqa: N802 - http.server API
        self._dispatch()

    def do_HEAD(self) -> None:  # noqa: N802
        self._dispatch()

    def do_POST(self) -> None:  # noqa: N802
        self._dispatch()

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
        if self.server.emulator.verbose:  # the request line, with its access token masked, as a real log should
            super().log_message(format, *(_TOKEN_IN_QUERY.sub(r"\1***", a) if isinstance(a, str) else a for a in args))

    def handle_expect_100(self) -> bool:
        """Defer "100 Continue" until the body is known to be within its limit (see :meth:`_read_body`)."""
        self._continue = True
        return True

    def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
        """Answer a broken request (here or in http.server) in plain text, then close: the rest is unread."""
        super().send_error(code, message, explain)
        self._linger()

    def _linger(self) -> None:
        """Half-close and discard what the client is still sending, for a while, so that it reads the
        answer rather than a connection reset (the kernel resets a socket closed with unread data)."""
        deadline = time.monotonic() + _LINGER_MAX
        try:
            self.wfile.flush()
            self.connection.shutdown(socket.SHUT_WR)
            self.connection.settimeout(_LINGER_IDLE)
            while self.connection.recv(CHUNK) and time.monotonic() < deadline:
                pass
        except OSError:
            pass  # reset, timed out or cut by Emulator.stop: done either way

    def _dispatch(self) -> None:
        emulator = self.server.emulator
        path = ""
        try:
            path, query = request_target(self.path)
            kind = endpoint(path)
            if path != HEALTH_PATH:
                emulator.count(path)
            on_disk = kind == "cos" and not _fits_in_memory(self.headers)  # big uploads are spooled to disk
            with tempfile.TemporaryFile() if on_disk else io.BytesIO() as body:
                size = self._read_body(body, emulator.cos.max_body if kind == "cos" else MAX_JSON_BODY)
                if size is None:  # the client went away
                    self.close_connection = True
                    return
                self._route(path, query, kind, body, size)
        except BrokenRequest as broken:
            if broken.status == 413 and endpoint(path) == "cos":
                self._send_cos_error(too_large(), path, [("Connection", "close")])
                self._linger()
            else:
                self.send_error(broken.status, explain=broken.explain)

    def _read_body(self, sink: BinaryIO, limit: int) -> int | None:
        """Copy the body into ``sink``: its size, or None when the client went away.

        Raises :class:`BrokenRequest` without reading an over-``limit`` body: "100 Continue" is sent
        only once the declared length is known to be within it.
        """
        length = body_length(self.headers, limit)
        if self._continue:
            self._continue = False
            super().handle_expect_100()
        if length is None:
            return read_chunked(self.rfile, sink, limit)
        return length if copy(self.rfile, length, sink) else None

    def _route(self, path: str, raw_query: str, kind: str, body: BinaryIO, size: int) -> None:
        emulator = self.server.emulator
        if path == HEALTH_PATH:
            self._send_json({"emulator": "mkdocs-wxcloud", "envs": list(emulator.envs)})
            return
        if emulator.latency > 0:
            time.sleep(emulator.latency)
        query = {k: v[0] for k, v in parse_qs(raw_query, keep_blank_values=True).items()}
        fault = emulator.faults.draw(path, kind)
        if fault is not None:
            self._fault(fault, kind, path)
        elif kind in ("token", "api"):
            assert isinstance(body, io.BytesIO)
            self._json_api(path, query, body.getvalue())
        elif kind == "cos":
            self._cos(path, body, size)
        elif kind == "download":
            self._download(path, query)
        else:
            self._send(404, b"404 page not found\n", "text/plain; charset=utf-8")

    def _send(self, status: int, body: bytes, content_type: str | None = None,
              headers: Iterable[tuple[str, str]] = ()) -> None:  # fmt: skip
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
        self._send(200, json.dumps(answer, ensure_ascii=False).encode("utf-8"), "application/json; charset=utf-8")

    def _send_cos_error(self, error: CosFailure, path: str, headers: Iterable[tuple[str, str]] = ()) -> None:
        request_id = secrets.token_hex(16)
        xml = (
            "<?xml version='1.0' encoding='utf-8' ?><Error>"
            f"<Code>{error.code}</Code><Message>{escape(error.message)}</Message>"
            f"<Resource>{escape(unquote(path))}</Resource><RequestId>{request_id}</RequestId></Error>"
        )
        self._send(error.status, xml.encode("utf-8"), "application/xml", [("x-cos-request-id", request_id), *headers])

    def _fault(self, kind: str, where: str, path: str) -> None:
        if kind == "drop":
            self.close_connection = True
            self.connection.shutdown(socket.SHUT_RDWR)
        elif kind == "http502":
            self._send(502, _BAD_GATEWAY, "text/html")
        elif where in ("token", "api"):
            self._send_json(api_failure(kind).answer())
        elif kind == "upload_expired":
            self._send_cos_error(CosFailure(403, "AccessDenied", "Request has expired"), path)
        else:
            self._send_cos_error(CosFailure(503, "SlowDown", "Please reduce your request rate."), path)

    def _json_api(self, path: str, query: dict[str, str], raw: bytes) -> None:
        emulator = self.server.emulator
        ip = self.client_address[0]
        try:
            if path == "/cgi-bin/token":
                if self.command != "GET":
                    raise ApiFailure(43001, "require GET method")
                answer = emulator.tokens.classic_token(query, ip)
            elif self.command != "POST":
                raise ApiFailure(43002, "require POST method")
            elif path == "/cgi-bin/stable_token":
                answer = emulator.tokens.stable_token(parse_json(raw), ip)
            else:
                emulator.tokens.authorize(query)
                answer = emulator.api.call(path, parse_json(raw))
        except ApiFailure as error:
            answer = error.answer()
        self._send_json(answer)

    def _cos(self, path: str, body: BinaryIO, size: int) -> None:
        if self.command != "POST":
            self._send_cos_error(CosFailure(405, "MethodNotAllowed", "The specified method is not allowed."), path)
            return
        body.flush()
        bucket = unquote(path[len("/cos/") :]).partition("/")[0]
        try:
            etag = self.server.emulator.cos.post(bucket, self.headers.get("Content-Type", ""), body, size)
        except CosFailure as error:
            self._send_cos_error(error, path)
            return
        self._send(204, b"", headers=[("ETag", etag), ("x-cos-request-id", secrets.token_hex(16))])

    def _download(self, path: str, query: dict[str, str]) -> None:
        if self.command not in ("GET", "HEAD"):
            self._send_cos_error(CosFailure(405, "MethodNotAllowed", "The specified method is not allowed."), path)
            return
        bucket, _, key = unquote(path[len("/dl/") :]).partition("/")
        try:
            stored, reader = self.server.emulator.api.open_download(bucket, key, query)
        except CosFailure as error:
            self._send_cos_error(error, path)
            return
        with reader:
            size = reader.seek(0, io.SEEK_END)
            reader.seek(0)
            self.send_response(200)
            self.send_header("Content-Type", mimetypes.guess_type(key)[0] or "application/octet-stream")
            self.send_header("Content-Length", str(size))
            self.send_header("ETag", stored.etag)
            self.end_headers()
            if self.command != "HEAD":
                shutil.copyfileobj(reader, self.wfile, CHUNK)
