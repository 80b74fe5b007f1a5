"""The pages of a site as the command line sees them: from mkdocs.yml, or from plain folders.

This is the only place besides the plugin that reads MkDocs: ``load_config`` handles ``!ENV``,
``INHERIT`` and ``!!python/name`` tags, and ``get_files`` applies ``exclude_docs`` exactly as a
build does. Everything after it (finding references, publishing) is MkDocs-free.
"""

from __future__ import annotations

import json
import logging
import os
from concurrent.futures import Executor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterable, Mapping

import markdown

from ..errors import ConfigError
from ..publishing import settings as options
from ..publishing.linker import Linker, Problem
from ..publishing.workspace import open_linker
from ..references.treeprocessor import ReplaceIn, markdown_factory

log = logging.getLogger("mkdocs.plugins.wxcloud")
PLAIN_EXTENSIONS = ["extra", "admonition", "toc"]
PLUGIN_NAME = "wxcloud"  # the entry point name, which MkDocs keys its plugins by


@dataclass
class Site:
    settings: options.Settings
    docs_dir: Path
    pages: list[str]  # docs-relative POSIX paths of the Markdown pages
    make: Callable[[ReplaceIn], markdown.Markdown]
    fingerprint: str = ""  # identifies the Markdown configuration, for the reference cache
    config_file: Path | None = None  # None: plain folders, not an MkDocs site
    documents: dict[str, str] | None = None  # page -> its built file (the URL raw HTML resolves against)

    def open_linker(self, executor: Executor | None, **options: Any) -> Linker:
        """A run over this site's docs (see :func:`~..publishing.workspace.open_linker` for ``options``)."""
        options.setdefault("warn", self.warn)
        document_of = self.documents.get if self.documents is not None else None
        return open_linker(self.settings, self.docs_dir, executor, published_docs=self.config_file is not None,
                           document_of=document_of, **options)  # fmt: skip

    def describe(self, problem: Problem) -> str:
        """``docs/page.md:12: img/a.png: what is wrong``, with a path the user can open from here."""
        where = self.shown(problem.page) if problem.page in self.pages else problem.page
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


def from_mkdocs(config_file: Path, overrides: Mapping[str, Any] | None = None) -> Site:
    """Load mkdocs.yml and the wxcloud plugin's options; errors become :class:`ConfigError`."""
    from mkdocs.config import load_config
    from mkdocs.exceptions import Abort, ConfigurationError
    from mkdocs.structure.files import get_files

    if not config_file.is_file():
        raise ConfigError(f"{config_file}: no such file: pass the site's mkdocs.yml with -f")
    try:
        config = load_config(str(config_file))
    except (ConfigurationError, Abort) as error:
        raise ConfigError(f"{config_file}: {error}") from None
    plugin = config.plugins.get(PLUGIN_NAME)
    plugin_options: dict[str, Any] = dict(plugin.config) if plugin is not None else {}
    if plugin is None:
        log.info("wxcloud: %s has no `wxcloud` plugin entry: using the default options", config_file)
    plugin_options.update(overrides or {})
    settings = options.resolve(plugin_options, config_file.resolve().parent)
    files = get_files(config)
    pages = sorted(f.src_uri for f in files.documentation_pages())
    extensions = list(config.markdown_extensions)
    configs = dict(config.mdx_configs or {})
    return Site(
        settings=settings,
        docs_dir=Path(config.docs_dir),
        pages=pages,
        make=markdown_factory(extensions, configs),
        fingerprint=_fingerprint(extensions, configs),
        config_file=config_file,
        documents={f.src_uri: f.dest_uri for f in files.documentation_pages()},
    )


def from_paths(
    paths: Iterable[Path], root: Path, extensions: list[str], overrides: Mapping[str, Any]
) -> Site:
    """A site without mkdocs.yml: ``root`` plays docs_dir, ``paths`` are files or folders in it."""
    root = root.resolve()
    settings = options.resolve(overrides, root)
    pages = sorted(set(markdown_pages(paths, root)))
    return Site(
        settings=settings,
        docs_dir=root,
        pages=pages,
        make=markdown_factory(extensions),
        fingerprint=_fingerprint(extensions, {}),
    )


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

    return json.dumps([[e if isinstance(e, str) else name(e) for e in extensions], configs], default=name, sort_keys=True)
