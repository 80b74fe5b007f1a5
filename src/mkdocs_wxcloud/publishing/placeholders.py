"""URLs that are not known yet while a page renders: a unique marker now, the cloud URL later.

A new image is uploaded while pages keep rendering, so its reference first gets a marker that no
page can contain by chance (a random nonce), and the host puts the final URL in the page's HTML
once the upload is done: the cloud URL, or the local URL the page would have had, if it failed.
An image's size (``dimensions: true``) is known once it is uploaded, too: until then its ``<img>``
holds ``width``/``height`` with markers as values, which get the size, or go if it stays unknown.
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
        self._size_pattern = re.compile(rf'\s*(width|height)="{re.escape(self._prefix)}[wh](\d+)"')
        self._pending: list[tuple[str, str, str]] = []  # (docs path, ?query#fragment, fallback URL)
        self._sizes: list[str] = []  # docs paths of images whose size is not known yet
        self._paths: set[str] = set()

    def add(self, path: str, suffix: str, fallback: str) -> str:
        """A marker for the cloud URL of ``path`` (plus ``suffix``); ``fallback`` if it gets none."""
        self._pending.append((path, suffix, fallback))
        self._paths.add(path)
        return f"{self._prefix}{len(self._pending) - 1}"

    def sized(self, path: str) -> dict[str, str]:
        """``width`` and ``height`` attributes whose values :meth:`fill` sets to the size of ``path``
        (or drops with their names): real names, so the HTML serializer orders them as it will later."""
        self._sizes.append(path)
        n = len(self._sizes) - 1
        return {"width": f"{self._prefix}w{n}", "height": f"{self._prefix}h{n}"}

    def __contains__(self, path: str) -> bool:
        """Whether ``path`` waits for its URL (and so for its size)."""
        return path in self._paths

    def __bool__(self) -> bool:
        return bool(self._pending or self._sizes)

    @property
    def paths(self) -> list[str]:
        return [path for path, _, _ in self._pending]

    def fill(self, text: str, urls: dict[str, str], sizes: dict[str, tuple[int, int]] | None = None,
             *, escape: bool = True) -> str:  # fmt: skip
        """``text`` with every marker replaced: HTML, so escaped for an attribute value, unless not
        ``escape`` (a stylesheet)."""
        if self._prefix not in text:
            return text

        def one(match: re.Match[str]) -> str:
            path, suffix, fallback = self._pending[int(match.group(1))]
            url = urls.get(path)
            found = with_suffix(url, suffix) if url else fallback
            return html.escape(found) if escape else found

        def size(match: re.Match[str]) -> str:
            known = (sizes or {}).get(self._sizes[int(match.group(2))])
            if not known:
                return ""
            return f' {match.group(1)}="{int(known[0] if match.group(1) == "width" else known[1])}"'

        text = self._size_pattern.sub(size, text) if self._sizes else text
        return self._pattern.sub(one, text)
