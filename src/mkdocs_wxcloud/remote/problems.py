"""Why a file could not be imported, worded for the person who wrote the link.

Each message names the host and what it did ("gitee.com answered 403 Forbidden: the host refuses
hotlinking"), so the user knows whether to fix the link, copy the file into docs_dir, or wait.
"""

from __future__ import annotations

from http import HTTPStatus

from ..errors import WxCloudError
from ..references.assets import kind_of


class ImportProblem(WxCloudError):
    """A remote file that could not be downloaded; ``url``, ``host`` and ``reason`` say why."""

    def __init__(self, url: str, host: str, reason: str) -> None:
        self.url, self.host, self.reason = url, host, reason
        super().__init__(f"cannot import {url}: {host} {reason}" if host else f"cannot import {url}: {reason}")


def megabytes(size: int) -> str:
    return f"{size / (1 << 20):g} MB"


def status_reason(status: int, url: str) -> str:
    """What an answer other than 200 or a redirect means for an import."""
    try:
        phrase = HTTPStatus(status).phrase
    except ValueError:
        phrase = "(an unknown status)"
    said = f"answered {status} {phrase}"
    kind = kind_of(url)
    if status == 401:
        return f"{said}: the {kind} is not public"
    if status == 403:
        return f"{said}: the host refuses hotlinking, or the {kind} is not public"
    if status in (404, 410):
        return f"{said}: the {kind} is gone; fix the link or copy the {kind} into docs_dir"
    if status == 429 or status >= 500:
        return f"{said}: try again later"
    return said


def web_page_reason(url: str, login: bool) -> str:
    """What an HTML answer to a file's URL means: a login wall, or an anti-hotlinking page."""
    kind = kind_of(url)
    if login:
        return f"answered a login page: the {kind} is no longer public there"
    return f"answered a web page, not the {kind}: the host refuses hotlinking or the {kind} moved"
