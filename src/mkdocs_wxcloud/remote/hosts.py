"""The ``import_hosts`` allow-list, and the parts of a URL a download needs.

Three forms of entry, none allowed by default:

* ``cdn.jsdelivr.net``: that host exactly, over https on port 443;
* ``*.sinaimg.cn``: its subdomains (``wx1.sinaimg.cn``), over https on port 443, **not** the apex
  ``sinaimg.cn`` itself (list it too when it is wanted);
* ``https://host:port`` or ``http://host[:port]``: that one origin exactly; the only way to allow
  plain http or another port.

Hosts compare case-insensitively in their IDNA (``xn--``) form. A URL carrying a user name or a
password is never allowed: a download sends no credentials.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass
from urllib.parse import quote, urlsplit

from ..errors import ConfigError

DEFAULT_PORTS = {"https": 443, "http": 80}
FORMS = "use a host (cdn.example.com), its subdomains (*.example.com) or one origin (https://host:port, http://host)"
_LABEL = re.compile(r"^(?!-)[a-z0-9_-]{1,63}(?<!-)$")


@dataclass(frozen=True)
class Url:
    """An http(s) URL taken apart: what to connect to and what to ask for."""

    scheme: str
    host: str  # lower-case, IDNA (ASCII) form, or an IP address without brackets
    port: int
    target: str  # path and query, percent-encoded: the request line's target
    shown: str  # the URL as messages show it (no user name or password, no fragment)

    @property
    def origin(self) -> tuple[str, str, int]:
        return (self.scheme, self.host, self.port)

    @property
    def authority(self) -> str:
        """``host[:port]`` for the ``Host`` header: the port only when it is not the default."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return host if DEFAULT_PORTS[self.scheme] == self.port else f"{host}:{self.port}"


def normalize_host(host: str) -> str | None:
    """``host`` lower-cased in its IDNA form (an IP address as Python writes it); None if invalid."""
    host = host.strip().rstrip(".").lower()
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
    try:
        return str(ipaddress.ip_address(host))
    except ValueError:
        pass
    try:
        ascii_host = host.encode("idna").decode("ascii")
    except UnicodeError:
        return None
    labels = ascii_host.split(".")
    return ascii_host if len(ascii_host) <= 253 and all(_LABEL.match(label) for label in labels) else None


def split_url(url: str) -> Url | None:
    """``url`` taken apart; None for anything but a well-formed http(s) URL without credentials."""
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError:
        return None
    scheme = parts.scheme.lower()
    if scheme not in DEFAULT_PORTS or parts.username is not None or parts.password is not None:
        return None
    host = normalize_host(parts.hostname or "")
    if not host:
        return None
    port = port or DEFAULT_PORTS[scheme]
    target = quote(parts.path or "/", safe="/%:@!$&'()*+,;=-._~") + (
        "?" + quote(parts.query, safe="/%:@!$&'()*+,;=-._~?") if parts.query else ""
    )
    shown = f"{scheme}://{Url(scheme, host, port, '', '').authority}{target}"
    return Url(scheme, host, port, target, shown)


def shown(url: str) -> str:
    """``url`` as a message may show it: without a user name or password."""
    parts = split_url(url)
    if parts:
        return parts.shown
    try:
        split = urlsplit(url)
        return split._replace(netloc=split.netloc.rpartition("@")[2]).geturl()
    except ValueError:
        return "(a malformed URL)"


@dataclass(frozen=True)
class HostList:
    """The parsed ``import_hosts``: exact hosts, subdomain suffixes, and whole origins."""

    exact: frozenset[str] = frozenset()
    suffixes: frozenset[str] = frozenset()  # "example.com" for "*.example.com"
    origins: frozenset[tuple[str, str, int]] = frozenset()

    def __bool__(self) -> bool:
        return bool(self.exact or self.suffixes or self.origins)

    def allows(self, url: str) -> bool:
        """Whether a download may connect for ``url`` (its scheme, host and port)."""
        parts = split_url(url)
        return parts is not None and self.allows_url(parts)

    def allows_url(self, url: Url) -> bool:
        if url.origin in self.origins:
            return True
        if url.scheme != "https" or url.port != 443:
            return False
        return url.host in self.exact or any(url.host.endswith("." + suffix) for suffix in self.suffixes)

    def lists_host(self, host: str) -> bool:
        """Whether ``host`` appears at all (with another scheme or port, perhaps): for messages."""
        return (
            host in self.exact
            or any(host.endswith("." + suffix) for suffix in self.suffixes)
            or any(origin[1] == host for origin in self.origins)
        )


def parse_hosts(value: object) -> HostList:
    """The ``import_hosts`` option (a list of entries; None for none); a bad entry is a ConfigError."""
    if value is None:
        return HostList()
    items = [value] if isinstance(value, str) else value
    if not isinstance(items, (list, tuple)):
        raise ConfigError(f"option `import_hosts` must be a list of hosts, not {value!r}: {FORMS}")
    exact: set[str] = set()
    suffixes: set[str] = set()
    origins: set[tuple[str, str, int]] = set()
    for item in items:
        entry = item.strip() if isinstance(item, str) else ""
        if "://" in entry:
            origins.add(_origin(item, entry))
        elif entry.startswith("*."):
            suffix = normalize_host(entry[2:])
            if not suffix or "." not in suffix or _is_ip(suffix):
                raise ConfigError(f"option `import_hosts`: {item!r} is not a domain's subdomains: {FORMS}")
            suffixes.add(suffix)
        else:
            host = normalize_host(entry) if entry and not any(c in entry for c in ":/*@?# ") else None
            if not host:
                raise ConfigError(f"option `import_hosts`: {item!r} is not a host: {FORMS}")
            exact.add(host)
    return HostList(frozenset(exact), frozenset(suffixes), frozenset(origins))


def _origin(item: object, entry: str) -> tuple[str, str, int]:
    parts = split_url(entry)
    bare = urlsplit(entry)
    if parts is None or bare.path not in ("", "/") or bare.query or bare.fragment or "*" in entry:
        raise ConfigError(f"option `import_hosts`: {item!r} is not an origin such as https://host:port: {FORMS}")
    return parts.origin


def _is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True
