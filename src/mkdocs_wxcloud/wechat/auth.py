"""Credentials for API calls: an access token, the Cloud Hosting token file, or none at all.

``auth: token`` takes tokens from ``cgi-bin/stable_token`` only (the classic ``cgi-bin/token``
would invalidate the token of every other service of the mini program), cached in memory and on
disk; ``cloudbase`` reads the container's token file; ``openapi`` sends none (the sidecar signs).
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import ConfigError, WxCloudError, register_secret
from .retry import RetryPolicy
from .tokens import EXPIRY_MARGIN, TokenCache, token_cache_key
from .transport import Credential, Transport

log = logging.getLogger("mkdocs.plugins.wxcloud")

AUTH_MODES = ("token", "openapi", "cloudbase")
CLOUDBASE_TOKEN_FILE = "/.tencentcloudbase/wx/cloudbase_access_token"
_CLOUDBASE_TOKEN_MAX_AGE = 300.0  # the file is renewed every 10 minutes and valid for 30


@dataclass(frozen=True)
class Account:
    """Whose storage a client talks to (``env``), and how its calls are authorised (``auth``)."""

    env: str
    appid: str | None = None
    secret: str | None = field(default=None, repr=False)
    auth: str = "token"
    cloudbase_token_file: str = CLOUDBASE_TOKEN_FILE
    force_refresh: bool = False
    """When WeChat refuses a token that ``stable_token`` still hands out, replace it with
    ``force_refresh`` (once a run) instead of stopping. It costs one of 20 a day and logs out every
    other service of the mini program (its production backend included) until they fetch a new
    token: only for a user who asked for it."""


class Credentials:
    """The credential of every call, shared by all upload threads (one token fetch for all)."""

    def __init__(self, transport: Transport, retry: RetryPolicy, account: Account, token_cache: TokenCache) -> None:
        self.auth = account.auth
        self._transport = transport
        self._retry = retry
        self._appid = account.appid or ""
        self._secret = account.secret or ""
        self._tokens = token_cache
        self._cache_key = token_cache_key(transport.api_base, self._appid)
        self._cloudbase_file = Path(account.cloudbase_token_file)
        self._token: tuple[str, float] | None = None
        self._token_lock = threading.Lock()
        self._force_refresh = account.force_refresh  # the user's explicit opt-in
        self._forced_refresh = False
        self._token_failure: WxCloudError | None = None  # credentials refused: no thread asks again
        self._cloudbase: tuple[str, float] | None = None  # (token, monotonic time it was read)
        self._cloudbase_lock = threading.Lock()

    def current(self) -> Credential:
        if self.auth == "token":
            return "access_token", self.token()
        if self.auth == "cloudbase":
            return "cloudbase_access_token", self._cloudbase_token()
        return None

    def token(self) -> str:
        """The access token: from memory, else the disk cache, else one ``stable_token`` call."""
        if self.auth != "token":
            raise ConfigError(f"auth {self.auth!r} uses no access token")
        current = self._token
        if current is not None and current[1] - time.time() > EXPIRY_MARGIN:
            return current[0]
        with self._token_lock:  # one fetch for all the threads that found the token stale
            current = self._token
            if current is not None and current[1] - time.time() > EXPIRY_MARGIN:
                return current[0]
            if self._token_failure is not None:
                raise self._token_failure
            current = self._tokens.load(self._cache_key)
            if current is None:
                try:
                    current = self._fetch_token(force_refresh=False)
                except WxCloudError as error:
                    self._token_failure = error
                    raise
                self._tokens.store(self._cache_key, *current)
            register_secret(current[0])
            self._token = current
            return current[0]

    def renew(self, rejected: Credential) -> bool:
        """Replace a token the server refused, unless another thread already did.

        False when ``stable_token`` hands out the rejected token again: it is still valid for WeChat,
        and only ``force_refresh`` would replace it, which logs out every other service of the mini
        program (its backend included) and is allowed 20 times a day. That happens only when the user
        opted in (``force_refresh=True``), once per run.
        """
        if self.auth == "cloudbase":
            with self._cloudbase_lock:
                if rejected is not None and self._cloudbase and self._cloudbase[0] == rejected[1]:
                    self._cloudbase = None
            return True
        if self.auth != "token" or rejected is None:
            return True
        with self._token_lock:
            if self._token is not None and self._token[0] != rejected[1]:
                return True
            self._tokens.discard(self._cache_key, rejected[1])
            fresh = self._fetch_token(force_refresh=False)
            if fresh[0] == rejected[1] and self._force_refresh and not self._forced_refresh:
                self._forced_refresh = True
                log.warning("wxcloud: the access token was refused while still current: replacing it with "
                            "force_refresh, as asked (the mini program's other services must fetch a new one)")  # fmt: skip
                fresh = self._fetch_token(force_refresh=True)
            self._tokens.store(self._cache_key, *fresh)
            self._token = fresh
            return fresh[0] != rejected[1]

    def _fetch_token(self, *, force_refresh: bool) -> tuple[str, float]:
        """One ``stable_token`` call (with retries); never the classic ``/cgi-bin/token``."""
        body = {"grant_type": "client_credential", "appid": self._appid, "secret": self._secret,
                "force_refresh": force_refresh}  # fmt: skip
        started = time.time()
        answer = self._retry.run("cgi-bin/stable_token",
                                 lambda _: self._transport.call_json("cgi-bin/stable_token", body, None))  # fmt: skip
        token, expires_in = answer["access_token"], answer["expires_in"]  # their types are checked (answers.py)
        register_secret(token)
        log.debug("wxcloud: got an access token valid for %s s", expires_in)
        return token, started + expires_in

    def _cloudbase_token(self) -> str:
        """The container's token file, re-read every 5 minutes (it is renewed every 10)."""
        with self._cloudbase_lock:
            if self._cloudbase and time.monotonic() - self._cloudbase[1] < _CLOUDBASE_TOKEN_MAX_AGE:
                return self._cloudbase[0]
            try:
                token = self._cloudbase_file.read_text(encoding="utf-8").strip()
            except OSError as exc:
                token, reason = "", exc.strerror or type(exc).__name__
            except UnicodeDecodeError:
                token, reason = "", "it is not UTF-8 text"
            else:
                reason = "it is empty"
            if not token:
                raise ConfigError(f"auth 'cloudbase' needs the token file {self._cloudbase_file} ({reason}); "
                                  "it exists only inside a WeChat Cloud Hosting container")  # fmt: skip
            register_secret(token)
            self._cloudbase = (token, time.monotonic())
            return token
