"""Write a file so that readers see the old or the new content, never a half-written one."""

from __future__ import annotations

import os
import tempfile
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO, Iterator


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


_UMASK = _umask()  # read once, at import: setting it later would race with other threads' files


def write_atomic(path: Path, text: str | bytes, mode: int | None = None) -> None:
    """Write ``text`` (UTF-8, or bytes) to a temporary file beside ``path``, fsync it and rename it over."""
    with atomic_file(path, mode) as handle:
        handle.write(text if isinstance(text, bytes) else text.encode("utf-8"))


def holds(path: Path, data: bytes) -> bool:
    """Whether the file at ``path`` holds exactly ``data``, compared a block at a time (no second copy)."""
    try:
        if path.stat().st_size != len(data):
            return False
        view, at = memoryview(data), 0
        with open(path, "rb") as handle:
            while block := handle.read(1 << 16):
                if view[at : at + len(block)] != block:
                    return False
                at += len(block)
        return at == len(data)
    except OSError:
        return False


@contextmanager
def atomic_file(path: Path, mode: int | None = None) -> Iterator[BinaryIO]:
    """A binary handle on a temporary file beside ``path``, which replaces it (fsynced) when the
    block ends without an error: a large file is written as it is made, never held whole.

    A symlink is written through to its target, never replaced by a file (a manifest shared by two
    sites stays shared). The temporary name is short, so any name the file system allows works.
    """
    path = Path(os.path.realpath(path))
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, temp = tempfile.mkstemp(prefix=f".{path.name[:24]}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
        if mode is not None:
            os.chmod(temp, mode)
        elif path.exists():
            os.chmod(temp, path.stat().st_mode & 0o777)
        else:
            os.chmod(temp, 0o666 & ~_UMASK)
        os.replace(temp, path)
    except BaseException:
        try:
            os.unlink(temp)
        except OSError:
            pass
        raise
