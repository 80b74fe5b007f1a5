"""Access tokens as WeChat hands them out, and the check of each storage call's credential."""

from __future__ import annotations

import secrets
import threading
import time
from typing import Any

from .protocol import ApiFailure, same_secret

_MIN_TOKEN_LEFT = 300


class TokenIssuer:
    """``stable_token`` (shared, long-lived), the classic ``token`` (each call kills the last one),
    the Cloud Hosting ``cloudbase_access_token`` and the open-API mode that needs none."""

    def __init__(self, appid: str, secret: str, *, ttl: int, ip_whitelist: list[str] | None,
                 cloudbase_token: str | None, open_api: bool) -> None:  # fmt: skip
        self.appid = appid
        self.ttl = ttl
        self.open_api = open_api
        self._secret = secret
        self._ip_whitelist = None if ip_whitelist is None else set(ip_whitelist)
        self._cloudbase_token = cloudbase_token
        self._tokens: dict[str, float] = {}  # token -> expiry (unix time)
        self._stable: str | None = None
        self._classic: str | None = None
        self._lock = threading.Lock()

    def issued(self) -> list[str]:
        with self._lock:
            return list(self._tokens)

    def expire_all(self) -> None:
        now = time.time()
        with self._lock:
            for token, expires in self._tokens.items():
                self._tokens[token] = min(expires, now)

    def classic_token(self, query: dict[str, str], ip: str) -> dict[str, Any]:
        """``GET /cgi-bin/token``: every call invalidates the previous classic token at once."""
        self._check(query.get("grant_type"), query.get("appid"), query.get("secret"), ip)
        with self._lock:
            if self._classic is not None:
                self._tokens.pop(self._classic, None)
            self._classic = self._issue(time.time())
            return {"access_token": self._classic, "expires_in": self.ttl}

    def stable_token(self, body: dict[str, Any], ip: str) -> dict[str, Any]:
        """``POST /cgi-bin/stable_token``: the same token while it has enough time left.

        A token is handed out again only with at least 300 s left (half the TTL when the TTL is
        shorter); otherwise a new one is issued and the old stays valid until its own expiry.
        """
        force = body.get("force_refresh", False)
        if not isinstance(force, bool):
            raise ApiFailure(40097, "invalid args: force_refresh must be a boolean")
        self._check(body.get("grant_type"), body.get("appid"), body.get("secret"), ip)
        now = time.time()
        with self._lock:
            current = self._stable
            if current is not None and force:
                self._tokens.pop(current, None)
            elif current is not None:
                left = self._tokens.get(current, now) - now
                if left >= min(_MIN_TOKEN_LEFT, self.ttl / 2):
                    return {"access_token": current, "expires_in": int(left)}
            self._stable = self._issue(now)
            return {"access_token": self._stable, "expires_in": self.ttl}

    def authorize(self, query: dict[str, str]) -> None:
        """Check the credential of a ``/tcb/`` call: access_token, cloudbase token or open API."""
        token = query.get("access_token")
        cloudbase = query.get("cloudbase_access_token")
        if token:
            with self._lock:
                expires = self._tokens.get(token)
            if expires is None:
                raise ApiFailure(40001, "invalid credential, access_token is invalid or not latest")
            if expires <= time.time():
                raise ApiFailure(42001, "access_token expired")
        elif cloudbase:
            if self._cloudbase_token is None or not same_secret(cloudbase, self._cloudbase_token):
                raise ApiFailure(40001, "invalid credential, cloudbase_access_token is invalid")
        elif not self.open_api:
            raise ApiFailure(41001, "access_token missing")

    def _check(self, grant_type: Any, appid: Any, secret: Any, ip: str) -> None:
        if grant_type != "client_credential":
            raise ApiFailure(40002, "invalid grant_type")
        if not appid:
            raise ApiFailure(41002, "appid missing")
        if not secret:
            raise ApiFailure(41004, "appsecret missing")
        if not isinstance(appid, str) or appid != self.appid:
            raise ApiFailure(40013, "invalid appid")
        if self._ip_whitelist is not None and ip not in self._ip_whitelist:
            raise ApiFailure(40164, f"invalid ip {ip} ipv6 ::ffff:{ip}, not in whitelist")
        if not isinstance(secret, str) or not same_secret(secret, self._secret):
            raise ApiFailure(40125, "invalid appsecret")

    def _issue(self, now: float) -> str:
        token = secrets.token_urlsafe(102)  # 136 characters, like the real ones
        self._tokens[token] = now + self.ttl
        return token
