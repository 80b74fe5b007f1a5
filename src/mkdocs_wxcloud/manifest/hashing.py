"""Content hashes of image files, cached against size and modification time.

A warm build must not re-read unchanged images: the cache maps each docs path to the
``(size, mtime_ns, sha256)`` it had when last hashed, and is kept in the cache directory
(never in the manifest, whose bytes must not depend on file times).
"""

from __future__ import annotations

import hashlib
import logging
import os
import threading
from pathlib import Path
from typing import BinaryIO, Callable

from .. import caches

log = logging.getLogger("mkdocs.plugins.wxcloud")
_CHUNK = 1 << 16


def sha256_file(path: str | os.PathLike[str]) -> str:
    """Hash a file through one small buffer: memory stays flat for a large file, and small while
    every upload thread hashes at once (``read(n)`` would allocate n bytes whatever the file's size)."""
    digest = hashlib.sha256()
    buffer = bytearray(_CHUNK)
    view = memoryview(buffer)
    with open(path, "rb", buffering=0) as handle:
        while count := handle.readinto(buffer):
            digest.update(view[:count])
    return digest.hexdigest()


class HashingReader:
    """Hands out exactly ``size`` bytes of a file, hashing them, so the digest is what was sent.

    Uploads declare their length before the body: a file that shrinks while it is read is padded
    with zeros and one that grows is cut, so the request stays well-formed, and a digest that
    differs from the file's hash tells that the bytes in the cloud are not the bytes hashed.
    """

    def __init__(self, handle: BinaryIO, size: int, on_read: Callable[[int], None] | None = None) -> None:
        """``on_read(n)`` is told of every ``n`` bytes handed out (negative: a rewind took them back)."""
        self._handle = handle
        self._size = size
        self._on_read = on_read
        self._sent = 0
        self._digest = hashlib.sha256()

    def __len__(self) -> int:  # what is left: requests-toolbelt sizes the form with it
        return self._size - self._sent

    def read(self, n: int = -1) -> bytes:
        want = len(self) if n is None or n < 0 else min(n, len(self))
        chunks, got = [], 0
        while got < want:
            chunk = self._handle.read(want - got)
            if not chunk:  # the file shrank: keep the declared length
                chunks.append(bytes(want - got))
                break
            chunks.append(chunk)
            got += len(chunk)
        data = b"".join(chunks)
        self._sent += len(data)
        self._digest.update(data)
        if self._on_read is not None and data:
            self._on_read(len(data))
        return data

    def seek(self, offset: int, whence: int = 0) -> int:
        """Only rewinding is needed: a retried upload sends the whole file again."""
        if (offset, whence) != (0, 0):
            raise OSError("HashingReader can only seek to the start")
        self._handle.seek(0)
        if self._on_read is not None and self._sent:
            self._on_read(-self._sent)
        self._sent, self._digest = 0, hashlib.sha256()
        return 0

    def tell(self) -> int:
        return self._sent

    def hexdigest(self) -> str:
        return self._digest.hexdigest()


class HashCache:
    """Thread-safe ``path -> sha256`` cache validated by ``os.stat``; persisted as JSON."""

    def __init__(self, path: Path | None) -> None:
        self.path = path
        self._lock = threading.Lock()
        self._entries: dict[str, tuple[int, int, str] | list] = {}  # path -> (size, mtime_ns, sha256)
        self._dirty = False
        data = caches.load(path, "hashes", 1) if path is not None else None
        files = data.get("files") if data is not None else None
        if isinstance(files, dict):  # a missing, foreign or damaged cache is rebuilt from the files
            self._entries = {k: v for k, v in files.items() if _valid(v)}

    def digest(
        self, key: str, file: str | os.PathLike[str], stat: os.stat_result | None = None, *, force: bool = False
    ) -> tuple[str, int]:
        """Return ``(sha256, size)`` of ``file``; ``key`` is its docs-relative path.

        ``force`` reads the file even when size and time match the cache (it is known to have changed).
        """
        stat = stat or os.stat(file)
        cached = None if force else self.cached(key, stat)
        if cached is not None:
            return cached
        sha = sha256_file(file)
        with self._lock:
            self._entries[key] = (stat.st_size, stat.st_mtime_ns, sha)
            self._dirty = True
        return sha, stat.st_size

    def cached(self, key: str, stat: os.stat_result) -> tuple[str, int] | None:
        """``(sha256, size)`` if the file has the size and time it had when hashed; never reads it."""
        with self._lock:
            cached = self._entries.get(key)
        if cached and cached[0] == stat.st_size and cached[1] == stat.st_mtime_ns:
            return cached[2], stat.st_size
        return None

    def save(self) -> None:
        """Persist new hashes; a cache that cannot be written only costs time on the next run."""
        with self._lock:
            if not self._dirty or self.path is None:
                return
            data = {"files": dict(self._entries)}
            self._dirty = False
        try:
            caches.save(self.path, "hashes", 1, data)
        except OSError as error:
            log.debug("wxcloud: hash cache not saved: %s", error)


def _valid(value: object) -> bool:
    """A cached ``[size, mtime_ns, sha256]``, as written (anything else is a miss)."""
    return (
        isinstance(value, list)
        and len(value) == 3
        and all(isinstance(v, int) and not isinstance(v, bool) for v in value[:2])
        and isinstance(value[2], str)
        and len(value[2]) == 64
    )
