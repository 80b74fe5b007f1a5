"""Connection pools for the hosts a run talks to, set up from the environment as ``requests`` does.

Requests go through urllib3's pools directly: the session machinery of ``requests`` (preparing a
request, cookies, hooks, ~/.netrc, re-reading the environment each time) costs more CPU than the
request itself, and 16 uploads at once share one interpreter lock with the build. What matters of
it is kept, through ``requests``' own functions: the proxy of each host (``HTTPS_PROXY``,
``NO_PROXY``, SOCKS), credentials in a proxy URL, and the CA bundle (``REQUESTS_CA_BUNDLE``,
``CURL_CA_BUNDLE``, else certifi's). The environment is read once per host, for the whole run.
"""

from __future__ import annotations

import os
import threading
import warnings
from typing import Any
from urllib.parse import urlsplit

import urllib3
from requests.utils import (
    DEFAULT_CA_BUNDLE_PATH,
    get_auth_from_url,
    get_environ_proxies,
    prepend_scheme_if_needed,
    select_proxy,
)

from .deadline import with_deadlines
from .errors import NetworkError


class Pools:
    """Keep-alive pools by proxy ("" for direct), and the route of each host; thread-safe."""

    def __init__(self, *, maxsize: int, timeout: float, user_agent: str) -> None:
        bundle = os.environ.get("REQUESTS_CA_BUNDLE") or os.environ.get("CURL_CA_BUNDLE") or DEFAULT_CA_BUNDLE_PATH
        self._options: dict[str, Any] = {
            "maxsize": maxsize,
            "retries": False,  # ours know what is safe to retry
            "timeout": urllib3.Timeout(connect=timeout, read=timeout),
            "cert_reqs": "CERT_REQUIRED",
            "ca_cert_dir" if os.path.isdir(bundle) else "ca_certs": bundle,
        }
        self._headers = {"User-Agent": user_agent}  # a request's own headers replace a pool's: merged here
        self._managers: dict[str, urllib3.PoolManager] = {}
        self._routes: dict[tuple[str, str], tuple[urllib3.PoolManager, bool]] = {}
        self._lock = threading.Lock()

    def post(self, url: str, body: Any, headers: dict[str, str]) -> urllib3.BaseHTTPResponse:
        """One POST, its answer not read yet (the transport reads it up to a size limit, against the
        deadline of :func:`.deadline.answer_by`); redirects are never followed (see the transport).

        A host reached directly is asked through its own pool with the request's target alone: the
        manager would parse the whole URL once more for every request, to find the pool again."""
        parts = urlsplit(url)
        manager, direct = self._route(parts.scheme, parts.netloc, url)
        opener: urllib3.PoolManager | urllib3.HTTPConnectionPool = manager
        if direct:
            opener = manager.connection_from_host(parts.hostname, parts.port, parts.scheme)
            url = f"{parts.path or '/'}?{parts.query}" if parts.query else parts.path or "/"
        return opener.urlopen("POST", url, body=body, headers={**self._headers, **headers}, redirect=False,
                              preload_content=False, assert_same_host=False)  # fmt: skip

    def clear(self) -> None:
        with self._lock:
            for manager in self._managers.values():
                manager.clear()

    def _route(self, scheme: str, netloc: str, url: str) -> tuple[urllib3.PoolManager, bool]:
        """The manager for a host, and whether it reaches the host directly (no proxy)."""
        with self._lock:
            route = self._routes.get((scheme, netloc))
            if route is None:
                proxy = select_proxy(url, get_environ_proxies(url)) or ""
                manager = self._managers.get(proxy)
                if manager is None:
                    manager = self._managers[proxy] = self._manager(proxy)
                route = self._routes[(scheme, netloc)] = (manager, not proxy)
            return route

    def _manager(self, proxy: str) -> urllib3.PoolManager:
        manager = self._new_manager(proxy)
        manager.pool_classes_by_scheme = with_deadlines(manager.pool_classes_by_scheme)
        return manager

    def _new_manager(self, proxy: str) -> urllib3.PoolManager:
        if not proxy:
            return urllib3.PoolManager(**self._options)
        proxy = prepend_scheme_if_needed(proxy, "http")
        user, password = get_auth_from_url(proxy)
        if proxy.lower().startswith("socks"):
            try:
                with warnings.catch_warnings():  # its DependencyWarning would be a second, wordier message
                    warnings.simplefilter("ignore", urllib3.exceptions.DependencyWarning)
                    from urllib3.contrib.socks import SOCKSProxyManager  # needs PySocks, as requests does
            except ImportError:
                where = urlsplit(proxy)  # named without its credentials
                raise NetworkError(f"the proxy {where.scheme}://{where.hostname}:{where.port} is a SOCKS proxy, which "
                                   "needs PySocks: `pip install pysocks`, or set NO_PROXY for the host") from None  # fmt: skip
            return SOCKSProxyManager(proxy, username=user or None, password=password or None, **self._options)
        credentials = urllib3.make_headers(proxy_basic_auth=f"{user}:{password}") if user else None
        return urllib3.ProxyManager(proxy, proxy_headers=credentials, **self._options)
