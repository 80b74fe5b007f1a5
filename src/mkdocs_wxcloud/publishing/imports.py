"""Imported files: what pages show from an ``import_hosts`` host, published like a file of docs_dir.

An imported file is named in a run by its source URL (the canonical form that downloads use: host
lower-cased, no fragment), and its manifest entry is keyed by that URL and records the URL as the
page wrote it (``source``). So the run, the ledger, the upload queue and the manifest treat it as
any other file:

* its digest comes from the manifest first (a URL's file is taken as immutable once imported: a
  warm build and a fresh checkout with the manifest make no request to the host), then from the
  download cache (``cache_dir/remote``), and only then from the host, on the upload pool;
* it is published only when its *bytes* are of a kind ``assets`` publishes (:func:`~..remote.sniff`),
  whatever its URL or ``Content-Type`` say; its cloud path is ``<prefix>/imported/<host>/<name>.<hash12><ext>``
  with the extension of the bytes;
* only what a page *shows* is imported (``<img src srcset>``, ``<picture><source>``, ``<video>``,
  ``<audio>``): none of them runs the scripts an SVG can hold. A link (``<a href>``), an
  ``<object>`` or ``<embed>`` (which would run them) and a ``url(…)`` in a style stay as written.

A download that fails is an :class:`ImageProblem` that names the host and what it did; the
reference stays as it was.
"""

from __future__ import annotations

import dataclasses
import html
import os
import posixpath
import threading
from pathlib import Path
from urllib.parse import unquote, urlsplit

from ..manifest.hashing import HashCache
from ..manifest.model import Entry
from ..manifest.store import ManifestStore
from ..references.assets import kind_of
from ..references.treeprocessor import RAW, Reference
from ..references.urls import Target
from ..remote import DEADLINE, Fetched, ImportProblem, Policy, RemoteCache, Sniffed, unreliable
from ..remote.hosts import split_url
from .settings import Settings
from .sources import DocsFiles, ImageProblem

IMPORTED_TAGS = frozenset({"img", "source", "video", "audio"})
"""Tags whose remote files are imported: what a page shows, never what runs scripts or is followed."""
NOT_IMPORTED = "is not imported yet: run `mkdocs-wxcloud sync` (or `mkdocs build`) to import it"
FOLDER = "imported"


def is_imported(path: str) -> bool:
    """Whether a run's path names an imported file (a URL) rather than a docs path (which never holds ``://``)."""
    return "://" in path


class Imports:
    """The imported files of one run: which references are imports, and their bytes and digests."""

    def __init__(self, settings: Settings, store: ManifestStore, online: bool) -> None:
        self.hosts = settings.import_hosts
        self.assets = settings.assets
        self.store = store
        self.online = online
        self.policy = Policy(self.hosts, allow_private=settings.import_allow_private, deadline=DEADLINE)
        self.cache = RemoteCache(settings.cache_dir / "remote")
        self._lock = threading.Lock()
        self._written: dict[str, str] = {}  # source URL -> as a page first wrote it
        self._known: dict[str, Fetched] = {}  # source URL -> its checked download, this run
        self._failed: dict[str, str] = {}  # source URL -> why it cannot be imported, this run
        self._by_cloud_path: dict[str, str] | None = None  # cloud path -> source URL, made on first use

    def target(self, url: str, tag: str, where: str) -> Target | None:
        """The import ``url`` stands for in ``tag`` (its ``#fragment`` kept aside): its own, if its host is
        listed, or the one whose cloud URL it is (a page that ``rewrite --in-place`` migrated). Outside
        raw HTML, Python-Markdown writes a URL's character references (``&amp;``) as they are, so the
        browser, and the download, decode them."""
        written, hash_, fragment = url.strip().partition("#")
        loaded = written if where == RAW else html.unescape(written)
        if not written[:8].lower().startswith(("http://", "https://")):
            return None
        kind = "image" if tag == "img" else ""
        migrated = self._migrated(loaded)
        if migrated is not None:
            return Target(migrated, hash_ + fragment, kind or kind_of(migrated))
        if not self.hosts or tag not in IMPORTED_TAGS:
            return None
        parts = split_url(loaded)
        if parts is None or not self.hosts.allows_url(parts):
            return None
        with self._lock:
            self._written.setdefault(parts.shown, written)
        return Target(parts.shown, hash_ + fragment, kind or kind_of(parts.shown))

    def _migrated(self, url: str) -> str | None:
        """The source URL of the imported file whose cloud URL ``url`` is, matched by its cloud path (the
        URL's host and query change with ``base_url`` and signed links). A migrated page keeps its
        imports referenced, so ``check`` and ``prune`` keep them, even once ``import_hosts`` is gone."""
        with self._lock:
            if self._by_cloud_path is None:
                self._by_cloud_path = {}
                for key, entry in sorted(self.store.manifest.images.items()):  # twins: the first URL stands for all
                    if entry.source:
                        self._by_cloud_path.setdefault(entry.cloud_path, key)
            by_cloud_path = self._by_cloud_path
        if not by_cloud_path:
            return None
        try:
            segments = unquote(urlsplit(url).path).split("/")
        except ValueError:
            return None
        return next((k for i in range(1, len(segments)) if (k := by_cloud_path.get("/".join(segments[i:])))), None)

    def written(self, source: str) -> str:
        """The URL as a page wrote it (the manifest's record, else the canonical form)."""
        entry = self.store.get(source)
        with self._lock:
            return self._written.get(source) or (entry.source if entry is not None and entry.source else source)

    def sourced(self, path: str, entry: Entry) -> Entry:
        """``entry`` as the manifest records it for ``path``: with its source URL exactly when it is imported
        (an entry found by its content may come from a file of the other sort)."""
        source = self.written(path) if is_imported(path) else ""
        return entry if entry.source == source else dataclasses.replace(entry, source=source)

    # -- the file behind a source URL ----------------------------------------------------------

    def known_digest(self, source: str) -> tuple[str, int] | None:
        """``(sha256, size)`` without reading or downloading: from this run, else from the manifest."""
        with self._lock:
            known = self._known.get(source)
        if known is not None:
            return known.sha256, known.size
        entry = self.store.get(source)
        return (entry.sha256, entry.size) if entry is not None else None

    def digest(self, source: str) -> tuple[str, int]:
        """:meth:`known_digest`, else the download's (from the cache; from the host if the run is online)."""
        known = self.known_digest(source)
        if known is not None:
            return known
        fetched = self.fetched(source)
        return fetched.sha256, fetched.size

    def locate(self, source: str) -> tuple[Path, os.stat_result]:
        """The downloaded file (the cache's copy), downloaded first if needed and allowed."""
        path = self.fetched(source).path
        try:
            return path, path.stat()
        except OSError:  # the cache was cleared meanwhile: once more
            with self._lock:
                self._known.pop(source, None)
            path = self.fetched(source).path
            return path, path.stat()

    def name(self, source: str) -> str:
        """``imported/<host>/<name><ext>``: the docs path its cloud path is made from, with the bytes' extension."""
        parts = split_url(source)
        assert parts is not None, source
        sniffed = self.fetched(source).sniffed
        assert sniffed is not None, source
        host = parts.host.replace(":", "_") + ("" if parts.authority == parts.host else f"_{parts.port}")
        stem = posixpath.splitext(posixpath.basename(unquote(parts.target.split("?", 1)[0])))[0] or "file"
        return f"{FOLDER}/{host}/{stem}{sniffed.extension}"

    def fetched(self, source: str) -> Fetched:
        """The checked download of ``source``: this run's, the cache's, or (online) a new one."""
        with self._lock:
            known, failed = self._known.get(source), self._failed.get(source)
        if known is not None:
            return known
        if failed is not None:  # once a run: every page that shows it gets the same answer
            raise ImageProblem(failed)
        try:
            fetched = self._fetch(source)
            self._check_kind(fetched)
        except ImageProblem as problem:
            with self._lock:
                self._failed[source] = str(problem)
            raise
        with self._lock:
            self._known[source] = fetched
        return fetched

    def _fetch(self, source: str) -> Fetched:
        fetched = self.cache.get(source)
        if fetched is not None:
            return fetched
        if not self.online:
            raise ImageProblem(NOT_IMPORTED)
        try:
            self.cache.folder.mkdir(parents=True, exist_ok=True)  # here: a download would blame the host
            return self.cache.fetch(source, self.policy)
        except ImportProblem as problem:
            raise ImageProblem(f"cannot be imported: {_what(problem)}") from None
        except OSError as error:  # the download cache, not the host
            raise ImageProblem(
                f"cannot be imported: the download cache {self.cache.folder} cannot be written "
                f"({error.strerror or error}): fix its permissions, or point `cache_dir` elsewhere"
            ) from None

    def _check_kind(self, fetched: Fetched) -> None:
        """Publish only bytes of a kind ``assets`` lists, whatever the URL and ``Content-Type`` claim."""
        parts = split_url(fetched.final_url)
        host = parts.host if parts is not None else "the host"
        sniffed: Sniffed | None = fetched.sniffed
        said = f" (it said {fetched.content_type})" if fetched.content_type else ""
        if sniffed is None:
            raise ImageProblem(
                f"cannot be imported: {host} sent {fetched.size} bytes that are no image, video or audio "
                f"format{said}: fix the link, or copy the file into docs_dir"
            )
        if sniffed.extension not in self.assets.extensions:
            raise ImageProblem(
                f"cannot be imported: its bytes are {sniffed.kind} ({sniffed.extension}), a kind that `assets` "
                "does not publish"
            )


def remote_problem(reference: Reference) -> str | None:
    """Why a page's reference to another host may fail its readers in mainland China (for ``check``):
    what the page shows from a host of :func:`~..remote.unreliable`; links are left alone."""
    url = "https:" + reference.url if reference.url.startswith("//") else reference.url
    why = unreliable(url) if reference.tag != "a" else None
    if why is None:
        return None
    parts = split_url(url)
    host = parts.host if parts is not None else "its host"
    return (
        f"is on {host}, which readers in mainland China may fail to load ({why}): list the host in "
        "`import_hosts` to publish it to the cloud, or copy it into docs_dir"
    )


def _what(problem: ImportProblem) -> str:
    return f"{problem.host} {problem.reason}" if problem.host else problem.reason


class FilesAndImports(DocsFiles):
    """The files of docs_dir, and imported files by their source URL: one interface for the run."""

    def __init__(self, docs_dir: Path, hashes: HashCache, imports: Imports) -> None:
        super().__init__(docs_dir, hashes)
        self.imports = imports

    def locate(self, path: str) -> tuple[Path, os.stat_result]:
        return self.imports.locate(path) if is_imported(path) else super().locate(path)

    def digest(self, path: str) -> tuple[str, int]:
        return self.imports.digest(path) if is_imported(path) else super().digest(path)

    def known_digest(self, path: str) -> tuple[str, int] | None:
        return self.imports.known_digest(path) if is_imported(path) else super().known_digest(path)

    def rehash(self, path: str) -> tuple[str, int]:
        """The digest of what is uploaded for an imported file: its download as it is."""
        if is_imported(path):
            fetched = self.imports.fetched(path)
            return fetched.sha256, fetched.size
        return super().rehash(path)

    def name(self, path: str) -> str:
        """The name its cloud path is made from."""
        return self.imports.name(path) if is_imported(path) else path
