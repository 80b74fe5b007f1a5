"""Downloaded files kept on disk by URL, so that a file is downloaded once, not once per build.

Each URL has two files in the folder (the run's ``cache_dir/remote/``), named by the hash of the
URL: ``<key>.bin``, the bytes, and ``<key>.json``, what is known of them (fields by name, and a
format version). Both are written to a temporary file in the same folder, synced and renamed
into place, bytes first, so a crash leaves an old entry or none, never a partial one. An entry is
used only when its sidecar is of this format, names this URL, and the bytes still hash to the
recorded SHA-256; anything else (a torn write, another version's sidecar, an edited file) is a
miss, and the file is downloaded again. A warm lookup touches no network.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
import threading
from pathlib import Path

from .fetch import Fetched, Policy, fetch
from .hosts import split_url
from .sniff import HEAD, sniff

FORMAT = "mkdocs-wxcloud/remote-cache/1"
_BLOCK = 1 << 20


class RemoteCache:
    """The downloads of ``folder``; one download at a time per URL within a process."""

    def __init__(self, folder: Path) -> None:
        self.folder = Path(folder)
        self._locks: dict[str, threading.Lock] = {}
        self._locks_lock = threading.Lock()

    def get(self, url: str) -> Fetched | None:
        """The cached download of ``url``, checked against its hash; None when absent or not trustworthy."""
        url = _canonical(url)
        key = _key(url)
        try:
            record = json.loads((self.folder / f"{key}.json").read_text(encoding="utf-8"))
            if not isinstance(record, dict) or record.get("format") != FORMAT or record.get("url") != url:
                return None
            path = self.folder / f"{key}.bin"
            sha256, size, head = _hash(path)
            if sha256 != record.get("sha256") or size != record.get("size"):
                return None
            return Fetched(
                url,
                str(record["final_url"]),
                str(record["content_type"]),
                sha256,
                size,
                path,
                sniff(head),
            )
        except (OSError, ValueError, KeyError):
            return None

    def fetch(self, url: str, policy: Policy) -> Fetched:
        """The cached download of ``url``, else a new one (:func:`~.fetch.fetch`) kept for next time."""
        url = _canonical(url)
        with self._lock(url):
            cached = self.get(url)
            if cached is not None:
                return cached
            fresh = fetch(url, policy, folder=self.folder)
            key = _key(url)
            path = self.folder / f"{key}.bin"
            os.replace(fresh.path, path)  # fetch synced the bytes; they are whole before the sidecar names them
            record = {
                "format": FORMAT,
                "url": url,
                "final_url": fresh.final_url,
                "content_type": fresh.content_type,
                "sha256": fresh.sha256,
                "size": fresh.size,
            }
            _write_atomically(self.folder / f"{key}.json", json.dumps(record, indent=1).encode("utf-8"))
            return Fetched(url, fresh.final_url, fresh.content_type, fresh.sha256, fresh.size, path, fresh.sniffed)

    def _lock(self, url: str) -> threading.Lock:
        with self._locks_lock:
            return self._locks.setdefault(url, threading.Lock())


def _canonical(url: str) -> str:
    """The URL as downloads name it (host lower-cased, no fragment): one entry however it is written."""
    parts = split_url(url)
    return parts.shown if parts else url


def _key(url: str) -> str:
    return hashlib.sha256(url.encode("utf-8")).hexdigest()[:40]


def _hash(path: Path) -> tuple[str, int, bytes]:
    digest, size = hashlib.sha256(), 0
    with open(path, "rb") as stream:
        head = stream.read(HEAD)
        block = head
        while block:
            digest.update(block)
            size += len(block)
            block = stream.read(_BLOCK)
    return digest.hexdigest(), size, head


def _write_atomically(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` whole or not at all: a synced temporary file renamed over it."""
    handle, name = tempfile.mkstemp(dir=path.parent, prefix=".part-")
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        os.replace(name, path)
    except BaseException:
        try:
            os.unlink(name)
        except FileNotFoundError:
            pass
        raise
    if hasattr(os, "O_DIRECTORY"):  # the renames themselves survive a crash
        directory = os.open(path.parent, os.O_RDONLY | os.O_DIRECTORY)
        try:
            os.fsync(directory)
        finally:
            os.close(directory)
