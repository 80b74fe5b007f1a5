"""HTTP client for WeChat cloud storage (云开发): upload files, get their links, delete them.

The protocol is described in ``wechat-api.md``. The client follows the real service, not a
convenient subset of it: JSON bodies in raw UTF-8, the upload streamed with ``file`` as the last
form part, every batch item checked, and faults the service is known to produce (busy answers,
quota answers, dropped connections, stale tokens and upload links) retried with backoff.
"""

from __future__ import annotations

import contextlib
import posixpath
import unicodedata
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO, Callable, Sequence
from urllib.parse import unquote, urlsplit

from ..errors import ConfigError, WxCloudError, printable, redact, register_secret
from .auth import AUTH_MODES, Account, Credentials
from .retry import RetryPolicy
from .tokens import TokenCache
from .transport import Credential, Transport

BATCH_SIZE = 50
"""Most ids a batchdownloadfile / batchdeletefile call accepts."""


@dataclass(frozen=True)
class Limits:
    """How hard a client tries: requests at once, seconds per request, retries and their waits."""

    concurrency: int = 16
    timeout: float = 30.0
    max_retries: int = 6
    backoff: float = 0.5
    quota_wait: float = 60.0


class WxCloudClient:
    """Talks to the WeChat cloud-storage API; one instance is shared by all upload threads."""

    def __init__(
        self, api_base: str, account: Account, limits: Limits | None = None, token_cache: TokenCache | None = None
    ) -> None:
        limits = limits or Limits()
        if account.auth not in AUTH_MODES:
            raise ConfigError(f"unknown auth {account.auth!r}: use one of {', '.join(AUTH_MODES)}")
        try:
            scheme = urlsplit(api_base).scheme
        except ValueError:  # an unbalanced IPv6 bracket
            scheme = ""
        if scheme not in ("http", "https"):
            raise ConfigError(f"`api_base` must be an http(s) URL, not {api_base!r}")
        if not account.env:
            raise ConfigError("no cloud environment: set the option `env` or WXCLOUD_ENV")
        if account.auth == "token":
            if not account.appid:
                raise ConfigError("no AppID: set the option `appid` or the variable WXCLOUD_APPID")
            if not account.secret:
                raise ConfigError("no AppSecret (option `secret` or variable WXCLOUD_SECRET)")
        register_secret(account.secret)
        self.env = account.env
        self.auth = account.auth
        self._concurrency = max(1, limits.concurrency)
        self._transport = Transport(api_base, account.env, concurrency=self._concurrency, timeout=limits.timeout,
                                    openapi=account.auth == "openapi")  # fmt: skip
        self.api_base = self._transport.api_base
        self._retry = RetryPolicy(max_retries=max(0, limits.max_retries), backoff=limits.backoff,
                                  quota_wait=limits.quota_wait)  # fmt: skip
        self.tokens = token_cache if token_cache is not None else TokenCache(None)
        self._credentials = Credentials(self._transport, self._retry, account, self.tokens)

    @property
    def requests_made(self) -> int:
        """Every HTTP request sent so far, failed ones included (a warm build must send none)."""
        return self._transport.requests_made

    def __enter__(self) -> WxCloudClient:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        """Release the pooled connections."""
        self._transport.close()

    def cancel(self) -> None:
        """Start no new request (from any thread); requests under way finish or time out."""
        self._retry.cancelled.set()

    def token(self) -> str:
        """The access token: from memory, else the disk cache, else one ``stable_token`` call."""
        return self._credentials.token()

    def upload(
        self, cloud_path: str, file: Path | BinaryIO, filename: str | None = None,
        on_link: Callable[[str], None] | None = None,
    ) -> str:  # fmt: skip
        """Store ``file`` (a path, or an open reader the caller closes) at ``cloud_path``, overwriting.

        Returns the permanent ``file_id``. A reader must rewind with ``seek(0)``: retries send it again.
        ``on_link(file_id)`` is told the id before the bytes are sent: a caller interrupted while they
        go knows what may be stored (to delete it).
        """
        if isinstance(file, (str, Path)):
            file = Path(file)
            filename = filename or file.name
            try:
                handle: BinaryIO = file.open("rb")
            except OSError as exc:
                raise ConfigError(f"cannot read {file}: {exc.strerror or type(exc).__name__}") from None
            owned: contextlib.AbstractContextManager = handle
        else:
            handle, owned = file, contextlib.nullcontext()
        name = filename or posixpath.basename(cloud_path)

        def attempt(credential: Credential) -> str:
            handle.seek(0)  # a retry sends the whole file again
            link = self._transport.call_json("tcb/uploadfile", {"env": self.env, "path": cloud_path}, credential)
            if on_link is not None:
                on_link(link["file_id"])
            self._transport.post_to_cos(link, cloud_path, name, handle)
            return link["file_id"]

        with owned:
            return self._retry.run(f"upload of {cloud_path}", attempt, self._credentials)

    def download_urls(self, file_ids: Sequence[str], max_age: int = 86400) -> tuple[dict[str, str], dict[str, str]]:
        """Links by file_id, and errmsg by file_id for the ids that got none (50 ids a call)."""

        def batch(ids: list[str]) -> dict[str, Any]:
            body = {"env": self.env, "file_list": [{"fileid": i, "max_age": max_age} for i in ids]}
            return self._call("tcb/batchdownloadfile", body)

        urls: dict[str, str] = {}
        errors: dict[str, str] = {}
        for ids, answer in self._batched(file_ids, batch):
            items = _items(answer, "file_list", ids, errors)
            for file_id, item in items.items():
                url = item.get("download_url")
                if url:
                    urls[file_id] = url
                else:
                    errors[file_id] = _said(item.get("errmsg"), "no download_url in the answer")
        return urls, errors

    def delete(self, file_ids: Sequence[str]) -> dict[str, str]:
        """Delete the files; errmsg by file_id for those that could not be deleted."""
        errors: dict[str, str] = {}
        batch = lambda ids: self._call("tcb/batchdeletefile", {"env": self.env, "fileid_list": ids})  # noqa: E731
        for ids, answer in self._batched(file_ids, batch):
            _items(answer, "delete_list", ids, errors)
        return errors

    def _call(self, api: str, body: dict[str, Any]) -> dict[str, Any]:
        return self._retry.run(api, lambda credential: self._transport.call_json(api, body, credential),
                               self._credentials)  # fmt: skip

    def _batched(self, file_ids: Sequence[str], call: Callable[[list[str]], dict[str, Any]]
                 ) -> list[tuple[list[str], dict[str, Any] | WxCloudError]]:  # fmt: skip
        """Run ``call`` on groups of at most 50 distinct ids, concurrently; answers in order.

        A group whose call failed answers with its error, so the other groups' results are kept.
        """

        def guarded(ids: list[str]) -> dict[str, Any] | WxCloudError:
            try:
                return call(ids)
            except WxCloudError as error:
                return error

        unique = list(dict.fromkeys(file_ids))
        groups = [unique[i : i + BATCH_SIZE] for i in range(0, len(unique), BATCH_SIZE)]
        if not groups:
            return []
        with ThreadPoolExecutor(max_workers=min(self._concurrency, len(groups))) as pool:
            return list(zip(groups, pool.map(guarded, groups)))


def _items(answer: dict[str, Any] | WxCloudError, field: str, ids: list[str],
           errors: dict[str, str]) -> dict[str, dict[str, Any]]:  # fmt: skip
    """The successful items of a batch answer by file_id; failed or missing ids go to errors."""
    if isinstance(answer, WxCloudError):
        errors.update(dict.fromkeys(ids, str(answer)))
        return {}
    by_id = _match(ids, answer.get(field) or [])
    good: dict[str, dict[str, Any]] = {}
    for file_id in ids:
        item = by_id.get(file_id)
        if item is None:
            errors[file_id] = f"missing from the {field} of the answer"
        elif item.get("status") or 0:
            errors[file_id] = _said(item.get("errmsg"), f"status {item.get('status')}")
        else:
            good[file_id] = item
    return good


def _match(ids: list[str], items: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Answer items by the id asked: the same ``fileid``; else the same id once percent-decoded and
    NFC-normalised (whether WeChat echoes a Chinese id byte for byte is unknown); else, when the answer
    has one item per id asked, by request order, but only where the unmatched ids and the unmatched
    items sit at the same positions: a file never gets another file's link."""
    where: dict[str, int] = {}
    for index, item in enumerate(items):
        where.setdefault(item["fileid"], index)
    matched = {file_id: where[file_id] for file_id in ids if file_id in where}
    loose: dict[str, list[int]] = {}
    for index, item in enumerate(items):
        if index not in matched.values():
            loose.setdefault(_normal(item["fileid"]), []).append(index)
    wanted = [_normal(file_id) for file_id in ids]
    for file_id, key in zip(ids, wanted):
        if file_id not in matched and len(loose.get(key, ())) == 1 and wanted.count(key) == 1:
            matched[file_id] = loose[key][0]
    if len(items) == len(ids):
        taken = set(matched.values())
        rest = [index for index, file_id in enumerate(ids) if file_id not in matched]
        if set(rest) == set(range(len(items))) - taken:
            matched.update((ids[index], index) for index in rest)
    return {file_id: items[index] for file_id, index in matched.items()}


def _normal(file_id: str) -> str:
    return unicodedata.normalize("NFC", unquote(file_id))


def _said(errmsg: object, otherwise: str) -> str:
    """A batch item's errmsg, fit to show: one line, no secret, no control character; ``otherwise``
    when it says nothing (null, empty or white space)."""
    text = " ".join(errmsg.split()) if isinstance(errmsg, str) else ""
    return printable(redact(text or otherwise))
