"""Uploads sent from a process of their own, so that a build renders on one core while another sends.

Sending an upload costs the client about 1.5 ms of CPU (two requests through urllib3 and
``http.client``), under the interpreter lock that the host's rendering needs too: on a first build of
hundreds of images, that time is added to the build. Once a build (``Mode.renders``) has queued
:data:`OFFLOAD_AT` uploads and the machine has a second core that nothing else keeps busy, the
uploads that follow are sent by a child process (spawned: forking a process that runs threads is unsafe) with a client of
its own. The run's threads stay what they were (hashing, the manifest, the journal, progress); only
the sending moves, and a sent file is hashed as it is read, where it is read, exactly as in this
process (:meth:`Here.send_file`).

The child gets the run's settings and the API address the run's own client uses, then, once it is
ready, the tokens that client holds (so it asks for none). It answers each upload with its file id
or its error, rebuilt here as the same type, and its log records are logged here (MkDocs counts
their warnings). It ignores Ctrl-C (:meth:`UploadProcess.cancel` is sent instead) and exits when
this process is gone, even after ``kill -9``. If it dies, the uploads it had are failed with one
error that stops the run's uploads, as a lost network would.
"""

from __future__ import annotations

import io
import itertools
import logging
import multiprocessing
import os
import threading
from concurrent.futures import Future, ThreadPoolExecutor
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any, BinaryIO, Callable, Protocol, cast

from ..children import ignoring_ctrl_c, obey
from ..errors import WxCloudError, redact
from ..manifest.hashing import HashingReader
from ..references import pool
from ..wechat.client import WxCloudClient
from .connection import connect
from .settings import Settings
from .sources import ImageProblem

log = logging.getLogger("mkdocs.plugins.wxcloud")
OFFLOAD_AT = 32  # uploads queued before a child is worth its start (about 0.3 s of CPU, on the idle core)
OnRead = Callable[[int], None]


class Sender(Protocol):
    """What sends a run's uploads: this process's client (:class:`Here`) or :class:`UploadProcess`."""

    def send_file(self, full: Path, target: str, name: str, size: int, on_read: OnRead | None) -> tuple[str, str]:
        """Upload the file as it is now, streamed: ``(file_id, sha256 of the bytes sent)``."""

    def send_bytes(self, target: str, body: bytes, name: str) -> str:
        """Upload bytes made in memory (an optimized image): its file_id."""


class Here:
    """Sending with a client of this process."""

    def __init__(self, client: WxCloudClient) -> None:
        self.client = client

    def send_file(self, full: Path, target: str, name: str, size: int, on_read: OnRead | None) -> tuple[str, str]:
        try:
            with open(full, "rb") as handle:
                reader = HashingReader(handle, size, on_read)
                return self.client.upload(target, cast(BinaryIO, reader), name), reader.hexdigest()
        except OSError as error:
            raise ImageProblem(f"cannot be read ({error.strerror}): fix its permissions") from None

    def send_bytes(self, target: str, body: bytes, name: str) -> str:
        return self.client.upload(target, io.BytesIO(body), name)


def worth_a_process() -> bool:
    """Whether a child process can send on a core of its own: one that nothing else keeps busy, as the
    scan's workers need (on a busy machine the child only competes with the build for a core)."""
    return pool.idle_cores() >= 2


class UploadProcess:
    """A child process that sends uploads for this one; its methods block the calling thread only."""

    def __init__(self, settings: Settings, client: WxCloudClient) -> None:
        """Start the child; it takes work once :attr:`ready` is set (until then, send here)."""
        context = multiprocessing.get_context("spawn")
        self._conn, theirs = context.Pipe()
        self._send_lock = threading.Lock()
        self._lock = threading.Lock()
        self._pending: dict[int, tuple[Future[Any], OnRead | None]] = {}
        self._tokens = client.tokens
        self._ids = itertools.count()
        self._requests = 0
        self._gone: WxCloudError | None = None
        self.ready = threading.Event()
        self._process = context.Process(
            target=_serve, args=(theirs, os.getpid(), settings, client.api_base, log.getEffectiveLevel()),
            name="wxcloud-uploads", daemon=True,
        )  # fmt: skip
        with ignoring_ctrl_c():
            self._process.start()
        theirs.close()
        self._reader = threading.Thread(target=self._read, name="wxcloud-uploads-reader", daemon=True)
        self._reader.start()

    @property
    def pid(self) -> int | None:
        return self._process.pid

    @property
    def requests_made(self) -> int:
        with self._lock:
            return self._requests

    def send_file(self, full: Path, target: str, name: str, size: int, on_read: OnRead | None) -> tuple[str, str]:
        """As :meth:`Here.send_file`, in the child (``on_read`` is told here)."""
        return cast("tuple[str, str]", self._ask(on_read, "file", str(full), target, name, size, on_read is not None))

    def send_bytes(self, target: str, body: bytes, name: str) -> str:
        return cast(str, self._ask(None, "bytes", target, body, name))

    def cancel(self) -> None:
        """Start no new request in the child; uploads under way finish or time out."""
        self._post(("cancel",))

    def close(self) -> None:
        """Let the uploads under way finish, then end the child (at once if it never took work)."""
        if self.ready.is_set():
            self._post(None)
        else:
            self._process.terminate()
        self._reader.join()  # it waits for the child (one thread alone may)
        self._conn.close()

    def _ask(self, on_read: OnRead | None, *message: object) -> object:
        future: Future[Any] = Future()
        with self._lock:
            if self._gone is not None:
                raise self._gone
            key = next(self._ids)
            self._pending[key] = (future, on_read)
        self._post((message[0], key, *message[1:]))
        return future.result()

    def _post(self, message: tuple[object, ...] | None) -> None:
        try:
            with self._send_lock:
                self._conn.send(message)
        except (OSError, ValueError):  # the child is gone: its reader fails what waits
            pass

    def _read(self) -> None:
        """Answers from the child, until it ends; then the child is waited for."""
        try:
            while True:
                kind, *rest = self._conn.recv()
                if kind == "ready":
                    self._post(("tokens", self._tokens.remembered()))
                    self.ready.set()
                    log.debug("wxcloud: the uploads queued from now on are sent by process %s", self.pid)
                elif kind == "log":
                    log.log(*rest)
                elif kind == "read":
                    key, count = rest
                    with self._lock:
                        on_read = self._pending.get(key, (None, None))[1]
                    if on_read is not None:
                        on_read(count)
                else:
                    key, result, requests = rest
                    with self._lock:
                        future, _ = self._pending.pop(key)
                        self._requests = max(self._requests, requests)
                    if kind == "done":
                        future.set_result(result)
                    else:
                        future.set_exception(_rebuilt(*result))
        except (EOFError, OSError):
            pass
        self._process.join()
        with self._lock:
            self._gone = WxCloudError(
                f"the upload process ended unexpectedly (exit status {self._process.exitcode}): "
                "run again to upload the rest"
            )
            waiting, self._pending = self._pending, {}
        for future, _ in waiting.values():
            future.set_exception(self._gone)


def _rebuilt(kind: type, message: str, fields: dict[str, Any]) -> WxCloudError:
    """The child's error as the same type, its message and attributes (not its constructor's arguments)."""
    if not (isinstance(kind, type) and issubclass(kind, WxCloudError)):
        return WxCloudError(f"unexpected error: {message}")
    error = kind.__new__(kind)
    Exception.__init__(error, message)
    error.__dict__.update(fields)
    return error


# -- the child -------------------------------------------------------------------------------------


class _Forwarding(logging.Handler):
    """The child's log records, told to the parent."""

    def __init__(self, answer: Callable[..., None]) -> None:
        super().__init__()
        self._answer = answer

    def emit(self, record: logging.LogRecord) -> None:
        self._answer("log", record.levelno, "%s", record.getMessage())


def _serve(conn: Connection, parent: int, settings: Settings, api_base: str, level: int) -> None:
    """The child's loop: one thread reads work, ``concurrency`` threads send it."""
    obey(parent)
    lock = threading.Lock()

    def answer(*message: object) -> None:
        with lock:
            conn.send(message)

    log.setLevel(level)
    log.propagate = False
    log.addHandler(_Forwarding(answer))
    try:
        client = connect(settings, api_base)
    except WxCloudError:  # the parent's client was made from the same settings: it sends from there
        return
    here = Here(client)

    def work(kind: str, key: int, *args: Any) -> None:
        try:
            if kind == "file":
                full, target, name, size, progress = args
                on_read = (lambda n: answer("read", key, n)) if progress else None
                result: object = here.send_file(Path(full), target, name, size, on_read)
            else:
                result = here.send_bytes(*args)
            answer("done", key, result, client.requests_made)
            return
        except WxCloudError as error:
            failure: tuple[type, str, dict[str, Any]] = (type(error), str(error), vars(error))
        except Exception as error:  # noqa: BLE001 - the parent words it, as it words its own
            failure = (WxCloudError, redact(f"unexpected error: {type(error).__name__}: {error}"), {})
        try:
            answer("failed", key, failure, client.requests_made)
        except Exception:  # noqa: BLE001 - an attribute that does not pickle: the type and message still go
            answer("failed", key, (WxCloudError, failure[1], {}), client.requests_made)

    answer("ready")
    with ThreadPoolExecutor(settings.concurrency, thread_name_prefix="wxcloud") as pool:
        while True:
            try:
                message = conn.recv()
            except (EOFError, OSError):  # the parent is gone
                client.cancel()
                break
            if message is None:
                break
            if message[0] == "cancel":
                client.cancel()
            elif message[0] == "tokens":
                client.tokens.remember(message[1])
            else:
                pool.submit(work, *message)
    client.close()
    conn.close()
