"""Options shared by the plugin and the command line, with their environment fallbacks.

A mkdocs.yml never needs to hold a secret: ``appid``, ``secret``, ``env`` and ``api_base`` fall
back to ``WXCLOUD_*`` variables. Paths resolve against the directory of mkdocs.yml (or ``--root``).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

from ..errors import ConfigError
from ..manifest.schema import is_web_url
from ..optimize.settings import Optimization, parse_size
from ..optimize.settings import parse as parse_optimization
from ..references.assets import DEFAULT_GROUPS, Assets
from ..references.assets import parse as parse_assets
from ..wechat.auth import AUTH_MODES, CLOUDBASE_TOKEN_FILE

DEFAULT_API_BASE = "https://api.weixin.qq.com"
VARIABLES = {
    "appid": "WXCLOUD_APPID",
    "secret": "WXCLOUD_SECRET",
    "env": "WXCLOUD_ENV",
    "api_base": "WXCLOUD_API_BASE",
}
ON_ERROR = ("warn", "fail")
AUTH = AUTH_MODES

DEFAULTS: dict[str, Any] = {
    "enabled": True,
    "appid": None,
    "secret": None,
    "env": None,
    "api_base": None,
    "auth": "token",
    "prefix": "docs",
    "manifest": "wxcloud-manifest.yml",
    "cache_dir": ".cache/plugin/wxcloud",
    # Uploads at once: two requests each, so C keeps about C requests in flight. WeChat documents 20
    # concurrent requests per environment for its other cloud services (functions, database) and
    # answers -501004 beyond its quota (retried with backoff); COS takes hundreds of POSTs a second per
    # bucket. benchmarks/first_publication.py shows 16 close to the floor 2·N·L/C, and 32 no faster.
    "concurrency": 16,
    "on_error": "warn",
    "offline": False,
    "serve_upload": False,
    "exclude_uploaded": False,
    "base_url": None,
    "link_max_age": 86400,
    "emulator": False,
    "emulator_address": "127.0.0.1:8765",
    "emulator_data": ".wxcloud-emulator",
    "timeout": 30.0,
    "retries": 6,
    "quota_wait": 60.0,
    "cloudbase_token_file": CLOUDBASE_TOKEN_FILE,
    "assets": list(DEFAULT_GROUPS),  # what is published: groups and extensions (references/assets.py)
    # images (see optimize/settings.py): off by default, since oxipng costs 50-350 ms of CPU per PNG
    "optimize": False,
    "quality": 82,
    "png_quality": "65-90",
    "max_width": None,
    "max_height": None,
    "webp": False,
    "dimensions": False,
    "max_size": None,
}


@dataclass(frozen=True)
class Settings:
    """Resolved options: every path absolute, every fallback applied."""

    root: Path
    manifest: Path
    cache_dir: Path
    emulator_data: Path
    appid: str | None = None
    secret: str | None = field(default=None, repr=False)
    env: str | None = None
    api_base: str = DEFAULT_API_BASE
    auth: str = "token"
    prefix: str = "docs"
    concurrency: int = 16
    on_error: str = "warn"
    offline: bool = False
    base_url: str | None = None
    link_max_age: int = 86400
    emulator: bool | str = False
    emulator_address: str = "127.0.0.1:8765"
    timeout: float = 30.0
    retries: int = 6
    quota_wait: float = 60.0
    cloudbase_token_file: str = CLOUDBASE_TOKEN_FILE
    enabled: bool = True
    assets: Assets = parse_assets(None)
    optimization: Optimization = Optimization()
    dimensions: bool = False  # width/height attributes on images that have neither
    max_size: int | None = None  # bytes: a stored image larger than this is warned about

    @property
    def use_emulator(self) -> bool:
        """``emulator: auto`` means: the bundled emulator unless credentials are configured."""
        if self.emulator == "auto":
            return not (self.appid or self.secret) and self.auth == "token"
        return bool(self.emulator)


def resolve(options: Mapping[str, Any], root: Path, environ: Mapping[str, str] | None = None) -> Settings:
    """Apply defaults and ``WXCLOUD_*`` fallbacks to plugin options (a mapping, as in mkdocs.yml)."""
    environ = os.environ if environ is None else environ
    values = {**DEFAULTS, **{k: v for k, v in options.items() if v is not None}}
    for name, variable in VARIABLES.items():
        if not values.get(name) and environ.get(variable):
            values[name] = environ[variable]
    values["api_base"] = (values.get("api_base") or DEFAULT_API_BASE).rstrip("/")
    _check_choice(values, "on_error", ON_ERROR)
    _check_choice(values, "auth", AUTH)
    if values["emulator"] not in (True, False, "auto"):
        raise ConfigError(f"option `emulator` must be true, false or auto, not {values['emulator']!r}")
    _check_range(values, "concurrency", 1, 64)
    _check_range(values, "retries", 0, 100)
    _check_range(values, "link_max_age", 1, 86400)  # WeChat signs links for a day at most
    _check_range(values, "timeout", 0.001, 3600)
    _check_range(values, "quota_wait", 0, 3600)
    if values["base_url"] is not None and not is_web_url(values["base_url"]):
        raise ConfigError(
            f"option `base_url` must be an absolute http(s) URL such as https://img.example.com, not {values['base_url']!r}"
        )
    root = root.resolve()
    return Settings(
        root=root,
        manifest=root / values["manifest"],
        cache_dir=root / values["cache_dir"],
        emulator_data=root / values["emulator_data"],
        appid=values["appid"],
        secret=values["secret"],
        env=values["env"],
        api_base=values["api_base"],
        auth=values["auth"],
        prefix=str(values["prefix"] or "").strip("/"),
        concurrency=values["concurrency"],
        on_error=values["on_error"],
        offline=bool(values["offline"]),
        base_url=values["base_url"],
        link_max_age=int(values["link_max_age"]),
        emulator=values["emulator"],
        emulator_address=values["emulator_address"],
        timeout=float(values["timeout"]),
        retries=int(values["retries"]),
        quota_wait=float(values["quota_wait"]),
        cloudbase_token_file=str(values["cloudbase_token_file"]),
        enabled=bool(values["enabled"]),
        assets=parse_assets(values["assets"]),
        optimization=parse_optimization(values),
        dimensions=bool(values["dimensions"]),
        max_size=parse_size(values["max_size"]),
    )


def _check_range(values: dict, name: str, low: float, high: float) -> None:
    value = values[name]
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not low <= value <= high:
        raise ConfigError(f"option `{name}` must be a number from {low:g} to {high:g}, not {value!r}")


def _check_choice(values: dict, name: str, choices: tuple[str, ...]) -> None:
    if values[name] not in choices:
        raise ConfigError(f"option `{name}` must be one of {', '.join(choices)}, not {values[name]!r}")
