"""An on-disk cache of access tokens, shared by every build on this machine.

``stable_token`` hands back the same token while it is valid, so reusing it across processes
costs nothing and spares both the quota and the round trip: a warm build then sends no token
request at all. The cache lives outside any repository (it must never be committed), files are
private to the user, and a cache that cannot be written only costs a token request next time.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import re
import tempfile
import threading
import time
from pathlib import Path

log = logging.getLogger("mkdocs.plugins.wxcloud")

EXPIRY_MARGIN = 300.0
"""Seconds of validity a cached token must still have: WeChat never hands out one with less."""

_KEY = re.compile(r"[A-Za-z0-9_-]{1,64}")


def default_cache_dir() -> Path:
    """``$XDG_CACHE_HOME/mkdocs-wxcloud`` (or ``~/.cache/…``): per user, outside any repository."""
    base = os.environ.get("XDG_CACHE_HOME", "")
    root = Path(base) if os.path.isabs(base) else Path.home() / ".cache"
    return root / "mkdocs-wxcloud"


def token_cache_key(api_base: str, appid: str) -> str:
    """A file-name-safe key for one account on one API host; it never involves the secret."""
    digest = hashlib.sha256(f"{api_base.rstrip('/')}\n{appid}".encode("utf-8")).hexdigest()
    return digest[:32]


class TokenCache:
    """Tokens by key, in memory and (unless ``directory`` is None) in one private file per key."""

    def __init__(self, directory: Path | None) -> None:
        self.directory = directory
        self._memory: dict[str, tuple[str, float]] = {}
        self._lock = threading.Lock()

    def remembered(self) -> dict[str, tuple[str, float]]:
        """The tokens held in memory, for a process that sends on this one's behalf (it then asks for none)."""
        with self._lock:
            return dict(self._memory)

    def remember(self, tokens: dict[str, tuple[str, float]]) -> None:
        """Hold in memory what another process's cache :meth:`remembered`."""
        with self._lock:
            self._memory.update(tokens)

    def load(self, key: str) -> tuple[str, float] | None:
        """The ``(token, expires_at)`` stored under ``key``, unless absent or about to expire."""
        with self._lock:
            candidates = [self._memory.get(key), self._read(key)]
        valid = [c for c in candidates if c is not None and c[1] - time.time() > EXPIRY_MARGIN]
        return max(valid, key=lambda c: c[1]) if valid else None

    def store(self, key: str, token: str, expires_at: float) -> None:
        """Keep the token; written atomically with mode 0600, kept in memory if the disk refuses."""
        with self._lock:
            self._memory[key] = (token, expires_at)
            path = self._path(key)
            if path is None:
                return
            try:
                path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
                # mkstemp creates it 0600: the token is never readable by others, even briefly.
                fd, temp = tempfile.mkstemp(dir=path.parent, prefix=".token-", suffix=".tmp")
                try:
                    with os.fdopen(fd, "w", encoding="utf-8") as out:
                        json.dump({"token": token, "expires_at": expires_at}, out)
                    os.replace(temp, path)
                except BaseException:
                    with contextlib.suppress(OSError):
                        os.unlink(temp)
                    raise
            except OSError as exc:
                log.debug(
                    "wxcloud: token cache %s not writable (%s); keeping the token in memory",
                    path.parent,
                    exc.strerror or type(exc).__name__,
                )

    def discard(self, key: str, token: str) -> None:
        """Forget ``token`` (the server rejected it), unless the entry already holds another one."""
        with self._lock:
            if self._memory.get(key, ("", 0.0))[0] == token:
                del self._memory[key]
            stored = self._read(key)
            path = self._path(key)
            if stored is not None and stored[0] == token and path is not None:
                try:
                    path.unlink()
                except OSError as exc:
                    log.debug("wxcloud: cannot remove %s (%s)", path, exc.strerror)

    def _path(self, key: str) -> Path | None:
        if not _KEY.fullmatch(key):
            raise ValueError(f"token cache key must match {_KEY.pattern}")
        return None if self.directory is None else self.directory / f"token-{key}.json"

    def _read(self, key: str) -> tuple[str, float] | None:
        path = self._path(key)
        if path is None:
            return None
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            token, expires_at = data["token"], data["expires_at"]
        except (OSError, ValueError, TypeError, KeyError):
            return None
        if not isinstance(token, str) or not token or not isinstance(expires_at, (int, float)):
            return None
        return token, float(expires_at)
