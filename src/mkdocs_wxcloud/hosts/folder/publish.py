"""Publish what a built site's pages load, and rewrite only the bytes of each URL, in place.

Each page and stylesheet of the folder is read once and scanned (:mod:`...references.htmlpage`);
every local file of a published kind that a reference loads goes through the run like a page's
asset in a build (current in the manifest, or uploaded while the rest is read); once the run is
finished each file whose URLs change is replaced atomically, so an interrupted run leaves every
file either old or new. A URL that already points at the cloud is remote: a published folder is
recognised as such, and publishing it again changes nothing and makes no request.
"""

from __future__ import annotations

import fnmatch
import functools
import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterator

from ...atomic import write_atomic
from ...errors import WxCloudError
from ...publishing.linker import Problem
from ...publishing.run import Run
from ...publishing.sources import ImageProblem
from ...references import charset, htmlpage
from ...references.assets import kind_of
from ...references.tokenizer import start_tags, unescape
from ...references.urls import with_suffix
from ..mkdocs.exclude import unmentioned
from .site import MAX_TEXT_BYTES, STYLESHEETS, Outside, SiteFolder, Target

log = logging.getLogger("mkdocs.plugins.wxcloud")
Warn = Callable[[Problem], None]


@dataclass
class Scanned:
    """One page or stylesheet of the folder, read once: its text, and the local files it loads."""

    path: str
    document: charset.Document
    references: list[htmlpage.Reference]
    found: list[tuple[htmlpage.Reference, Target]] = field(default_factory=list)


def _loads_as(reference: htmlpage.Reference) -> str:
    """The tag whose rules decide whether a reference is published (``assets``): a ``srcset``, an
    icon or an image input shows an image whatever the file is called; ``url(…)`` goes by extension."""
    if reference.css_quote is not None or reference.attribute == "style":
        return "style"
    if reference.attribute in htmlpage.SRCSETS or reference.tag in ("input", "link"):
        return "img"
    return reference.tag


class FolderRun:
    """The references of one built folder, published through ``run``."""

    def __init__(self, folder: SiteFolder, run: Run, warn: Warn, keep_local: list[str]) -> None:
        self.folder = folder
        self.run = run
        self.warn = warn
        self.keep_local = keep_local
        self.scanned: list[Scanned] = []

    def scan(self) -> Iterator[Scanned]:
        """Each page and stylesheet with the local files of a published kind it loads, as it is read."""
        for path in self.folder.files():
            scanned = self._read(path)
            if scanned is not None:
                yield scanned

    def _read(self, path: str) -> Scanned | None:
        full = self.folder.root / path
        try:
            size = full.stat().st_size
            if size > MAX_TEXT_BYTES:
                self.warn(Problem(path, None, "", f"is {size >> 20} MB, too large for a page: it is left as it is"))
                return None
            data = full.read_bytes()
        except OSError as error:
            self.warn(Problem(path, None, "", f"cannot be read ({error.strerror}): fix its permissions"))
            return None
        try:
            css = path.lower().endswith(STYLESHEETS)
            document = charset.decode_css(data, path) if css else charset.decode_html(data, path)
        except WxCloudError as error:
            self.warn(Problem(path, None, "", f"{error}: its URLs are left as they are"))
            return None
        if css:
            references, base = htmlpage.scan_css(document.text), None
        else:
            references, base = htmlpage.scan_html(document.text)
        scanned = Scanned(path, document, references)
        for reference in references:
            target = self._target(scanned, reference, base)
            if target is not None:
                scanned.found.append((reference, target))
        return scanned

    def _target(self, scanned: Scanned, reference: htmlpage.Reference, base: str | None) -> Target | None:
        try:
            target = self.folder.target(reference.url, scanned.path, base)
        except Outside as outside:
            self._problem(scanned, reference, f"leaves the site's root (it names {outside}): it is left as it is")
            return None
        if target is None or not self.run.settings.assets.publishes(target.path, _loads_as(reference)):
            return None
        if any(fnmatch.fnmatch(target.path, pattern) for pattern in self.keep_local):
            return None
        return target

    def _problem(self, scanned: Scanned, reference: htmlpage.Reference, what: str) -> None:
        line = scanned.document.text.count("\n", 0, reference.start) + 1
        self.warn(Problem(scanned.path, line, reference.url, what, kind_of(reference.url)))

    def publish(self, scanned: Scanned, urls: dict[str, str]) -> None:
        """Publish the files ``scanned`` loads: their URLs now (into ``urls``), or once uploaded."""
        for reference, target in scanned.found:
            if target.path in urls:
                continue
            try:
                url = self.run.publish(target.path)
            except ImageProblem as problem:
                self._problem(scanned, reference, f"{problem} (looked for {target.path})")
                continue
            if url is not None:
                urls[target.path] = url
        if scanned.found:
            self.scanned.append(scanned)

    def rewrite(self, urls: dict[str, str]) -> int:
        """Replace, in each file read, the URL of every published reference; the number of files changed."""
        changed = 0
        for scanned in self.scanned:
            text = scanned.document.text
            targets = {reference.start: target for reference, target in scanned.found}
            new = htmlpage.rewrite(text, (r for r, _ in scanned.found), functools.partial(_cloud, targets, urls))
            if self.run.settings.dimensions and not scanned.path.lower().endswith(STYLESHEETS):
                new = _sized(new, self._sizes(urls))
            if new != text:
                write_atomic(self.folder.root / scanned.path, scanned.document.encode(new))
                changed += 1
        return changed

    def _sizes(self, urls: dict[str, str]) -> dict[str, tuple[int, int]]:
        """The size on screen of each published image, by the cloud URL a page now holds."""
        sizes = {}
        for path, url in urls.items():
            entry = self.run.store.get(path)
            if entry is not None and entry.width and entry.height:
                sizes[with_suffix(url, "")] = (entry.width, entry.height)
        return sizes

    def leave_out(self, published: set[str]) -> list[str]:
        """``exclude_uploaded``: delete the files published now or recorded in the manifest (an in-build
        plugin or extension linked them already) that nothing left in the folder loads or names (every
        text file counts, feeds too); the folders this empties go with them."""
        recorded = published | set(self.run.store.manifest.images)
        candidates = [self.folder.root / path for path in sorted(recorded) if (self.folder.root / path).is_file()]
        gone = unmentioned(self.folder.root, candidates)
        for path in gone:
            path.unlink()
            for parent in path.parents:
                if parent == self.folder.root or any(parent.iterdir()):
                    break
                parent.rmdir()
        return [path.relative_to(self.folder.root).as_posix() for path in gone]


def _sized(text: str, sizes: dict[str, tuple[int, int]]) -> str:
    """``dimensions``: ``width``/``height`` added to each ``<img>`` that has neither and shows a published
    image (so pages do not jump while images load); nothing else changes."""
    out, last = [], 0
    for tag in start_tags(text):
        names = {attribute.name for attribute in tag.attributes}
        if tag.name != "img" or "src" not in names or names & {"width", "height"}:
            continue
        src = next(a for a in tag.attributes if a.name == "src")
        size = sizes.get(unescape(text[src.start : src.end]).split("#", 1)[0].split("?", 1)[0])
        if size is None:
            continue
        end = tag.end - 2 if text.startswith("/>", tag.end - 2) else tag.end - 1
        out += [text[last:end], f' width="{size[0]}" height="{size[1]}"']
        last = end
    out.append(text[last:])
    return "".join(out)


def _cloud(targets: dict[int, Target], urls: dict[str, str], reference: htmlpage.Reference) -> str | None:
    """The cloud URL (with the reference's own ``?query#fragment``) of what ``reference`` loads."""
    target = targets.get(reference.start)
    return with_suffix(urls[target.path], target.suffix) if target is not None and target.path in urls else None


def missing(folder_run: FolderRun) -> list[str]:
    """What publishing the folder would upload (a dry run: a lookup only, problems warned about)."""
    found: set[str] = set()
    for scanned in folder_run.scan():
        for reference, target in scanned.found:
            if target.path in found:
                continue
            try:
                if not folder_run.run.resolve(target.path).linkable:
                    found.add(target.path)
            except ImageProblem as problem:
                folder_run._problem(scanned, reference, f"{problem} (looked for {target.path})")
    return sorted(found)


def referenced_entries(folder_run: FolderRun) -> set[str]:
    """The manifest entries the folder still loads: by a local reference, or by their cloud URL (a
    published folder holds cloud URLs)."""
    images = folder_run.run.store.manifest.images
    by_url = {with_suffix(entry.url, ""): path for path, entry in images.items() if entry.url}
    referenced: set[str] = set()
    for scanned in folder_run.scan():
        referenced.update(target.path for _, target in scanned.found)
        for reference in scanned.references:
            path = by_url.get(reference.url.split("#", 1)[0].split("?", 1)[0])
            if path is not None:
                referenced.add(path)
    return referenced


def is_built_site(root: Path) -> bool:
    """Whether ``root`` holds at least one page (a folder without HTML is no built site)."""
    return any(root.rglob("*.html")) or any(root.rglob("*.htm"))
