"""A test server on a loopback port, served on a daemon thread for the length of a ``with`` block."""

from __future__ import annotations

import socketserver
import threading
from typing import TypeVar

Self = TypeVar("Self", bound="Background")


class Background:
    """Runs ``server`` (bound to 127.0.0.1, port 0) while the ``with`` block lasts."""

    def __init__(self, server: socketserver.ThreadingMixIn | socketserver.BaseServer) -> None:
        server.daemon_threads = True  # type: ignore[union-attr]
        self._server: socketserver.BaseServer = server  # type: ignore[assignment]
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.05,), daemon=True)

    @property
    def port(self) -> int:
        return self._server.server_address[1]  # type: ignore[index]

    def __enter__(self: Self) -> Self:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()
