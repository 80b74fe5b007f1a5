"""Content hashes of image files, cached against size and modification time.

A warm build must not re-read unchanged images: the cache maps each docs path to the
``(size, mtime_ns, sha256)`` it had when last hashed, and is kept in the cache directory
(never in the manifest, whose bytes must not depend on file times).
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import threading
from pathlib import Path

from .atomic import write_atomic

log = logging.getLogger("mkdocs.plugins.wxcloud")
_CHUNK = 1 << 20


def sha256_file(path: Path) -> str:
    """Hash a file in chunks, so memory stays flat for large images."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(_CHUNK), b""):
            digest.update(chunk)
    return digest.hexdigest()


class HashCache:
    """Thread-safe ``path -> sha256`` cache validated by ``os.stat``; persisted as JSON."""

    def __init__(self, path: Path | None) -> None:
        self.path = path
        self._lock = threading.Lock()
        self._entries: dict[str, list] = {}
        self._dirty = False
        if path is not None:
            try:
                data = json.loads(path.read_text(encoding="utf-8"))
                if isinstance(data, dict) and data.get("version") == 1:
                    self._entries = {
                        k: v for k, v in data.get("files", {}).items() if isinstance(v, list) and len(v) == 3
                    }
            except (OSError, ValueError):
                pass  # a missing or damaged cache is rebuilt from the files

    def digest(self, key: str, file: Path, stat: os.stat_result | None = None) -> tuple[str, int]:
        """Return ``(sha256, size)`` of ``file``; ``key`` is its docs-relative path."""
        stat = stat or file.stat()
        with self._lock:
            cached = self._entries.get(key)
        if cached and cached[0] == stat.st_size and cached[1] == stat.st_mtime_ns:
            return cached[2], stat.st_size
        sha = sha256_file(file)
        with self._lock:
            self._entries[key] = [stat.st_size, stat.st_mtime_ns, sha]
            self._dirty = True
        return sha, stat.st_size

    def save(self) -> None:
        """Persist new hashes; a cache that cannot be written only costs time on the next run."""
        with self._lock:
            if not self._dirty or self.path is None:
                return
            text = json.dumps({"version": 1, "files": self._entries}, ensure_ascii=False, sort_keys=True)
            self._dirty = False
        try:
            write_atomic(self.path, text)
        except OSError as error:
            log.debug("wxcloud: hash cache not saved: %s", error)
