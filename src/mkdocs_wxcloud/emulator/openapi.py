"""Cloud Hosting's open API service (开放接口服务): the sidecar between a container and the API.

It signs token-less calls, tags its answers with ``x-openapi-seqid``, and fails in the three ways
``wechat-api.md`` section 7 lists: a path missing from 微信令牌权限配置 (85107, or a bare HTTP 502
without ``x-openapi-seqid``), a service version older than the switch (41001, or 85112), and a
token not ready yet on a first deployment (85113). ``cloudbase_access_token`` calls go through the
same whitelist; calls with an ``access_token`` go around the sidecar's checks.
"""

from __future__ import annotations

import secrets
import threading

from .messages import Response, bad_gateway
from .options import Options
from .protocol import ApiFailure

_INACTIVE = {41001: "access_token missing", 85112: "cloudbase access token chain broken, redeploy the service"}


class OpenApiGate:
    """The sidecar's checks of a ``/tcb/`` call, in the order a request meets them."""

    def __init__(self, options: Options) -> None:
        self.active = options.open_api
        self._whitelist = options.openapi_whitelist
        self._unlisted = options.openapi_unlisted
        self._inactive = options.openapi_inactive
        self._not_ready = options.openapi_not_ready
        self._lock = threading.Lock()

    @staticmethod
    def seqid() -> tuple[str, str]:
        return ("x-openapi-seqid", secrets.token_hex(16))

    def check(self, path: str, params: dict[str, str]) -> Response | None:
        """None to let the call through; raises :class:`ApiFailure` or answers the bare 502."""
        if not self.active or params.get("access_token"):
            return None
        tokenless = not params.get("cloudbase_access_token")
        if tokenless and self._inactive is not None:
            raise ApiFailure(self._inactive, _INACTIVE[self._inactive])
        if self._whitelist is not None and path not in self._whitelist:
            if self._unlisted == "502":
                return bad_gateway()
            raise ApiFailure(85107, f"api {path} is not in the whitelist of 微信令牌权限配置")
        if tokenless:
            with self._lock:
                not_ready, self._not_ready = self._not_ready > 0, max(0, self._not_ready - 1)
            if not_ready:
                raise ApiFailure(85113, "cloudbase_token is not ready yet")
        return None
