"""Assemble one run from settings: manifest store, hash cache, publisher, linker."""

from __future__ import annotations

import functools
import logging
import os
from concurrent.futures import Executor
from pathlib import Path
from typing import Callable

from ..errors import ConfigError
from ..manifest.hashing import HashCache
from ..manifest.store import ManifestStore
from .connection import connect, target_env
from .linker import DocumentOf, Linker, Problem
from .optimizing import Optimizer
from .publisher import Publisher
from .settings import Settings
from .uploads import OnProgress

log = logging.getLogger("mkdocs.plugins.wxcloud")


def open_linker(
    settings: Settings,
    docs_dir: Path,
    executor: Executor | None,
    *,
    offline: bool | None = None,
    readonly: bool = False,
    published_docs: bool = True,
    on_progress: OnProgress | None = None,
    warn: Callable[[Problem], None] = log.warning,
    document_of: DocumentOf | None = None,
    any_profile: bool = False,
) -> Linker:
    """A linker over a fresh publisher.

    ``offline`` (default: the option) never opens the network; ``readonly`` never writes the manifest;
    ``published_docs`` (an MkDocs docs_dir, copied into the site) refuses a manifest inside it;
    ``document_of`` maps pages to their built files, against which raw HTML resolves;
    ``any_profile`` takes images stored with other optimization options as current (a build that
    cannot upload), where the commands that check call them outdated.
    """
    docs = docs_dir.resolve()
    if not docs.is_dir():
        raise ConfigError(f"docs_dir {docs} does not exist")
    if published_docs:
        _outside_docs(
            docs, "manifest", settings.manifest, "MkDocs would publish it and `mkdocs serve` would rebuild in a loop"
        )
        _outside_docs(docs, "cache_dir", settings.cache_dir, "its caches and lock would be published with the site")
    try:
        settings.cache_dir.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise ConfigError(
            f"option `cache_dir` ({settings.cache_dir}) cannot be used as a folder ({error.strerror}): "
            "point it at a folder of its own"
        ) from None
    offline = settings.offline if offline is None else offline
    store = ManifestStore(settings.manifest, settings.cache_dir, target_env(settings), readonly=readonly)
    publisher = Publisher(
        docs,
        store,
        HashCache(settings.cache_dir / "hashes.json"),
        connect=None if offline else functools.partial(connect, settings),
        executor=executor,
        workers=settings.concurrency,
        prefix=settings.prefix,
        base_url=settings.base_url,
        link_max_age=settings.link_max_age,
        on_progress=on_progress,
        optimizer=Optimizer(
            settings.optimization,
            settings.cache_dir,
            dimensions=settings.dimensions,
            max_size=settings.max_size,
            any_profile=any_profile,
        ),  # fmt: skip
    )
    return Linker(publisher, warn, document_of, settings.assets)


def _outside_docs(docs: Path, option: str, path: Path, why: str) -> None:
    """Refuse a path inside docs_dir, also through a symlink (the real paths are compared)."""
    real = Path(os.path.realpath(path))
    if real == docs or docs in real.parents:
        raise ConfigError(
            f"option `{option}` ({path}) is inside docs_dir {docs}: {why}; keep it beside the site's configuration"
        )
