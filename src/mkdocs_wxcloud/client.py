"""HTTP client for WeChat cloud storage (云开发): upload files, get their links, delete them.

The protocol is described in ``wechat-api.md``. The client follows the real service, not a
convenient subset of it: JSON bodies in raw UTF-8, the upload streamed with ``file`` as the last
form part, every batch item checked, and faults the service is known to produce (busy answers,
quota answers, dropped connections, stale tokens and upload links) retried with backoff. Tokens
travel in URLs, so every error and log line it produces is redacted.
"""

from __future__ import annotations

import ipaddress
import json
import logging
import mimetypes
import random
import re
import threading
import time
import xml.etree.ElementTree as ElementTree
from concurrent.futures import ThreadPoolExecutor
from importlib import metadata
from pathlib import Path
from typing import IO, Any, Callable, Optional, Sequence, Tuple, TypeVar
from urllib.parse import urlsplit

import requests
from requests.adapters import HTTPAdapter
from requests_toolbelt import MultipartEncoder

from .errors import (ApiError, ConfigError, CosError, NetworkError, WxCloudError, redact,
                     register_secret)
from .tokens import EXPIRY_MARGIN, TokenCache, token_cache_key

log = logging.getLogger("mkdocs.plugins.wxcloud")

AUTH_MODES = ("token", "openapi", "cloudbase")
CLOUDBASE_TOKEN_FILE = "/.tencentcloudbase/wx/cloudbase_access_token"

BATCH_SIZE = 50
"""Most ids a batchdownloadfile / batchdeletefile call accepts."""

_CLOUDBASE_TOKEN_MAX_AGE = 300.0  # the file is renewed every 10 minutes and valid for 30
_MAX_DELAY = 30.0
_TOKEN_ERRORS = frozenset({40001, 40014, 42001})
_BUSY_ERRORS = frozenset({-1, -1000, -501001, -501002, -501003, -501004})
_MINUTE_QUOTA = 45011
_STALE_LINK_CODES = frozenset({"ExpiredToken", "InvalidToken", "SignatureDoesNotMatch"})
_UPLOAD_FIELDS = ("url", "authorization", "token", "cos_file_id", "file_id")
_JSON = "application/json; charset=utf-8"
_SECRET_HINT = "check `secret` / WXCLOUD_SECRET (the AppSecret of the mini program)"
_MALFORMED_HINT = ("the request was refused as malformed: check the cloud path (avoid "
                   "` ^ \" \\ { } [ ] ~ % # > < and control characters), otherwise report a bug")
_HINTS = {
    45009: "the daily quota of this API is used up: try again tomorrow",
    _MINUTE_QUOTA: "the per-minute quota stayed exhausted: try again in a few minutes",
    40013: "the AppID is invalid: check `appid` / WXCLOUD_APPID",
    40125: f"the AppSecret is wrong: {_SECRET_HINT}",
    41002: "no AppID was sent: set `appid` / WXCLOUD_APPID",
    41004: "no AppSecret was sent: set `secret` / WXCLOUD_SECRET",
    40243: "the AppSecret is frozen: unfreeze or reset it in 微信公众平台 → 开发管理 → 开发设置",
    89503: "an administrator must first approve calls from this IP (see the notification in "
           "微信公众平台), then run again",
    89506: "an administrator refused this IP: its calls are blocked for 24 hours",
    89507: "an administrator refused this IP: its calls are blocked for 1 hour",
    85088: "cloud development (云开发) is not enabled for this AppID: open it in WeChat DevTools, "
           "or check `appid` / WXCLOUD_APPID",
    **{code: _MALFORMED_HINT for code in (40097, 40101, 44002, 47001, 40033)},
    **{code: "the access token was refused even after renewing it" for code in _TOKEN_ERRORS},
    **{code: "WeChat stayed busy: try again later" for code in _BUSY_ERRORS},
}

T = TypeVar("T")
Credential = Optional[Tuple[str, str]]
"""The query parameter carrying the token (name, value), or None when calls are signed for us."""


class _Transient(NetworkError):
    """A fault worth retrying (connection dropped, HTTP 5xx); never reaches the caller."""


class _RedactingFilter(logging.Filter):
    """Masks tokens in urllib3's debug lines, which print request URLs with their query string."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg, record.args = redact(record.getMessage()), None
        return True


_REDACTING_FILTER = _RedactingFilter()


def _user_agent() -> str:
    try:
        version = metadata.version("mkdocs-wxcloud")
    except metadata.PackageNotFoundError:
        version = "0"
    return f"mkdocs-wxcloud/{version}"


def _caller_ip(errmsg: str) -> str:
    """The first IP address in a 40164 message (``invalid ip 1.2.3.4 ipv6 ::ffff:1.2.3.4, …``)."""
    for word in re.split(r"[\s,;]+", errmsg):
        try:
            return str(ipaddress.ip_address(word))
        except ValueError:
            continue
    return ""


class WxCloudClient:
    """Talks to the WeChat cloud-storage API; one instance is shared by all upload threads."""

    def __init__(self, *, api_base: str, env: str, appid: str | None = None,
                 secret: str | None = None, auth: str = "token",
                 token_cache: TokenCache | None = None, concurrency: int = 8,
                 timeout: float = 30.0, max_retries: int = 6, backoff: float = 0.5,
                 quota_wait: float = 60.0,
                 cloudbase_token_file: str = CLOUDBASE_TOKEN_FILE) -> None:
        if auth not in AUTH_MODES:
            raise ConfigError(f"unknown auth {auth!r}: use one of {', '.join(AUTH_MODES)}")
        if urlsplit(api_base).scheme not in ("http", "https"):
            raise ConfigError(f"`api_base` must be an http(s) URL, not {api_base!r}")
        if not env:
            raise ConfigError("no cloud environment: set the option `env` or WXCLOUD_ENV")
        if auth == "token":
            if not appid:
                raise ConfigError("no AppID: set the option `appid` or the variable WXCLOUD_APPID")
            if not secret:
                raise ConfigError("no AppSecret: set the option `secret` or the variable "
                                  "WXCLOUD_SECRET")
        register_secret(secret)
        self.api_base = api_base.rstrip("/")
        self.env = env
        self.auth = auth
        self._appid = appid or ""
        self._secret = secret or ""
        self._tokens = token_cache if token_cache is not None else TokenCache(None)
        self._cache_key = token_cache_key(self.api_base, self._appid)
        self._concurrency = max(1, concurrency)
        self._timeout = timeout
        self._max_retries = max(0, max_retries)
        self._backoff = backoff
        self._quota_wait = quota_wait
        self._cloudbase_file = Path(cloudbase_token_file)

        self._token: tuple[str, float] | None = None
        self._token_lock = threading.Lock()
        self._forced_refresh = False
        self._token_failure: WxCloudError | None = None  # credentials refused: no thread asks again
        self._cloudbase: tuple[str, float] | None = None  # (token, monotonic time it was read)
        self._cloudbase_lock = threading.Lock()
        self._requests_made = 0
        self._count_lock = threading.Lock()

        for name in ("urllib3.connectionpool", "urllib3.util.retry"):
            logging.getLogger(name).addFilter(_REDACTING_FILTER)
        self._session = requests.Session()
        # Pools for the API host and the COS host; no urllib3 retries: ours know what is safe.
        adapter = HTTPAdapter(pool_connections=4, pool_maxsize=self._concurrency, max_retries=0)
        self._session.mount("https://", adapter)
        self._session.mount("http://", adapter)
        self._session.headers["User-Agent"] = _user_agent()

    @property
    def requests_made(self) -> int:
        """Every HTTP request sent so far, failed ones included (a warm build must send none)."""
        with self._count_lock:
            return self._requests_made

    def __enter__(self) -> WxCloudClient:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        """Release the pooled connections."""
        self._session.close()

    # --- public operations -------------------------------------------------------------

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

    def upload(self, cloud_path: str, file: Path) -> str:
        """Store ``file`` at ``cloud_path`` (overwriting) and return its permanent ``file_id``."""
        file = Path(file)
        try:
            handle = file.open("rb")
        except OSError as exc:
            raise ConfigError(f"cannot read {file}: {exc.strerror or type(exc).__name__}") from None

        def attempt(credential: Credential) -> str:
            handle.seek(0)  # a retry sends the whole file again
            link = self._call_json("tcb/uploadfile", {"env": self.env, "path": cloud_path},
                                   credential)
            missing = [f for f in _UPLOAD_FIELDS if not isinstance(link.get(f), str) or not link[f]]
            if missing:
                raise WxCloudError(f"WeChat API tcb/uploadfile answered without "
                                   f"{', '.join(missing)} for {cloud_path}")
            self._post_to_cos(link, cloud_path, file.name, handle)
            return link["file_id"]

        with handle:
            return self._retrying(f"upload of {cloud_path}", attempt)

    def download_urls(self, file_ids: Sequence[str], max_age: int = 86400
                      ) -> tuple[dict[str, str], dict[str, str]]:
        """Links by file_id, and errmsg by file_id for the ids that got none (50 ids a call)."""
        def batch(ids: list[str]) -> dict[str, Any]:
            body = {"env": self.env, "file_list": [{"fileid": i, "max_age": max_age} for i in ids]}
            return self._retrying("tcb/batchdownloadfile",
                                  lambda cred: self._call_json("tcb/batchdownloadfile", body, cred))

        urls: dict[str, str] = {}
        errors: dict[str, str] = {}
        for ids, answer in self._batched(file_ids, batch):
            items = self._items(answer, "file_list", ids, errors)
            for file_id, item in items.items():
                url = item.get("download_url")
                if isinstance(url, str) and url:
                    urls[file_id] = url
                else:
                    errors[file_id] = str(item.get("errmsg") or "no download_url in the answer")
        return urls, errors

    def delete(self, file_ids: Sequence[str]) -> dict[str, str]:
        """Delete the files; errmsg by file_id for those that could not be deleted."""
        def batch(ids: list[str]) -> dict[str, Any]:
            body = {"env": self.env, "fileid_list": ids}
            return self._retrying("tcb/batchdeletefile",
                                  lambda cred: self._call_json("tcb/batchdeletefile", body, cred))

        errors: dict[str, str] = {}
        for ids, answer in self._batched(file_ids, batch):
            self._items(answer, "delete_list", ids, errors)
        return errors

    # --- batches -----------------------------------------------------------------------

    def _batched(self, file_ids: Sequence[str], call: Callable[[list[str]], dict[str, Any]]
                 ) -> list[tuple[list[str], dict[str, Any] | WxCloudError]]:
        """Run ``call`` on groups of at most 50 distinct ids, concurrently; answers in order.

        A group whose call failed answers with its error, so the other groups' results are kept.
        """
        def guarded(ids: list[str]) -> dict[str, Any] | WxCloudError:
            try:
                return call(ids)
            except WxCloudError as error:
                return error

        unique = list(dict.fromkeys(file_ids))
        groups = [unique[i:i + BATCH_SIZE] for i in range(0, len(unique), BATCH_SIZE)]
        if not groups:
            return []
        with ThreadPoolExecutor(max_workers=min(self._concurrency, len(groups))) as pool:
            return list(zip(groups, pool.map(guarded, groups)))

    @staticmethod
    def _items(answer: dict[str, Any] | WxCloudError, field: str, ids: list[str],
               errors: dict[str, str]) -> dict[str, dict[str, Any]]:
        """The successful items of a batch answer by file_id; failed or missing ids go to errors."""
        if isinstance(answer, WxCloudError):
            errors.update(dict.fromkeys(ids, str(answer)))
            return {}
        by_id = {item.get("fileid"): item for item in answer.get(field) or []
                 if isinstance(item, dict)}
        good: dict[str, dict[str, Any]] = {}
        for file_id in ids:
            item = by_id.get(file_id)
            if item is None:
                errors[file_id] = f"missing from the {field} of the answer"
            elif item.get("status", 0) != 0:
                errors[file_id] = str(item.get("errmsg") or f"status {item.get('status')}")
            else:
                good[file_id] = item
        return good

    # --- retries -----------------------------------------------------------------------

    def _retrying(self, what: str, attempt: Callable[[Credential], T], *,
                  uses_token: bool = True) -> T:
        """Run ``attempt`` until it succeeds, a final error occurs, or the retries run out.

        A rejected token is renewed and the call retried once, on top of the retry budget.
        """
        renewed = False
        tries = 0
        while True:
            credential = self._credential() if uses_token else None
            try:
                return attempt(credential)
            except (ApiError, CosError, NetworkError) as exc:
                error: WxCloudError = exc
            if (uses_token and isinstance(error, ApiError) and error.errcode in _TOKEN_ERRORS
                    and not renewed):
                renewed = True
                log.debug("wxcloud: %s: token refused (errcode %s), renewing it", what,
                          error.errcode)
                self._renew(credential)
                continue
            delay = self._retry_delay(error, tries)
            if delay is None:
                raise error
            if tries >= self._max_retries:
                if isinstance(error, _Transient):
                    raise NetworkError(f"{error} (gave up after {tries + 1} attempts)")
                raise error
            tries += 1
            log.debug("wxcloud: %s: retry %d/%d in %.2f s after: %s", what, tries,
                      self._max_retries, delay, error)
            time.sleep(delay)

    def _retry_delay(self, error: WxCloudError, tries: int) -> float | None:
        """Seconds to wait before retrying after ``error``, or None when it is final."""
        backoff = random.uniform(0, min(_MAX_DELAY, self._backoff * 2 ** tries))
        if isinstance(error, _Transient):
            return backoff
        if isinstance(error, ApiError):
            if error.errcode == _MINUTE_QUOTA:
                return self._quota_wait
            return backoff if error.errcode in _BUSY_ERRORS else None
        if isinstance(error, CosError):
            if error.code in _STALE_LINK_CODES or (
                    error.code == "AccessDenied" and "expired" in error.cos_message.lower()):
                return 0.0  # the upload link is stale: ask for a new one at once
            return backoff if error.status >= 500 else None
        return None

    # --- credentials -------------------------------------------------------------------

    def _credential(self) -> Credential:
        if self.auth == "token":
            return "access_token", self.token()
        if self.auth == "cloudbase":
            return "cloudbase_access_token", self._cloudbase_token()
        return None

    def _renew(self, rejected: Credential) -> None:
        """Replace a token the server refused, unless another thread already did."""
        if self.auth == "cloudbase":
            with self._cloudbase_lock:
                if rejected is not None and self._cloudbase and self._cloudbase[0] == rejected[1]:
                    self._cloudbase = None
            return
        if self.auth != "token" or rejected is None:
            return
        with self._token_lock:
            if self._token is not None and self._token[0] != rejected[1]:
                return
            self._tokens.discard(self._cache_key, rejected[1])
            fresh = self._fetch_token(force_refresh=False)
            if fresh[0] == rejected[1] and not self._forced_refresh:
                # The server still considers it valid: only force_refresh (20 a day) replaces it.
                self._forced_refresh = True
                fresh = self._fetch_token(force_refresh=True)
            self._tokens.store(self._cache_key, *fresh)
            self._token = fresh

    def _fetch_token(self, *, force_refresh: bool) -> tuple[str, float]:
        """One ``stable_token`` call (with retries); never the classic ``/cgi-bin/token``."""
        body = {"grant_type": "client_credential", "appid": self._appid, "secret": self._secret,
                "force_refresh": force_refresh}
        started = time.time()
        answer = self._retrying("cgi-bin/stable_token",
                                lambda _: self._call_json("cgi-bin/stable_token", body, None),
                                uses_token=False)
        token, expires_in = answer.get("access_token"), answer.get("expires_in")
        if (not isinstance(token, str) or not token or isinstance(expires_in, bool)
                or not isinstance(expires_in, (int, float)) or expires_in <= 0):
            raise WxCloudError("WeChat API cgi-bin/stable_token answered without a usable "
                               "access_token / expires_in")
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
            else:
                reason = "it is empty"
            if not token:
                raise ConfigError(f"auth 'cloudbase' needs the token file {self._cloudbase_file} "
                                  f"({reason}); it exists only inside a WeChat Cloud Hosting "
                                  f"container")
            register_secret(token)
            self._cloudbase = (token, time.monotonic())
            return token

    # --- HTTP --------------------------------------------------------------------------

    def _send(self, what: str, url: str, **kwargs: Any) -> requests.Response:
        """One HTTP POST; ``requests`` exceptions (their text holds the URL) become redacted ones."""
        with self._count_lock:
            self._requests_made += 1
        try:
            return self._session.post(url, timeout=self._timeout, **kwargs)
        except requests.exceptions.SSLError as exc:
            failure: NetworkError = NetworkError(
                f"{what}: TLS failure with {urlsplit(url).hostname}: {self._reason(exc)}")
        except (requests.ConnectionError, requests.Timeout,
                requests.exceptions.ChunkedEncodingError) as exc:
            failure = _Transient(f"{what}: connection to {urlsplit(url).hostname} failed: "
                                 f"{self._reason(exc)}")
        except requests.RequestException as exc:
            failure = NetworkError(f"{what}: request to {urlsplit(url).hostname} failed: "
                                   f"{self._reason(exc)}")
        raise failure  # outside the except clauses: no chained requests exception to leak a URL

    @staticmethod
    def _reason(exc: requests.RequestException) -> str:
        """The innermost cause of a ``requests`` exception, without its "url: …" wrapping."""
        cause = exc.args[0] if exc.args else exc
        cause = getattr(cause, "reason", None) or cause  # urllib3's MaxRetryError wraps it
        return f"{type(exc).__name__}: {cause}"

    def _call_json(self, api: str, body: dict[str, Any], credential: Credential
                   ) -> dict[str, Any]:
        """POST a JSON API once; a non-zero errcode raises :class:`ApiError` with a hint."""
        url = f"{self.api_base}/{api}"
        params = dict([credential]) if credential else None
        data = json.dumps(body, ensure_ascii=False).encode("utf-8")
        with self._send(f"WeChat API {api}", url, params=params, data=data,
                        headers={"Content-Type": _JSON}) as response:
            status, content = response.status_code, response.content
        if status >= 500:
            raise _Transient(f"WeChat API {api}: HTTP {status} from {urlsplit(url).hostname}")
        try:
            answer = json.loads(content)
        except ValueError:
            answer = None
        if not isinstance(answer, dict):
            snippet = content[:80].decode("utf-8", "replace")
            raise NetworkError(f"WeChat API {api} answered HTTP {status} with something other "
                               f"than a JSON object ({snippet!r}): check `api_base` "
                               f"({self.api_base})")
        errcode = answer.get("errcode") or 0
        if errcode:
            errmsg = str(answer.get("errmsg") or "")
            raise ApiError(api, int(errcode), errmsg, self._hint(api, int(errcode), errmsg))
        return answer

    def _hint(self, api: str, errcode: int, errmsg: str) -> str:
        """What the user should do about a final errcode."""
        if errcode == 40001 and api == "cgi-bin/stable_token":
            return f"the AppSecret is wrong: {_SECRET_HINT}"
        if errcode == 40164:
            ip = _caller_ip(errmsg) or "this machine's public IP"
            return (f"add {ip} to the API IP whitelist: 微信公众平台 → 开发管理 → 开发设置 → "
                    f"IP白名单")
        if errcode == -501005:
            return (f"the cloud environment {self.env!r} is unknown or abnormal: check `env` / "
                    f"WXCLOUD_ENV against the environment id in the 云开发 console")
        if errcode == 48001:
            return f"this account is not authorised to call {api}"
        return _HINTS.get(errcode, "")

    def _post_to_cos(self, link: dict[str, str], cloud_path: str, filename: str,
                     handle: IO[bytes]) -> None:
        """Upload step 2: the multipart form, streamed from ``handle``, ``file`` last."""
        register_secret(link["authorization"])
        register_secret(link["token"])
        content_type = mimetypes.guess_type(filename)[0] or "application/octet-stream"
        encoder = MultipartEncoder(fields=[
            ("key", cloud_path),
            ("Signature", link["authorization"]),
            ("x-cos-security-token", link["token"]),
            ("x-cos-meta-fileid", link["cos_file_id"]),
            ("file", (filename, handle, content_type)),
        ])
        with self._send(f"COS upload of {cloud_path}", link["url"], data=encoder,
                        headers={"Content-Type": encoder.content_type}) as response:
            status, content = response.status_code, response.content
        if not 200 <= status < 300:
            raise self._cos_error(status, content)

    @staticmethod
    def _cos_error(status: int, content: bytes) -> CosError:
        """COS's ``<Error><Code/><Message/><RequestId/></Error>``, or whatever it sent instead."""
        try:
            root = ElementTree.fromstring(content)
        except ElementTree.ParseError:
            text = " ".join(content[:200].decode("utf-8", "replace").split())
            return CosError(status, "UnknownError", text or "no error body")
        fields = {child.tag.rsplit("}", 1)[-1]: (child.text or "").strip() for child in root}
        return CosError(status, fields.get("Code") or "UnknownError",
                        fields.get("Message") or "no message", fields.get("RequestId", ""))
