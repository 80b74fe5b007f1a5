"""The emulator as a whole: configure, :meth:`Emulator.start`, use :attr:`Emulator.base_url`, stop."""

from __future__ import annotations

import ipaddress
import sys
import threading
import time
from collections import Counter
from pathlib import Path
from typing import Any, Iterable

from .api import StorageApi
from .cos import MAX_UPLOAD_BYTES, CosHost
from .faults import DEFAULT_FAULTS, Faults
from .protocol import DEFAULT_APPID, DEFAULT_ENV, DEFAULT_SECRET
from .server import Server
from .storage import Storage
from .tokens import TokenIssuer


class Emulator:
    """The WeChat cloud-storage emulator, with the controls tests use to inspect and disturb it.

    With ``data_dir`` the objects and a JSON state file are kept on disk so that a restart on the
    same port serves the same URLs and files; without it everything lives in memory.

    ``host`` may be an IPv4 or IPv6 address (bracketed or not) or a name; once started, ``host``
    and ``port`` are the address actually bound. Request bodies are limited to 1 MiB for the JSON
    APIs (HTTP 413 above) and to ``max_upload_bytes`` for a COS upload (400 ``EntityTooLarge``;
    5 GB by default, COS's own limit of one object).
    """

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        data_dir: Path | str | None = None,
        *,
        appid: str = DEFAULT_APPID,
        secret: str = DEFAULT_SECRET,
        envs: Iterable[str] = (DEFAULT_ENV,),
        latency: float = 0.0,
        fault_rate: float = 0.0,
        faults: Iterable[str] = DEFAULT_FAULTS,
        seed: int | None = None,
        token_ttl: int = 7200,
        upload_ttl: int = 900,
        private: bool = False,
        ip_whitelist: list[str] | None = None,
        open_api: bool = False,
        cloudbase_token: str | None = None,
        max_upload_bytes: int = MAX_UPLOAD_BYTES,
        verbose: bool = False,
    ) -> None:
        self.host = host[1:-1] if host.startswith("[") and host.endswith("]") else host
        self.port = port
        self.data_dir = Path(data_dir) if data_dir is not None else None
        self.envs = tuple(envs)
        if not self.envs or any(not e or "." in e or "/" in e for e in self.envs):
            raise ValueError("envs must be non-empty environment ids without '.' or '/'")
        if max_upload_bytes < 1:
            raise ValueError("max_upload_bytes must be at least 1")
        self.faults = Faults(faults, fault_rate, seed)
        self.latency = latency
        self.verbose = verbose
        self.tokens = TokenIssuer(appid, secret, ttl=token_ttl, ip_whitelist=ip_whitelist,
                                  cloudbase_token=cloudbase_token, open_api=open_api)  # fmt: skip
        self.storage = Storage(self.envs, self.data_dir)
        self.cos = CosHost(self.storage, upload_ttl, max_upload_bytes)
        self.api = StorageApi(self.storage, self.cos, self.envs, private=private, secret=secret,
                              base_url=lambda: self.base_url)  # fmt: skip
        self._counts: Counter[str] = Counter()
        self._lock = threading.Lock()
        self._server: Server | None = None
        self._thread: threading.Thread | None = None

    @property
    def appid(self) -> str:
        return self.tokens.appid

    @property
    def fault_rate(self) -> float:
        """The share of requests that get a random fault; settable while running."""
        return self.faults.rate

    @fault_rate.setter
    def fault_rate(self, rate: float) -> None:
        self.faults.rate = rate

    @property
    def base_url(self) -> str:
        """The API base, standing in for ``https://api.weixin.qq.com`` (loopback when bound to all interfaces)."""
        host = {"": "127.0.0.1", "0.0.0.0": "127.0.0.1", "::": "::1"}.get(self.host, self.host)
        return f"http://[{host}]:{self.port}" if ":" in host else f"http://{host}:{self.port}"

    @property
    def loopback_only(self) -> bool:
        """Whether only this machine can reach the address bound (call it once started)."""
        return ipaddress.ip_address(self.host).is_loopback

    # -- lifecycle ---------------------------------------------------------------------------

    def start(self) -> Emulator:
        """Bind and serve in a daemon thread."""
        if self._server is None:
            self._server = Server((self.host, self.port), self)
            self.host, self.port = self._server.server_address[:2]
            self._thread = threading.Thread(
                target=self._server.serve_forever,
                args=(0.05,),  # poll interval: keeps stop() fast
                name="wxcloud-emulator",
                daemon=True,
            )
            self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and cut open keep-alive connections, so no client talks to a stale state."""
        if self._server is None:
            return
        self._server.shutdown()
        self._server.server_close()
        self._server.close_connections()
        if self._thread is not None:
            self._thread.join()
        self._server = None
        self._thread = None

    def __enter__(self) -> Emulator:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- test controls -----------------------------------------------------------------------

    def count(self, path: str) -> None:
        """Count one request (the server calls it for every request but health checks)."""
        with self._lock:
            self._counts[path] += 1

    def request_count(self, path_prefix: str = "") -> int:
        """Requests received on paths starting with ``path_prefix`` (health checks excluded)."""
        with self._lock:
            return sum(n for path, n in self._counts.items() if path.startswith(path_prefix))

    def reset_counts(self) -> None:
        with self._lock:
            self._counts.clear()

    def fail_next(self, kind: str, count: int = 1, path_prefix: str = "") -> None:
        """Inject fault ``kind`` into the next ``count`` requests it applies to under the prefix."""
        self.faults.fail_next(kind, count, path_prefix)

    def expire_tokens(self) -> None:
        """Make every issued access token expired now (42001 from then on)."""
        self.tokens.expire_all()

    def expire_upload_links(self) -> None:
        """Make every issued upload authorization expired now."""
        self.cos.expire_all()

    def issued_tokens(self) -> list[str]:
        """Every access token handed out so far (to check that none leaks)."""
        return self.tokens.issued()

    def stored_files(self, env: str | None = None) -> dict[str, bytes]:
        """Cloud path -> bytes of the files visible to WeChat (in ``env``, or in every env)."""
        files = self.storage.files(env)
        return {path: self.storage.read_all(bucket, path, stored) for (bucket, path), stored in files.items()}

    def file_ids(self, env: str | None = None) -> dict[str, str]:
        """Cloud path -> file_id of the files visible to WeChat (in ``env``, or in every env)."""
        files = self.storage.files(env)
        return {path: f"cloud://{stored.env}.{bucket}/{path}" for (bucket, path), stored in files.items()}


def serve(host: str, port: int, data_dir: str | None, **options: Any) -> None:
    """Run the emulator in the foreground until Ctrl-C (the ``mkdocs-wxcloud emulator`` command).

    Once bound, a Ctrl-C stops it cleanly at any moment, even while the banner is being printed.
    """
    emulator = Emulator(host, port, data_dir, **options).start()
    try:
        if not emulator.loopback_only:
            print(f"warning: the emulator listens on {emulator.host}, so other machines can reach it; it "
                  "accepts the demo credentials and has no security", file=sys.stderr, flush=True)  # fmt: skip
        where = f"in {Path(data_dir).resolve()}" if data_dir else "in memory only"
        print(
            f"WeChat cloud emulator at {emulator.base_url} (appid {emulator.appid}, "
            f"env {', '.join(emulator.envs)}); data kept {where}. Ctrl-C stops it.",
            flush=True,
        )
        while True:
            time.sleep(1)
    except KeyboardInterrupt:
        pass
    finally:
        emulator.stop()
