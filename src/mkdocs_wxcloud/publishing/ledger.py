"""What one run has asked for: the files waiting for a URL, and the contents it uploads.

Identical files are uploaded once (one claim per content and profile), a file queued before it
was hashed is decided once its hash is known, and a file that changed while it was sent leaves its
old content to an identical twin. The upload queue asks the ledger; the ledger knows no queue.
"""

from __future__ import annotations

import threading

from ..manifest.model import Entry
from .current import Decider, Status


class Ledger:
    def __init__(self, decider: Decider) -> None:
        self.decider = decider
        self._lock = threading.Lock()
        self._waiting: dict[str, tuple[str, int] | None] = {}  # docs path -> (sha256, size); None: not hashed yet
        self._uploading: dict[tuple[str, str], int] = {}  # (sha256, profile) of what this run uploads -> size
        self._current: dict[str, Status] = {}  # docs path -> the linkable status a publish found

    def wait_for(self, path: str, digest: tuple[str, int] | None) -> bool:
        """Note that ``path`` needs a URL by the end of the run; False if it already did."""
        with self._lock:
            if path in self._waiting:
                return False
            self._waiting[path] = digest
            return True

    def claim(self, path: str, sha: str, size: int) -> bool:
        """Whether this run must upload ``sha`` for ``path``: not if the manifest has it (only its link
        may be missing or expiring), under this name or another, nor if another upload of it is under way."""
        if self.decider.status(path, sha, size).entry is not None:
            return False
        key = (sha, self.decider.optimizer.profile(path))
        with self._lock:
            if key in self._uploading:
                return False
            self._uploading[key] = size
            return True

    def hashed(self, path: str, sha: str, size: int) -> bool:
        """A file queued unhashed is hashed now: whether it must be uploaded."""
        with self._lock:
            self._waiting[path] = (sha, size)
        status = self.decider.status(path, sha, size)
        if status.linkable:
            self.found(path, status)
            return False
        return self.claim(path, sha, size)

    def found(self, path: str, status: Status) -> None:
        """A publish found ``path`` current (to count it, and to record an adopted entry at the end)."""
        with self._lock:
            self._current.setdefault(path, status)

    def found_entry(self, path: str) -> Entry | None:
        with self._lock:
            status = self._current.get(path)
        return status.entry if status is not None else None

    def twin_of(self, path: str, old_sha: str) -> tuple[str, tuple[str, int]] | None:
        """Another file waiting with the content that ``path`` had before it changed while sent."""
        with self._lock:
            for other, digest in self._waiting.items():
                if other != path and digest is not None and digest[0] == old_sha:
                    return other, digest
        return None

    def is_waiting(self, path: str) -> bool:
        with self._lock:
            return path in self._waiting

    def waiting(self, only: set[str] | None = None) -> dict[str, tuple[str, int] | None]:
        with self._lock:
            return {p: d for p, d in self._waiting.items() if only is None or p in only}

    def current(self) -> dict[str, Status]:
        with self._lock:
            return dict(self._current)

    @property
    def scheduled(self) -> tuple[int, int]:
        """``(files, bytes)`` this run uploads so far."""
        with self._lock:
            return len(self._uploading), sum(self._uploading.values())

    def clear(self) -> None:
        with self._lock:
            self._waiting.clear()
            self._uploading.clear()
