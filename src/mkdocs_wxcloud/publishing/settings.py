"""Every option, declared once: its name, type, default, environment variable, check and help.

:class:`Settings` is the schema and the resolved value at once: each class attribute is an
:class:`Option` (a typed descriptor), so ``settings.concurrency`` is an ``int`` for mypy and the
declaration beside it is the only place its default, variable and check are written. The MkDocs
plugin's ``Config``, the Markdown extension's options and the command's flags are all made from
:meth:`Settings.options`. A mkdocs.yml never needs to hold a secret: ``appid``, ``secret``, ``env``
and ``api_base`` fall back to ``WXCLOUD_*`` variables. Paths resolve against the site's folder.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Callable, Generic, Mapping, TypeVar, overload

from ..errors import ConfigError
from ..manifest.schema import is_web_url
from ..optimize.settings import MODES, Optimization, parse_png_quality, parse_size
from ..references.assets import DEFAULT_GROUPS, Assets
from ..references.assets import parse as parse_assets
from ..remote import HostList, parse_hosts
from ..wechat.auth import AUTH_MODES, CLOUDBASE_TOKEN_FILE

T = TypeVar("T")
Check = Callable[[str, Any], T]
"""``check(option name, raw value) -> value``; raises a one-line :class:`ConfigError`."""

DEFAULT_API_BASE = "https://api.weixin.qq.com"
_ENGINE = Optimization()  # the optimizer's own defaults are the options'


class Option(Generic[T]):
    """One option of :class:`Settings`: read on an instance, it is the resolved value."""

    def __init__(self, default: Any, check: Check[T], doc: str, *, variable: str | None = None) -> None:
        self.default = default
        self.check = check
        self.doc = doc
        self.variable = variable
        self.name = ""

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = name

    @overload
    def __get__(self, settings: None, owner: type) -> Option[T]: ...
    @overload
    def __get__(self, settings: Settings, owner: type) -> T: ...
    def __get__(self, settings: Settings | None, owner: type) -> Option[T] | T:
        if settings is None:
            return self
        value: T = settings.values[self.name]
        return value

    def value(self, options: Mapping[str, Any], environ: Mapping[str, str]) -> T:
        """The option as given, else its variable, else its default; checked."""
        raw = options.get(self.name)
        if (raw is None or raw == "") and self.variable and environ.get(self.variable):
            raw = environ[self.variable]
        return self.check(self.name, self.default if raw is None else raw)


def _problem(name: str, what: str, value: object) -> ConfigError:
    return ConfigError(f"option `{name}` must be {what}, not {value!r}")


def flag(name: str, value: Any) -> bool:
    if not isinstance(value, bool):
        raise _problem(name, "true or false", value)
    return value


def text(name: str, value: Any) -> str | None:
    if value is not None and not isinstance(value, str):
        raise _problem(name, "a text", value)
    return value or None


def path(name: str, value: Any) -> Path:
    """A path, relative to the site's folder until :class:`Settings` makes it absolute."""
    if not isinstance(value, str) or not value:
        raise _problem(name, "a path", value)
    return Path(value)


def number(low: float, high: float, kind: type = float) -> Check[Any]:
    what = f"{'a whole number' if kind is int else 'a number'} from {low:g} to {high:g}"

    def check(name: str, value: Any) -> Any:
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not low <= value <= high:
            raise _problem(name, what, value)
        if kind is int and value != int(value):
            raise _problem(name, what, value)
        return kind(value)

    return check


def optional(check: Check[T]) -> Check[T | None]:
    return lambda name, value: None if value is None else check(name, value)


def choice(*choices: Any) -> Check[Any]:
    def check(name: str, value: Any) -> Any:
        if not any(value is c if isinstance(value, bool) or isinstance(c, bool) else value == c for c in choices):
            raise ConfigError(f"option `{name}` must be one of {', '.join(map(_word, choices))}, not {value!r}")
        return value

    return check


def _word(value: object) -> str:
    return str(value).lower() if isinstance(value, bool) else str(value)


def web_url(name: str, value: Any) -> str | None:
    if value is not None and not is_web_url(value):
        raise ConfigError(
            f"option `{name}` must be an absolute http(s) URL such as https://img.example.com, not {value!r}"
        )
    return value.rstrip("/") if value else None


def api_base(name: str, value: Any) -> str:
    if not isinstance(value, str) or not value:
        raise _problem(name, "an http(s) URL", value)
    return value.rstrip("/")


def optimize_mode(name: str, value: Any) -> str:
    mode = "off" if value in (False, None, "false", "off") else value
    if mode not in MODES:
        raise ConfigError(f"option `{name}` must be false, lossless or lossy, not {value!r}")
    return str(mode)


def png_quality(name: str, value: Any) -> tuple[int, int]:
    return parse_png_quality(value, name)


def size(name: str, value: Any) -> int | None:
    return parse_size(value, name)


def assets(name: str, value: Any) -> Assets:
    return parse_assets(value)


def globs(name: str, value: Any) -> list[str]:
    items = [value] if isinstance(value, str) else value
    if not isinstance(items, (list, tuple)) or not all(isinstance(item, str) and item for item in items):
        raise _problem(name, "a list of path patterns such as [assets/images/favicon.png, 'avatars/*']", value)
    return [item.strip("/") for item in items]


def hosts(name: str, value: Any) -> HostList:
    return parse_hosts(value)


class Settings:
    """Resolved options: every path absolute, every fallback applied. Made by :func:`resolve`."""

    enabled = Option(True, flag, "`false` turns wxcloud off.")
    appid = Option(None, text, "Mini program AppID.", variable="WXCLOUD_APPID")
    secret = Option(None, text, "AppSecret. Prefer the variable; never commit it.", variable="WXCLOUD_SECRET")
    env = Option(None, text, "Cloud environment id (云开发环境 ID).", variable="WXCLOUD_ENV")
    api_base = Option(DEFAULT_API_BASE, api_base, "Where the WeChat API is.", variable="WXCLOUD_API_BASE")
    auth = Option("token", choice(*AUTH_MODES), "`token` (stable_token), or `openapi`/`cloudbase` in Cloud Hosting.")
    prefix = Option("docs", lambda name, value: str(text(name, value) or "").strip("/"), "Cloud folder of uploads.")
    manifest = Option("wxcloud-manifest.yml", path, "The manifest, relative to the site's configuration.")
    cache_dir = Option(".cache/plugin/wxcloud", path, "Hash, reference and optimization caches, journal and lock.")
    # Uploads at once: two requests each, so C keeps about C requests in flight. WeChat documents 20
    # concurrent requests per environment for its other cloud services (functions, database) and
    # answers -501004 beyond its quota (retried with backoff); COS takes hundreds of POSTs a second per
    # bucket. benchmarks/first_publication.py shows 16 close to the floor 2·N·L/C, and 32 no faster.
    concurrency = Option(16, number(1, 64, int), "Uploads at once (1 to 64).")
    on_error = Option("warn", choice("warn", "fail"), "A failed upload: `warn` keeps the local file, `fail` stops.")
    offline = Option(False, flag, "Never contact WeChat: only what the manifest has is linked.")
    serve_upload = Option(False, flag, "Upload during `mkdocs serve` too.")
    exclude_uploaded = Option(False, flag, "Leave uploaded files out of the site when nothing loads them.")
    base_url = Option(None, web_url, "A CDN domain bound to the storage: links are base_url/cloud_path.")
    link_max_age = Option(86400, number(1, 86400, int), "`max_age` of requested links (WeChat signs a day at most).")
    emulator = Option(
        False, choice(False, True, "auto"), "Use the bundled emulator (`auto`: unless credentials are set)."
    )
    emulator_address = Option("127.0.0.1:8765", lambda name, value: str(text(name, value)), "Where the emulator is.")
    emulator_data = Option(".wxcloud-emulator", path, "Where the emulator keeps uploaded files.")
    timeout = Option(30.0, number(0.001, 3600), "Seconds per HTTP request.")
    retries = Option(6, number(0, 100, int), "Retries of a request that failed in a retryable way.")
    quota_wait = Option(60.0, number(0, 3600), "Seconds to wait after a minute-quota answer (45011).")
    cloudbase_token_file = Option(
        CLOUDBASE_TOKEN_FILE, lambda n, v: str(text(n, v)), "Token file of `auth: cloudbase`."
    )
    force_refresh = Option(
        False,
        flag,
        "Replace a token WeChat refuses but still hands out (costs 1 of 20 a day; logs out other services).",
    )
    assets = Option(list(DEFAULT_GROUPS), assets, "Kinds of files published: groups and extensions.")
    # images (see optimize/settings.py): off by default, since oxipng costs 50-350 ms of CPU per PNG
    optimize = Option(False, optimize_mode, "`lossless` or `lossy`: store fewer bytes for the same pictures.")
    quality = Option(_ENGINE.quality, number(1, 100, int), "`lossy`: JPEG and WebP quality (1 to 100).")
    png_quality = Option(
        "%d-%d" % _ENGINE.png_quality, png_quality, "`lossy`: PNG palette quality, least acceptable and target."
    )
    max_width = Option(None, optional(number(16, 100_000, int)), "`lossy`: scale down what is wider (pixels).")
    max_height = Option(None, optional(number(16, 100_000, int)), "`lossy`: scale down what is taller (pixels).")
    webp = Option(False, flag, "Store WebP when that is smaller.")
    dimensions = Option(False, flag, "Give every `<img>` without width/height the stored image's size.")
    max_size = Option(None, size, "A budget such as `500 KB`: larger files in the cloud are warned about.")
    keep_local = Option([], globs, "`publish`: files of the built folder to leave local (globs, e.g. favicon.png).")
    # imports (see publishing/imports.py and remote/): what pages show from these hosts is copied to the cloud
    import_hosts = Option(None, hosts, "Hosts whose images pages show are imported: cdn.example.com, *.example.com.")
    import_allow_private = Option(
        False, flag, "UNSAFE: let imports reach loopback and private addresses (tests, trusted networks only)."
    )

    def __init__(self, root: Path, values: Mapping[str, Any]) -> None:
        self.root = root
        self.values: dict[str, Any] = {k: root / v if isinstance(v, Path) else v for k, v in values.items()}

    @classmethod
    def options(cls) -> list[Option[Any]]:
        return [value for value in vars(cls).values() if isinstance(value, Option)]

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Settings) and (self.root, self.values) == (other.root, other.values)

    def __hash__(self) -> int:
        return hash((self.root, repr(sorted(self.values.items()))))

    def __repr__(self) -> str:  # never the secret
        return f"Settings(root={self.root!r}, env={self.env!r}, prefix={self.prefix!r})"

    @property
    def use_emulator(self) -> bool:
        """``emulator: auto`` means: the bundled emulator unless credentials are configured."""
        if self.emulator == "auto":
            return not (self.appid or self.secret) and self.auth == "token"
        return bool(self.emulator)

    @property
    def optimization(self) -> Optimization:
        return Optimization(self.optimize, self.quality, self.png_quality, self.max_width, self.max_height, self.webp)


def resolve(options: Mapping[str, Any], root: Path, environ: Mapping[str, str] | None = None) -> Settings:
    """Check ``options`` (as in mkdocs.yml) and apply the ``WXCLOUD_*`` variables and the defaults."""
    environ = os.environ if environ is None else environ
    values = {option.name: option.value(options, environ) for option in Settings.options()}
    return Settings(root.resolve(), values)
