"""Which URLs point at local files, and where those files are in docs_dir.

A reference resolves the way MkDocs resolves links: relative to the page's source file, or from
the docs root when it starts with ``/``; it is percent-decoded; ``?query`` and ``#fragment`` are
kept aside so they survive the rewrite.
"""

from __future__ import annotations

import functools
import html.entities
import posixpath
import re
import string
from dataclasses import dataclass
from urllib.parse import quote, unquote, urlsplit


@dataclass(frozen=True)
class Target:
    """A reference to a file inside docs_dir (or an attempt to leave it)."""

    path: str  # docs-relative POSIX path, normalised; starts with "../" when it escapes docs_dir
    suffix: str  # "?query#fragment" exactly as written, "" when absent
    kind: str = "file"  # what messages call it: image, video, audio, document, file

    @property
    def escapes(self) -> bool:
        return escapes(self.path)


def escapes(path: str) -> bool:
    """Whether a normalised docs path leaves docs_dir."""
    return path == ".." or path.startswith("../")


# a path alone: no scheme, query or fragment, nothing urlsplit removes or reads otherwise
_PATH_ONLY = re.compile(r"[^:?#\t\r\n\x00-\x20]+")


def resolve(url: str, page: str) -> Target | None:
    """Resolve ``url`` written in the page ``page`` (docs-relative); None for non-local URLs.

    Remote (``https:``, ``//host``), ``data:``, ``mailto:`` and fragment-only URLs are not local.
    """
    url = url.strip()
    if not url or url.startswith("#"):
        return None
    if _PATH_ONLY.fullmatch(url) and not url.startswith("//"):
        written, suffix = url, ""  # what urlsplit makes of it, at a fraction of its cost (a site has thousands)
    else:
        try:
            parts = urlsplit(url)
        except ValueError:
            return None
        if parts.scheme or parts.netloc or not parts.path or url.startswith("//"):
            return None
        written = parts.path
        suffix = url[len(written) :] if url.startswith(written) else ""
    path = unquote(written).replace("\\", "/")
    base = "" if path.startswith("/") else posixpath.dirname(page)
    joined = posixpath.normpath(posixpath.join(base, path.lstrip("/")))
    if joined in (".", ""):
        return None
    return Target(joined, suffix)


_SAFE = "/:@!$&'()*+,;=-._~?#%"


def url_quote(url: str) -> str:
    """Percent-encode what is unsafe in every context a URL is written back into.

    Cloud URLs go into Markdown destinations, quoted and unquoted HTML attributes and srcset lists:
    spaces, quotes, angle brackets, backslashes and non-ASCII are encoded; existing escapes kept.
    """
    return quote(url, safe=_SAFE.replace("'", "").replace("(", "").replace(")", "").replace(",", ""))


_PUNCT = set(string.punctuation)


def source_pattern(url: str) -> re.Pattern[str]:
    """A regex for ``url`` as it may be written in source.

    Markdown may escape punctuation with a backslash; HTML may write any character but letters and
    digits as a character reference (``&quot;``, ``&#34;``, ``&#x22;``; ``&#22270;`` for 图).
    """
    return re.compile("".join(_written(ch) for ch in url))


@functools.lru_cache(maxsize=4096)
def _written(ch: str) -> str:
    if ch.isascii() and ch.isalnum():
        return re.escape(ch)
    alternatives = [re.escape(ch), f"&#0*{ord(ch)};", f"&#[xX]0*(?i:{ord(ch):x});"]
    if ch in _PUNCT:
        alternatives.append(re.escape("\\" + ch))
    names = [name for name, value in html.entities.html5.items() if value == ch and name.endswith(";")]
    alternatives += [re.escape(f"&{name}") for name in sorted(names, key=len, reverse=True)]
    return f"(?:{'|'.join(alternatives)})"


_DESTINATION = re.compile(r"(?:[(<\"'=]|\]:[ \t]*(?:\r?\n[ \t]*)?<?)\Z")


def line_of(source: str, url: str) -> int | None:
    """The 1-based line where ``url`` is written in ``source`` (for messages), if it is.

    A place where it stands as a destination or attribute value wins over prose and code.
    """
    matches = list(source_pattern(url).finditer(source))
    written = [m for m in matches if _DESTINATION.search(source, 0, m.start())] or matches
    return source.count("\n", 0, written[0].start()) + 1 if written else None


_ID_UNSAFE = re.compile(r"[\s\"'<>\\()`,]")


def file_id_reference(file_id: str) -> str | None:
    """A ``cloud://`` file id as a page writes it, verbatim (WeChat matches ids as stored, Chinese
    names included); None when it holds what would end a Markdown destination, an HTML attribute or
    a srcset entry (an id from before such names were avoided). A reference's ``?query#fragment``
    is not carried: an id names a file, nothing else."""
    return None if _ID_UNSAFE.search(file_id) else file_id


def with_suffix(cloud_url: str, suffix: str) -> str:
    """The cloud URL carrying the reference's own ``?query#fragment`` (``#only-dark`` survives)."""
    cloud_url = url_quote(cloud_url)
    query, _, fragment = suffix.partition("#")
    if query.startswith("?") and len(query) > 1:
        cloud_url += ("&" if "?" in cloud_url else "?") + query[1:]
    return cloud_url + (f"#{fragment}" if fragment or suffix.endswith("#") else "")
