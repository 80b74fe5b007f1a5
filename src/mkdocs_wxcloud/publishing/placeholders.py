"""URLs that are not known yet while a page renders: a unique marker now, the cloud URL later.

A new image is uploaded while pages keep rendering, so its reference first gets a marker that no
page can contain by chance (a random nonce), and the host puts the final URL in the page's HTML
once the upload is done: the cloud URL, or the local URL the page would have had, if it failed.
"""

from __future__ import annotations

import html
import re
import secrets

from ..references.urls import with_suffix


class Placeholders:
    """The markers handed out by one run; thread-safe enough for one renderer at a time."""

    def __init__(self) -> None:
        self._prefix = f"wxcloud-pending-{secrets.token_hex(4)}:"
        self._pattern = re.compile(rf"{re.escape(self._prefix)}(\d+)")
        self._pending: list[tuple[str, str, str]] = []  # (docs path, ?query#fragment, fallback URL)

    def add(self, path: str, suffix: str, fallback: str) -> str:
        """A marker for the cloud URL of ``path`` (plus ``suffix``); ``fallback`` if it gets none."""
        self._pending.append((path, suffix, fallback))
        return f"{self._prefix}{len(self._pending) - 1}"

    def __bool__(self) -> bool:
        return bool(self._pending)

    @property
    def paths(self) -> list[str]:
        return [path for path, _, _ in self._pending]

    def fill(self, text: str, urls: dict[str, str]) -> str:
        """``text`` (HTML) with every marker replaced, escaped for an attribute value."""
        if self._prefix not in text:
            return text

        def one(match: re.Match[str]) -> str:
            path, suffix, fallback = self._pending[int(match.group(1))]
            url = urls.get(path)
            return html.escape(with_suffix(url, suffix) if url else fallback)

        return self._pattern.sub(one, text)
