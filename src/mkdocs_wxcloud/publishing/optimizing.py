"""The optimization step of a run: which profile an image gets, and the bytes that are stored for it.

Results are cached on disk by the source's hash and the profile, so an upload that failed, or a
setting changed and changed back, costs no optimizer time again; a warm build never gets here,
since the manifest already records each image with its profile. A format whose library is not
installed is uploaded as it is (its profile is then ""), said once; entries optimized elsewhere
stay current, so a machine without the extra never undoes the work of one with it.
"""

from __future__ import annotations

import hashlib
import json
import logging
import posixpath
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..atomic import write_atomic
from ..manifest.schema import FIELDS
from ..optimize import engine, formats
from ..optimize.settings import JPEG, PNG, Optimization
from ..optimize.workers import ProcessDied, Workers
from .sources import ImageProblem

log = logging.getLogger("mkdocs.plugins.wxcloud")
ENGINE_VERSION = 2  # part of the cache key: bump when the engine makes other bytes from the same input
MAX_IN_MEMORY = 64 << 20  # bytes: a larger file is streamed as it is, never optimized


@dataclass(frozen=True)
class Prepared:
    """What an upload sends for one image, and what the manifest says about it."""

    body: bytes
    sha256: str  # of ``body``, which names the cloud file
    ext: str
    fields: dict[str, Any]  # Entry fields: stored_size, width, height, optimize, done


class Optimizer:
    """One run's optimization: profiles, the cache and the worker processes."""

    def __init__(self, settings: Optimization, cache_dir: Path | None, *, dimensions: bool = False,
                 max_size: int | None = None, any_profile: bool = False) -> None:  # fmt: skip
        """``any_profile``: an entry stored with other settings is current too (a build that cannot
        upload shows the picture the manifest has; the commands that check say it is outdated)."""
        self.settings = settings
        self.dimensions = dimensions
        self.max_size = max_size
        self._any_profile = any_profile
        self._cache = cache_dir / "optimized" if cache_dir is not None else None
        self._workers = Workers()
        self._missing: dict[str, str | None] = {}
        self._lock = threading.Lock()

    def profile(self, path: str) -> str:
        """The profile an upload of ``path`` gets here ("" when its library is not installed)."""
        wanted = self.settings.profile(path)
        if not wanted:
            return ""
        ext = posixpath.splitext(path)[1].lower()
        with self._lock:
            if ext not in self._missing:
                self._missing[ext] = missing = engine.missing_library(ext, self.settings.mode)
                if missing:
                    log.info("wxcloud: `optimize: %s`: %s images are uploaded as they are, since %s is not "
                             "installed here (pip install 'mkdocs-wxcloud[optimize]')", self.settings.mode,
                             ext.lstrip(".").upper(), missing)  # fmt: skip
            return "" if self._missing[ext] else wanted

    def accepts(self, path: str, profile: str) -> bool:
        """Whether an entry stored with ``profile`` is current for ``path`` under these settings."""
        return self._any_profile or profile == self.settings.profile(path) or profile == self.profile(path)

    def reads(self, path: str, size: int) -> bool:
        """Whether uploading ``path`` optimizes it, and so needs its bytes in memory."""
        return size <= MAX_IN_MEMORY and bool(self.profile(path))

    def prepare(self, path: str, data: bytes, sha: str) -> Prepared:
        """The bytes to store for the image ``data`` (whose hash is ``sha``), as its profile says."""
        profile, ext = self.profile(path), posixpath.splitext(path)[1].lower()
        try:
            outcome = self._cached(sha, profile) or self._optimized(data, ext, sha, profile)
        except ProcessDied as error:  # not uploaded as it is (its GPS with it), not recorded: it fails
            raise ImageProblem(f"could not be optimized: {error}; make it smaller or turn `optimize` off") from None
        body = outcome.data if outcome.data is not None else data
        fields: dict[str, Any] = {
            "width": outcome.width,
            "height": outcome.height,
            "optimize": profile,
            "done": outcome.done,
        }
        if not _acceptable(fields):  # sizes beyond what a manifest holds: none rather than a refused manifest
            fields["width"] = fields["height"] = None
        if outcome.data is not None:
            fields["stored_size"] = len(body)
        stored_sha = hashlib.sha256(body).hexdigest() if outcome.data is not None else sha
        return Prepared(body, stored_sha, outcome.ext, fields)

    def measure(self, full: Path, name: str) -> dict[str, Any]:
        """``width`` and ``height`` on screen of the image file at ``full`` (read from its header) when
        ``dimensions`` asks for them and it is a raster image (by its bytes, or by ``name`` for the
        formats only Pillow reads: an imported file's name is not its cached file's); else nothing."""
        if not self.dimensions:
            return {}
        size = formats.dimensions(full, other_formats=posixpath.splitext(name)[1].lower() in formats.RASTER)
        fields = {"width": size[0], "height": size[1]} if size else {}
        return fields if _acceptable(fields) else {}

    def close(self) -> None:
        self._workers.close()

    # -- the cache ------------------------------------------------------------------------------

    def _key(self, sha: str, profile: str) -> str:
        return hashlib.sha256(f"{ENGINE_VERSION}\n{sha}\n{profile}".encode()).hexdigest()[:40]

    def _optimized(self, data: bytes, ext: str, sha: str, profile: str) -> engine.Outcome:
        outcome = self._workers.optimize(data, ext, self.settings)
        if self._cache is not None:
            key = self._key(sha, profile)
            meta = {"ext": outcome.ext, "width": outcome.width, "height": outcome.height, "done": outcome.done,
                    "sha256": hashlib.sha256(outcome.data).hexdigest() if outcome.data is not None else None}  # fmt: skip
            try:
                if outcome.data is not None:
                    write_atomic(self._cache / f"{key}.bin", outcome.data)
                write_atomic(self._cache / f"{key}.json", json.dumps(meta))
            except OSError as error:  # a cache that cannot be written only costs time next run
                log.debug("wxcloud: optimized image not cached: %s", error)
        return outcome

    def _cached(self, sha: str, profile: str) -> engine.Outcome | None:
        """A result of an earlier run, if it is intact (its bytes have the hash recorded)."""
        if self._cache is None:
            return None
        key = self._key(sha, profile)
        try:
            meta = json.loads((self._cache / f"{key}.json").read_text(encoding="utf-8"))
            data = (self._cache / f"{key}.bin").read_bytes() if meta["sha256"] else None
            if data is not None and hashlib.sha256(data).hexdigest() != meta["sha256"]:
                return None
            fields = {"width": meta["width"], "height": meta["height"], "done": meta["done"]}
            if not _acceptable(fields) or not isinstance(meta["done"], str) or meta["ext"] not in _STORED_EXTS:
                return None
            return engine.Outcome(data, meta["ext"], meta["width"], meta["height"], meta["done"])
        except (OSError, ValueError, KeyError, TypeError):
            return None


_STORED_EXTS = (*PNG, *JPEG, ".webp")  # what an optimized image may be stored as


def _acceptable(fields: dict[str, Any]) -> bool:
    """Whether the manifest takes these entry fields, by its own rules (a cache entry is not trusted)."""
    return all(FIELDS[name][1](value) is None for name, value in fields.items())
