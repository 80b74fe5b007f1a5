"""Fake image hosts on loopback, over real HTTP or HTTPS (a ``trustme`` certificate for their names).

Each host answers by path with a *route*: a function that writes the whole answer, so a test can
serve a file, redirect, refuse, send 200 MB, or stall, and then look at what the client sent
(``seen``) and how many bytes went out (``sent``).
"""

from __future__ import annotations

import socket
import ssl
import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Callable
from urllib.parse import urlsplit

import trustme
from loopback import Background

Route = Callable[["Handler", "ImageHost"], None]


@dataclass
class Seen:
    path: str  # with its query
    headers: dict[str, str]


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Server

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002
        pass

    def do_GET(self) -> None:  # noqa: N802
        host = self.server.host
        host.seen.append(Seen(self.path, dict(self.headers.items())))
        route = host.routes.get(urlsplit(self.path).path)
        if route is None:
            status(404)(self, host)
        else:
            route(self, host)

    def head(self, code: int, headers: dict[str, str]) -> None:
        self.send_response(code)
        for name, value in headers.items():
            self.send_header(name, value)
        self.end_headers()


class _Server(ThreadingHTTPServer):
    host: ImageHost
    context: ssl.SSLContext | None = None

    def get_request(self) -> tuple[socket.socket, object]:
        sock, address = super().get_request()
        if self.context is not None:  # the handshake happens on the handler's thread, at its first read
            sock = self.context.wrap_socket(sock, server_side=True, do_handshake_on_connect=False)
        return sock, address

    def handle_error(self, request: object, client_address: object) -> None:
        pass  # a client that hung up or refused the certificate: what some tests look for


class ImageHost(Background):
    """``routes`` by path; HTTPS with a certificate for ``names`` when ``ca`` is given."""

    def __init__(self, routes: dict[str, Route], *, ca: trustme.CA | None = None, names: tuple[str, ...] = ()) -> None:
        self.routes = routes
        self.seen: list[Seen] = []
        self.sent: dict[str, int] = {}  # path -> body bytes a streaming route managed to send
        self.finished = threading.Event()  # a streaming route has stopped sending
        self.release = threading.Event()  # stalled routes return (set when the host stops)
        server = _Server(("127.0.0.1", 0), Handler)
        server.host = self
        if ca is not None:
            server.context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
            ca.issue_cert(*names).configure_cert(server.context)
        super().__init__(server)

    def __exit__(self, *exc: object) -> None:
        self.release.set()
        super().__exit__(*exc)


def file(body: bytes, content_type: str = "application/octet-stream", **headers: str) -> Route:
    def route(handler: Handler, host: ImageHost) -> None:
        handler.head(200, {"Content-Type": content_type, "Content-Length": str(len(body)), **headers})
        handler.wfile.write(body)

    return route


def redirect(location: str, code: int = 302) -> Route:
    def route(handler: Handler, host: ImageHost) -> None:
        handler.head(code, {"Location": location, "Content-Length": "0"})

    return route


def status(code: int, body: bytes = b"<html><body>no</body></html>", content_type: str = "text/html") -> Route:
    def route(handler: Handler, host: ImageHost) -> None:
        handler.head(code, {"Content-Type": content_type, "Content-Length": str(len(body))})
        handler.wfile.write(body)

    return route


def endless(total: int, *, announce: bool = False) -> Route:
    """``total`` bytes of a PNG-looking body, counted as they go; without a length unless ``announce``."""

    def route(handler: Handler, host: ImageHost) -> None:
        path = urlsplit(handler.path).path
        headers = {"Content-Type": "image/png", "Connection": "close"}
        headers.update({"Content-Length": str(total)} if announce else {})
        handler.head(200, headers)
        handler.close_connection = True
        block = b"\x89PNG\r\n\x1a\n" + bytes(64 * 1024 - 8)
        host.sent[path] = 0
        try:
            while host.sent[path] < total:
                handler.wfile.write(block)
                host.sent[path] += len(block)
        except OSError:
            pass  # the client hung up: the point
        finally:
            host.finished.set()

    return route


def stall(*, headers: bool = True) -> Route:
    """Answer the headers and ten bytes of a 1000-byte body (or nothing), then wait for the end."""

    def route(handler: Handler, host: ImageHost) -> None:
        if headers:
            handler.head(200, {"Content-Type": "image/png", "Content-Length": "1000"})
            handler.wfile.write(b"\x89PNG\r\n\x1a\n\0\0")
            handler.wfile.flush()
        host.release.wait(30)

    return route


def drip(interval: float = 0.05) -> Route:
    """One byte every ``interval`` seconds, for as long as the client listens."""

    def route(handler: Handler, host: ImageHost) -> None:
        handler.head(200, {"Content-Type": "image/png", "Content-Length": "100000"})
        try:
            while not host.release.is_set():
                handler.wfile.write(b"\0")
                handler.wfile.flush()
                time.sleep(interval)
        except OSError:
            pass

    return route


def resolver(
    names: dict[str, ImageHost], calls: list[str] | None = None
) -> Callable[[str, int], list[tuple[str, int]]]:
    """A DNS for the tests: each name is the loopback port of its host, whatever port the URL says."""

    def resolve(name: str, port: int) -> list[tuple[str, int]]:
        if calls is not None:
            calls.append(name)
        if name not in names:
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        return [("127.0.0.1", names[name].port)]

    return resolve
