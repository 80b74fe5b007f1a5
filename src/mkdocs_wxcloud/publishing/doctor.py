"""The first-run diagnostic: every step a build needs, tried once against the real service.

    diagnosis = Doctor(settings, sources).run()   # a list of steps, each ok / warn / fail / skip

It checks the configuration, gets a token, asks the environment a question whose answer is known,
uploads a few probe files under ``<prefix>/.wxcloud-doctor/<random>/``, asks their links, reads
them back, times each call and deletes the probes (checking they are gone). The questions that only
a real account settles (``wechat-api.md`` section 9) are answered for this environment on the way.
The probes are deleted whatever happens (a failed step, Ctrl-C), and nothing else is touched.
"""

from __future__ import annotations

import functools
import io
import re
import secrets
import signal
import statistics
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, Callable, Iterator, Mapping, TypeVar

import requests

from ..errors import WxCloudError
from ..wechat.auth import Account
from ..wechat.client import Limits, WxCloudClient
from ..wechat.errors import FILE_NONEXIST
from .connection import connect, target_env
from .current import static_url
from .links import get, is_signed, serves, unsigned
from .probes import EXPECTED_TYPES, probes
from .settings import Settings

T = TypeVar("T")
FOLDER = ".wxcloud-doctor"
_CALL_FAILED = ("WeChat API", "auth ")  # how the client words a failed call, unlike an item's errmsg
_ORIGIN = {"Origin": "https://example.com"}  # COS sends CORS headers only to a request with an Origin
STORAGE_PERMISSIONS = "云开发控制台 → 存储 → 权限设置"
_OPENAPI_PATHS = "/tcb/uploadfile, /tcb/batchdownloadfile and /tcb/batchdeletefile"
_WHITELIST = f"add {_OPENAPI_PATHS} in 云托管控制台 → 云调用 → 微信令牌权限配置, then run again"
_ADVICE = {
    40013: "the AppID is unknown: copy it from 微信公众平台 → 开发管理 → 开发设置 into `appid` / WXCLOUD_APPID",
    40125: "the AppSecret is wrong: copy it (or reset it) in 微信公众平台 → 开发管理 → 开发设置 into WXCLOUD_SECRET",
    40001: "the AppSecret is wrong: copy it (or reset it) in 微信公众平台 → 开发管理 → 开发设置 into WXCLOUD_SECRET",
    -501005: "check `env` / WXCLOUD_ENV against the environment id shown in the 云开发 console",
    85088: "cloud development (云开发) is not enabled for this AppID: open it in WeChat DevTools, or check `appid`",
    85107: _WHITELIST,
    41001: "switch the open API service (开放接口服务) on, then deploy a new version of the service",
    85112: "switch the open API service (开放接口服务) on, then deploy a new version of the service",
    85113: "the open API token is not ready yet after a first deployment: wait a few minutes and run again",
    -503002: f"the storage's security rules refuse these calls: {STORAGE_PERMISSIONS}",
}


@dataclass
class Step:
    """One line of the diagnosis."""

    name: str
    status: str  # "ok", "warn", "fail" or "skip"
    detail: str
    advice: str = ""
    timings: list[float] = field(default_factory=list)  # seconds of each call the step made

    @property
    def ok(self) -> bool:
        return self.status != "fail"

    def as_json(self) -> dict[str, Any]:
        median = round(statistics.median(self.timings) * 1000, 1) if self.timings else None
        calls = [round(t * 1000, 1) for t in self.timings]
        return {"name": self.name, "ok": self.ok, "status": self.status, "detail": self.detail,
                "advice": self.advice, "timings": {"calls_ms": calls, "median_ms": median}}  # fmt: skip


def exit_status(steps: list[Step]) -> int:
    """0: everything a build needs works; 2: the configuration is incomplete; 1: anything else failed."""
    if any(s.name == "configuration" and not s.ok for s in steps):
        return 2
    return 0 if all(s.ok for s in steps) else 1


class _Failed(Exception):
    """A step that failed: it is recorded, and the steps that need it are not run."""

    def __init__(self, detail: str, advice: str = "") -> None:
        super().__init__(detail)
        self.detail, self.advice = detail, advice


class Doctor:
    """Runs the diagnosis once; ``sources`` names where each credential came from (for the first step)."""

    def __init__(self, settings: Settings, sources: Mapping[str, str]) -> None:
        self.settings = settings
        self.sources = sources
        self.steps: list[Step] = []
        self.env = target_env(settings) or ""
        folder = "/".join(p for p in (settings.prefix, FOLDER, secrets.token_hex(6)) if p)
        self.files = {f"{folder}/{name}": data for name, data in probes().items()}
        self.created: dict[str, str | None] = {}  # cloud path -> file id (None: its upload did not answer)
        self.urls: dict[str, str] = {}  # cloud path -> the URL a page would get
        self.timings: dict[str, list[float]] = {}
        self._client: WxCloudClient | None = None

    def run(self) -> list[Step]:
        """Every step in order; the probes are deleted even on Ctrl-C (which is re-raised afterwards)."""
        try:
            for run_step in (self._configuration, self._token, self._environment, self._upload):
                if not self._step(run_step):
                    break
            else:
                self._step(self._links)
                if self.urls:  # private storage still gives signed links to read them back with
                    self._step(self._read_back)
                self._step(self._latency)
        finally:
            with _sigint_deferred():
                try:
                    if self.created:
                        self._step(self._cleanup)
                finally:
                    if self._client is not None:
                        self._client.close()
        return self.steps

    def _step(self, run_step: Callable[[Step], None]) -> bool:
        step = Step(run_step.__name__.strip("_").replace("_", " "), "ok", "")
        self.steps.append(step)
        try:
            run_step(step)
        except _Failed as failure:
            step.status, step.detail, step.advice = "fail", failure.detail, failure.advice
        except WxCloudError as error:
            step.status, step.detail, step.advice = "fail", str(error), self._advice(str(error))
        return step.ok

    def _timed(self, kind: str, step: Step, call: Callable[[], T]) -> T:
        started = time.perf_counter()
        try:
            return call()
        finally:
            elapsed = time.perf_counter() - started
            step.timings.append(elapsed)
            self.timings.setdefault(kind, []).append(elapsed)

    def _advice(self, message: str) -> str:
        match = re.search(r"errcode (-?\d+)", message)
        code = int(match[1]) if match else None
        if code == 40164:
            ip = re.search(r"\d{1,3}(?:\.\d{1,3}){3}", message)
            where = ip[0] if ip else "this machine's public IP"
            return f"add {where} (the IP WeChat saw) to 微信公众平台 → 开发管理 → 开发设置 → IP白名单, then run again"
        if code in _ADVICE:
            return _ADVICE[code]
        if self.settings.auth == "openapi" and "HTTP 502" in message:
            return f"a bare HTTP 502 from the open API service means a path is not whitelisted: {_WHITELIST}"
        return ""

    # -- the steps ------------------------------------------------------------------------------

    def _configuration(self, step: Step) -> None:
        settings = self.settings
        if settings.use_emulator:
            step.detail = f"the bundled emulator at {settings.emulator_address} (demo credentials, env {self.env})"
            return
        needed = ("appid", "secret", "env") if settings.auth == "token" else ("env",)
        missing = [name for name in needed if not getattr(settings, name)]
        if missing:
            variables = ", ".join(f"WXCLOUD_{name.upper()}" for name in missing)
            raise _Failed(f"missing: {', '.join(missing)}", f"set {variables} (or the options in the site's "
                          "configuration; the secret only as a variable), then run again")  # fmt: skip
        found = [f"{name} from {self.sources.get(name, 'the configuration')}" for name in needed]
        step.detail = f"auth: {settings.auth}; " + ", ".join(found) + f"; api_base {settings.api_base}"
        if settings.auth == "token" and self.sources.get("secret", "").startswith("option"):
            step.status, step.advice = "warn", "a secret in the site's configuration gets committed: use WXCLOUD_SECRET"

    def _token(self, step: Step) -> None:
        client = self._connect()
        if client.auth != "token":
            step.status = "skip"
            step.detail = (
                "auth: openapi: the open API service of Cloud Hosting signs the calls, no token is needed"
                if client.auth == "openapi"
                else f"auth: cloudbase: calls carry the token of {self.settings.cloudbase_token_file}"
            )
            return
        self._timed("stable_token", step, client.token)
        step.detail = "got an access token from cgi-bin/stable_token (never force_refresh)"

    def _environment(self, step: Step) -> None:
        nowhere = f"cloud://{self.env}.wxcloud-doctor/{FOLDER}/no-such-file"
        urls, errors = self._timed("batchdownloadfile", step, lambda: self._connect().download_urls([nowhere]))
        why = errors.get(nowhere, "")
        if FILE_NONEXIST in why:
            step.detail = f"env {self.env!r} answers: a file that does not exist is {FILE_NONEXIST}"
        elif why and not why.startswith(_CALL_FAILED):  # the item failed, the call did not
            step.status, step.detail = "warn", f"env {self.env!r} answers, a file that does not exist is {why!r}"
        else:
            raise _Failed(f"env {self.env!r}: {why or 'a file that does not exist got a link'}", self._advice(why))

    def _upload(self, step: Step) -> None:
        client = self._connect()
        for cloud_path, data in self.files.items():
            self.created[cloud_path] = None
            name = cloud_path.rsplit("/", 1)[1]
            known = functools.partial(self.created.__setitem__, cloud_path)  # its id, before its bytes go
            upload = functools.partial(client.upload, cloud_path, io.BytesIO(data), name, known)
            self.created[cloud_path] = self._timed("upload", step, upload)
        step.detail = f"{len(self.files)} probes stored under {self._folder()}/ (PNG, SVG, PDF, a Chinese name)"

    def _links(self, step: Step) -> None:
        ids = {file_id: path for path, file_id in self.created.items() if file_id}
        urls, errors = self._timed(
            "batchdownloadfile", step, lambda: self._connect().download_urls(list(ids), self.settings.link_max_age)
        )
        if errors:
            file_id, why = next(iter(errors.items()))
            advice = ("the answer did not give this non-ASCII file id back as sent: please report this output"
                      if "missing from" in why and not file_id.isascii() else self._advice(why))  # fmt: skip
            raise _Failed(f"no link for {ids[file_id]}: {why}", advice)
        signed = [url for url in urls.values() if is_signed(url)]
        for file_id, url in urls.items():
            path = ids[file_id]
            self.urls[path] = static_url(self.settings.base_url, path) or (unsigned(url) if signed else url)
        if not signed:
            step.detail = "links are unsigned: the storage is public, links never expire"
            return
        public, answer = self._timed("download", step, lambda: serves(unsigned(signed[0]), self.settings.timeout))
        if public:
            step.detail = ("links are signed (sign=/t=), but the URL without its query serves the file: the "
                           "storage is public; builds store that URL, which never expires")  # fmt: skip
            return
        self.urls.update({ids[f]: static_url(self.settings.base_url, ids[f]) or u for f, u in urls.items()})
        step.detail = (f"links are signed and the URL without its query is refused ({answer}): the storage is "
                       f"private, links expire after `link_max_age` and pages lose their images")  # fmt: skip
        advice = f"make the storage readable by everyone: {STORAGE_PERMISSIONS} (所有用户可读)"
        if self.settings.base_url:
            step.status, step.advice = "warn", f"pages use `base_url`; to read links too, {advice}"
        else:
            raise _Failed(step.detail, f"{advice}, or set `base_url` to a CDN domain bound to the storage")

    def _read_back(self, step: Step) -> None:
        served: list[str] = []
        warnings: list[str] = []
        advice: list[str] = []
        cors = True
        for path, url in self.urls.items():
            name = path.rsplit("/", 1)[1]
            try:
                answer = self._timed("download", step, functools.partial(get, url, self.settings.timeout, _ORIGIN))
            except requests.RequestException as error:  # the storage's download host, not the API: no traceback
                raise _Failed(f"{name} read back from {unsigned(url)}: no answer ({type(error).__name__})") from None
            if answer.status_code != 200 or answer.content != self.files[path]:
                what = f"HTTP {answer.status_code}" if answer.status_code != 200 else "other bytes than were uploaded"
                raise _Failed(f"{name} read back from {unsigned(url)}: {what}")
            content_type = answer.headers.get("Content-Type", "").split(";")[0].strip() or "no type"
            served.append(f"{name} as {content_type}")
            expected = EXPECTED_TYPES.get("." + name.rsplit(".", 1)[-1])
            if expected and content_type != expected:
                warnings.append(f"{name} is served as {content_type}, not {expected}")
            cors = cors and bool(answer.headers.get("Access-Control-Allow-Origin"))
        step.detail = "every probe read back byte for byte; " + ", ".join(served)
        if warnings:
            advice.append("browsers show an SVG in <img> only as image/svg+xml and open a PDF inline only as "
                          "application/pdf: please report this output (wechat-api.md section 9, question 2)")  # fmt: skip
        if not cors:
            warnings.append("no Access-Control-Allow-Origin header: pages on another domain cannot load subtitles "
                            "(<track>) or web fonts from the storage (images, video and links work)")  # fmt: skip
            advice.append("for subtitles and fonts, add the site's domain to the environment's security domains "
                          "(云开发控制台 → 环境设置 → 安全配置)")  # fmt: skip
        if warnings:
            step.status, step.detail, step.advice = "warn", f"{step.detail}; {'; '.join(warnings)}", "; ".join(advice)

    def _latency(self, step: Step) -> None:
        medians = {kind: statistics.median(times) for kind, times in self.timings.items()}
        step.timings = [t for times in self.timings.values() for t in times]
        step.detail = "median round trip: " + ", ".join(f"{kind} {ms(s)}" for kind, s in medians.items())
        upload = medians.get("upload")
        if upload is None:
            return
        suggested = 16
        step.advice = (
            f"`concurrency: {suggested}` (now {self.settings.concurrency}): an upload is two requests one after "
            f"the other ({ms(upload)} together here), so C uploads keep about C requests open; WeChat takes "
            f"about 20 concurrent requests per environment (-501004 beyond), so {suggested} leaves room for the "
            f"link calls and uploads about {suggested / max(upload, 1e-3):.0f} files a second"
        )

    def _cleanup(self, step: Step) -> None:
        ids = self._created_ids()
        step.detail = f"nothing to delete under {self._folder()}/"
        if not ids:
            return
        errors = self._timed("batchdeletefile", step, lambda: self._connect().delete(ids))
        refused = {i: why for i, why in errors.items() if FILE_NONEXIST not in why}
        _, answers = self._timed("batchdownloadfile", step, lambda: self._connect().download_urls(ids))
        left = sorted(i for i in ids if FILE_NONEXIST not in answers.get(i, ""))  # a link, or no clear answer
        if left:
            why = [*refused.values(), *(answers[i] for i in left if i in answers)]
            reason = f" ({why[0]})" if why else ""
            raise _Failed(f"{len(left)} probe(s) may still be stored{reason}: {', '.join(left)}",
                          f"delete the folder {self._folder()}/ in 云开发控制台 → 存储")  # fmt: skip
        step.detail = f"{len(ids)} probes deleted; batchdownloadfile answers {FILE_NONEXIST} for each"

    # -- helpers --------------------------------------------------------------------------------

    def _folder(self) -> str:
        return next(iter(self.files)).rsplit("/", 1)[0]

    def _created_ids(self) -> list[str]:
        """The file ids of the probes stored; one whose upload did not answer has the id of its siblings'
        bucket (the id is ``cloud://<env>.<bucket>/<path>``)."""
        known = {path: file_id for path, file_id in self.created.items() if file_id}
        if not known:
            return []
        path, file_id = next(iter(known.items()))
        base = file_id[: len(file_id) - len(path)]
        return [known.get(path) or base + path for path in self.created]

    def _connect(self) -> WxCloudClient:
        """A client that fetches a token itself (no token cache: a wrong secret must show) and retries
        little (a diagnostic shows faults rather than waiting them out); the emulator's as a build's."""
        if self._client is None:
            settings = self.settings
            account = Account(self.env, settings.appid, settings.secret, settings.auth, settings.cloudbase_token_file)
            limits = Limits(4, settings.timeout, min(settings.retries, 2), quota_wait=min(settings.quota_wait, 5.0))
            self._client = (
                connect(settings) if settings.use_emulator else WxCloudClient(settings.api_base, account, limits)
            )
        return self._client


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.0f} ms"


@contextmanager
def _sigint_deferred() -> Iterator[None]:
    """Ctrl-C during the block is held until it ends (then raised): the cleanup always finishes."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    caught: list[int] = []
    previous = signal.signal(signal.SIGINT, lambda number, frame: caught.append(number))
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)
    if caught:
        raise KeyboardInterrupt
