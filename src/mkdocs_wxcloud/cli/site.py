"""The pages of a site as the command line sees them, and how problems with them are shown.

A :class:`Site` comes from a host's configuration (:mod:`.projects`) or from plain folders
(:func:`from_paths`); everything after it (finding references, publishing) is host-free.
"""

from __future__ import annotations

import functools
import json
import logging
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, ContextManager, Iterable, Mapping

import markdown

from ..errors import ConfigError
from ..publishing import settings as options
from ..publishing.linker import Linker, Problem
from ..publishing.run import Mode, Run, open_run
from ..references.scanner import Scanner
from ..references.treeprocessor import ReplaceIn, markdown_factory

log = logging.getLogger("mkdocs.plugins.wxcloud")
PLAIN_EXTENSIONS = ["extra", "admonition", "toc"]


@dataclass
class Site:
    settings: options.Settings
    docs_dir: Path
    pages: list[str]  # docs-relative POSIX paths of the Markdown pages
    extensions: list  # the Markdown extensions and their configs, as the host renders the pages
    configs: dict[str, Any]
    fingerprint: str = ""  # identifies the Markdown configuration, for the reference cache
    config_file: Path | None = None  # None: plain folders, not an MkDocs site
    documents: dict[str, str] | None = None  # page -> its built file (the URL raw HTML resolves against)
    stylesheets: list[str] = field(default_factory=list)  # extra_css of docs_dir, whose url(…) are published
    site_url: str | None = None  # where the built site is served (its base path matters to raw URLs)
    site_dir: Path | None = None  # where the host builds it
    plugins: list[str] = field(default_factory=list)  # MkDocs plugins that change pages: read through a build
    optimized_by_theme: bool = False  # Material's optimize plugin writes copies nobody loads
    found: list | None = None  # (PageScan, url, Target) as a scan build found them (cli/built.py); None: scan
    leftovers: list = field(default_factory=list)  # built.Leftover: what the built site loads unlinked
    build_warnings: list[str] = field(default_factory=list)  # what that build warned about

    @functools.cached_property
    def make(self) -> Callable[[ReplaceIn], markdown.Markdown]:
        """A maker of the pages' full Markdown pipeline (``rewrite`` renders with it to check its work)."""
        return markdown_factory(self.extensions, self.configs)

    @functools.cached_property
    def scanner(self) -> Scanner:
        """What lists the pages' references, faster than the full pipeline and with the same result."""
        return Scanner(self.extensions, self.configs)

    def open(self, **mode: Any) -> ContextManager[Run]:
        """A run over this site's docs (``mode``: the fields of :class:`~..publishing.run.Mode`)."""
        return open_run(self.settings, self.docs_dir, Mode(published_docs=self.config_file is not None, **mode))

    def linker(self, run: Run, warn: Callable[[Problem], None] | None = None) -> Linker:
        """How the pages' references are classified and worded (raw HTML against the built page's URL)."""
        document_of = self.documents.get if self.documents is not None else None
        return Linker(run, warn or self.warn, document_of)

    def describe(self, problem: Problem) -> str:
        """``docs/page.md:12: img/a.png: what is wrong``, with a path the user can open from here."""
        where = (
            self.shown(problem.page) if problem.page in self.pages or problem.page in self.stylesheets else problem.page
        )
        line = f":{problem.line}" if problem.line else ""
        return f"{where}{line}: {f'{problem.url}: ' if problem.url else ''}{problem.message}"

    def warn(self, problem: Problem) -> None:
        log.warning("%s", self.describe(problem))

    def shown(self, page: str) -> str:
        """A page's path as the user can open it: relative to the current directory when possible."""
        full = self.docs_dir / page
        try:
            return os.path.relpath(full)
        except ValueError:
            return str(full)


def new_site(settings: options.Settings, docs_dir: Path, pages: Iterable[str], extensions: list, configs: dict,
             **more: Any) -> Site:  # fmt: skip
    """A site whose pages render with these Markdown extensions (``more``: ``config_file``, ``documents``,
    ``stylesheets``)."""
    return Site(settings=settings, docs_dir=docs_dir, pages=sorted(pages), extensions=extensions, configs=configs,
                fingerprint=_fingerprint(extensions, configs), **more)  # fmt: skip


def from_paths(paths: Iterable[Path], root: Path, extensions: list[str], overrides: Mapping[str, Any]) -> Site:
    """A site without a configuration: ``root`` plays docs_dir, ``paths`` are files or folders in it."""
    root = root.resolve()
    return new_site(options.resolve(overrides, root), root, set(markdown_pages(paths, root)), extensions, {})


def markdown_pages(paths: Iterable[Path], docs_dir: Path) -> Iterable[str]:
    """Docs-relative paths of the ``.md``/``.markdown`` files given or found under folders."""
    docs_dir = docs_dir.resolve()
    for path in paths:
        full = path.resolve()
        if docs_dir != full and docs_dir not in full.parents:
            raise ConfigError(f"{path} is outside the docs folder {docs_dir}: pass files inside it (or --root)")
        if full.is_dir():
            for folder, dirs, names in os.walk(full):
                dirs[:] = sorted(d for d in dirs if not d.startswith("."))
                for name in sorted(names):
                    if name.endswith((".md", ".markdown")):
                        yield (Path(folder) / name).relative_to(docs_dir).as_posix()
        elif full.is_file():
            yield full.relative_to(docs_dir).as_posix()
        else:
            raise ConfigError(f"{path}: no such file or folder")


def _fingerprint(extensions: list, configs: dict) -> str:
    """A stable text for the Markdown configuration (objects by their qualified name)."""

    def name(value: object) -> str:
        kind = value if isinstance(value, type) or callable(value) else type(value)
        return f"{getattr(kind, '__module__', '')}.{getattr(kind, '__qualname__', repr(kind))}"

    return json.dumps(
        [[e if isinstance(e, str) else name(e) for e in extensions], configs], default=name, sort_keys=True
    )
