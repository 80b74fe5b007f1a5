"""From a URL a page references to the image it names and the cloud URL it has now.

Every front end (the MkDocs plugin, the Markdown extension, ``rewrite``, ``sync``, ``check``)
classifies references here, so they agree on what counts as a local image and word their
warnings the same way: ``page:line: image 'url' what is wrong and what to do``.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Callable

from ..references.assets import Assets, kind_of
from ..references.css import STYLESHEET
from ..references.treeprocessor import MARKDOWN
from ..references.urls import Target, line_of, resolve
from .imports import is_imported
from .placeholders import Placeholders
from .reporting import Report, human_size
from .run import Run
from .sources import ImageProblem


@dataclass(frozen=True)
class Problem:
    """Something wrong with one reference of one page, and what to do about it."""

    page: str
    line: int | None
    url: str
    message: str
    kind: str = ""  # image, video, …; by the URL's extension when ""

    def __str__(self) -> str:
        where = f"{self.page}{f':{self.line}' if self.line else ''}"
        kind = self.kind or kind_of(self.url)
        return f"{where}: {kind} '{self.url}' {self.message}" if self.url else f"{where}: {self.message}"


DocumentOf = Callable[[str], "str | None"]
"""A page's docs path -> the docs path of the file the browser loads for it (``ds/treap.md`` ->
``ds/treap/index.html`` with directory URLs), or None when the host has no such notion."""


class Linker:
    """Classifies references and reports each problem once per page and URL."""

    def __init__(self, run: Run, warn: Callable[[Problem], None], document_of: DocumentOf | None = None) -> None:
        self.run = run
        self.assets: Assets = run.settings.assets
        self._warn = warn
        self._document_of = document_of
        self._warned: set[tuple[str, str]] = set()
        self._later: dict[str, tuple[str, str, str, str]] = {}  # path -> (page, source, url, kind): not stored yet
        self._against_url: set[tuple[str, str]] = set()  # (page, docs path) of raw HTML resolved against the page's URL
        self._lock = threading.Lock()

    def target(self, url: str, tag: str, page: str, where: str = MARKDOWN) -> Target | None:
        """The docs path ``url`` names, if it is a local file of a published kind (``assets``).

        It is resolved as the reader's browser resolves it: against the page's source file where
        the host rewrites it (:data:`~..references.treeprocessor.MARKDOWN`), else against the URL of
        the built page, which is the source file itself for hosts without one (plain Markdown).
        A file that a page shows from an ``import_hosts`` host is named by its URL (:mod:`.imports`).
        """
        imported = self.run.imports.target(url, tag, where)
        if imported is not None:
            return imported
        base = page if where in (MARKDOWN, STYLESHEET) or self._document_of is None else self._document_of(page) or page
        target = resolve(url, base)
        if where not in (MARKDOWN, STYLESHEET) and target is not None:
            self._against_url.add((page, target.path))
        if target is None or not self.assets.publishes(target.path, tag):
            return None
        return Target(target.path, target.suffix, "image" if tag == "img" else kind_of(target.path))

    def lookup(
        self, target: Target, url: str, page: str, source: str, *, upload: bool = False
    ) -> tuple[bool, str | None]:
        """``(publishable, current cloud URL or None)`` of a target; a problem is warned about.

        ``upload``: what the manifest lacks is uploaded (see :meth:`Run.publish`), and None means
        that its URL comes with :meth:`Run.finish`; else a pure lookup.
        """
        try:
            cloud = self.run.publish(target.path) if upload else self.run.resolve(target.path).url
        except ImageProblem as problem:
            self.warn(page, source, url, self.worded(problem, page, target), target.kind)
            return False, None
        if cloud is None:
            with self._lock:
                self._later.setdefault(target.path, (page, source, url, target.kind))  # its size: after finish
        else:
            self._check_size(page, source, url, target.path, target.kind)
        return True, cloud

    def worded(self, problem: ImageProblem, page: str, target: Target) -> str:
        """The problem, with the docs path looked for when the reference was resolved against the page's URL (raw
        HTML): with directory URLs it is not the folder of the page's file, which surprises people."""
        if (page, target.path) in self._against_url:
            return f"{problem}; looked for {target.path} (raw HTML is relative to the page's URL)"
        return str(problem)

    def imports_failed(self, report: Report) -> None:
        """Once :meth:`Run.finish` returned: each failed import is one warning naming the first page that
        shows it (its reference stays as written), and leaves ``report.errors``."""
        for path in sorted(p for p in report.errors if is_imported(p)):
            why = report.errors.pop(path)
            with self._lock:
                page, source, url, kind = self._later.pop(path, ("", "", path, ""))
            self.warn(page, source, url, f"{why}; the reference stays as it was", kind)

    def check_sizes(self) -> None:
        """Once :meth:`Run.finish` returned: warn about the new images over ``max_size``."""
        with self._lock:
            later, self._later = self._later, {}
        for path, (page, source, url, kind) in later.items():
            self._check_size(page, source, url, path, kind)

    def size_problem(self, path: str) -> str | None:
        """What is wrong with the stored size of the file at ``path``, if it is over ``max_size``."""
        limit = self.run.optimizer.max_size
        entry = self.run.store.get(path)
        if limit is None or entry is None or entry.stored <= limit:
            return None
        kind = kind_of(path)
        if kind != "image":  # only images are optimized
            advice = f"make the {kind} smaller, or host it elsewhere"
        elif self.run.optimizer.settings.mode == "lossy":
            advice = "lower `quality`, set `max_width`, or make the image smaller"
        else:
            advice = "make the image smaller, or set `optimize: lossy` (with `max_width`)"
        how = "after optimizing" if entry.optimize else "(not optimized)"
        return f"is {human_size(entry.stored)} in the cloud {how}, over `max_size` ({human_size(limit)}): {advice}"

    def _check_size(self, page: str, source: str, url: str, path: str, kind: str) -> None:
        problem = self.size_problem(path)
        if problem is not None:
            self.warn(page, source, url, problem, kind)

    def size_attributes(self, url: str, page: str, where: str, pending: Placeholders) -> dict[str, str] | None:
        """``width``/``height`` for an ``<img src=url>`` that has neither: from the manifest, or a
        marker of ``pending`` that becomes them once the image is uploaded."""
        target = self.target(url, "img", page, where)
        if target is None:
            return None
        if target.path in pending:
            return pending.sized(target.path)
        size = self.run.size_on_screen(target.path)
        return {"width": str(size[0]), "height": str(size[1])} if size else None

    def warn(self, page: str, source: str, url: str, what: str, kind: str = "") -> None:
        with self._lock:
            if (page, url) in self._warned:
                return
            self._warned.add((page, url))
        self._warn(Problem(page, line_of(source, url), url, what, kind))
