"""From a URL a page references to the image it names and the cloud URL it has now.

Every front end (the MkDocs plugin, the Markdown extension, ``rewrite``, ``sync``, ``check``)
classifies references here, so they agree on what counts as a local image and word their
warnings the same way: ``page:line: image 'url' what is wrong and what to do``.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Callable

from ..references.treeprocessor import MARKDOWN
from ..references.urls import Target, is_image, line_of, resolve
from .publisher import Publisher
from .sources import ImageProblem


@dataclass(frozen=True)
class Problem:
    """Something wrong with one reference of one page, and what to do about it."""

    page: str
    line: int | None
    url: str
    message: str

    def __str__(self) -> str:
        where = f"{self.page}{f':{self.line}' if self.line else ''}"
        return f"{where}: image '{self.url}' {self.message}" if self.url else f"{where}: {self.message}"


DocumentOf = Callable[[str], "str | None"]
"""A page's docs path -> the docs path of the file the browser loads for it (``ds/treap.md`` ->
``ds/treap/index.html`` with directory URLs), or None when the host has no such notion."""


class Linker:
    """Classifies references and reports each problem once per page and URL."""

    def __init__(self, publisher: Publisher, warn: Callable[[Problem], None], document_of: DocumentOf | None = None) -> None:
        self.publisher = publisher
        self._warn = warn
        self._document_of = document_of
        self._warned: set[tuple[str, str]] = set()
        self._lock = threading.Lock()

    def target(self, url: str, tag: str, page: str, where: str = MARKDOWN) -> Target | None:
        """The docs path ``url`` names, if it is a local image (links count only to image files).

        It is resolved as the reader's browser resolves it: against the page's source file where
        the host rewrites it (:data:`~..references.treeprocessor.MARKDOWN`), else against the URL of
        the built page, which is the source file itself for hosts without one (plain Markdown).
        """
        base = page if where == MARKDOWN or self._document_of is None else self._document_of(page) or page
        target = resolve(url, base)
        if target is None or (tag == "a" and not is_image(target.path)):
            return None
        return target

    def lookup(self, target: Target, url: str, page: str, source: str, *, upload: bool = False) -> tuple[bool, str | None]:
        """``(publishable, current cloud URL or None)`` of a target; a problem is warned about.

        ``upload``: what the manifest lacks is uploaded (see :meth:`Publisher.publish`), and None
        means that its URL comes with :meth:`Publisher.finish`.
        """
        publisher = self.publisher
        try:
            return True, publisher.publish(target.path) if upload else publisher.current_url(target.path)
        except ImageProblem as problem:
            self.warn(page, source, url, str(problem))
            return False, None

    def warn(self, page: str, source: str, url: str, what: str) -> None:
        with self._lock:
            if (page, url) in self._warned:
                return
            self._warned.add((page, url))
        self._warn(Problem(page, line_of(source, url), url, what))
