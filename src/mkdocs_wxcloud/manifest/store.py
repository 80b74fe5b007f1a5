"""Safe updates of the manifest while uploads finish, across processes and crashes.

Every finished upload is appended at once to a journal (one JSON line, O(1)), and the manifest
itself is rewritten atomically from time to time and at the end. A run killed at any moment
leaves a manifest that parses plus a journal that the next run replays, so finished uploads are
never repeated. Writes take a file lock and merge with what is on disk, so two runs at once
(``mkdocs serve`` and ``mkdocs-wxcloud sync``, two CI jobs) keep each other's entries.
"""

from __future__ import annotations

import hashlib
import logging
import os
import tempfile
import threading
import time
from pathlib import Path
from typing import Callable, TypeVar

from filelock import FileLock, Timeout

from ..atomic import holds, write_atomic
from ..errors import ManifestError
from . import model as mf
from .journal import Journal

log = logging.getLogger("mkdocs.plugins.wxcloud")
T = TypeVar("T")
SAVE_INTERVAL = 5.0  # seconds between intermediate manifest writes during a long run
LOCK_TIMEOUT = 60.0


class ManifestStore:
    """The manifest of one site, with this run's changes layered over what is on disk."""

    def __init__(self, path: Path, cache_dir: Path, env: str | None, *, readonly: bool = False) -> None:
        self.path = path
        self.readonly = readonly  # `check`: see interrupted runs' journals, write nothing
        key = hashlib.sha256(str(path.resolve()).encode("utf-8")).hexdigest()[:12]
        self._lock = FileLock(str(cache_dir / f"manifest-{key}.lock"))
        self._cache_dir = cache_dir
        self._parsed = cache_dir / f"manifest-{key}.json"
        self._written: tuple[tuple[int, int, int], mf.Manifest] | None = None  # (inode, mtime, size) of our write
        self.recovered: set[str] = set()  # paths known only from the journal of an interrupted run
        self._journal = Journal(cache_dir, key, env)
        self._mutex = threading.RLock()
        self._saving = threading.Lock()  # one save at a time: each installs the manifest it merged
        self._changed: dict[str, mf.Entry | None] = {}  # path -> new entry, None = removed
        self._retire: dict[str, str] = {}
        self._unretire: set[str] = set()
        self._last_save = time.monotonic()
        self._by_sha: dict[str, dict[str, mf.Entry]] | None = None  # sha256 -> profile -> entry, rebuilt on change
        self.env = env
        self._seen = _identity_of(path)  # the file as this store last read or wrote it
        self.manifest = mf.read(path, self._parsed)
        self._check_env(self.manifest)
        self._recover()

    # -- reading -------------------------------------------------------------------------------

    def changed_on_disk(self) -> bool:
        """Whether another writer (``sync``, a checkout) replaced the manifest since this store read or wrote it."""
        return _identity_of(self.path) != self._seen

    def get(self, path: str) -> mf.Entry | None:
        # No lock: reading one key of a dict is atomic, and upload threads hold the lock while
        # they journal; the build's lookups must not wait for them.
        return self.manifest.images.get(path)

    def by_sha(self, sha256: str) -> dict[str, mf.Entry]:
        """Uploaded entries with this content, by optimization profile: identical files share one upload."""
        with self._mutex:
            if self._by_sha is None:
                self._by_sha = {}
                for e in self.manifest.images.values():
                    if e.file_id:
                        self._by_sha.setdefault(e.sha256, {})[e.optimize] = e
            return dict(self._by_sha.get(sha256, {}))

    # -- changing ------------------------------------------------------------------------------

    def put(self, path: str, entry: mf.Entry) -> None:
        """Record an entry now (journal) and in the manifest soon (periodic atomic write)."""
        with self._mutex:
            old = self.manifest.images.get(path)
            if old == entry:
                return
            self._apply(path, entry)
            if not self.readonly:
                self._journal.put(path, entry)
            if old is not None and old.file_id and old.file_id != entry.file_id:
                self._retire_if_unused(old.file_id, old.cloud_path)
        # The journal already holds the entry: rewrite the whole manifest only now and then, when a
        # good share of it changed (so a long run does not rewrite a large file again and again).
        if time.monotonic() - self._last_save > SAVE_INTERVAL and 4 * len(self._changed) >= len(self.manifest.images):
            self.save(wait=False)

    def retire(self, file_id: str, cloud_path: str) -> None:
        """Record a cloud file that no image shows (``prune`` deletes it), at once in the journal."""
        with self._mutex:
            if self._retire_if_unused(file_id, cloud_path) and not self.readonly:
                self._journal.retire(file_id, cloud_path)

    def ensure_writable(self) -> None:
        """Fail before the first upload if this run could not record it (journal, lock, manifest).

        An upload that no manifest knows of is never linked and never pruned, and is uploaded again
        by every run: better not to make it.
        """
        if self.readonly:
            return
        with self._mutex:
            self._journal.open()
        self._locked(lambda: _probe(Path(os.path.realpath(self.path)).parent))

    def remove(self, path: str) -> None:
        with self._mutex:
            if path in self.manifest.images:
                self._apply(path, None)

    def forget_retired(self, file_id: str) -> None:
        with self._mutex:
            self.manifest.retired.pop(file_id, None)
            self._retire.pop(file_id, None)
            self._unretire.add(file_id)

    def _apply(self, path: str, entry: mf.Entry | None) -> None:
        if entry is None:
            self.manifest.images.pop(path, None)
            self._by_sha = None
        else:
            self.manifest.images[path] = entry
            self.manifest.retired.pop(entry.file_id, None)
            if entry.file_id and self._by_sha is not None:
                self._by_sha.setdefault(entry.sha256, {})[entry.optimize] = entry
        self._changed[path] = entry

    def _retire_if_unused(self, file_id: str, cloud_path: str) -> bool:
        if any(e.file_id == file_id for e in self.manifest.images.values()):
            return False
        self.manifest.retired[file_id] = cloud_path
        self._retire[file_id] = cloud_path
        self._unretire.discard(file_id)  # forgotten earlier in this run, retired again since
        return True

    # -- persistence ---------------------------------------------------------------------------

    def save(self, *, wait: bool = True) -> None:
        """Merge this run's changes into the manifest on disk and write it atomically.

        ``wait=False`` (the intermediate saves of upload threads) skips when a save is under way.
        """
        if self.readonly or not self._saving.acquire(blocking=wait):
            return
        try:
            with self._mutex:
                if not (self._changed or self._retire or self._unretire) and self.path.exists():
                    return
                changed, retire, unretire = dict(self._changed), dict(self._retire), set(self._unretire)
            merged = self._locked(lambda: self._merge_and_write(changed, retire, unretire))
            with self._mutex:  # uploads that finished meanwhile stay pending, on top of the merged file
                for path, entry in changed.items():
                    if path in self._changed and self._changed[path] is entry:
                        del self._changed[path]
                for file_id, cloud in retire.items():
                    if self._retire.get(file_id) == cloud:
                        del self._retire[file_id]
                self._unretire -= unretire
                _overlay(merged, self._changed, self._retire, set())
                self.manifest = merged
                self._by_sha = None
                self._last_save = time.monotonic()
        finally:
            self._saving.release()

    def close(self) -> None:
        """Final write; the journal is removed only once its content is in the manifest."""
        self.save()
        with self._mutex:
            self._journal.close()

    def _merge_and_write(self, changed: dict, retire: dict, unretire: set) -> mf.Manifest:
        disk = self._read_disk()
        self._check_env(disk)
        _overlay(disk, changed, retire, unretire)
        used = {e.file_id for e in disk.images.values()}
        disk.retired = {fid: cp for fid, cp in disk.retired.items() if fid not in used}
        if disk.images or disk.retired:  # a manifest that records nothing pins no env: a mistyped one is not kept
            disk.env = disk.env or self.env
        data = mf.to_yaml(disk).encode("utf-8")
        if not holds(self.path, data):
            write_atomic(self.path, data)
            mf.remember(disk, hashlib.sha256(data).hexdigest(), self._parsed)
        self._written = (_identity(self.path.stat()), _copy(disk))
        self._seen = self._written[0]
        return disk

    def _read_disk(self) -> mf.Manifest:
        """The manifest on disk; unchanged since our last write, it is not parsed again."""
        try:
            info = self.path.stat()
        except FileNotFoundError:
            return mf.Manifest()
        if self._written is not None and self._written[0] == _identity(info):
            return _copy(self._written[1])
        return mf.read(self.path, self._parsed)

    def _locked(self, action: Callable[[], T]) -> T:
        try:
            self._cache_dir.mkdir(parents=True, exist_ok=True)
            # filelock takes a lock file it cannot create for one another run holds, and waits out
            # its timeout: fail at once instead, with the real reason
            os.close(os.open(self._lock.lock_file, os.O_RDWR | os.O_CREAT, 0o644))
            with self._lock.acquire(timeout=LOCK_TIMEOUT):
                return action()
        except Timeout:  # an OSError too (TimeoutError): caught first
            raise ManifestError(
                f"{self.path}: another mkdocs-wxcloud run has held the manifest lock for "
                f"{LOCK_TIMEOUT:.0f} s ({self._lock.lock_file}): wait for it, or delete the lock file "
                "if no such run is left"
            ) from None
        except OSError as error:
            raise ManifestError(
                f"{self.path}: cannot be written ({_reason(error)}): check `manifest` and `cache_dir`"
            ) from None

    def _recover(self) -> None:
        """Replay the journals that runs which died left behind, then fold them into the manifest."""
        stale = self._journal.left_behind()
        if not stale:
            return
        for kind, key, value in self._journal.replay(stale):
            if kind == "retire":
                self._retire_if_unused(key, value)  # type: ignore[arg-type]
                continue
            old = self.manifest.images.get(key)
            if old != value:
                self._apply(key, value)  # type: ignore[arg-type]
                self.recovered.add(key)
                if old is not None and old.file_id != value.file_id:  # type: ignore[union-attr]
                    self._retire_if_unused(old.file_id, old.cloud_path)
        if self.readonly:
            return
        log.info("wxcloud: recovered %d journal(s) of an interrupted run", len(stale))
        self.save()
        for journal in stale:
            journal.unlink(missing_ok=True)

    def _check_env(self, manifest: mf.Manifest) -> None:
        if self.env and manifest.env and manifest.env != self.env:
            raise ManifestError(
                f"{self.path} was written for env '{manifest.env}', but the configured env is "
                f"'{self.env}': use one manifest per env (option `manifest`), or fix `env`/WXCLOUD_ENV"
            )


def _overlay(manifest: mf.Manifest, changed: dict, retire: dict, unretire: set) -> None:
    """Apply changes (path -> entry, None = removed) and retirements on top of ``manifest``."""
    for path, entry in changed.items():
        if entry is None:
            manifest.images.pop(path, None)
        else:
            manifest.images[path] = entry
    manifest.retired.update(retire)
    for file_id in unretire:
        manifest.retired.pop(file_id, None)


def _identity(info: os.stat_result) -> tuple[int, int, int]:
    """What tells our last write from another process's (atomic writes make a new inode)."""
    return info.st_ino, info.st_mtime_ns, info.st_size


def _identity_of(path: Path) -> tuple[int, int, int] | None:
    try:
        return _identity(path.stat())
    except OSError:
        return None


def _reason(error: OSError) -> str:
    return error.strerror or type(error).__name__


def _copy(manifest: mf.Manifest) -> mf.Manifest:
    return mf.Manifest(env=manifest.env, images=dict(manifest.images), retired=dict(manifest.retired))


def _probe(folder: Path) -> None:
    """Create and remove a file in ``folder``: the only test of writability that holds for root too."""
    folder.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(dir=folder, prefix=".wxcloud-probe-")
    os.close(fd)
    os.unlink(name)
