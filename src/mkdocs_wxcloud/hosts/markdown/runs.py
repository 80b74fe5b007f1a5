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
from contextlib import ExitStack
from pathlib import Path

from ...errors import WxCloudError
from ...publishing.linker import Linker
from ...publishing.run import Mode, Run, open_run
from ...publishing.settings import Settings

log = logging.getLogger("mkdocs.plugins.wxcloud")
_RUNS: dict[tuple[Settings, Path, bool], SharedRun] = {}
_LOCK = threading.Lock()


class SharedRun:
    """The run of one project, and its linker; ``upload`` makes it publish what the manifest lacks."""

    def __init__(self, settings: Settings, docs_dir: Path, upload: bool) -> None:
        self.settings = settings
        self.docs_dir = docs_dir
        self.upload = upload and not settings.offline
        self.stopped: WxCloudError | None = None  # an error that no retry fixes: no more uploads
        self.lock = threading.RLock()  # pages render one at a time, but a host may use threads
        self._stack = ExitStack()
        self.run, self.linker = self._open()

    def _open(self) -> tuple[Run, Linker]:
        mode = Mode(offline=not self.upload, readonly=not self.upload, any_profile=not self.upload, renders=True)
        run = self._stack.enter_context(open_run(self.settings, self.docs_dir, mode))
        return run, Linker(run, log.warning)

    def current(self) -> Linker:
        """The run's linker, reopened first if another writer replaced the manifest."""
        with self.lock:
            if self.run.store.changed_on_disk():
                self._stack.close()
                self.run, self.linker = self._open()
            return self.linker

    def close(self) -> None:
        """Record what was done and release the pool (at exit)."""
        with self.lock:
            try:
                self._stack.close()
            except WxCloudError as error:
                log.error("wxcloud: %s", error)


def run_for(settings: Settings, docs_dir: Path, upload: bool) -> SharedRun:
    """The shared run for these settings, opened on first use."""
    key = (settings, docs_dir, upload)
    with _LOCK:
        run = _RUNS.get(key)
        if run is None:
            run = _RUNS[key] = SharedRun(settings, docs_dir, upload)
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
