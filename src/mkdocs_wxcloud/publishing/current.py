"""Is a file current in the manifest? The one decision that the build and every command share.

A lookup reads and never writes: it answers with a :class:`Status` that says what the manifest
has for the file as it is now (its content hash), and the entry that would serve it. The build
links what is :attr:`~Status.linkable`; ``check`` words every other state as a problem; the run
records an entry that differs from the manifest's (the same content under another name, a new
``base_url``) only when it publishes.
"""

from __future__ import annotations

import dataclasses
import enum
import time
from dataclasses import dataclass
from urllib.parse import quote

from ..manifest.model import Entry
from ..manifest.store import ManifestStore
from .optimizing import Optimizer


class State(enum.Enum):
    CURRENT = "current"
    ELSEWHERE = "the same content is in the manifest under another name"
    RECOVERED = "only in the journal of an interrupted run"
    MISSING = "not in the manifest"
    CHANGED = "changed since it was uploaded"
    OUTDATED = "stored with other optimization settings"
    UNLINKED = "uploaded, with no link yet"
    EXPIRING = "its signed link expires soon"


@dataclass(frozen=True)
class Status:
    state: State
    entry: Entry | None = None  # what serves the file: its own entry, or one of the same content
    stored: Entry | None = None  # the manifest's entry for this path, as it is

    @property
    def linkable(self) -> bool:
        """Whether a page may link ``entry.url`` now, with no request."""
        return self.state in (State.CURRENT, State.ELSEWHERE, State.RECOVERED)

    @property
    def url(self) -> str | None:
        return self.entry.url if self.linkable and self.entry is not None else None

    @property
    def adopted(self) -> bool:
        """Whether the run records :attr:`entry` for this path when it publishes (no upload needed)."""
        return self.linkable and self.entry != self.stored


_NO_VERDICT = "kept: the optimizer's process failed"
"""What releases before 0.2 recorded when an optimizer process died: the original bytes (GPS and all)
were stored as if optimized. A dead process is no verdict about the image: such entries are redone."""


def static_url(base_url: str | None, cloud_path: str) -> str:
    """The URL of a cloud path under ``base_url`` (a CDN domain bound to the storage), or ""."""
    return f"{base_url}/{quote(cloud_path)}" if base_url else ""


@dataclass(frozen=True)
class Decider:
    """What the options make of the manifest: accepted optimization profiles, ``base_url``, expiry."""

    store: ManifestStore
    optimizer: Optimizer
    base_url: str | None
    link_max_age: int

    def status(self, path: str, sha: str, size: int) -> Status:
        stored = self.store.get(path)
        entry = stored if stored is not None and stored.sha256 == sha else None
        if entry is not None and (not self.optimizer.accepts(path, entry.optimize) or _redo(entry)):
            entry = None
        state = State.RECOVERED if path in self.store.recovered else State.CURRENT
        if entry is None:
            same = [e for p, e in self.store.by_sha(sha).items() if self.optimizer.accepts(path, p) and not _redo(e)]
            if not same:
                return Status(self._missing(stored, sha), None, stored)
            entry, state = dataclasses.replace(same[0], size=size), State.ELSEWHERE
        if self.base_url and entry.url != static_url(self.base_url, entry.cloud_path):
            entry = dataclasses.replace(entry, url=static_url(self.base_url, entry.cloud_path), expires=None)
        if not entry.url:
            return Status(State.UNLINKED, entry, stored)
        if self.expiring(entry):
            return Status(State.EXPIRING, entry, stored)
        return Status(state, entry, stored)

    def expiring(self, entry: Entry) -> bool:
        return entry.expires is not None and entry.expires - time.time() < self.link_max_age / 2

    def _missing(self, stored: Entry | None, sha: str) -> State:
        if stored is None:
            return State.MISSING
        return State.CHANGED if stored.sha256 != sha else State.OUTDATED


def _redo(entry: Entry) -> bool:
    return entry.done.startswith(_NO_VERDICT)
