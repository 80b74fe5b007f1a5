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
import io
import posixpath
import threading
from collections import deque
from concurrent.futures import Executor
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from ..errors import WxCloudError, redact
from ..manifest.hashing import HashingReader
from ..manifest.model import Entry
from ..manifest.store import ManifestStore
from ..wechat.client import WxCloudClient
from ..wechat.errors import ApiError, Cancelled, CosError
from .cloudpath import cloud_path
from .optimizing import Optimizer
from .sources import DocsFiles, ImageProblem

PER_FILE_ERRCODES = {40097, -503003}  # a bad path or a vanished file: only that image fails
PER_FILE_COS_CODES = {"EntityTooLarge", "InvalidArgument", "KeyTooLong"}
CHANGING_TRIES = 3  # uploads of a file that keeps changing before that image fails
INTERRUPTED = "not uploaded: the run was interrupted"
COS_MAX_BYTES = 5 << 30  # the largest object one COS form upload takes (5 GB): a larger file fails alone

OnProgress = Callable[[str, int, bool], None]
"""``(docs path, bytes sent since the last call (negative: a retry took them back), finished)``."""


@dataclass
class Summary:
    uploaded: int = 0
    reused: int = 0
    failed: int = 0
    bytes: int = 0  # stored: after optimizing
    saved: int = 0  # by optimizing what was uploaded
    seconds: float = 0.0

    def line(self) -> str:
        saved = f", {human_size(self.saved)} saved by optimizing" if self.saved > 0 else ""
        return (
            f"{self.uploaded} uploaded ({human_size(self.bytes)}{saved}), {self.reused} reused, "
            f"{self.failed} failed in {self.seconds:.1f} s"
        )


class Uploads:
    """Queued uploads of one run; results are read once :meth:`wait` returns."""

    def __init__(
        self,
        files: DocsFiles,
        store: ManifestStore,
        summary: Summary,
        *,
        connect: Callable[[], WxCloudClient] | None,
        executor: Executor | None,
        workers: int,
        prefix: str,
        static_url: Callable[[str], str],
        optimizer: Optimizer,
        on_progress: OnProgress | None = None,
        on_changed: Callable[[str, str], None] | None = None,
        on_hashed: Callable[[str, str, int], bool] | None = None,
    ) -> None:
        """``on_changed(path, old_sha256)`` is told when a file changed while it was sent;
        ``on_hashed(path, sha256, size)`` decides whether a file queued unhashed is uploaded."""
        self._files = files
        self._store = store
        self._summary = summary
        self._connect = connect
        self._executor = executor
        self._max_workers = workers
        self._prefix = prefix
        self._optimizer = optimizer
        self._static_url = static_url
        self._on_progress = on_progress
        self._on_changed = on_changed
        self._on_hashed = on_hashed
        self._lock = threading.Lock()
        self._idle = threading.Condition(self._lock)
        self._queue: deque[tuple[str, str | None, int]] = deque()  # (docs path, sha256 or None: hash first, size)
        self._workers = 0
        self._client: WxCloudClient | None = None
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
            if self._workers < self._max_workers:
                assert self._executor is not None, "an online publisher needs an executor"
                self._executor.submit(self._drain)
                self._workers += 1

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
            client = self._client
        if client is not None:
            client.cancel()

    def close(self) -> None:
        """Cancel what is left, wait for the uploads under way, release the client."""
        self.cancel()
        self.wait()
        with self._lock:
            client, self._client = self._client, None
            # the callbacks are the publisher's methods: without this cycle, a closed run's
            # manifest and caches are freed at once, not at the next garbage collection
            self._on_progress = self._on_changed = self._on_hashed = None
        if client is not None:
            client.close()

    def client(self) -> WxCloudClient:
        """The run's client, made on first use; none is made once the run is cancelled or closed."""
        with self._lock:
            if self.cancelled:
                raise Cancelled("the run was interrupted: nothing more is sent")
            if self._client is None:
                assert self._connect is not None
                self._client = self._connect()
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
                    assert self._on_hashed is not None
                    sha, size = self._files.digest(path)
                    if not self._on_hashed(path, sha, size):
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
            client = self.client()
            for _ in range(CHANGING_TRIES):
                entry = self._store_file(client, path, sha, size)
                if entry is not None:
                    break
                sha, size = self._files.rehash(path)
            else:
                raise ImageProblem("kept changing while it was uploaded: run again once it is saved")
        except WxCloudError as error:
            if not _per_file(error) and not isinstance(error, Cancelled):
                self.fatal = self.fatal or error
            raise
        self._store.put(path, entry)
        with self._lock:
            self.done[path] = entry
            self._summary.uploaded += 1
            self._summary.bytes += entry.stored
            self._summary.saved += entry.size - entry.stored
        if sha != asked and self._on_changed is not None:
            self._on_changed(path, asked)
        if self._on_progress:
            self._on_progress(path, 0, True)

    def _store_file(self, client: WxCloudClient, path: str, sha: str, size: int) -> Entry | None:
        """Upload the image as hashed (``sha``), optimized if its profile says so; None if its bytes
        are no longer those hashed (it changed: the caller hashes it again)."""
        full, _ = self._files.locate(path)
        if not self._optimizer.reads(path, size):
            target = cloud_path(self._prefix, path, sha)
            file_id, sent = self._send(client, path, full, target, size)
            if sent != sha:
                self._store.retire(file_id, target)  # it holds bytes that no image has
                self._progress(path, -size)  # sent again under its new hash
                return None
            return Entry(sha256=sha, size=size, cloud_path=target, file_id=file_id, url=self._static_url(target),
                         **self._optimizer.measure(full))  # fmt: skip
        try:
            data = full.read_bytes()
        except OSError as error:
            raise ImageProblem(f"cannot be read ({error.strerror}): fix its permissions") from None
        if hashlib.sha256(data).hexdigest() != sha:
            return None
        prepared = self._optimizer.prepare(path, data, sha)
        target = cloud_path(self._prefix, path, prepared.sha256, prepared.ext)
        before = self._store.get(path)
        if before is not None and before.cloud_path == target and before.file_id:
            file_id = before.file_id  # the same bytes are there already (a setting changed, the result did not)
        else:
            file_id = client.upload(target, io.BytesIO(prepared.body), posixpath.basename(target))
        self._progress(path, size)  # what the total counts: the source's bytes
        return Entry(sha256=sha, size=size, cloud_path=target, file_id=file_id, url=self._static_url(target),
                     **prepared.fields)  # fmt: skip

    def _progress(self, path: str, sent: int) -> None:
        if self._on_progress:
            self._on_progress(path, sent, False)

    def _send(self, client: WxCloudClient, path: str, full: Path, target: str, size: int) -> tuple[str, str]:
        """Upload the file as it is now, streamed: ``(file_id, sha256 of the bytes sent)``."""
        try:
            with open(full, "rb") as handle:
                reader = HashingReader(handle, size, (lambda n: self._progress(path, n)) if self._on_progress else None)
                return client.upload(target, reader, full.name), reader.hexdigest()
        except OSError as error:
            raise ImageProblem(f"cannot be read ({error.strerror}): fix its permissions") from None


def _per_file(error: WxCloudError) -> bool:
    if isinstance(error, ApiError):
        return error.errcode in PER_FILE_ERRCODES
    if isinstance(error, CosError):
        return error.code in PER_FILE_COS_CODES
    return isinstance(error, ImageProblem)


def human_size(n: float) -> str:
    """``1.3 MB``: for the summary line and messages (1 KB = 1024 bytes)."""
    for unit in ("B", "KB", "MB", "GB"):
        if n < 1024 or unit == "GB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n} B"
