"""A built site folder: its pages and stylesheets, and where each URL they hold leads.

URLs resolve as the reader's browser resolves them: against the page's own URL (or the
stylesheet's, for ``url(…)``), through ``<base href>``, under the site's base path (``site_url`` of
MkDocs and Zensical, ``baseURL`` of Hugo, ``url`` + ``root`` of Hexo, or ``--site-url``). An absolute
URL on the site's own origin and base path is local too. A file of the folder is never read
through a symlink that leaves it, and a URL that climbs out of the base path is no file of it.
"""

from __future__ import annotations

import os
import posixpath
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator
from urllib.parse import quote, unquote, urljoin, urlsplit

import yaml

from ...errors import ConfigError

PAGES = (".html", ".htm", ".xhtml")
STYLESHEETS = (".css",)
MAX_TEXT_BYTES = 64 << 20  # a page or stylesheet larger than this is no page: it is named and left as it is
_NOWHERE = "https://site.invalid/"  # the origin of a site whose URL is not known: relative URLs only


class Outside(Exception):
    """A URL that names a path above the site's base path (``../../x.png`` from the root)."""


@dataclass(frozen=True)
class Target:
    """A local file a reference loads: its path in the folder, and the ``?query#fragment`` as written."""

    path: str
    suffix: str


class SiteFolder:
    """The folder of a built site, served at ``site_url``."""

    def __init__(self, root: Path, site_url: str | None) -> None:
        self.root = root.resolve()
        if not self.root.is_dir():
            raise ConfigError(f"{root}: no such folder: pass the folder your generator built (site/, public/)")
        url = site_url or _NOWHERE
        parts = urlsplit(url if url.endswith("/") else url + "/")
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise ConfigError(
                f"the site URL {site_url!r} must be an absolute http(s) URL such as https://example.com/docs/"
            )
        self.origin = parts.netloc.lower()
        self.base_path = unquote(parts.path)  # "/docs/"
        self.url = f"{parts.scheme}://{parts.netloc}{parts.path}"

    def files(self) -> Iterator[str]:
        """The folder's pages and stylesheets (POSIX paths), in a stable order; symlinks that leave
        the folder, and folders starting with a dot, are left out."""
        for folder, dirs, names in os.walk(self.root, followlinks=False):
            dirs[:] = sorted(d for d in dirs if not d.startswith("."))
            for name in sorted(names):
                if name.lower().endswith(PAGES + STYLESHEETS):
                    full = Path(folder) / name
                    if self.inside(full):
                        yield full.relative_to(self.root).as_posix()

    def inside(self, full: Path) -> bool:
        real = os.path.realpath(full)
        return real.startswith(str(self.root) + os.sep)

    def page_url(self, path: str) -> str:
        """The URL the browser loads the file at ``path`` from (``index.html`` as it is named)."""
        return self.url + quote(path)

    def target(self, url: str, page: str, base: str | None = None) -> Target | None:
        """The local file ``url`` (written in the file ``page``, under ``<base href>`` ``base``) loads,
        or None when it is remote, a ``data:`` URL, a folder or this page's fragment; raises
        :class:`Outside` when it climbs out of the site's base path."""
        url = url.strip()
        if not url or url.startswith("#"):
            return None
        try:
            document = urljoin(self.page_url(page), base.strip()) if base else self.page_url(page)
            parts = urlsplit(urljoin(document, url))
        except ValueError:
            return None
        if parts.scheme not in ("http", "https") or parts.netloc.lower() != self.origin:
            return None
        path = unquote(parts.path)
        if not path.startswith(self.base_path):
            raise Outside(path)
        local = posixpath.normpath(path[len(self.base_path) :])
        if path.endswith("/") or local in (".", "") or local.startswith("../"):
            return None
        cut = min((i for i in (url.find("?"), url.find("#")) if i >= 0), default=len(url))
        return Target(local, url[cut:])


def site_url_of(project: Path) -> str | None:
    """The site URL a generator's configuration in ``project`` declares: Hugo's ``baseURL``, Hexo's
    ``url`` and ``root`` (MkDocs' and Zensical's come with their configuration)."""
    for name in ("hugo.toml", "config.toml"):
        if (project / name).is_file():
            try:
                value = tomllib.loads((project / name).read_text(encoding="utf-8")).get("baseURL")
            except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as error:
                raise ConfigError(f"{project / name}: cannot be read ({error}): fix it, or pass --site-url") from None
            return value if isinstance(value, str) and value else None
    for name in ("hugo.yaml", "hugo.yml", "_config.yml"):
        if (project / name).is_file():
            try:
                data = yaml.safe_load((project / name).read_text(encoding="utf-8"))
            except (OSError, UnicodeDecodeError, yaml.YAMLError) as error:
                raise ConfigError(f"{project / name}: cannot be read ({error}): fix it, or pass --site-url") from None
            if not isinstance(data, dict):
                return None
            if name == "_config.yml":  # Hexo: url, and root when the site is under a path
                url, root = data.get("url"), data.get("root") or "/"
                if isinstance(url, str) and url and isinstance(root, str):
                    parts = urlsplit(url)
                    base = f"/{root.strip('/')}/" if root.strip("/") else "/"
                    return f"{parts.scheme}://{parts.netloc}{base}"
                return None
            value = data.get("baseURL")
            return value if isinstance(value, str) and value else None
    return None
