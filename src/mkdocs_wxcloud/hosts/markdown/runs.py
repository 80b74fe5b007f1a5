"""One publishing run shared by every page a process renders with the extension.

Zensical makes a new ``Markdown``, and so a new extension, for every page; plain Python-Markdown
users may do the same. The manifest, the hash cache and the upload pool must outlive them: a run is
kept per project and options, read once, reopened when the manifest is replaced on disk
(``mkdocs-wxcloud sync`` during ``zensical serve``, a ``git checkout``), and closed when the
process exits, since Markdown has no "build done" event.
"""

from __future__ import annotations

import atexit
import logging
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from ...errors import WxCloudError
from ...publishing.linker import Linker
from ...publishing.settings import Settings
from ...publishing.workspace import open_linker

log = logging.getLogger("mkdocs.plugins.wxcloud")
_RUNS: dict[tuple[Settings, Path, bool], Run] = {}
_LOCK = threading.Lock()


class Run:
    """The linker of one project; ``upload`` makes it publish what the manifest lacks."""

    def __init__(self, settings: Settings, docs_dir: Path, upload: bool) -> None:
        self.settings = settings
        self.docs_dir = docs_dir
        self.upload = upload and not settings.offline
        self.pool = ThreadPoolExecutor(settings.concurrency, thread_name_prefix="wxcloud") if self.upload else None
        self.stopped: WxCloudError | None = None  # an error that no retry fixes: no more uploads
        self.lock = threading.RLock()  # pages render one at a time, but a host may use threads
        self.linker = self._open()

    def _open(self) -> Linker:
        return open_linker(self.settings, self.docs_dir, self.pool, offline=not self.upload, readonly=not self.upload,
                           any_profile=not self.upload)  # fmt: skip

    def current(self) -> Linker:
        """The run's linker, reopened first if another writer replaced the manifest."""
        with self.lock:
            if self.linker.publisher.store.changed_on_disk():
                self.linker.publisher.close()
                self.linker = self._open()
            return self.linker

    def close(self) -> None:
        """Record what was done and release the pool (at exit)."""
        with self.lock:
            try:
                self.linker.publisher.close()
            except WxCloudError as error:
                log.error("wxcloud: %s", error)
            if self.pool is not None:
                self.pool.shutdown(wait=True, cancel_futures=True)


def run_for(settings: Settings, docs_dir: Path, upload: bool) -> Run:
    """The shared run for these settings, opened on first use."""
    key = (settings, docs_dir, upload)
    with _LOCK:
        run = _RUNS.get(key)
        if run is None:
            run = _RUNS[key] = Run(settings, docs_dir, upload)
            if len(_RUNS) == 1:
                atexit.register(close_all)
        return run


def close_all() -> None:
    """Close every run (registered with ``atexit``; tests call it to end a "build")."""
    with _LOCK:
        runs = list(_RUNS.values())
        _RUNS.clear()
    for run in runs:
        run.close()
