"""One run, from open to close: the type that every host and command holds.

    with open_run(settings, docs_dir) as run:        # manifest, caches, optimizer, pool, (lazily) client
        run.resolve("img/a.png")                     # pure: what the manifest has for it now
        run.publish("img/a.png")                     # its URL now, or an upload while the caller goes on
        report = run.finish()                        # uploads done, links fetched, manifest saved
    # closed: what is left is cancelled, every finished upload is in the manifest

Lookups never touch the network and never write; uploads run on a thread pool while pages are still
being read, identical content is uploaded once, and links are asked for 50 at a time at the end.
"""

from __future__ import annotations

import dataclasses
import functools
import importlib.util
import logging
import os
import time
from concurrent.futures import Executor, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Iterator, TypeVar

from ..errors import ConfigError, WxCloudError
from ..manifest.hashing import HashCache
from ..manifest.model import Entry
from ..manifest.store import ManifestStore
from ..wechat.errors import FILE_NONEXIST
from .connection import connect, target_env
from .current import Decider, Status
from .imports import FilesAndImports, Imports
from .ledger import Ledger
from .links import Links, StorageAccess
from .offload import UploadProcess, worth_a_process
from .optimizing import Optimizer
from .reporting import Report, Summary
from .settings import Settings
from .uploads import OnProgress, UploadPolicy, Uploads

E = TypeVar("E", Entry, "Entry | None")
log = logging.getLogger("mkdocs.plugins.wxcloud")


@dataclass(frozen=True)
class Mode:
    """How a run may act: ``offline`` never opens the network, ``readonly`` never writes the manifest,
    ``any_profile`` takes entries stored with other optimization options as current (a build that
    cannot upload shows what the manifest has; the commands that check call them outdated),
    ``published_docs`` (an MkDocs docs_dir, copied into the site) refuses a manifest inside it, and
    ``renders``: the host renders its pages in this process while the uploads go (a build), so the
    uploads that follow the first 32 are sent by a process of their own when a second core is idle
    (:mod:`.offload`; the commands render in worker processes, or not at all, and gain nothing)."""

    offline: bool = False
    readonly: bool = False
    any_profile: bool = False
    published_docs: bool = True
    on_progress: OnProgress | None = None
    renders: bool = False


class Run:
    """One run's view of the manifest, the files of docs_dir and (lazily) the cloud."""

    def __init__(self, settings: Settings, docs_dir: Path, mode: Mode, executor: Executor | None) -> None:
        self.settings = settings
        self.store = ManifestStore(settings.manifest, settings.cache_dir, target_env(settings), readonly=mode.readonly)
        self.imports = Imports(settings, self.store, online=not mode.offline)
        self.files = FilesAndImports(docs_dir, HashCache(settings.cache_dir / "hashes.json"), self.imports)
        self.optimizer = Optimizer(
            settings.optimization, settings.cache_dir, dimensions=settings.dimensions,
            max_size=settings.max_size, any_profile=mode.any_profile,
        )  # fmt: skip
        self.decider = Decider(self.store, self.optimizer, settings.base_url, settings.link_max_age)
        self.ledger = Ledger(self.decider)
        self.online = not mode.offline
        policy = UploadPolicy(
            settings.prefix, settings.base_url, settings.concurrency, executor,
            None if mode.offline else functools.partial(connect, settings), mode.on_progress,
            functools.partial(UploadProcess, settings) if mode.renders and worth_a_process() else None,
        )  # fmt: skip
        self.uploads = Uploads(self.files, self.store, self.optimizer, self.ledger, policy)
        access = StorageAccess(settings.cache_dir, target_env(settings), settings.timeout)
        self.links = Links(self.decider, self.uploads.client, access, settings.base_url, settings.link_max_age)
        self._started = time.monotonic()

    @property
    def fatal(self) -> WxCloudError | None:
        """An error that stopped every further upload (credentials, quota, env), if one occurred."""
        return self.uploads.fatal

    # -- lookups: never the network, never a write ---------------------------------------------

    def resolve(self, path: str) -> Status:
        """What the manifest has for the file at ``path`` as it is now (:class:`ImageProblem` if none)."""
        return self.decider.status(path, *self.files.digest(path))

    def size_on_screen(self, path: str) -> tuple[int, int] | None:
        """``(width, height)`` of the image as the manifest has it, unless this run uploads it anew."""
        entry = self.ledger.found_entry(path) or self.store.get(path)
        if entry is None or self.ledger.is_waiting(path) or not (entry.width and entry.height):
            return None
        return entry.width, entry.height

    # -- publishing ----------------------------------------------------------------------------

    def publish(self, path: str) -> str | None:
        """The file's URL if the manifest has it, else None and the URL comes with :meth:`finish`.

        What needs no read is answered at once; a file that is new or changed since it was hashed is
        hashed on the pool (the caller goes on) and uploaded there if the manifest lacks it.
        """
        digest = self.files.known_digest(path)
        status = self.decider.status(path, *digest) if digest is not None else None
        if status is not None and status.linkable:
            self.ledger.found(path, dataclasses.replace(status, entry=self._measured(path, status.entry)))
            return status.url
        self._enqueue(path, digest)
        return None

    def schedule(self, path: str) -> None:
        """Make sure the file at ``path`` gets a URL by :meth:`finish` (upload and/or link)."""
        digest = self.files.digest(path)
        status = self.decider.status(path, *digest)
        if status.linkable:
            self.ledger.found(path, dataclasses.replace(status, entry=self._measured(path, status.entry)))
        else:
            self._enqueue(path, digest)

    def publish_all(self, paths: Iterable[str]) -> Report:
        """Schedule ``paths`` (each as soon as the iterable yields it), then :meth:`finish`."""
        for path in paths:
            self.schedule(path)
        return self.finish()

    def _enqueue(self, path: str, digest: tuple[str, int] | None) -> None:
        if not self.online:
            raise ConfigError("offline: files are not uploaded")
        if not self.ledger.wait_for(path, digest):
            return
        if digest is None:
            self.uploads.submit(path, None, 0)  # hashed first, then the ledger decides
        elif self.ledger.claim(path, *digest):
            self.uploads.submit(path, *digest)

    def cancel(self) -> None:
        """Stop uploading (Ctrl-C): what has not started is dropped; what finishes is recorded."""
        self.uploads.cancel()

    def finish(self) -> Report:
        """Wait for the uploads, fetch the missing links, save the manifest; never raises for one file."""
        report = Report()
        self.uploads.wait()
        entries = self._entries(report)
        self.links.fetch(entries, report)
        # WeChat can answer that a file it just stored does not exist yet: send it once more.
        lost = {p for p, why in report.errors.items() if FILE_NONEXIST in why and p in self.uploads.done}
        if lost and not self.uploads.cancelled:
            for path in sorted(lost):
                del report.errors[path]
                entry = self.uploads.done[path]
                self.uploads.submit(path, entry.sha256, entry.size)
            self.uploads.wait()
            again = self._entries(report, only=lost)
            self.links.fetch(again, report)
            entries.update(again)
        for path, status in self.ledger.current().items():
            if status.adopted and status.entry is not None:  # the same content under this name, a new base_url…
                entries.setdefault(path, status.entry)
        for path, entry in entries.items():
            entry = entries[path] = self.imports.sourced(path, self._measured(path, entry))
            self.store.put(path, entry)
            if entry.url and self.ledger.is_waiting(path):
                report.urls[path] = entry.url
                if entry.width and entry.height:
                    report.sizes[path] = (entry.width, entry.height)
        report.summary = self._summary(report)
        self.store.save()
        self.files.hashes.save()
        self.ledger.clear()
        return report

    def _measured(self, path: str, entry: E) -> E:
        """The entry with the file's size on screen, when ``dimensions`` wants it and the entry lacks one
        (read from the image's header; recorded by :meth:`finish`)."""
        if entry is None or entry.width is not None or not self.optimizer.dimensions:
            return entry
        return dataclasses.replace(entry, **self.optimizer.measure(self.files.locate(path)[0], self.files.name(path)))

    def _summary(self, report: Report) -> Summary:
        done = list(self.uploads.done.values())
        return Summary(
            uploaded=len(done), reused=len(self.ledger.current()), failed=len(report.errors),
            bytes=sum(e.stored for e in done), saved=sum(e.size - e.stored for e in done),
            seconds=time.monotonic() - self._started,
            requests=self.uploads.requests_made + self.links.access.requests_made,
        )  # fmt: skip

    def _entries(self, report: Report, only: set[str] | None = None) -> dict[str, Entry]:
        """The entry of each waiting file (the content uploaded for it, if it changed meanwhile)."""
        entries: dict[str, Entry] = {}
        for path, digest in self.ledger.waiting(only).items():
            done = self.uploads.done.get(path)
            if done is not None:
                digest = done.sha256, done.size
            entry = self.decider.status(path, *digest).entry if digest is not None else None
            if entry is None:
                why = self.uploads.failed.get(digest[0] if digest is not None else path)
                report.errors[path] = why or str(self.fatal or "not uploaded")
            else:
                entries[path] = entry
        return entries

    def close(self) -> None:
        """Stop what is left, then write the manifest (every finished upload) and the hash cache."""
        try:
            self.uploads.close()
        finally:
            self.optimizer.close()
            self.store.close()
            self.files.hashes.save()


@contextmanager
def open_run(
    settings: Settings, docs_dir: Path, mode: Mode = Mode(), executor: Executor | None = None
) -> Iterator[Run]:
    """A run over ``docs_dir``, closed (and its own upload pool shut down) when the block ends.

    ``executor``: a pool the caller keeps across runs (``mkdocs serve``); else the run makes one.
    """
    docs = docs_dir.resolve()
    if not docs.is_dir():
        raise ConfigError(f"docs_dir {docs} does not exist")
    if mode.published_docs:
        why = "MkDocs would publish it and `mkdocs serve` would rebuild in a loop"
        _outside_docs(docs, "manifest", settings.manifest, why)
        _outside_docs(docs, "cache_dir", settings.cache_dir, "its caches and lock would be published with the site")
    try:
        settings.cache_dir.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise ConfigError(
            f"option `cache_dir` ({settings.cache_dir}) cannot be used as a folder ({error.strerror}): "
            "point it at a folder of its own"
        ) from None
    if settings.dimensions and importlib.util.find_spec("PIL") is None:  # else `dimensions` would do nothing, silently
        log.info("wxcloud: `dimensions: true` needs Pillow: pip install 'mkdocs-wxcloud[optimize]'")
    own = None
    if executor is None and not mode.offline:
        executor = own = ThreadPoolExecutor(settings.concurrency, thread_name_prefix="wxcloud")
    try:
        run = Run(settings, docs, mode, executor)
        try:
            yield run
        finally:
            run.close()
    finally:
        if own is not None:
            own.shutdown(wait=True, cancel_futures=True)


def _outside_docs(docs: Path, option: str, path: Path, why: str) -> None:
    """Refuse a path inside docs_dir, also through a symlink (the real paths are compared)."""
    real = Path(os.path.realpath(path))
    if real == docs or docs in real.parents:
        raise ConfigError(
            f"option `{option}` ({path}) is inside docs_dir {docs}: {why}; keep it beside the site's configuration"
        )
