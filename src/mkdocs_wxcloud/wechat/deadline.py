"""A deadline for a whole answer, however slowly a server trickles it.

A socket timeout bounds each read: a server that sends one byte a second never trips it, and holds
a request (and an upload slot) for as long as it likes. Here every read of an answer, status line
and headers included, waits only for what is left until the request's deadline, then fails as a
read timeout (urllib3's ``ReadTimeoutError``). It works below urllib3, in the ``http.client`` response
its connections make, so that it holds for direct, proxied (HTTP CONNECT) and SOCKS connections alike.
"""

from __future__ import annotations

import functools
import http.client
import io
import socket
import time
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any, Callable, Iterator

_deadline: ContextVar[Callable[[], float] | None] = ContextVar("wxcloud_answer_deadline", default=None)


@contextmanager
def answer_by(deadline: Callable[[], float]) -> Iterator[None]:
    """Answers that start in this block (on this thread) end by ``deadline()``, a monotonic time
    computed once the request is sent."""
    token = _deadline.set(deadline)
    try:
        yield
    finally:
        _deadline.reset(token)


def with_deadlines(pool_classes: dict[str, Any]) -> dict[str, Any]:
    """urllib3 pool classes by scheme (a manager's ``pool_classes_by_scheme``) whose connections
    read answers against the deadline of :func:`answer_by`."""
    return {scheme: _pool_class(pool) for scheme, pool in pool_classes.items()}


@functools.cache
def _pool_class(pool: type) -> type:
    connection = type(f"Deadline{pool.ConnectionCls.__name__}", (pool.ConnectionCls,), {"response_class": _Response})  # type: ignore[attr-defined]
    return type(f"Deadline{pool.__name__}", (pool,), {"ConnectionCls": connection})


class _Response(http.client.HTTPResponse):
    def __init__(self, sock: socket.socket, *args: Any, **kwargs: Any) -> None:
        super().__init__(sock, *args, **kwargs)
        deadline = _deadline.get()
        if deadline is not None:  # nothing was read yet: the buffer can be replaced
            self.fp = io.BufferedReader(_Reader(self.fp.detach(), sock, deadline()))


class _Reader(io.RawIOBase):
    """The socket's reader, each read waiting no longer than the deadline leaves."""

    def __init__(self, raw: Any, sock: socket.socket, deadline: float) -> None:
        self._raw = raw
        self._sock = sock
        self._deadline = deadline

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        left = self._deadline - time.monotonic()
        if left <= 0:
            raise TimeoutError("the answer did not arrive in time")
        self._sock.settimeout(left)
        return self._raw.readinto(buffer)

    def close(self) -> None:
        self._raw.close()
        super().close()
