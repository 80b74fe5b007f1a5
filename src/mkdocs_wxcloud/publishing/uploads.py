"""The upload queue: drained by at most ``workers`` tasks while pages render, and cancellable.

Uploads wait as small tuples rather than one Future each (a first build of a large site queues
thousands at once). Each upload streams the file through a hashing reader: when the bytes sent are
not the bytes hashed (the file was rewritten meanwhile), the stored object is retired and the image
is hashed and uploaded again under its new hash, so a cloud path always holds the content it names.
An image to optimize is read into memory once, checked against its hash, and the
bytes the optimizer made from it are uploaded, named by their own hash.
"""

from __future__ import annotations

import hashlib
import logging
import posixpath
import threading
from collections import deque
from concurrent.futures import Executor
from dataclasses import dataclass
from typing import Callable

from ..errors import WxCloudError, redact
from ..manifest.model import Entry
from ..manifest.store import ManifestStore
from ..wechat.client import WxCloudClient
from ..wechat.errors import Cancelled
from .cloudpath import cloud_path
from .current import static_url
from .imports import FilesAndImports, is_imported
from .ledger import Ledger
from .offload import OFFLOAD_AT, Here, Sender, UploadProcess
from .optimizing import Optimizer
from .reporting import human_size
from .sources import ImageProblem

CHANGING_TRIES = 3  # uploads of a file that keeps changing before that image fails
INTERRUPTED = "not uploaded: the run was interrupted"
log = logging.getLogger("mkdocs.plugins.wxcloud")
COS_MAX_BYTES = 5 << 30  # the largest object one COS form upload takes (5 GB): a larger file fails alone

OnProgress = Callable[[str, int, bool], None]
"""``(docs path, bytes sent since the last call (negative: a retry took them back), finished)``."""


@dataclass(frozen=True)
class UploadPolicy:
    """How a run uploads: where, how many at once, on which pool, and who is told of progress."""

    prefix: str
    base_url: str | None
    workers: int
    executor: Executor | None
    connect: Callable[[], WxCloudClient] | None  # None: offline
    on_progress: OnProgress | None = None
    offload: Callable[[WxCloudClient], UploadProcess] | None = None  # None: every upload is sent from here


class Uploads:
    """Queued uploads of one run; results are read once :meth:`wait` returns."""

    def __init__(
        self, files: FilesAndImports, store: ManifestStore, optimizer: Optimizer, ledger: Ledger, policy: UploadPolicy
    ) -> None:
        self._files = files
        self._store = store
        self._optimizer = optimizer
        self._ledger = ledger
        self._policy = policy
        self._lock = threading.Lock()
        self._idle = threading.Condition(self._lock)
        self._queue: deque[tuple[str, str | None, int]] = deque()  # (docs path, sha256 or None: hash first, size)
        self._workers = 0
        self._queued = 0
        self._client: WxCloudClient | None = None
        self._process: UploadProcess | None = None
        self._writable = False
        self.cancelled = False
        self.fatal: WxCloudError | None = None  # an error that stops every further upload
        self.failed: dict[str, str] = {}  # sha256 asked for (docs path if never hashed) -> why it failed
        self.done: dict[str, Entry] = {}  # docs path -> what this run uploaded for it

    def submit(self, path: str, sha: str | None, size: int) -> None:
        """Queue an upload of the file at ``path``, whose content was hashed as ``sha`` (None: hash it
        first, on the pool, and upload it if ``on_hashed`` says so)."""
        if sha is not None:
            self._check_writable()  # at once, in the caller's thread: the build stops before uploading
        with self._lock:
            if self.cancelled:
                self.failed[sha or path] = INTERRUPTED
                return
            self._queue.append((path, sha, size))
            if self._workers < self._policy.workers:
                assert self._policy.executor is not None, "an online run needs an executor"
                self._policy.executor.submit(self._drain)
                self._workers += 1
            self._queued += 1
            offload = self._queued == OFFLOAD_AT
        if offload and self._policy.offload is not None:
            self._offload(self._policy.offload)

    def _offload(self, start: Callable[[WxCloudClient], UploadProcess]) -> None:
        """Start the process that sends the uploads queued from now on (on the thread that submits,
        usually the main one: the child then ignores Ctrl-C from its start)."""
        try:
            process = start(self.client())
        except WxCloudError:  # no client (credentials, cancelled): the uploads meet it and say it
            return
        except Exception as error:  # noqa: BLE001 - whatever keeps a process from starting: all is sent from here
            log.debug("wxcloud: uploads are sent from this process (no upload process: %s)", error)
            return
        with self._lock:
            if not self.cancelled:
                self._process = process
                return
        process.close()  # the run ended meanwhile

    def wait(self) -> None:
        """Until the queue is empty and no upload is under way."""
        with self._idle:
            self._idle.wait_for(lambda: not self._queue and self._workers == 0)

    def cancel(self) -> None:
        """Drop what has not started; uploads under way finish (and are recorded) or time out."""
        with self._lock:
            self.cancelled = True
            for path, sha, _ in self._queue:
                self.failed.setdefault(sha or path, INTERRUPTED)
            self._queue.clear()
            self._idle.notify_all()
            client, process = self._client, self._process
        if client is not None:
            client.cancel()
        if process is not None:
            process.cancel()

    def close(self) -> None:
        """Cancel what is left, wait for the uploads under way, release the client."""
        self.cancel()
        self.wait()
        with self._lock:
            client, self._client = self._client, None
            process, self._process = self._process, None
        if process is not None:
            process.close()
        if client is not None:
            client.close()

    @property
    def process(self) -> UploadProcess | None:
        """The process that sends uploads for this run, once started."""
        return self._process

    @property
    def requests_made(self) -> int:
        """HTTP requests sent so far, by this process and the upload process (none when no client was needed)."""
        with self._lock:
            clients = [self._client, self._process]
        return sum(client.requests_made for client in clients if client is not None)

    def client(self) -> WxCloudClient:
        """The run's client, made on first use; none is made once the run is cancelled or closed."""
        with self._lock:
            if self.cancelled:
                raise Cancelled("the run was interrupted: nothing more is sent")
            if self._client is None:
                assert self._policy.connect is not None, "an offline run makes no client"
                self._client = self._policy.connect()
            return self._client

    def _drain(self) -> None:
        """One worker: upload queued images until the queue is empty."""
        while True:
            with self._lock:
                if not self._queue:
                    self._workers -= 1
                    self._idle.notify_all()
                    return
                path, sha, size = self._queue.popleft()
            try:
                if sha is None:
                    sha, size = self._files.digest(path)
                    if not self._ledger.hashed(path, sha, size):
                        continue
                self._upload(path, sha, size)
            except WxCloudError as error:
                with self._lock:
                    self.failed[sha or path] = str(error)
            except Exception as error:  # noqa: BLE001 - one image must not lose the others
                with self._lock:
                    self.failed[sha or path] = redact(f"unexpected error: {type(error).__name__}: {error}")
            except BaseException:  # an interrupt raised in this thread: counted out, or wait() never returns
                with self._lock:
                    self._workers -= 1
                    self._idle.notify_all()
                raise

    def _check_writable(self) -> None:
        """Before the first upload: one that could not be recorded would be lost."""
        if not self._writable:
            self._store.ensure_writable()
            self._writable = True

    def _upload(self, path: str, sha: str, size: int) -> None:
        if self.fatal is not None:
            raise self.fatal
        if size > COS_MAX_BYTES:
            raise ImageProblem(f"is {human_size(size)}, over the {human_size(COS_MAX_BYTES)} that cloud storage takes "
                               "in one upload: host it elsewhere, or leave its kind out of `assets`")  # fmt: skip
        asked = sha
        try:
            self._check_writable()
            sender = self._sender()
            for _ in range(CHANGING_TRIES):
                entry = self._store_file(sender, path, sha, size)
                if entry is not None:
                    break
                sha, size = self._files.rehash(path)
            else:
                raise ImageProblem("kept changing while it was uploaded: run again once it is saved")
        except WxCloudError as error:
            if not error.per_file and not isinstance(error, Cancelled):
                self.fatal = self.fatal or error
            raise
        entry = self._files.imports.sourced(path, entry)
        self._store.put(path, entry)
        with self._lock:
            self.done[path] = entry
        twin = self._ledger.twin_of(path, asked) if sha != asked else None
        if twin is not None:  # it waits for the content this file had: it needs its own upload
            self.submit(twin[0], *twin[1])
        if self._policy.on_progress:
            self._policy.on_progress(path, 0, True)

    def _sender(self) -> Sender:
        """The upload process once it takes work, else this process's client."""
        process = self._process
        return process if process is not None and process.ready.is_set() else Here(self.client())

    def _store_file(self, sender: Sender, path: str, sha: str, size: int) -> Entry | None:
        """Upload the image as hashed (``sha``), optimized if its profile says so; None if its bytes
        are no longer those hashed (it changed: the caller hashes it again)."""
        full, _ = self._files.locate(path)
        if not self._optimizer.reads(path, size):
            target = cloud_path(self._policy.prefix, self._files.name(path), sha)
            on_read = (lambda n: self._progress(path, n)) if self._policy.on_progress else None
            name = posixpath.basename(self._files.name(path))
            file_id, sent = sender.send_file(full, target, name, size, on_read)
            if sent != sha:
                self._store.retire(file_id, target)  # it holds bytes that no image has
                self._progress(path, -size)  # sent again under its new hash
                return None
            return Entry(sha256=sha, size=size, cloud_path=target, file_id=file_id, url=static_url(self._policy.base_url, target),
                         **self._optimizer.measure(full, self._files.name(path)))  # fmt: skip
        try:
            data = full.read_bytes()
        except OSError as error:
            raise ImageProblem(f"cannot be read ({error.strerror}): fix its permissions") from None
        if hashlib.sha256(data).hexdigest() != sha:
            return None
        prepared = self._optimizer.prepare(path, data, sha)
        kept = is_imported(path) and prepared.sha256 == sha  # the bytes as downloaded: named by what they are
        target = cloud_path(
            self._policy.prefix, self._files.name(path), prepared.sha256, None if kept else prepared.ext
        )
        before = self._store.get(path)
        if before is not None and before.cloud_path == target and before.file_id:
            file_id = before.file_id  # the same bytes are there already (a setting changed, the result did not)
        else:
            file_id = sender.send_bytes(target, prepared.body, posixpath.basename(target))
        self._progress(path, size)  # what the total counts: the source's bytes
        return Entry(sha256=sha, size=size, cloud_path=target, file_id=file_id, url=static_url(self._policy.base_url, target),
                     **prepared.fields)  # fmt: skip

    def _progress(self, path: str, sent: int) -> None:
        if self._policy.on_progress:
            self._policy.on_progress(path, sent, False)
