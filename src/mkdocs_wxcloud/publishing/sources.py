"""The files behind docs paths: found only inside docs_dir, hashed at most once a run.

Every reference a page makes is checked here before anything is read or uploaded: a path that
leaves docs_dir, directly or through a symlink, is never published.
"""

from __future__ import annotations

import errno
import os
import stat
from pathlib import Path

from ..errors import WxCloudError
from ..manifest.hashing import HashCache
from ..references.urls import escapes


class ImageProblem(WxCloudError):
    """A referenced image that cannot be published (missing, outside docs_dir, not a file)."""

    per_file = True  # that file fails alone


class DocsFiles:
    """Locates and hashes the files of one docs_dir; hashes are cached across runs by ``hashes``."""

    def __init__(self, docs_dir: Path, hashes: HashCache) -> None:
        self.hashes = hashes
        self._docs = os.fspath(docs_dir)
        self._docs_real = os.path.realpath(docs_dir)
        self._digests: dict[str, tuple[str, int]] = {}  # per run: a page may show an image many times
        self._folders: dict[str, str] = {}  # folder -> its real path, for the symlink check

    def locate(self, path: str) -> tuple[Path, os.stat_result]:
        """The file behind a docs path; :class:`ImageProblem` says why it cannot be published."""
        full, info = self._find(path)
        return Path(full), info

    def _find(self, path: str) -> tuple[str, os.stat_result]:
        """:meth:`locate` in strings: a warm run looks up thousands of files, and reads none of them."""
        if escapes(path):
            raise ImageProblem("is outside docs_dir: it is never uploaded; move the image into docs_dir")
        if "\x00" in path:
            raise ImageProblem("is not a valid file name (it holds a NUL byte): fix the path")
        full = os.path.join(self._docs, path)
        try:
            info = os.lstat(full)  # one call for most files: a symlink alone needs what it points at
            link = stat.S_ISLNK(info.st_mode)
            if link:
                info = os.stat(full)
        except FileNotFoundError:
            raise ImageProblem("not found in docs_dir: fix the path or add the file") from None
        except OSError as error:
            raise _unreadable(error) from None
        if not stat.S_ISREG(info.st_mode):
            raise ImageProblem("is not a regular file (a directory?): fix the path")
        if not self._inside_docs(full, link):
            raise ImageProblem("is a symlink that points outside docs_dir: it is never uploaded")
        return full, info

    def digest(self, path: str) -> tuple[str, int]:
        """``(sha256, size)`` of the image as it is now; files are read only when they changed."""
        known = self._digests.get(path)
        if known is not None:
            return known
        full, info = self._find(path)
        try:
            known = self._digests[path] = self.hashes.digest(path, full, info)
        except OSError as error:
            raise _unreadable(error) from None
        return known

    def known_digest(self, path: str) -> tuple[str, int] | None:
        """:meth:`digest` if it needs no reading (the file is unchanged since hashed), else None.

        The file is still located, so a missing or forbidden image is reported where it is referenced.
        """
        known = self._digests.get(path)
        if known is not None:
            return known
        _, info = self._find(path)
        known = self.hashes.cached(path, info)
        if known is not None:
            self._digests[path] = known
        return known

    def rehash(self, path: str) -> tuple[str, int]:
        """Hash the file again, whatever its size and time say: it is known to have changed."""
        full, info = self.locate(path)
        try:
            known = self._digests[path] = self.hashes.digest(path, full, info, force=True)
        except OSError as error:
            raise _unreadable(error) from None
        return known

    def _inside_docs(self, full: str, link: bool) -> bool:
        """Whether the file (``link``: a symlink) really lives in docs_dir; folders resolved once a run."""
        if link:
            real = os.path.realpath(full)
        else:
            folder, name = os.path.split(full)
            if folder not in self._folders:
                self._folders[folder] = os.path.realpath(folder)
            real = os.path.join(self._folders[folder], name)
        return real.startswith(self._docs_real + os.sep)


def _unreadable(error: OSError) -> ImageProblem:
    """The problem of a file that cannot be read, with the fix its error calls for."""
    fix = "fix its permissions" if error.errno in (errno.EACCES, errno.EPERM) else "fix the path"
    return ImageProblem(f"cannot be read ({error.strerror}): {fix}")
