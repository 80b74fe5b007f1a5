"""The pages MkDocs finds in docs_dir, remembered under the file names it found them among.

MkDocs' ``get_files`` makes an object of every file of docs_dir, images included, to find the
pages: on a site of 10,000 images it costs a warm ``check`` a fifth of its time. Which files are
pages, and where they are built, depends only on the names in docs_dir and on a few options; so
the answer is kept in ``cache_dir`` under a digest of those names and options (one walk of the
folder, which reads no file), and ``get_files`` runs again whenever any name or option differs.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .. import caches
from ..manifest.schema import docs_path_problem
from ..publishing.stylesheets import stylesheets

KIND, FORMAT = "listing", 1


@dataclass(frozen=True)
class Listing:
    documents: dict[str, str]  # the pages' docs paths -> where they are built (dest_uri)
    stylesheets: list[str]  # the docs paths of the ``extra_css`` files


def pages_of(config: Any, cache_dir: Path) -> Listing:
    """The documentation pages and stylesheets of a loaded MkDocs ``config``, as ``get_files`` finds them."""
    import mkdocs
    from mkdocs.structure.files import get_files

    options = [
        mkdocs.__version__, str(config.docs_dir), str(config.site_dir), bool(config.use_directory_urls),
        [str(entry) for entry in config.extra_css],
        *(_patterns(config.get(name)) for name in ("exclude_docs", "draft_docs", "not_in_nav")),
    ]  # fmt: skip
    key = _digest(options, str(config.docs_dir))
    path = cache_dir / "listing.json"
    data = caches.load(path, KIND, FORMAT, per_release=True) or {}
    if data.get("key") == key and _valid(data):
        return Listing(dict(data["documents"]), list(data["stylesheets"]))
    files = get_files(config)
    listing = Listing(
        {f.src_uri: f.dest_uri for f in files.documentation_pages()}, stylesheets(config.extra_css, files)
    )
    try:
        cache_dir.mkdir(parents=True, exist_ok=True)
        caches.save(
            path, KIND, FORMAT, {"key": key, "documents": listing.documents, "stylesheets": listing.stylesheets}
        )
    except OSError:
        pass  # a cache that cannot be written costs the next run time, nothing else
    return listing


def _patterns(spec: Any) -> list[Any]:
    """A pathspec's rules as text (what ``exclude_docs`` and its kin hold once MkDocs read them)."""
    return [[p.include, p.regex.pattern] for p in getattr(spec, "patterns", ()) if getattr(p, "regex", None)]


def _digest(options: list[Any], docs_dir: str) -> str:
    """A digest of the options and of every name under docs_dir, as MkDocs walks it (links followed)."""
    digest = hashlib.sha256(json.dumps(options).encode())
    for folder, dirs, names in os.walk(docs_dir, followlinks=True):
        dirs.sort()
        digest.update(
            f"\0{os.path.relpath(folder, docs_dir)}\0{'/'.join(sorted(names))}".encode("utf-8", "surrogateescape")
        )
    return digest.hexdigest()


def _valid(data: dict[str, Any]) -> bool:
    """A cache is input: pages are docs paths inside docs_dir, the rest texts."""
    documents, sheets = data.get("documents"), data.get("stylesheets")
    return (
        isinstance(documents, dict) and isinstance(sheets, list)
        and all(docs_path_problem(k) is None and isinstance(v, str) for k, v in documents.items())
        and all(docs_path_problem(s) is None for s in sheets)
    )  # fmt: skip
