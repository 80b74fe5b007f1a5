"""Assemble one run from settings: manifest store, hash cache, publisher, linker."""

from __future__ import annotations

import functools
import logging
from concurrent.futures import Executor
from pathlib import Path
from typing import Callable

from ..errors import ConfigError
from ..manifest.hashing import HashCache
from ..manifest.store import ManifestStore
from .connection import connect, target_env
from .linker import Linker, Problem
from .publisher import Publisher
from .settings import Settings

log = logging.getLogger("mkdocs.plugins.wxcloud")


def open_linker(
    settings: Settings,
    docs_dir: Path,
    executor: Executor | None,
    *,
    offline: bool | None = None,
    readonly: bool = False,
    published_docs: bool = True,
    on_progress: Callable[[str, int], None] | None = None,
    warn: Callable[[Problem], None] = log.warning,
) -> Linker:
    """A linker over a fresh publisher.

    ``offline`` (default: the option) never opens the network; ``readonly`` never writes the manifest;
    ``published_docs`` (an MkDocs docs_dir, copied into the site) refuses a manifest inside it.
    """
    docs = docs_dir.resolve()
    if published_docs and (settings.manifest == docs or docs in settings.manifest.parents):
        raise ConfigError(
            f"option `manifest` ({settings.manifest}) is inside docs_dir: MkDocs would publish it and "
            "`mkdocs serve` would rebuild in a loop; keep it beside mkdocs.yml"
        )
    if not docs.is_dir():
        raise ConfigError(f"docs_dir {docs} does not exist")
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
    )
    return Linker(publisher, warn)

