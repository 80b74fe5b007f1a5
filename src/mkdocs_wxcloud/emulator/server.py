"""The HTTP side: one keep-alive HTTP/1.1 port for the API, COS and download hosts."""

from __future__ import annotations

import io
import json
import mimetypes
import secrets
import shutil
import socket
import sys
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING, Any, BinaryIO, Iterable
from urllib.parse import parse_qs, unquote, urlsplit
from xml.sax.saxutils import escape

from .faults import api_failure
from .protocol import HEALTH_PATH, ApiFailure, CosFailure, endpoint, parse_json

if TYPE_CHECKING:
    from .app import Emulator

_CHUNK = 1 << 20
_BAD_GATEWAY = (
    b"<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n"
    b"<center><h1>502 Bad Gateway</h1></center>\r\n<hr><center>stgw</center>\r\n"
    b"</body>\r\n</html>\r\n"
)


class Server(ThreadingHTTPServer):
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
    server: Server

    def do_GET(self) -> None:  # noqa: N802 - http.server API
        self._dispatch()

    def do_HEAD(self) -> None:  # noqa: N802
        self._dispatch()

    def do_POST(self) -> None:  # noqa: N802
        self._dispatch()

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
        if self.server.emulator.verbose:
            super().log_message(format, *args)

    def _dispatch(self) -> None:
        emulator = self.server.emulator
        url = urlsplit(self.path)
        query = {k: v[0] for k, v in parse_qs(url.query, keep_blank_values=True).items()}
        kind = endpoint(url.path)
        if url.path != HEALTH_PATH:
            emulator.count(url.path)
        with tempfile.TemporaryFile() if kind == "cos" else io.BytesIO() as body:
            size = self._read_body(body)
            if size is None:  # the client went away or sent an unreadable body
                self.close_connection = True
                return
            if url.path == HEALTH_PATH:
                self._send_json({"emulator": "mkdocs-wxcloud", "envs": list(emulator.envs)})
                return
            if emulator.latency > 0:
                time.sleep(emulator.latency)
            fault = emulator.faults.draw(url.path, kind)
            if fault is not None:
                self._fault(fault, kind)
            elif kind in ("token", "api"):
                assert isinstance(body, io.BytesIO)
                self._json_api(url.path, query, body.getvalue())
            elif kind == "cos":
                self._cos(url.path, body, size)
            elif kind == "download":
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

    def _send_cos_error(self, error: CosFailure) -> None:
        request_id = secrets.token_hex(16)
        resource = escape(unquote(urlsplit(self.path).path))
        xml = (
            "<?xml version='1.0' encoding='utf-8' ?><Error>"
            f"<Code>{error.code}</Code><Message>{escape(error.message)}</Message>"
            f"<Resource>{resource}</Resource><RequestId>{request_id}</RequestId></Error>"
        )
        self._send(error.status, xml.encode("utf-8"), "application/xml", [("x-cos-request-id", request_id)])

    def _fault(self, kind: str, where: str) -> None:
        if kind == "drop":
            self.close_connection = True
            self.connection.shutdown(socket.SHUT_RDWR)
        elif kind == "http502":
            self._send(502, _BAD_GATEWAY, "text/html")
        elif where in ("token", "api"):
            self._send_json(api_failure(kind).answer())
        elif kind == "upload_expired":
            self._send_cos_error(CosFailure(403, "AccessDenied", "Request has expired"))
        else:
            self._send_cos_error(CosFailure(503, "SlowDown", "Please reduce your request rate."))

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
            self._send_cos_error(CosFailure(405, "MethodNotAllowed", "The specified method is not allowed."))
            return
        body.flush()
        bucket = unquote(path[len("/cos/") :]).partition("/")[0]
        try:
            etag = self.server.emulator.cos.post(bucket, self.headers.get("Content-Type", ""), body, size)
        except CosFailure as error:
            self._send_cos_error(error)
            return
        self._send(204, b"", headers=[("ETag", etag), ("x-cos-request-id", secrets.token_hex(16))])

    def _download(self, path: str, query: dict[str, str]) -> None:
        if self.command not in ("GET", "HEAD"):
            self._send_cos_error(CosFailure(405, "MethodNotAllowed", "The specified method is not allowed."))
            return
        bucket, _, key = unquote(path[len("/dl/") :]).partition("/")
        try:
            stored, reader = self.server.emulator.api.open_download(bucket, key, query)
        except CosFailure as error:
            self._send_cos_error(error)
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
                shutil.copyfileobj(reader, self.wfile, _CHUNK)
