"""One safe download of a remote file named in a page: ``fetch(url, policy)``.

A fork's pull request can put any URL in a page, and the build downloads it with the project's
network around it. So a download:

* goes only to hosts of ``import_hosts`` (:mod:`.hosts`), over https unless an ``http://`` origin is
  listed; redirects are followed by hand, at most :data:`MAX_REDIRECTS`, each hop checked the same way;
* connects only to public addresses (:mod:`.addresses`): the name is resolved once, the socket
  connects to that literal address, its peer is checked again, and TLS is verified against the
  *name* (SNI and certificate) — DNS rebinding cannot move it inside the network;
* stops at ``max_bytes`` while reading (a ``Content-Length`` above it is refused before reading)
  and at one ``deadline`` for the whole download, redirects included: a watchdog shuts the socket
  down when it passes, so a server that drips one byte a second cannot hold the build;
* sends no cookies, no credentials, no ``Referer``, reads no ``~/.netrc``, and connects directly:
  ``HTTPS_PROXY`` is not used, because through a proxy the address connected to cannot be checked.

Errors are :class:`~.problems.ImportProblem`: one line naming the host and what it did.
"""

from __future__ import annotations

import functools
import hashlib
import http.client
import os
import socket
import ssl
import tempfile
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Iterator
from urllib.parse import urljoin

from .addresses import Resolver, allowed, check_peer, resolve, system_resolver
from .hosts import HostList, Url, shown, split_url
from .problems import ImportProblem, megabytes, status_reason, web_page_reason
from .sniff import HEAD, Sniffed, is_html, looks_like_login, sniff

MAX_BYTES = 50 << 20
DEADLINE = 30.0  # seconds for the whole download, redirects included
MAX_REDIRECTS = 5
_CHUNK = 64 * 1024
_REDIRECTS = (301, 302, 303, 307, 308)
_ACCEPT = "image/*, video/*, audio/*, application/pdf, */*;q=0.5"  # no text/html: imgur sends its page


@dataclass(frozen=True)
class Policy:
    """What a download may do; built from ``import_hosts`` and ``import_allow_private``."""

    hosts: HostList
    allow_private: bool = False  # UNSAFE: lets a page reach loopback and the private network (tests)
    max_bytes: int = MAX_BYTES
    deadline: float = DEADLINE
    ca_bundle: str | None = None  # None: REQUESTS_CA_BUNDLE, CURL_CA_BUNDLE, else certifi's, as requests does
    resolver: Resolver = field(default=system_resolver, repr=False)


@dataclass(frozen=True)
class Fetched:
    """A downloaded file: its bytes are in ``path`` (the caller moves or deletes it)."""

    url: str  # as asked for (no user name or password, no fragment)
    final_url: str  # after the redirects
    content_type: str  # as the host declared it ("" when it did not): not to be trusted, see sniffed
    sha256: str
    size: int
    path: Path
    sniffed: Sniffed | None  # what the bytes are; None when no known format


def fetch(url: str, policy: Policy, *, folder: Path | None = None) -> Fetched:
    """Download ``url`` into a new file of ``folder`` (the system's temporary folder by default)."""
    current = split_url(url)
    if current is None:
        raise ImportProblem(shown(url), "", "is not an http(s) URL, or carries a user name or password: refused")
    first = current
    if not policy.hosts.allows_url(current):
        raise ImportProblem(first.shown, current.host, _not_listed(current, policy.hosts))
    clock = _Clock(policy.deadline)
    for _ in range(MAX_REDIRECTS + 1):
        with _exchange(first, current, policy, clock) as response:
            if response.status not in _REDIRECTS:
                if response.status != 200:
                    raise ImportProblem(first.shown, current.host, status_reason(response.status, first.shown))
                return _receive(response, first, current, policy, clock, folder)
            current = _redirect(response, first, current, policy.hosts)
    raise ImportProblem(first.shown, current.host, f"redirected more than {MAX_REDIRECTS} times")


def _not_listed(url: Url, hosts: HostList) -> str:
    origin = f"{url.scheme}://{url.authority}"
    if not hosts.lists_host(url.host):
        return "is not in `import_hosts`"
    if url.scheme == "http":
        return f"is not allowed over plain http: list `{origin}` in `import_hosts` to allow it"
    return f"is not allowed on port {url.port}: list `{origin}` in `import_hosts` to allow it"


def _redirect(response: http.client.HTTPResponse, first: Url, current: Url, hosts: HostList) -> Url:
    location = (response.getheader("Location") or "").strip()
    if not location:
        raise ImportProblem(first.shown, current.host, f"answered {response.status} without saying where to")
    target = urljoin(current.shown, location)
    following = split_url(target)
    if following is None:
        raise ImportProblem(first.shown, current.host, f"redirected to {shown(target)}, which cannot be imported")
    if not hosts.allows_url(following):
        raise ImportProblem(
            first.shown, current.host, f"redirected to {following.host}, which {_not_listed(following, hosts)}"
        )
    return following


class _Clock:
    """One deadline for the whole download."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.end = time.monotonic() + seconds
        self.expired = False

    def left(self) -> float:
        left = self.end - time.monotonic()
        if left <= 0:
            self.expired = True
        return max(left, 0.0)

    def expire(self, sock: socket.socket) -> None:
        """The watchdog: past the deadline, whatever the socket is waiting for ends now."""
        self.expired = True
        try:
            sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass

    @property
    def reason(self) -> str:
        return f"did not answer within {self.seconds:g} s"


class _Pinned(http.client.HTTPConnection):
    """An HTTP exchange over a socket already connected (and checked); it never reconnects."""

    def __init__(self, url: Url, sock: socket.socket) -> None:
        super().__init__(url.host, url.port)
        self.sock = sock

    def connect(self) -> None:
        raise ConnectionError("the connection was closed")


@contextmanager
def _exchange(first: Url, url: Url, policy: Policy, clock: _Clock) -> Iterator[http.client.HTTPResponse]:
    """GET ``url`` on a connection of its own; the answer's headers are read, its body not yet."""
    if clock.left() <= 0:
        raise ImportProblem(first.shown, url.host, clock.reason)
    raw = _connect(first, url, policy, clock)
    guard = raw.dup()  # the same connection: TLS detaches ``raw``, the watchdog keeps its own handle
    watchdog = threading.Timer(clock.left(), clock.expire, (guard,))
    watchdog.daemon = True
    watchdog.start()
    connection = response = None
    try:
        sock = _tls(policy).wrap_socket(raw, server_hostname=url.host) if url.scheme == "https" else raw
        connection = _Pinned(url, sock)
        connection.putrequest("GET", url.target, skip_host=True, skip_accept_encoding=True)
        for name, value in (
            ("Host", url.authority),
            ("User-Agent", _USER_AGENT),
            ("Accept", _ACCEPT),
            ("Accept-Encoding", "identity"),
            ("Connection", "close"),
        ):
            connection.putheader(name, value)
        connection.endheaders()
        response = connection.getresponse()
        yield response
    except (OSError, http.client.HTTPException) as exc:
        raise ImportProblem(first.shown, url.host, _failure(exc, clock)) from None
    finally:
        watchdog.cancel()
        if response is not None:
            response.close()  # it holds the socket when the host closes the connection after the answer
        if connection is not None:
            connection.close()
        raw.close()
        guard.close()


def _connect(first: Url, url: Url, policy: Policy, clock: _Clock) -> socket.socket:
    """A socket connected to a checked address of ``url``'s host (the first that answers)."""
    try:
        found = resolve(url.host, url.port, policy.resolver, clock.left())
    except (OSError, UnicodeError):
        found = []
    if found is None:
        raise ImportProblem(first.shown, url.host, clock.reason)
    if not found:
        raise ImportProblem(first.shown, url.host, "does not resolve: no such host")
    usable, refused = allowed(found, policy.allow_private)
    if not usable:
        raise ImportProblem(first.shown, url.host, refused or "has no usable address")
    failure: OSError | None = None
    for address, port in usable:
        try:
            sock = socket.create_connection((address, port), timeout=max(clock.left(), 0.001))
        except OSError as exc:
            failure = exc
            if clock.left() <= 0:
                break
            continue
        problem = check_peer(sock, address, policy.allow_private)
        if problem:
            sock.close()
            raise ImportProblem(first.shown, url.host, problem)
        return sock
    raise ImportProblem(first.shown, url.host, _failure(failure or ConnectionError(), clock))


def _receive(
    response: http.client.HTTPResponse, first: Url, last: Url, policy: Policy, clock: _Clock, folder: Path | None
) -> Fetched:
    """Stream the body into a temporary file of ``folder``, hashing it and counting every byte."""
    too_big = f"sent more than {megabytes(policy.max_bytes)}"
    length = (response.getheader("Content-Length") or "").strip()
    if length.isdigit() and int(length) > policy.max_bytes:
        raise ImportProblem(first.shown, last.host, too_big)
    encoding = (response.getheader("Content-Encoding") or "identity").strip().lower()
    if encoding != "identity":
        raise ImportProblem(first.shown, last.host, f"sent compressed data ({encoding}) although none was asked for")
    folder = folder or Path(tempfile.gettempdir())
    folder.mkdir(parents=True, exist_ok=True)
    handle, name = tempfile.mkstemp(dir=folder, prefix=".part-")
    try:
        digest, size, head = hashlib.sha256(), 0, bytearray()
        with os.fdopen(handle, "wb") as out:
            try:
                while chunk := response.read1(_CHUNK):
                    size += len(chunk)
                    if size > policy.max_bytes:
                        raise ImportProblem(first.shown, last.host, too_big)
                    if len(head) < HEAD:
                        head += chunk[: HEAD - len(head)]
                        if len(head) == HEAD:
                            _refuse_web_page(bytes(head), first, last)
                    digest.update(chunk)
                    out.write(chunk)
            except (OSError, http.client.HTTPException) as exc:
                raise ImportProblem(first.shown, last.host, _failure(exc, clock)) from None
            if clock.expired:
                raise ImportProblem(first.shown, last.host, clock.reason)
            if response.length:  # fewer bytes than its Content-Length announced
                raise ImportProblem(first.shown, last.host, f"broke off after {size} bytes")
            out.flush()
            os.fsync(out.fileno())
        _refuse_web_page(bytes(head), first, last)
        return Fetched(
            first.shown,
            last.shown,
            response.getheader("Content-Type") or "",
            digest.hexdigest(),
            size,
            Path(name),
            sniff(bytes(head)),
        )
    except BaseException:
        os.unlink(name)
        raise


def _refuse_web_page(head: bytes, first: Url, last: Url) -> None:
    if sniff(head) is None and is_html(head):
        raise ImportProblem(first.shown, last.host, web_page_reason(first.shown, looks_like_login(head, last.shown)))


def _failure(exc: BaseException, clock: _Clock) -> str:
    """What a network error means, in the words of a message."""
    if clock.expired or isinstance(exc, TimeoutError):
        return clock.reason
    if isinstance(exc, ssl.SSLCertVerificationError):
        return f"presented a certificate that could not be verified ({exc.verify_message})"
    if isinstance(exc, ssl.SSLError):
        return f"failed the TLS handshake ({exc.reason or exc})"
    if isinstance(exc, ConnectionRefusedError):
        return "refused the connection"
    if isinstance(exc, http.client.IncompleteRead):
        return "broke off the answer"
    if isinstance(exc, http.client.HTTPException):
        return f"sent an answer that is not HTTP ({type(exc).__name__})"
    return f"could not be reached ({exc.strerror or type(exc).__name__})" if isinstance(exc, OSError) else str(exc)


def _tls(policy: Policy) -> ssl.SSLContext:
    return _context(
        policy.ca_bundle
        or os.environ.get("REQUESTS_CA_BUNDLE")
        or os.environ.get("CURL_CA_BUNDLE")
        or _default_bundle()
    )


@functools.lru_cache(maxsize=4)
def _context(bundle: str) -> ssl.SSLContext:
    """Verifies certificates and host names; shared by every download (loading a bundle takes a while)."""
    if os.path.isdir(bundle):
        context = ssl.create_default_context(capath=bundle)
    else:
        context = ssl.create_default_context(cafile=bundle)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    return context


def _default_bundle() -> str:
    from requests.utils import DEFAULT_CA_BUNDLE_PATH  # certifi's, as the WeChat transport uses

    return str(DEFAULT_CA_BUNDLE_PATH)


def _user_agent() -> str:
    try:
        return f"mkdocs-wxcloud/{metadata.version('mkdocs-wxcloud')}"
    except metadata.PackageNotFoundError:
        return "mkdocs-wxcloud"


_USER_AGENT = _user_agent()
