"""Download links: fetched 50 a call at the end of a run, and kept permanent whenever they can be.

``batchdownloadfile`` may sign the links of public files too (``wechat-api.md`` section 5), so a
``sign=`` is no proof that a link expires. The first signed link of an environment's storage host
is requested once without its query (a one-byte ``Range`` GET, no credentials): when that serves
the object, the storage is public and every link of that host is stored unsigned and permanent;
when it does not, links stay signed, with ``expires``, and the run reports private storage. The
answer is kept in the cache folder, so later runs ask nothing.
"""

from __future__ import annotations

import dataclasses
import time
from pathlib import Path
from typing import Any, Callable
from urllib.parse import parse_qs, urlsplit, urlunsplit

import requests

from .. import caches
from ..errors import WxCloudError
from ..manifest.model import Entry
from ..manifest.schema import is_web_url
from ..wechat.client import WxCloudClient
from .current import Decider, static_url
from .reporting import Report

CACHE_KIND = "storage-access"
CACHE_FORMAT = 1
PUBLIC, PRIVATE = "public", "private"


def is_signed(url: str) -> bool:
    return "sign" in parse_qs(urlsplit(url).query)


def unsigned(url: str) -> str:
    """The URL without its query (and fragment)."""
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, parts.path, "", ""))


def _no_auth(request: Any) -> Any:
    """Set as a session's auth so that ``requests`` never adds ~/.netrc credentials."""
    return request


def get(url: str, timeout: float, headers: dict[str, str] | None = None) -> requests.Response:
    """One GET of a download URL, read in full: no credentials, no cookies, no redirect followed
    (a download host is not the WeChat API; proxies and CA bundles come from the environment)."""
    with requests.Session() as session:
        session.auth = _no_auth
        return session.get(url, headers=headers or {}, timeout=timeout, allow_redirects=False)


def serves(url: str, timeout: float) -> tuple[bool | None, str]:
    """Whether ``url`` serves an object (a one-byte range GET; None: no answer), and what it
    answered, for a message."""
    try:
        answer = get(url, timeout, {"Range": "bytes=0-0"})
    except requests.RequestException as error:
        return None, f"no answer ({type(error).__name__})"
    return 200 <= answer.status_code < 300, f"HTTP {answer.status_code}"


class StorageAccess:
    """Public or private, per environment and storage host, remembered in ``cache_dir``."""

    def __init__(self, cache_dir: Path, env: str | None, timeout: float) -> None:
        self._path = cache_dir / "storage-access.json"
        self._env = env or ""
        self._timeout = timeout
        self._known: dict[str, str] | None = None
        self.requests_made = 0

    def public(self, signed_url: str) -> bool:
        """Whether the storage serving ``signed_url`` serves it without its query (asked once)."""
        key = f"{self._env} {urlsplit(signed_url).netloc}"
        known = self._load()
        if key not in known:
            self.requests_made += 1
            ok, _ = serves(unsigned(signed_url), self._timeout)
            known[key] = PUBLIC if ok else PRIVATE
            if ok is None:
                return False  # no answer proves nothing: signed links for this run, asked again next run
            try:
                caches.save(self._path, CACHE_KIND, CACHE_FORMAT, known)
            except OSError:
                pass  # asked again next run
        return known[key] == PUBLIC

    def _load(self) -> dict[str, str]:
        if self._known is None:
            data = caches.load(self._path, CACHE_KIND, CACHE_FORMAT) or {}
            self._known = {k: v for k, v in data.items() if isinstance(k, str) and v in (PUBLIC, PRIVATE)}
        return self._known


@dataclasses.dataclass
class Links:
    """Fills in the links of a run's entries (``base_url``, else ``batchdownloadfile``)."""

    decider: Decider
    client: Callable[[], WxCloudClient]
    access: StorageAccess
    base_url: str | None
    max_age: int

    def fetch(self, entries: dict[str, Entry], report: Report) -> None:
        """Give each entry without a link (or with one expiring) its link; a path that gets none
        leaves ``entries`` for ``report.errors``."""
        need = {e.file_id for e in entries.values() if not e.url or self.decider.expiring(e)}
        if self.base_url:
            for path, entry in entries.items():
                if entry.file_id in need:
                    entries[path] = dataclasses.replace(entry, url=static_url(self.base_url, entry.cloud_path))
            return
        if not need:
            return
        try:
            urls, errors = self.client().download_urls(sorted(need), self.max_age)
        except WxCloudError as error:
            urls, errors = {}, {fid: str(error) for fid in need}
        for path, entry in list(entries.items()):
            if entry.file_id not in need:
                continue
            url = urls.get(entry.file_id)
            if url and not is_web_url(url):  # it would go into pages as it is
                errors[entry.file_id], url = f"WeChat answered a link that is not an http(s) URL: {url[:60]!r}", ""
            if not url:
                report.errors[path] = f"no download link: {errors.get(entry.file_id, 'unknown error')}"
                del entries[path]
                continue
            expires = None
            if is_signed(url):
                if self.access.public(url):
                    url = unsigned(url)
                else:
                    # counted from the request and max_age, not from t=, whose meaning is not settled
                    expires = int(time.time()) + self.max_age
                    report.signed = True
            entries[path] = dataclasses.replace(entry, url=url, expires=expires)
