"""The upload progress in bytes: a bar on a terminal, a line every few seconds otherwise.

Bytes, not files: one screen recording weighs as much as a thousand screenshots, and a bar that
counts files stands still while it is sent.
"""

from __future__ import annotations

import logging
import sys
import threading
import time
from typing import Any, Callable

import click

from ..publishing.reporting import human_size

log = logging.getLogger("mkdocs.plugins.wxcloud")
_REDRAW = 0.1  # seconds between two redraws of the bar: uploads report every chunk they send
_LOG_EVERY = 5.0  # seconds between two lines when stderr is no terminal


class Progress:
    """:meth:`advance` is the publisher's ``on_progress`` callback (see ``uploads.OnProgress``)."""

    def __init__(self, label: str) -> None:
        self.label = label
        self.files = 0  # to upload, counted from :meth:`start` on
        self.total = 0  # bytes
        self.done = 0  # files
        self.sent = 0  # bytes
        self._shown = 0  # bytes the bar shows
        self._bar: Any = None  # click's progress bar, on a terminal
        self._logged = ""  # the last status line written (no terminal)
        self._last = time.monotonic()
        self._lock = threading.Lock()
        self._scheduled: Callable[[], tuple[int, int]] | None = None
        self._terminal = False

    def start(self, scheduled: Callable[[], tuple[int, int]]) -> None:
        """``scheduled()``: ``(files, bytes)`` the run uploads so far. It is asked again whenever the
        progress is shown: a file hashed on the pool is counted once hashed, which may be after this
        call. What was sent before this call is counted in."""
        with self._lock:
            self._scheduled = scheduled
            self._terminal = sys.stderr.isatty() and log.isEnabledFor(logging.INFO)
            self._count()
            if self._terminal:
                self._redraw()

    def advance(self, path: str, sent: int, finished: bool) -> None:
        with self._lock:
            self.sent += sent
            self.done += finished
            now = time.monotonic()
            if self._scheduled is None:  # not started: counted, shown from the start on
                return
            if self._terminal:
                if finished or now - self._last >= _REDRAW:
                    self._last = now
                    self._count()
                    self._redraw()
            elif finished or now - self._last >= _LOG_EVERY:
                self._count()
                if self.files and (now - self._last >= _LOG_EVERY or self.done == self.files):
                    self._last = now
                    self._log()

    def _count(self) -> None:
        """What is scheduled only grows while the uploads go (the run forgets it once finished)."""
        if self._scheduled is not None:
            files, total = self._scheduled()
            self.files, self.total = max(self.files, files), max(self.total, total)

    def _log(self) -> None:
        self._logged = self._status()
        log.info("%s: %s", self.label, self._logged)

    def _status(self) -> str:
        return f"{self.done}/{self.files} files, {human_size(min(self.sent, self.total))} of {human_size(self.total)}"

    def _redraw(self) -> None:
        """The bar, made once there is something to upload, its length what is scheduled now."""
        if not self.files:
            return
        if self._bar is None:
            self._bar = click.progressbar(length=max(self.total, 1), label=self.label, file=sys.stderr,
                                          item_show_func=lambda _: self._status())  # fmt: skip
            self._bar.__enter__()
        self._bar.length = max(self.total, 1)
        target = min(max(self.sent, 0), self.total)
        self._bar.update(target - self._shown, target)
        self._shown = target

    def close(self) -> None:
        """End the bar, or write where it ended (some files failed: it never reached the total; when
        nothing was sent, the error that stopped it says enough)."""
        with self._lock:
            if self._bar is not None:
                self._bar.__exit__(None, None, None)
                self._bar = None
            elif self.files and (self.sent or self.done) and self._logged != self._status():
                self._log()
