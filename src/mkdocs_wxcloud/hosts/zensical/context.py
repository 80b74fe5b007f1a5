"""The page Zensical is rendering, learnt from its per-page rendering context.

Zensical makes a new ``Markdown`` for every page and registers a preprocessor named
``rendering_context`` first, holding the page (``path`` relative to docs_dir, ``url``) and the
project's configuration (``root_dir``, the folder of zensical.toml; ``docs_dir``). It has no public
module API yet, so this reads those attributes by name and answers None when they are not there.
"""

from __future__ import annotations

import posixpath
import sys
from dataclasses import dataclass
from pathlib import Path

import markdown

CONTEXT = "rendering_context"


@dataclass(frozen=True)
class PageContext:
    page: str  # docs-relative POSIX path of the Markdown source
    root: Path  # the project root: the folder of zensical.toml (or mkdocs.yml)
    docs_dir: Path


def page_context(md: markdown.Markdown) -> PageContext | None:
    """The context of the page ``md`` renders, or None outside Zensical (or if Zensical moved it)."""
    if CONTEXT not in md.preprocessors:
        return None
    processor = md.preprocessors[CONTEXT]
    page, config = getattr(processor, "page", None), getattr(processor, "config", None)
    path = getattr(page, "path", None)
    if not isinstance(path, str) or not isinstance(config, dict) or not isinstance(config.get("root_dir"), str):
        return None
    root = Path(config["root_dir"]).resolve()
    docs_dir = root / str(config.get("docs_dir") or "docs")
    return PageContext(page=posixpath.normpath(path.replace("\\", "/")), root=root, docs_dir=docs_dir)


def in_zensical() -> bool:
    """Whether this process is a Zensical build (its modules are loaded)."""
    return "zensical" in sys.modules
