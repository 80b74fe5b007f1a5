"""Turn docs paths of images into cloud URLs: from the manifest when current, else by uploading.

Lookups never touch the network; uploads run on a thread pool while pages are still being read,
identical content is uploaded once, and links are asked for 50 at a time once uploads are done.
The publisher knows nothing of MkDocs: the plugin and every command drive it the same way.
"""

from __future__ import annotations

import dataclasses
import logging
import threading
import time
from collections import deque
from concurrent.futures import Executor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable
from urllib.parse import parse_qs, quote, urlsplit

from ..errors import ConfigError, WxCloudError, redact
from ..manifest.hashing import HashCache
from ..manifest.model import Entry
from ..manifest.store import ManifestStore
from ..wechat.client import WxCloudClient
from ..wechat.errors import ApiError, CosError
from .cloudpath import cloud_path
from .sources import DocsFiles, ImageProblem

log = logging.getLogger("mkdocs.plugins.wxcloud")

PER_FILE_ERRCODES = {40097, -503003}  # a bad path or a vanished file: only that image fails
PER_FILE_COS_CODES = {"EntityTooLarge", "InvalidArgument", "KeyTooLong"}


@dataclass
class Summary:
    uploaded: int = 0
    reused: int = 0
    failed: int = 0
    bytes: int = 0
    seconds: float = 0.0

    def line(self) -> str:
        return (
            f"{self.uploaded} uploaded ({_size(self.bytes)}), {self.reused} reused, "
            f"{self.failed} failed in {self.seconds:.1f} s"
        )


@dataclass
class Report:
    urls: dict[str, str] = field(default_factory=dict)  # docs path -> URL, for what was scheduled
    errors: dict[str, str] = field(default_factory=dict)  # docs path -> one-line reason
    summary: Summary = field(default_factory=Summary)
    signed: bool = False  # links carry sign=/t=: the storage is private and links expire


class Publisher:
    """One run's view of the manifest, the image files and (lazily) the cloud."""

    def __init__(
        self,
        docs_dir: Path,
        store: ManifestStore,
        hashes: HashCache,
        *,
        connect: Callable[[], WxCloudClient] | None,
        executor: Executor | None,
        workers: int = 8,
        prefix: str = "",
        base_url: str | None = None,
        link_max_age: int = 86400,
        on_progress: Callable[[str, int], None] | None = None,
    ) -> None:
        self.files = DocsFiles(docs_dir, hashes)
        self.store = store
        self._connect = connect
        self._executor = executor
        self._max_workers = workers
        self.prefix = prefix.strip("/")
        self.base_url = base_url.rstrip("/") if base_url else None
        self.link_max_age = link_max_age
        self._on_progress = on_progress
        self._lock = threading.Lock()
        self._client: WxCloudClient | None = None
        self.fatal: WxCloudError | None = None  # an error that stops every further upload
        # Uploads wait in a queue of small tuples that at most `workers` tasks drain, rather than as
        # one Future each: a first build of a large site queues thousands at once.
        self._queue: deque[tuple[str, Path, str, int]] = deque()
        self._workers = 0
        self._idle = threading.Condition(self._lock)
        self._uploading: set[str] = set()  # sha256 of the contents this run uploads
        self._failed: dict[str, str] = {}  # sha256 -> why its upload failed
        self._waiting: dict[str, tuple[str, int]] = {}  # docs path -> (sha256, size) to publish
        self._reused: set[str] = set()
        self._started = time.monotonic()
        self.summary = Summary()

    @property
    def online(self) -> bool:
        return self._connect is not None

    @property
    def scheduled_uploads(self) -> int:
        with self._lock:
            return len(self._uploading)

    # -- lookups (never the network) ------------------------------------------------------------

    def _known(self, path: str, sha: str, size: int) -> Entry | None:
        """The manifest's entry for this content at ``path``, or for identical content elsewhere."""
        entry = self.store.get(path)
        if entry is not None and entry.sha256 == sha:
            return entry
        same = self.store.by_sha(sha)
        return dataclasses.replace(same, size=size) if same is not None else None

    def current_url(self, path: str) -> str | None:
        """The URL of the image as it is now, if the manifest already has it; else None."""
        sha, size = self.files.digest(path)
        entry = self._known(path, sha, size)
        if entry is not None and self.base_url and entry.url != self._static_url(entry.cloud_path):
            entry = dataclasses.replace(entry, url=self._static_url(entry.cloud_path), expires=None)
        if entry is not None and entry != self.store.get(path):
            self.store.put(path, entry)  # same content under a new name, or a new base_url: no request
        if entry is not None and entry.url and not self._expiring(entry):
            with self._lock:
                if path not in self._reused:
                    self._reused.add(path)
                    self.summary.reused += 1
            return entry.url
        return None

    def _expiring(self, entry: Entry) -> bool:
        return entry.expires is not None and entry.expires - time.time() < self.link_max_age / 2

    # -- publishing ----------------------------------------------------------------------------

    def schedule(self, path: str) -> None:
        """Make sure the image at ``path`` gets a URL by :meth:`finish` (upload and/or link)."""
        if not self.online:
            raise ConfigError("offline: images are not uploaded")
        sha, size = self.files.digest(path)
        with self._lock:
            if path in self._waiting:
                return
            self._waiting[path] = (sha, size)
            known = self.store.get(path)
            if known is not None and known.sha256 == sha and known.file_id:
                return  # uploaded before; only the link is missing or expiring
            if self.store.by_sha(sha) is not None or sha in self._uploading:
                return
            full, _ = self.files.locate(path)
            self._uploading.add(sha)
            self._queue.append((path, full, sha, size))
            if self._workers < self._max_workers:
                assert self._executor is not None, "an online publisher needs an executor"
                self._executor.submit(self._drain)
                self._workers += 1

    def _drain(self) -> None:
        """One worker: upload queued images until the queue is empty."""
        while True:
            with self._lock:
                if not self._queue:
                    self._workers -= 1
                    self._idle.notify_all()
                    return
                path, full, sha, size = self._queue.popleft()
            try:
                self._upload(path, full, sha, size)
            except WxCloudError as error:
                self._failed[sha] = str(error)
            except Exception as error:  # noqa: BLE001 - one image must not lose the others
                self._failed[sha] = redact(f"unexpected error: {type(error).__name__}: {error}")

    def _upload(self, path: str, full: Path, sha: str, size: int) -> None:
        if self.fatal is not None:
            raise self.fatal
        try:
            client = self._get_client()
            target = cloud_path(self.prefix, path, sha)
            file_id = client.upload(target, full)
        except WxCloudError as error:
            if not _per_file(error):
                self.fatal = self.fatal or error
            raise
        entry = Entry(sha256=sha, size=size, cloud_path=target, file_id=file_id, url=self._static_url(target))
        self.store.put(path, entry)
        with self._lock:
            self.summary.uploaded += 1
            self.summary.bytes += size
        if self._on_progress:
            self._on_progress(path, size)

    def _get_client(self) -> WxCloudClient:
        with self._lock:
            if self._client is None:
                assert self._connect is not None
                self._client = self._connect()
            return self._client

    def _static_url(self, target: str) -> str:
        return f"{self.base_url}/{quote(target)}" if self.base_url else ""

    def finish(self) -> Report:
        """Wait for the uploads, fetch the missing links, save the manifest; never raises for one image."""
        report = Report(summary=self.summary)
        with self._idle:
            self._idle.wait_for(lambda: not self._queue and self._workers == 0)
            waiting, failed = dict(self._waiting), dict(self._failed)
        entries: dict[str, Entry] = {}
        for path, (sha, size) in waiting.items():
            entry = self._known(path, sha, size)
            if entry is None:
                report.errors[path] = failed.get(sha) or str(self.fatal or "not uploaded")
            else:
                entries[path] = entry
        self._fetch_links(entries, report)
        for path, entry in entries.items():
            self.store.put(path, entry)
            if entry.url:
                report.urls[path] = entry.url
        report.summary.failed = len(report.errors)
        report.summary.seconds = time.monotonic() - self._started
        self.store.save()
        self.files.hashes.save()
        with self._lock:
            self._waiting.clear()
            self._uploading.clear()
            self._failed.clear()
        return report

    def _signed_expiry(self, url: str) -> int | None:
        """When a signed (private storage) link stops working; None for a permanent one.

        Counted from the request and ``link_max_age``, not from ``t=``, whose meaning (signing
        time or expiry) the protocol reference does not settle.
        """
        return int(time.time()) + self.link_max_age if "sign" in parse_qs(urlsplit(url).query) else None

    def _fetch_links(self, entries: dict[str, Entry], report: Report) -> None:
        need = {e.file_id for e in entries.values() if not e.url or self._expiring(e)}
        if self.base_url:
            for path, entry in entries.items():
                if entry.file_id in need:
                    entries[path] = dataclasses.replace(entry, url=self._static_url(entry.cloud_path))
            return
        if not need:
            return
        try:
            urls, errors = self._get_client().download_urls(sorted(need), self.link_max_age)
        except WxCloudError as error:
            urls, errors = {}, {fid: str(error) for fid in need}
        for path, entry in list(entries.items()):
            if entry.file_id not in need:
                continue
            url = urls.get(entry.file_id)
            if not url:
                report.errors[path] = f"no download link: {errors.get(entry.file_id, 'unknown error')}"
                del entries[path]
                continue
            expires = self._signed_expiry(url)
            report.signed = report.signed or expires is not None
            entries[path] = dataclasses.replace(entry, url=url, expires=expires)

    def close(self) -> None:
        """Write the manifest (and drop the journal), save the hash cache, release the client."""
        try:
            self.store.close()
            self.files.hashes.save()
        finally:
            if self._client is not None:
                self._client.close()
                self._client = None


def _per_file(error: WxCloudError) -> bool:
    if isinstance(error, ApiError):
        return error.errcode in PER_FILE_ERRCODES
    if isinstance(error, CosError):
        return error.code in PER_FILE_COS_CODES
    return isinstance(error, ImageProblem)


def _size(n: int) -> str:
    for unit in ("B", "KB", "MB", "GB"):
        if n < 1024 or unit == "GB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n} B"
