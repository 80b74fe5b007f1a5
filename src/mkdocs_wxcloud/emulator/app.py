"""The emulator as a whole: configure, :meth:`Emulator.start`, use :attr:`Emulator.base_url`, stop.

:class:`Emulator` composes the :class:`~.application.Application` (every rule) with the HTTP
:class:`~.server.Server` (framing only), and keeps the controls tests use.
"""

from __future__ import annotations

import ipaddress
import sys
import threading
import time
from pathlib import Path
from typing import Any

from .application import Application
from .options import Options
from .server import Server


class Emulator:
    """The WeChat cloud-storage emulator, with the controls tests use to inspect and disturb it.

    The keyword ``options`` are the fields of :class:`~.options.Options` (``appid``, ``secret``,
    ``envs``, ``latency``, ``fault_rate``, ``faults``, ``seed``, ``token_ttl``, ``upload_ttl``,
    ``private``, ``sign_public_links``, ``infer_content_type``, ``cors``, ``fileid_echo``,
    ``ip_whitelist``, ``open_api``, ``openapi_whitelist``, ``openapi_unlisted``,
    ``openapi_inactive``, ``openapi_not_ready``, ``cloudbase_token``, ``max_upload_bytes``).

    With ``data_dir`` the objects and a JSON state file are kept on disk so that a restart on the
    same port serves the same URLs and files; without it everything lives in memory.

    ``host`` may be an IPv4 or IPv6 address (bracketed or not) or a name; once started, ``host``
    and ``port`` are the address actually bound. Request bodies are limited to 1 MiB for the JSON
    APIs (HTTP 413 above) and to ``max_upload_bytes`` for a COS upload (400 ``EntityTooLarge``;
    5 GB by default, COS's own limit of one object).
    """

    def __init__(self, host: str = "127.0.0.1", port: int = 0, data_dir: Path | str | None = None, *,
                 verbose: bool = False, **options: Any) -> None:  # fmt: skip
        self.host = host[1:-1] if host.startswith("[") and host.endswith("]") else host
        self.port = port
        self.verbose = verbose
        self.app = Application(Options(data_dir=Path(data_dir) if data_dir is not None else None, **options))
        self._server: Server | None = None
        self._thread: threading.Thread | None = None

    @property
    def appid(self) -> str:
        return self.app.tokens.appid

    @property
    def envs(self) -> tuple[str, ...]:
        return self.app.envs

    @property
    def data_dir(self) -> Path | None:
        return self.app.storage.data_dir

    @property
    def fault_rate(self) -> float:
        """The share of requests that get a random fault; settable while running."""
        return self.app.faults.rate

    @fault_rate.setter
    def fault_rate(self, rate: float) -> None:
        self.app.faults.rate = rate

    @property
    def latency(self) -> float:
        """Seconds waited before each answer; settable while running."""
        return self.app.latency

    @latency.setter
    def latency(self, seconds: float) -> None:
        self.app.latency = seconds

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
            self._server = Server((self.host, self.port), self.app, verbose=self.verbose)
            host, port = self._server.server_address[:2]
            self.host, self.port = str(host), int(port)
            self.app.base_url = self.base_url
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

    def request_count(self, path_prefix: str = "") -> int:
        """Requests received on paths starting with ``path_prefix`` (health checks excluded)."""
        return self.app.request_count(path_prefix)

    def reset_counts(self) -> None:
        self.app.reset_counts()

    def fail_next(self, kind: str, count: int = 1, path_prefix: str = "") -> None:
        """Inject fault ``kind`` into the next ``count`` requests it applies to under the prefix."""
        self.app.faults.fail_next(kind, count, path_prefix)

    def expire_tokens(self) -> None:
        """Make every issued access token expired now (42001 from then on)."""
        self.app.tokens.expire_all()

    def expire_upload_links(self) -> None:
        """Make every issued upload authorization expired now."""
        self.app.cos.expire_all()

    def issued_tokens(self) -> list[str]:
        """Every access token handed out so far (to check that none leaks)."""
        return self.app.tokens.issued()

    def stored_files(self, env: str | None = None) -> dict[str, bytes]:
        """Cloud path -> bytes of the files visible to WeChat (in ``env``, or in every env)."""
        storage = self.app.storage
        return {path: storage.read_all(bucket, path, stored) for (bucket, path), stored in storage.files(env).items()}

    def file_ids(self, env: str | None = None) -> dict[str, str]:
        """Cloud path -> file_id of the files visible to WeChat (in ``env``, or in every env)."""
        files = self.app.storage.files(env)
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
        print(  # the demo credentials are public: a user needs them to point another program here
            f"WeChat cloud emulator at {emulator.base_url} (appid {emulator.appid}, "
            f"secret {emulator.app.options.secret}, env {', '.join(emulator.envs)}); data kept {where}. "
            "Ctrl-C stops it.",
            flush=True,
        )
        while True:
            time.sleep(1)
    except KeyboardInterrupt:
        pass
    finally:
        emulator.stop()
