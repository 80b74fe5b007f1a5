"""The one rule of every on-disk cache: a JSON document that says what it is, fields by name.

A cache lives in the project's ``cache_dir`` (or the user's cache folder), which is only as safe
as the machine: a file written by another release, by another kind of cache, half-written, or
edited by hand must be ignored (a miss costs time), never misread. So every cache is one JSON
object ``{"cache": kind, "format": n, "release": …, "data": {…}}``: a cache whose kind or format
differs, or, where its content depends on the code (``per_release``), whose release differs, is
no cache at all. The caller still checks the values it reads, as it would any input.
"""

from __future__ import annotations

import importlib.metadata
import json
from pathlib import Path
from typing import Any, Mapping

from .atomic import write_atomic


def _release() -> str:
    try:
        return importlib.metadata.version("mkdocs-wxcloud")
    except importlib.metadata.PackageNotFoundError:  # run from a source tree
        return "source"


RELEASE = _release()


def load(path: Path, kind: str, format: int, *, per_release: bool = False) -> dict[str, Any] | None:
    """The ``data`` of the cache at ``path`` if it is a cache of this kind and format; else None."""
    try:
        document = json.loads(path.read_bytes())
    except (OSError, ValueError):
        return None
    if not isinstance(document, dict) or (document.get("cache"), document.get("format")) != (kind, format):
        return None
    if per_release and document.get("release") != RELEASE:
        return None
    data = document.get("data")
    return data if isinstance(data, dict) else None


def save(path: Path, kind: str, format: int, data: Mapping[str, Any]) -> None:
    """Write the cache atomically (an :class:`OSError` is the caller's: a cache may fail to save)."""
    document = {"cache": kind, "format": format, "release": RELEASE, "data": data}
    write_atomic(path, json.dumps(document, ensure_ascii=False, separators=(",", ":")))
