"""Open a client for the configured target: the real WeChat API or the bundled emulator.

Nothing here runs until an image actually needs the network, so a build whose images are all in
the manifest needs no credentials, starts no emulator and sends no request.
"""

from __future__ import annotations

import logging
import re
import threading

import requests

from ..errors import ConfigError, WxCloudError
from ..wechat.auth import Account
from ..wechat.client import Limits, WxCloudClient
from ..wechat.tokens import TokenCache, default_cache_dir
from .settings import Settings

log = logging.getLogger("mkdocs.plugins.wxcloud")
_emulators: dict[str, object] = {}  # address -> the Emulator started there (kept for the process)
_emulators_lock = threading.Lock()
_NAMED = 5  # files a message names before "and N more"


def target_env(settings: Settings) -> str | None:
    """The cloud environment the manifest belongs to."""
    if settings.use_emulator:
        from ..emulator import DEFAULT_ENV  # imported only where the emulator is used

        return DEFAULT_ENV
    return settings.env


def connect(settings: Settings, api_base: str | None = None) -> WxCloudClient:
    """A client for the settings' target; the client raises :class:`ConfigError` for missing credentials.

    ``api_base``: where another client of this run talks (a process that sends on the run's behalf
    starts no emulator of its own).
    """
    limits = Limits(settings.concurrency, settings.timeout, settings.retries, quota_wait=settings.quota_wait)
    if settings.use_emulator:  # demo credentials; tokens die with the emulator, so no disk cache
        from ..emulator import DEFAULT_APPID, DEFAULT_ENV, DEFAULT_SECRET

        account = Account(DEFAULT_ENV, DEFAULT_APPID, DEFAULT_SECRET)
        return WxCloudClient(api_base or ensure_emulator(settings), account, limits)
    # every missing one in one line: a build for each would teach them one at a time
    token = [("AppID", "appid", settings.appid), ("AppSecret", "secret", settings.secret)]
    needed = [*(token if settings.auth == "token" else []), ("cloud environment", "env", settings.env)]
    missing = [f"no {what} (option `{name}` or variable WXCLOUD_{name.upper()})" for what, name, v in needed if not v]
    if missing:
        raise ConfigError(f"missing credentials: {', '.join(missing)}")
    account = Account(
        settings.env or "", settings.appid, settings.secret, settings.auth, settings.cloudbase_token_file,
        settings.force_refresh,
    )  # fmt: skip
    return WxCloudClient(api_base or settings.api_base, account, limits, TokenCache(default_cache_dir()))


def unreachable(settings: Settings, error: WxCloudError, paths: list[str] | None = None) -> str:
    """One line for a network failure that stopped every upload (said once, not once per file); it
    names the first few of ``paths``, the files not published (None: not known yet)."""
    text = str(error)
    cause = re.search(r"\[Errno -?\d+\] ([^()\[\]]+)", text)
    timed_out = "timed out" in text.lower()
    api = settings.emulator_address if settings.use_emulator else settings.api_base
    what = (
        f"could not be reached ({cause.group(1).strip().lower() if cause else 'timed out'})"
        if cause or timed_out
        else f"failed ({text})"
    )
    files = "no more files are published"
    if paths is not None:
        shown = ", ".join(sorted(paths)[:_NAMED]) + (f" and {len(paths) - _NAMED} more" if len(paths) > _NAMED else "")
        files = f"{len(paths)} file{'s' if len(paths) != 1 else ''} not published ({shown})"
    return f"wxcloud: the WeChat API at {api} {what}: {files}, the pages link the local files"


def ensure_emulator(settings: Settings) -> str:
    """Use the emulator already listening at ``emulator_address``, or start one in this process."""
    from ..emulator import Emulator

    host, _, port = settings.emulator_address.rpartition(":")
    host = host.strip("[]") or "127.0.0.1"  # [::1]:8765 names an IPv6 host
    try:
        port_number = int(port)
    except ValueError:
        raise ConfigError(f"option `emulator_address` must be HOST:PORT, not {settings.emulator_address!r}") from None
    base = f"http://[{host}]:{port_number}" if ":" in host else f"http://{host}:{port_number}"
    with _emulators_lock:
        if settings.emulator_address in _emulators:
            return base
        if _is_emulator(base):
            log.info("wxcloud: using the emulator already running at %s", base)
            return base
        try:
            emulator = Emulator(host, port_number, settings.emulator_data).start()
        except (OSError, OverflowError, ValueError) as error:
            reason = getattr(error, "strerror", None) or str(error)
            raise ConfigError(
                f"cannot start the bundled emulator on {settings.emulator_address} ({reason}): "
                "stop what uses that port, set `emulator_address`, or remove a damaged `emulator_data`"
            ) from None
        _emulators[settings.emulator_address] = emulator
    default_host, _, default_port = Settings.emulator_address.default.rpartition(":")
    flags = [f"--host {host}" if host != default_host else "", f"--port {port_number}" if port != default_port else ""]
    where = "".join(f" {flag}" for flag in flags if flag)
    log.info(
        "wxcloud: no credentials set, so assets go to the bundled emulator at %s (files in %s); "
        "run `mkdocs-wxcloud emulator --data %s%s` to view the built site with its assets",
        base, settings.emulator_data, settings.emulator_data, where,
    )  # fmt: skip
    return base


def _is_emulator(base: str) -> bool:
    from ..emulator import HEALTH_PATH

    try:
        answer = requests.get(base + HEALTH_PATH, timeout=2)
        return answer.ok and answer.json().get("emulator") == "mkdocs-wxcloud"
    except (requests.RequestException, ValueError):
        return False
