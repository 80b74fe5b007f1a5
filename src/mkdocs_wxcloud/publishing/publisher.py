"""Turn docs paths of images into cloud URLs: from the manifest when current, else by uploading.

Lookups never touch the network; uploads run on a thread pool while pages are still being read,
identical content is uploaded once, and links are asked for 50 at a time once uploads are done.
The publisher knows nothing of MkDocs: the plugin and every command drive it the same way.
"""

from __future__ import annotations

import dataclasses
import functools
import logging
import threading
import time
from concurrent.futures import Executor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable
from urllib.parse import parse_qs, quote, urlsplit

from ..errors import ConfigError, WxCloudError
from ..manifest.hashing import HashCache
from ..manifest.model import Entry
from ..manifest.schema import is_web_url
from ..manifest.store import ManifestStore
from ..optimize.settings import Optimization
from ..wechat.client import WxCloudClient
from ..wechat.errors import FILE_NONEXIST
from .optimizing import Optimizer
from .sources import DocsFiles
from .uploads import OnProgress, Summary, Uploads

log = logging.getLogger("mkdocs.plugins.wxcloud")

__all__ = ["Publisher", "Report", "Summary"]


@dataclass
class Report:
    urls: dict[str, str] = field(default_factory=dict)  # docs path -> URL, for what was scheduled
    sizes: dict[str, tuple[int, int]] = field(default_factory=dict)  # docs path -> (width, height), when known
    errors: dict[str, str] = field(default_factory=dict)  # docs path -> one-line reason
    summary: Summary = field(default_factory=Summary)
    signed: bool = False  # links carry sign=/t=: the storage is private and links expire


def static_url(base_url: str | None, cloud_path: str) -> str:
    """The URL of a cloud path under ``base_url`` (a CDN domain bound to the storage), or ""."""
    return f"{base_url}/{quote(cloud_path)}" if base_url else ""


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
        on_progress: OnProgress | None = None,
        optimizer: Optimizer | None = None,
    ) -> None:
        self.files = DocsFiles(docs_dir, hashes)
        self.optimizer = optimizer or Optimizer(Optimization(), None)
        self.store = store
        self.online = connect is not None
        self.prefix = prefix.strip("/")
        self.base_url = base_url.rstrip("/") if base_url else None
        self.link_max_age = link_max_age
        self.summary = Summary()
        self.uploads = Uploads(
            self.files, store, self.summary, connect=connect, executor=executor, workers=workers,
            prefix=self.prefix, static_url=functools.partial(static_url, self.base_url), optimizer=self.optimizer,
            on_progress=on_progress,
            on_changed=self._changed, on_hashed=self._hashed,
        )  # fmt: skip
        self._lock = threading.Lock()
        self._uploading: dict[tuple[str, str], int] = {}  # (sha256, profile) of what this run uploads -> size
        self._waiting: dict[str, tuple[str, int] | None] = {}  # docs path -> (sha256, size); None: not hashed yet
        self._reused: set[str] = set()
        self._started = time.monotonic()

    @property
    def fatal(self) -> WxCloudError | None:
        """An error that stopped every further upload (credentials, quota, env), if one occurred."""
        return self.uploads.fatal

    @property
    def scheduled_uploads(self) -> tuple[int, int]:
        """``(files, bytes)`` this run uploads so far."""
        with self._lock:
            return len(self._uploading), sum(self._uploading.values())

    # -- lookups (never the network) ------------------------------------------------------------

    def _known(self, path: str, sha: str, size: int) -> Entry | None:
        """The manifest's entry for this content at ``path``, or for identical content elsewhere,
        stored with a profile that the options accept for it."""
        entry = self.store.get(path)
        if entry is not None and entry.sha256 == sha and self.optimizer.accepts(path, entry.optimize):
            return entry
        same = [e for profile, e in self.store.by_sha(sha).items() if self.optimizer.accepts(path, profile)]
        return dataclasses.replace(same[0], size=size) if same else None

    def current_url(self, path: str) -> str | None:
        """The URL of the image as it is now, if the manifest already has it; else None."""
        return self._url_of(path, *self.files.digest(path))

    def _url_of(self, path: str, sha: str, size: int) -> str | None:
        entry = self._known(path, sha, size)
        if entry is not None and self.base_url and entry.url != self._static_url(entry.cloud_path):
            entry = dataclasses.replace(entry, url=self._static_url(entry.cloud_path), expires=None)
        if entry is not None and entry.width is None and self.optimizer.dimensions:
            entry = dataclasses.replace(entry, **self.optimizer.measure(self.files.locate(path)[0]))  # then recorded
        if entry is not None and entry != self.store.get(path):
            self.store.put(path, entry)  # same content under a new name, or a new base_url: no request
        if entry is not None and entry.url and not self._expiring(entry):
            with self._lock:
                if path not in self._reused:
                    self._reused.add(path)
                    self.summary.reused += 1
            return entry.url
        return None

    def size_on_screen(self, path: str) -> tuple[int, int] | None:
        """``(width, height)`` of the image as the manifest has it, once a lookup found it current."""
        entry = self.store.get(path)
        with self._lock:
            waiting = path in self._waiting
        if entry is None or waiting or not (entry.width and entry.height):
            return None
        return entry.width, entry.height

    def _expiring(self, entry: Entry) -> bool:
        return entry.expires is not None and entry.expires - time.time() < self.link_max_age / 2

    def _static_url(self, target: str) -> str:
        return static_url(self.base_url, target)

    # -- publishing ----------------------------------------------------------------------------

    def schedule(self, path: str) -> None:
        """Make sure the image at ``path`` gets a URL by :meth:`finish` (upload and/or link)."""
        self._enqueue(path, self.files.digest(path))

    def publish(self, path: str) -> str | None:
        """The image's URL if the manifest has it, else None and the URL comes with :meth:`finish`.

        What this needs no read for is answered at once; a file that is new or changed since it was
        hashed is hashed on the pool (the renderer goes on) and uploaded there if the manifest lacks it.
        """
        digest = self.files.known_digest(path)
        url = self._url_of(path, *digest) if digest is not None else None
        if url is None:
            self._enqueue(path, digest)
        return url

    def _enqueue(self, path: str, digest: tuple[str, int] | None) -> None:
        if not self.online:
            raise ConfigError("offline: images are not uploaded")
        with self._lock:
            if path in self._waiting:
                return
            self._waiting[path] = digest
        if digest is None:
            self.uploads.submit(path, None, 0)  # hashed first, then _claim decides
        elif self._claim(path, *digest):
            self.uploads.submit(path, *digest)

    def _claim(self, path: str, sha: str, size: int) -> bool:
        """Whether this run must upload ``sha`` for ``path``: not if the manifest has it (only its link
        may be missing or expiring), under this name or another, nor if another upload of it is under way."""
        if self._known(path, sha, size) is not None:
            return False
        key = (sha, self.optimizer.profile(path))
        with self._lock:
            if key in self._uploading:
                return False
            self._uploading[key] = size
            return True

    def _hashed(self, path: str, sha: str, size: int) -> bool:
        """A file :meth:`publish` left to the pool is hashed: whether it must be uploaded."""
        with self._lock:
            self._waiting[path] = (sha, size)
        return self._url_of(path, sha, size) is None and self._claim(path, sha, size)

    def _changed(self, path: str, old_sha: str) -> None:
        """``path`` was uploaded with newer content: another image with the old content needs its own."""
        with self._lock:
            twin = next((p for p, d in self._waiting.items() if d and d[0] == old_sha and p != path), None)
            digest = self._waiting[twin] if twin is not None else None
        if twin is not None and digest is not None:
            self.uploads.submit(twin, *digest)

    def cancel(self) -> None:
        """Stop uploading (Ctrl-C): what has not started is dropped; what finishes is recorded."""
        self.uploads.cancel()

    def finish(self) -> Report:
        """Wait for the uploads, fetch the missing links, save the manifest; never raises for one image."""
        report = Report(summary=self.summary)
        self.uploads.wait()
        entries = self._entries(report)
        self._fetch_links(entries, report)
        # WeChat can answer that a file it just stored does not exist yet: send it once more.
        lost = {p for p, why in report.errors.items() if FILE_NONEXIST in why and p in self.uploads.done}
        if lost and not self.uploads.cancelled:
            for path in sorted(lost):
                del report.errors[path]
                entry = self.uploads.done[path]
                self.uploads.submit(path, entry.sha256, entry.size)
            self.uploads.wait()
            again = self._entries(report, only=lost)
            self._fetch_links(again, report)
            entries.update(again)
        for path, entry in entries.items():
            self.store.put(path, entry)
            if entry.url:
                report.urls[path] = entry.url
                if entry.width and entry.height:
                    report.sizes[path] = (entry.width, entry.height)
        report.summary.failed = len(report.errors)
        report.summary.seconds = time.monotonic() - self._started
        self.store.save()
        self.files.hashes.save()
        with self._lock:
            self._waiting.clear()
            self._uploading.clear()
        return report

    def _entries(self, report: Report, only: set[str] | None = None) -> dict[str, Entry]:
        """The entry of each waiting image (the content uploaded for it, if it changed meanwhile)."""
        with self._lock:
            waiting = {p: v for p, v in self._waiting.items() if only is None or p in only}
        entries: dict[str, Entry] = {}
        for path, digest in waiting.items():
            done = self.uploads.done.get(path)
            if done is not None:
                digest = done.sha256, done.size
            entry = self._known(path, *digest) if digest is not None else None
            if entry is None:
                why = self.uploads.failed.get(digest[0] if digest is not None else path)
                report.errors[path] = why or str(self.fatal or "not uploaded")
            else:
                entries[path] = entry
        return entries

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
            urls, errors = self.uploads.client().download_urls(sorted(need), self.link_max_age)
        except WxCloudError as error:
            urls, errors = {}, {fid: str(error) for fid in need}
        for path, entry in list(entries.items()):
            if entry.file_id not in need:
                continue
            url = urls.get(entry.file_id)
            if url and not is_web_url(url):  # it would go into pages as it is
                errors[entry.file_id], url = f"WeChat answered a link that is not an http(s) URL: {url[:60]!r}", ""
            if not url:
                report.errors[path] = f"no download link: {errors.get(entry.file_id, 'unknown error')}"
                del entries[path]
                continue
            expires = self._signed_expiry(url)
            report.signed = report.signed or expires is not None
            entries[path] = dataclasses.replace(entry, url=url, expires=expires)

    def close(self) -> None:
        """Stop what is left, then write the manifest (every finished upload) and the hash cache."""
        try:
            self.uploads.close()
        finally:
            self.optimizer.close()
            self.store.close()
            self.files.hashes.save()
