"""The buckets: objects in memory, or on disk with a state file so a restart serves the same URLs."""

from __future__ import annotations

import hashlib
import io
import json
import mmap
import os
import tempfile
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Iterable

from .protocol import bucket_name, split_file_id

_CHUNK = 1 << 20
_STATE_FILE = "state.json"


@dataclass
class Stored:
    """One object in a bucket; ``data`` holds the bytes only when there is no data_dir."""

    env: str
    visible: bool  # uploaded with the right x-cos-meta-fileid: WeChat can see it
    etag: str
    size: int
    data: bytes | None = None
    content_type: str | None = None  # the form field Content-Type of the upload, if it had one


class Storage:
    """Objects by (bucket, path); thread-safe, persisted atomically when ``data_dir`` is set."""

    def __init__(self, envs: Iterable[str], data_dir: Path | None) -> None:
        self.data_dir = data_dir
        self.buckets = {env: bucket_name(env) for env in envs}
        self._files: dict[tuple[str, str], Stored] = {}
        self._lock = threading.Lock()
        if data_dir is not None:
            self._load_state()

    def visible(self, env: str, file_id: object) -> tuple[str, str] | None:
        """The (bucket, path) of a file WeChat can see in ``env``."""
        parts = split_file_id(file_id) if isinstance(file_id, str) else None
        if parts is None or parts[0] != env or parts[1] != self.buckets[env]:
            return None
        with self._lock:
            stored = self._files.get((parts[1], parts[2]))
        return (parts[1], parts[2]) if stored is not None and stored.visible else None

    def files(self, env: str | None = None) -> dict[tuple[str, str], Stored]:
        """The objects WeChat can see (in ``env``, or in every env)."""
        with self._lock:
            return {k: v for k, v in self._files.items() if v.visible and env in (None, v.env)}

    def read_all(self, bucket: str, path: str, stored: Stored) -> bytes:
        return stored.data if stored.data is not None else self._blob(bucket, path).read_bytes()

    def delete(self, where: Iterable[tuple[str, str]]) -> list[bool]:
        """Delete visible objects; for each, whether it was there."""
        done = []
        with self._lock:
            for key in where:
                stored = self._files.get(key)
                done.append(stored is not None and stored.visible)
                if done[-1]:
                    del self._files[key]
                    if self.data_dir is not None:
                        self._blob(*key).unlink(missing_ok=True)
            if self.data_dir is not None and any(done):
                self._save_state()
        return done

    def store(self, env: str, where: tuple[str, str], mm: mmap.mmap | bytes, start: int, end: int, visible: bool,
              content_type: str | None) -> str:  # fmt: skip
        """Keep the bytes ``mm[start:end]`` at ``where``, overwriting; returns the ETag."""
        md5 = hashlib.md5(usedforsecurity=False)
        if self.data_dir is None:
            data = mm[start:end]
            md5.update(data)
            etag = f'"{md5.hexdigest()}"'
            with self._lock:
                self._files[where] = Stored(env, visible, etag, len(data), data, content_type)
            return etag
        fd, tmp = tempfile.mkstemp(dir=self.data_dir / "objects", prefix=".upload-")
        try:
            with os.fdopen(fd, "wb") as out:
                for offset in range(start, end, _CHUNK):
                    chunk = mm[offset : min(offset + _CHUNK, end)]
                    md5.update(chunk)
                    out.write(chunk)
            etag = f'"{md5.hexdigest()}"'
            with self._lock:
                os.replace(tmp, self._blob(*where))
                self._files[where] = Stored(env, visible, etag, end - start, content_type=content_type)
                self._save_state()
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        return etag

    def open(self, bucket: str, path: str) -> tuple[Stored, BinaryIO] | None:
        """The object and a reader of its bytes, or None when there is none."""
        with self._lock:
            stored = self._files.get((bucket, path))
        if stored is None:
            return None
        if stored.data is not None:
            return stored, io.BytesIO(stored.data)
        try:
            return stored, open(self._blob(bucket, path), "rb")  # noqa: SIM115 - the caller closes it
        except FileNotFoundError:
            return None  # deleted meanwhile

    def _blob(self, bucket: str, path: str) -> Path:
        """Where an object's bytes live: hashed, so any cloud path maps to a safe file name."""
        assert self.data_dir is not None
        name = hashlib.sha256(f"{bucket}/{path}".encode()).hexdigest()
        return self.data_dir / "objects" / name

    def _load_state(self) -> None:
        assert self.data_dir is not None
        (self.data_dir / "objects").mkdir(parents=True, exist_ok=True)
        state_file = self.data_dir / _STATE_FILE
        if not state_file.exists():
            return
        try:
            state = json.loads(state_file.read_text(encoding="utf-8"))
            self.buckets = {**self.buckets, **state.get("buckets", {})}
            for entry in state.get("files", {}).values():
                where = (entry["bucket"], entry["path"])
                if not isinstance(entry.get("content_type"), (str, type(None))):
                    raise TypeError(f"content_type of {entry['path']!r} is not a string")
                if self._blob(*where).exists():
                    self._files[where] = Stored(entry["env"], entry["visible"], entry["etag"], entry["size"],
                                                content_type=entry.get("content_type"))  # fmt: skip
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            raise ValueError(f"emulator state {state_file} is unreadable: {exc}") from exc

    def _save_state(self) -> None:
        """Write the state file atomically (temp file + os.replace); the caller holds the lock."""
        assert self.data_dir is not None
        state = {
            "version": 1,
            "buckets": self.buckets,
            "files": {
                f"cloud://{stored.env}.{bucket}/{path}": {
                    "env": stored.env,
                    "bucket": bucket,
                    "path": path,
                    "visible": stored.visible,
                    "etag": stored.etag,
                    "size": stored.size,
                    "content_type": stored.content_type,
                }
                for (bucket, path), stored in self._files.items()
            },
        }
        fd, tmp = tempfile.mkstemp(dir=self.data_dir, prefix=".state-", suffix=".json")
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as out:
                json.dump(state, out, ensure_ascii=False, indent=1)
            os.replace(tmp, self.data_dir / _STATE_FILE)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
