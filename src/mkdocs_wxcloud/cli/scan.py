"""Read a site's pages and list the images each references, with a cache for unchanged pages.

Rendering every page is the cost of asking Python-Markdown; ``check`` must answer in well under a
second on a large site, so each page's references are cached against the hash of its text and
the fingerprint of the Markdown configuration.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Generator, Iterator

from .. import caches
from ..publishing.linker import Linker, Problem
from ..references import css, pool
from ..references.pages import read_page
from ..references.treeprocessor import Reference
from ..references.urls import Target
from .site import Site

log = logging.getLogger("mkdocs.plugins.wxcloud")


@dataclass
class PageScan:
    page: str  # docs-relative path
    source: str
    references: list[Reference]


def scan(site: Site, warn: Callable[[Problem], None], pages: list[str] | None = None) -> Iterator[PageScan]:
    """Every page's references, in page order, then the stylesheets' (all pages only); unreadable
    files are warned about and skipped."""
    # Snippets pull other files into a page: its text alone no longer tells whether it changed.
    cached = "pymdownx.snippets" not in site.fingerprint
    cache = _ReferenceCache(site.settings.cache_dir / "references.json", site.fingerprint if cached else None)
    try:
        yield from _pages(site, warn, cache, site.pages if pages is None else pages)
        for stylesheet in site.stylesheets if pages is None else ():
            try:
                source = read_page(site.docs_dir / stylesheet)
            except (OSError, ValueError) as error:
                warn(Problem(stylesheet, None, "", f"{error}: its url(…) references are not checked"))
                continue
            yield PageScan(stylesheet, source, [Reference(*ref) for ref in css.references(source)])
    finally:
        cache.save()


def _pages(site: Site, warn: Callable[[Problem], None], cache: _ReferenceCache, pages: list[str]) -> Iterator[PageScan]:
    """Each readable page's scan, in order: from the cache, else rendered, in worker processes when
    there is enough to render for them to pay (:func:`..references.pool.worth_it`)."""
    read: list[tuple[str, str, list[Reference] | None] | Problem] = []  # page, text, references cached
    for page in pages:
        try:
            source = read_page(site.docs_dir / page)
        except (OSError, ValueError) as error:
            what = str(error) if isinstance(error, ValueError) else f"cannot be read ({error.strerror})"
            read.append(Problem(page, None, "", what))
            continue
        read.append((page, source, cache.get(page, source)))
    texts = [item[1] for item in read if not isinstance(item, Problem) and item[2] is None]
    workers = pool.worth_it(sum(map(len, texts)))
    rendered: Generator[list[Reference], None, None] = (
        pool.render(site.extensions, site.configs, texts, workers, lambda text: site.scanner.references(text))
        if workers
        else (site.scanner.references(text) for text in texts)
    )
    try:
        for item in read:
            if isinstance(item, Problem):
                warn(item)
                continue
            page, source, references = item
            if references is None:
                references = next(rendered)
                cache.put(page, source, references)
            yield PageScan(page, source, references)
    finally:
        rendered.close()


def image_references(
    site: Site,
    linker: Linker,
    warn: Callable[[Problem], None],
    pages: list[str] | None = None,
    others: Callable[[PageScan, Reference], None] | None = None,
) -> Iterator[tuple[PageScan, str, Target]]:
    """Every reference to a local (or imported) file: ``(page, url as written, target)``; ``others``
    is told of every other reference."""
    if site.found is not None:  # read through the site's build (cli/built.py)
        yield from (found for found in site.found if pages is None or found[0].page in pages)
        return
    for scanned in scan(site, warn, pages):
        for reference in scanned.references:
            target = linker.target(reference.url, reference.tag, scanned.page, reference.where)
            if target is not None:
                yield scanned, reference.url, target
            elif others is not None:
                others(scanned, reference)


def referenced(site: Site, linker: Linker, pages: list[str] | None = None) -> Iterator[tuple[str, bool]]:
    """Each referenced file that can be published, once, as soon as the scan finds it: ``(docs path,
    whether the manifest has it as it is now)``; a lookup only, problems warned about."""
    seen: set[str] = set()
    for scanned, url, target in image_references(site, linker, site.warn, pages):
        if target.path not in seen:
            seen.add(target.path)
            publishable, cloud = linker.lookup(target, url, scanned.page, scanned.source)
            if publishable:
                yield target.path, cloud is not None


def missing_images(site: Site, linker: Linker, pages: list[str] | None = None) -> Iterator[str]:
    """The docs path of each referenced file that the manifest lacks as it is now."""
    return (path for path, current in referenced(site, linker, pages) if not current)


def scheduled(site: Site, linker: Linker, pages: list[str] | None = None) -> Iterator[str]:
    """:func:`referenced`, each scheduled on the run as it is found (so uploads start while the other
    pages are read; the current ones count as reused)."""
    for path, _ in referenced(site, linker, pages):
        linker.run.schedule(path)
        yield path


class _ReferenceCache:
    """Each page's references by the hash of its text, for one Markdown configuration (``fingerprint``).
    Tied to the release (another may find other references, e.g. <video> since 0.2); bump the format
    with any change to what a scan finds between releases."""

    KIND, FORMAT = "references", 4

    def __init__(self, path: Path, fingerprint: str | None) -> None:
        """``fingerprint`` None: no cache at all."""
        self.path = path
        self.fingerprint = fingerprint
        self.pages: dict[str, list] = {}
        self.dirty = False
        data = caches.load(path, self.KIND, self.FORMAT, per_release=True) if fingerprint is not None else None
        if data is not None and data.get("fingerprint") == fingerprint and isinstance(data.get("pages"), dict):
            self.pages = data["pages"]

    @staticmethod
    def _key(source: str) -> str:
        return hashlib.sha256(source.encode("utf-8", "surrogatepass")).hexdigest()

    def get(self, page: str, source: str) -> list[Reference] | None:
        hit = self.pages.get(page)
        try:
            if hit and hit[0] == self._key(source):
                return [Reference(*map(str, reference)) for reference in hit[1]]
        except (TypeError, ValueError, IndexError):  # not what we wrote: render the page
            pass
        return None

    def put(self, page: str, source: str, references: list[Reference]) -> None:
        self.pages[page] = [self._key(source), [list(r) for r in references]]
        self.dirty = True

    def save(self) -> None:
        if not self.dirty or self.fingerprint is None:
            return
        try:
            caches.save(self.path, self.KIND, self.FORMAT, {"fingerprint": self.fingerprint, "pages": self.pages})
        except OSError as error:
            log.debug("wxcloud: reference cache not saved: %s", error)
