"""The HTTP side: one keep-alive HTTP/1.1 port that frames requests for the :class:`Application`.

It reads each request strictly (:mod:`.framing`), hands a :class:`Request` to the application and
writes the :class:`Response` back; it knows no route and no rule. A request whose body cannot be
read (broken framing, or over the application's ``body_limit``) gets the application's refusal;
then the connection is closed after a lingering wait, since the rest of the body is unread.
"""

from __future__ import annotations

import io
import re
import socket
import sys
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, BinaryIO

from .application import Application
from .framing import CHUNK, BrokenRequest, body_length, copy, read_chunked, request_target
from .messages import Request, Response

_IN_MEMORY = 1 << 20  # bodies up to this many bytes are kept in memory, bigger ones in a temporary file
_LINGER_IDLE, _LINGER_MAX = 5.0, 30.0  # nginx's lingering_timeout and lingering_time
_TOKEN_IN_QUERY = re.compile(r"(access_token=)[^&\s\"]+")


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


class Server(ThreadingHTTPServer):
    """Threaded server that remembers open connections so that stopping it can cut them."""

    daemon_threads = True
    # A real service accepts hundreds of connections at once. socketserver's 5 overflows when a run
    # opens its 16 (and its upload process 16 more) while this process is busy: the kernel drops the
    # handshake and the client waits a second for its retransmit, or gets a reset.
    request_queue_size = 128

    def __init__(self, address: tuple[str, int], app: Application, *, verbose: bool = False) -> None:
        self.app = app
        self.verbose = verbose
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
        if self.verbose or not isinstance(sys.exc_info()[1], OSError):
            super().handle_error(request, client_address)


class _Handler(BaseHTTPRequestHandler):
    """Frames one HTTP/1.1 request (keep-alive) for the application, and its response back."""

    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # a streamed body goes in several sends: don't wait for a delayed ACK
    wbufsize = 64 << 10  # a response's headers and body leave in one send (http.server flushes after each request)
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
        if self.server.verbose:  # the request line, with its access token masked, as a real log should
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
        app = self.server.app
        path = ""
        try:
            path, query = request_target(self.path)
            limit = app.body_limit(path)
            on_disk = limit > _IN_MEMORY and not _fits_in_memory(self.headers)  # big uploads are spooled to disk
            with tempfile.TemporaryFile() if on_disk else io.BytesIO() as body:
                size = self._read_body(body, limit)
                if size is None:  # the client went away
                    self.close_connection = True
                    return
                headers = list(self.headers.items())
                self._send(app.handle(Request(self.command, path, query, headers, body, size, self.client_address[0])))
        except BrokenRequest as broken:
            self._send(app.refuse(path, broken.status, broken.explain))
            self._linger()

    def _read_body(self, sink: BinaryIO, limit: int) -> int | None:
        """Copy the body into ``sink``: its size, or None when the client went away.

        Raises :class:`BrokenRequest` without reading an over-``limit`` body: "100 Continue" is sent
        only once the declared length is known to be within it.
        """
        length = body_length(self.headers, limit)
        if self._continue:
            self._continue = False
            super().handle_expect_100()
            self.wfile.flush()  # the client waits for it before it sends the body
        if length is None:
            return read_chunked(self.rfile, sink, limit)
        return length if copy(self.rfile, length, sink) else None

    def _send(self, response: Response) -> None:
        """Write the response (no body to a HEAD), or cut the connection for ``drop``."""
        try:
            if response.drop:
                self.close_connection = True
                self.connection.shutdown(socket.SHUT_RDWR)
                return
            self.send_response(response.status)
            for name, value in response.headers:
                self.send_header(name, value)
            self.end_headers()
            if self.command == "HEAD":
                pass
            elif response.stream is not None:
                length = int(response.header("Content-Length") or 0)
                if not copy(response.stream, length, self.wfile):  # the object shrank meanwhile
                    self.close_connection = True
            elif response.body:
                self.wfile.write(response.body)
            if response.close:
                self.close_connection = True
        finally:
            if response.stream is not None:
                response.stream.close()
