"""A loopback proxy in front of the emulator that misbehaves on purpose.

The emulator is faithful; the real service and the network are not always. Tests that need one
wrong answer (a redirect, a link that is not http(s), a file WeChat does not see yet) put this
proxy between the client and the emulator: every request is forwarded over real HTTP, and the
test's hooks may answer instead (``before``) or change the emulator's answer (``after``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Callable

import requests
from loopback import Background


@dataclass
class Exchange:
    method: str
    path: str  # with the query string (absolute when the client uses this as its forward proxy)
    body: bytes
    status: int = 0
    headers: dict[str, str] = field(default_factory=dict)
    answer: bytes = b""


Hook = Callable[[Exchange], "Exchange | None"]


class Proxy(Background):
    """``before(request)`` may return an answer instead of forwarding; ``after(exchange)`` may edit it."""

    def __init__(self, upstream: str, before: Hook | None = None, after: Hook | None = None) -> None:
        self.upstream = upstream.rstrip("/")
        self.before = before
        self.after = after
        self.seen: list[Exchange] = []
        self.headers: list[dict[str, str]] = []  # the headers of each request, in order
        super().__init__(ThreadingHTTPServer(("127.0.0.1", 0), _handler(self)))

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def count(self, prefix: str) -> int:
        return sum(1 for e in self.seen if e.path.startswith(prefix))


def _handler(proxy: Proxy) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: object) -> None:  # noqa: A002
            pass

        def do_GET(self) -> None:  # noqa: N802
            self._relay()

        do_POST = do_HEAD = do_GET  # noqa: N815

        def _relay(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            request = Exchange(self.command, self.path, body)
            proxy.seen.append(request)
            proxy.headers.append(dict(self.headers.items()))
            answer = proxy.before(request) if proxy.before else None
            if answer is None:
                headers = {k: v for k, v in self.headers.items() if k.lower() not in ("host", "content-length")}
                target = self.path if self.path.startswith("http") else proxy.upstream + self.path
                got = requests.request(self.command, target, data=body, headers=headers, allow_redirects=False,
                                       timeout=30, proxies={"http": "", "https": ""})  # fmt: skip
                answer = Exchange(self.command, self.path, body, got.status_code,
                                  {"Content-Type": got.headers.get("Content-Type", "")}, got.content)  # fmt: skip
                answer = (proxy.after(answer) if proxy.after else None) or answer
            self.send_response(answer.status)
            for name, value in answer.headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(answer.answer)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(answer.answer)

    return Handler
