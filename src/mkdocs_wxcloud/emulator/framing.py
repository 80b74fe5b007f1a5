"""HTTP/1.1 request framing, read strictly (RFC 9112): where a request's path and body are.

``http.server`` leaves the body to its handlers; a lenient reading of it (``int()`` of any
``Content-Length``, a guessed chunk size) either crashes or lets a client smuggle one request
inside another. Everything here raises :class:`BrokenRequest` instead, and never reads a body past
its limit.
"""

from __future__ import annotations

import re
from email.message import Message
from typing import Protocol
from urllib.parse import urlsplit

from .protocol import decimal

CHUNK = 1 << 20  # how much to read or write at a time
_MAX_LINE = 65537  # like http.server's limit on the request line
_CHUNK_SIZE = re.compile(rb"([0-9A-Fa-f]{1,16})[ \t]*(?:;[^\r\n]*)?\r?\n")


class Reader(Protocol):
    def read(self, size: int = -1, /) -> bytes: ...

    def readline(self, size: int = -1, /) -> bytes: ...


class Writer(Protocol):
    def write(self, data: bytes, /) -> int: ...


class BrokenRequest(Exception):
    """A request that cannot be read as HTTP/1.1 frames it (400) or whose body is over the limit (413)."""

    def __init__(self, status: int, explain: str) -> None:
        super().__init__(explain)
        self.status = status
        self.explain = explain


def request_target(target: str) -> tuple[str, str]:
    """The path and query of an origin-form (``/p?q``) or absolute-form (``http://h/p?q``) target.

    Raises :class:`BrokenRequest` for anything else, such as an unclosed IPv6 host (``http://[::1/``)
    on which ``urlsplit`` raises ValueError; an origin form is not split by ``urlsplit``, which
    would take ``//x/y`` for a host.
    """
    if target.startswith("/"):
        path, _, query = target.partition("?")
        return path, query
    try:
        url = urlsplit(target)
    except ValueError:
        url = None
    if url is None or url.scheme not in ("http", "https") or not url.netloc:
        raise BrokenRequest(400, "the request target is neither /path nor http://host/path")
    return url.path or "/", url.query


def body_length(headers: Message, limit: int) -> int | None:
    """The body's ``Content-Length``, or None for a chunked body.

    Raises :class:`BrokenRequest` when the framing is ambiguous (RFC 9112 6.3: no number, several,
    Transfer-Encoding other than chunked alone, or both headers) or the length is over ``limit``.
    """
    codings = headers.get_all("Transfer-Encoding")
    lengths = headers.get_all("Content-Length")
    if codings is None:
        length = 0 if lengths is None else decimal(",".join(v.strip() for v in lengths))
        if length is None:
            raise BrokenRequest(400, "Content-Length must be one decimal number of at most 18 digits")
        if length > limit:
            raise _over_limit(limit)
        return length
    if lengths is not None or [c.strip().lower() for c in ",".join(codings).split(",")] != ["chunked"]:
        raise BrokenRequest(400, "Transfer-Encoding must be chunked alone, without Content-Length")
    return None


def read_chunked(rfile: Reader, sink: Writer, limit: int) -> int | None:
    """Decode a chunked body into ``sink``; its size, or None when the client went away.

    Raises :class:`BrokenRequest` on a bad chunk size or end, and before reading past ``limit``.
    """
    total = 0
    while True:
        line = rfile.readline(_MAX_LINE)
        if not line:
            return None
        match = _CHUNK_SIZE.fullmatch(line)
        if match is None:
            raise BrokenRequest(400, "a chunk size must be a hexadecimal number")
        size = int(match[1], 16)
        if size == 0:
            break
        total += size
        if total > limit:
            raise _over_limit(limit)
        if not copy(rfile, size, sink) or not (end := rfile.readline(3)):
            return None
        if end not in (b"\r\n", b"\n"):
            raise BrokenRequest(400, "a chunk is longer than its size says")
    while (line := rfile.readline(_MAX_LINE)) not in (b"\r\n", b"\n", b""):
        pass  # trailer fields: ignored
    return total if line else None


def copy(rfile: Reader, size: int, sink: Writer) -> bool:
    """Copy ``size`` bytes by 1 MiB pieces; False when the client went away first."""
    while size > 0:
        chunk = rfile.read(min(size, CHUNK))
        if not chunk:
            return False
        sink.write(chunk)
        size -= len(chunk)
    return True


def _over_limit(limit: int) -> BrokenRequest:
    return BrokenRequest(413, f"the body is over the limit of {limit} bytes")
