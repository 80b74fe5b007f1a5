"""Where an image goes in cloud storage.

The content hash is part of the path: uploading to an existing path overwrites it while the
file_id and URL stay the same, so browsers and CDNs would keep the old bytes. With the hash in
the path, changed content always gets a new URL, and two different files never share a path.
"""

from __future__ import annotations

import posixpath
import re
from urllib.parse import quote

MAX_ENCODED_BYTES = 850
# the storage's rules (` ^ " \ { } [ ] ~ % # > < | and controls), the characters WeChat says "may need
# special handling" (+ ? & = ; $ : and space; a `?` splits the COS upload URL), and what a page could
# not carry in a file id as it is (quotes, parentheses, commas): `rewrite --link file-id` writes ids
# verbatim, since WeChat matches them so. `@` (as in `@2x`) stays: it round-trips (tests/test_stored_objects.py).
_UNSAFE = re.compile(r'[\x00-\x1f\x7f`^"\\{}\[\]~%#<>|+?&=;$:\s\'(),]')


def cloud_path(prefix: str, docs_path: str, sha256: str, ext: str | None = None) -> str:
    """``prefix/dir/name.<hash12>.ext``, readable in the console, valid for the storage rules.

    ``sha256`` is the hash of the stored bytes, ``ext`` their extension when it is not the source's
    (an image stored as WebP).
    """
    folder, name = posixpath.split(docs_path)
    stem, own = posixpath.splitext(name)
    ext = ext or own
    top = _parts(prefix)
    path = "/".join(_UNSAFE.sub("_", p) for p in [*top, *_parts(folder), f"{stem}.{sha256[:12]}{ext.lower()}"])
    if len(quote(path, safe="/").encode("ascii")) > MAX_ENCODED_BYTES:
        path = "/".join(_UNSAFE.sub("_", p) for p in [*top, f"{sha256}{ext.lower()}"])
    return path


def _parts(path: str) -> list[str]:
    """The parts of ``path`` the storage keeps: no empty, '.' or '..' one (the manifest refuses them)."""
    return [p for p in path.split("/") if p and p not in (".", "..")]
