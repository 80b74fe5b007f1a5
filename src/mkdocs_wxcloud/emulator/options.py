"""Every setting of the emulator, checked once: the keyword options of ``Emulator(...)``.

Besides the faithful defaults, the modes show each way the questions of ``wechat-api.md`` section
9 may fall on the real service, so that a client can be tested against all of them.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Iterable

from .cos import MAX_UPLOAD_BYTES
from .faults import DEFAULT_FAULTS
from .protocol import DEFAULT_APPID, DEFAULT_ENV, DEFAULT_SECRET

FILEID_ECHOES = ("exact", "percent", "nfd")
OPENAPI_UNLISTED = ("85107", "502")
OPENAPI_INACTIVE = (41001, 85112)


@dataclass
class Options:
    """The emulator's settings.

    * ``private``: links carry ``sign=…&t=<expiry>`` and expire; the unsigned URL is refused (403).
    * ``sign_public_links``: public storage still answers ``?sign=…&t=<signing time>`` links, which
      never expire, and the unsigned URL serves the object too.
    * ``infer_content_type``: an object uploaded without the ``Content-Type`` form field is served
      with the type of its extension (default: ``application/octet-stream``, as stored).
    * ``cors``: downloads carry ``Access-Control-Allow-Origin: *``.
    * ``fileid_echo``: how batch answers echo a non-ASCII ``fileid``: ``exact``, ``percent``
      (non-ASCII characters percent-encoded as UTF-8) or ``nfd`` (Unicode NFD).
    * ``open_api``: Cloud Hosting's open API service: ``/tcb/`` calls need no token and every API
      answer carries ``x-openapi-seqid``. With it: ``openapi_whitelist`` (the paths of 微信令牌权限配置;
      None: all), ``openapi_unlisted`` (a path not listed: ``"85107"`` or a bare HTTP ``"502"``),
      ``openapi_inactive`` (every token-less call answers 41001 or 85112: the service is off or
      this version predates it) and ``openapi_not_ready`` (the first N token-less calls answer 85113).
    """

    data_dir: Path | None = None
    appid: str = DEFAULT_APPID
    secret: str = DEFAULT_SECRET
    envs: Iterable[str] = (DEFAULT_ENV,)
    latency: float = 0.0
    fault_rate: float = 0.0
    faults: Iterable[str] = DEFAULT_FAULTS
    seed: int | None = None
    token_ttl: int = 7200
    upload_ttl: int = 900
    private: bool = False
    sign_public_links: bool = False
    infer_content_type: bool = False
    cors: bool = False
    fileid_echo: str = "exact"
    ip_whitelist: Iterable[str] | None = None
    open_api: bool = False
    openapi_whitelist: Iterable[str] | None = None
    openapi_unlisted: str = "85107"
    openapi_inactive: int | None = None
    openapi_not_ready: int = 0
    cloudbase_token: str | None = None
    max_upload_bytes: int = MAX_UPLOAD_BYTES

    def __post_init__(self) -> None:
        self.envs = tuple(self.envs)
        self.faults = tuple(self.faults)
        if self.data_dir is not None:
            self.data_dir = Path(self.data_dir)
        if self.openapi_whitelist is not None:
            self.openapi_whitelist = frozenset(self.openapi_whitelist)
        if not self.envs or any(not e or "." in e or "/" in e for e in self.envs):
            raise ValueError("envs must be non-empty environment ids without '.' or '/'")
        if self.max_upload_bytes < 1:
            raise ValueError("max_upload_bytes must be at least 1")
        if self.private and self.sign_public_links:
            raise ValueError("sign_public_links (--sign-public-links) is a mode of public storage, not of private")
        if self.fileid_echo not in FILEID_ECHOES:
            raise ValueError(f"fileid_echo must be one of {FILEID_ECHOES}")
        if self.openapi_unlisted not in OPENAPI_UNLISTED:
            raise ValueError(f"openapi_unlisted must be one of {OPENAPI_UNLISTED}")
        if self.openapi_inactive not in (None, *OPENAPI_INACTIVE):
            raise ValueError(f"openapi_inactive must be None or one of {OPENAPI_INACTIVE}")
        if self.openapi_not_ready < 0:
            raise ValueError("openapi_not_ready must be at least 0")
        modes = self.openapi_whitelist is not None or self.openapi_inactive is not None or self.openapi_not_ready
        if modes and not self.open_api:
            raise ValueError("the openapi_* options (--openapi-*) need open_api (--open-api)")
