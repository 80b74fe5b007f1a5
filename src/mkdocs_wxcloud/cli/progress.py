"""The upload progress: a bar on a terminal, a line every few seconds otherwise."""

from __future__ import annotations

import logging
import sys
import threading
import time

import click

log = logging.getLogger("mkdocs.plugins.wxcloud")


class Progress:
    """Counts finished uploads; :meth:`advance` is the publisher's ``on_progress`` callback."""

    def __init__(self, label: str) -> None:
        self.label = label
        self.total = 0
        self.done = 0
        self._bar = None
        self._last = time.monotonic()
        self._lock = threading.Lock()

    def start(self, total: int) -> None:
        """Uploads start as they are scheduled: those done before this call are counted in."""
        with self._lock:
            self.total = total
            if total and sys.stderr.isatty() and log.isEnabledFor(logging.INFO):
                self._bar = click.progressbar(length=total, label=self.label, file=sys.stderr)
                self._bar.__enter__()
                self._bar.update(self.done)

    def advance(self, path: str, size: int) -> None:
        with self._lock:
            self.done += 1
            if self._bar is not None:
                self._bar.update(1)
            elif self.total and (time.monotonic() - self._last > 5 or self.done == self.total):
                self._last = time.monotonic()
                log.info("%s: %d/%d", self.label, self.done, self.total)

    def close(self) -> None:
        if self._bar is not None:
            self._bar.__exit__(None, None, None)
            self._bar = None
