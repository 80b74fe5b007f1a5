"""Small loopback servers that answer what a test scripts: for answers the emulator never gives."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Callable, Union

from loopback import Background

TOKEN = {"access_token": "hostile-token-0123456789", "expires_in": 7200}

Respond = Callable[[BaseHTTPRequestHandler], None]


@dataclass
class Reply:
    """One answer: its status, its body (JSON of a dict, or bytes) and extra headers."""

    body: Any = b""
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)


Script = Union[Reply, dict, bytes, Callable[[bytes], Any], list]


class Server(Background):
    """A loopback HTTP server whose ``respond(handler)`` writes each answer itself; ``handler.body`` is
    the request's body."""

    def __init__(self, respond: Respond) -> None:
        self.requests: list[str] = []

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:  # noqa: N802
                self.body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                outer.requests.append(self.path.split("?")[0])
                try:
                    respond(self)
                except OSError:
                    pass  # the client hung up: what these tests want

            def log_message(self, *args: object) -> None:
                pass

        outer = self
        super().__init__(ThreadingHTTPServer(("127.0.0.1", 0), Handler))

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"


def answer_json(by_path: dict[str, Script]) -> Respond:
    """Answers each path (without its leading /; the first whose key starts it) as scripted; a token when
    none does. A script is a :class:`Reply`, a dict (JSON), bytes, a callable of the request's body, or a
    list of those answered in turn (the last one from then on)."""

    def respond(handler: BaseHTTPRequestHandler) -> None:
        path = handler.path.split("?")[0].lstrip("/")
        script: Script = next((v for k, v in by_path.items() if path.startswith(k)), TOKEN)
        if isinstance(script, list):
            script = script.pop(0) if len(script) > 1 else script[0]
        if callable(script):
            script = script(handler.body)  # type: ignore[attr-defined]
        reply = script if isinstance(script, Reply) else Reply(script)
        data = reply.body if isinstance(reply.body, bytes) else json.dumps(reply.body, ensure_ascii=False).encode()
        handler.send_response(reply.status)
        for name, value in reply.headers.items():
            handler.send_header(name, value)
        handler.send_header("Content-Length", str(len(data)))
        handler.end_headers()
        handler.wfile.write(data)

    return respond
