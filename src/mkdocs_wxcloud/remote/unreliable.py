"""Image hosts that readers in mainland China often cannot load, each with the reason: the one list.

A page that shows images from these hosts looks broken to many of its readers; ``import_hosts``
lets the build copy such images into WeChat storage instead. Messages and the ``check`` command
use :func:`unreliable` to say why a host is worth importing from.
"""

from __future__ import annotations

from .hosts import split_url

_JSDELIVR = "jsDelivr lost its ICP licence in 2021 and is often slow or unreachable from mainland China"
_GITHUB = "GitHub's raw content hosts are often unreachable or DNS-poisoned in mainland China"
_SMMS = "sm.ms and its storage i.loli.net are blocked in mainland China"
_SINA = "Weibo's image servers answer 403 Forbidden to pages of other sites (anti-hotlinking)"
_IMGUR = "Imgur is blocked in mainland China"
_GITEE = "Gitee refuses hotlinking of raw files and answers a login page once a repository is not public"

# host -> reason; "*.example.com" stands for the subdomains of example.com
HOSTS: dict[str, str] = {
    "cdn.jsdelivr.net": _JSDELIVR,
    "*.jsdelivr.net": _JSDELIVR,  # fastly., gcore., testingcf., originfastly.
    "raw.githubusercontent.com": _GITHUB,
    "*.githubusercontent.com": _GITHUB,  # user-images., objects., camo., avatars.
    "sm.ms": _SMMS,
    "*.sm.ms": _SMMS,
    "i.loli.net": _SMMS,
    "*.loli.net": _SMMS,
    "*.sinaimg.cn": _SINA,
    "imgur.com": _IMGUR,
    "*.imgur.com": _IMGUR,  # i.imgur.com
}
GITEE_RAW = ("gitee.com", "raw")  # gitee.com/<owner>/<repo>/raw/<ref>/<path>: the third path segment


def unreliable(url: str) -> str | None:
    """Why readers in mainland China may not see a file at ``url``; None when its host is not known to fail."""
    parts = split_url(url)
    if parts is None:
        return None
    host = parts.host
    reason = HOSTS.get(host) or next(
        (why for pattern, why in HOSTS.items() if pattern.startswith("*.") and host.endswith(pattern[1:])), None
    )
    if reason:
        return reason
    segments = parts.target.split("?", 1)[0].split("/")
    if host in (GITEE_RAW[0], "www." + GITEE_RAW[0]) and len(segments) > 4 and segments[3] == GITEE_RAW[1]:
        return _GITEE
    return None
