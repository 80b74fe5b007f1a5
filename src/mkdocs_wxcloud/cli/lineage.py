"""What the same site's other branches and tags still show, for ``prune``.

A file's cloud path depends only on its docs path, its content and ``prefix``: a branch or a tagged
version (as ``mike`` deploys them) built from the same manifest stores the same file at the same
path. ``prune`` on one of them must not delete what another still shows, so it keeps every file id
that the manifest at the same path records on any branch, remote branch or tag of its git
repository, and that the other sites of the checkout (manifests of the same name: a monorepo) record.
Sites in other repositories that share the env must use another ``prefix``.
"""

from __future__ import annotations

import posixpath
import subprocess
from pathlib import Path

from ..errors import ManifestError, WxCloudError
from ..manifest.model import Manifest, from_yaml

_TIMEOUT = 120.0  # seconds: git reads only refs and one blob per ref


class Unknown(WxCloudError):
    """Another branch's or tag's manifest exists but cannot be read: what it shows is not known."""


def _git(root: Path, *args: str, stdin: bytes | None = None) -> bytes | None:
    try:
        done = subprocess.run(["git", *args], cwd=root, input=stdin, capture_output=True, timeout=_TIMEOUT, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return done.stdout if done.returncode == 0 else None


def shown_elsewhere(manifest: Path, env: str | None) -> dict[str, str]:
    """file id -> the first ref whose manifest (same path) records it, in ``env``; empty outside git.
    Raises :class:`Unknown` for a manifest that cannot be read."""
    folder = manifest.resolve().parent
    top = _git(folder, "rev-parse", "--show-toplevel")
    if top is None:
        return {}
    root = Path(top.decode("utf-8", "surrogateescape").strip())
    try:
        relative = manifest.resolve().relative_to(root).as_posix()
    except ValueError:
        return {}
    head = (_git(root, "rev-parse", "-q", "--verify", "HEAD") or b"").strip().decode()
    listed = _git(root, "for-each-ref", "--format=%(objectname) %(*objectname) %(refname)", "refs/heads",
                  "refs/remotes", "refs/tags")  # fmt: skip
    refs = []
    for line in (listed or b"").decode("utf-8", "surrogateescape").splitlines():
        commit, peeled, ref = line.split(" ", 2) if line.count(" ") >= 2 else (*line.split(" ", 1), "")
        if ref and not ref.endswith("/HEAD") and head not in (commit, peeled):  # this checkout: its manifest rules
            refs.append(ref)
    if not refs:
        return _other_sites(root, relative, env)
    batch = _git(root, "cat-file", "--batch", stdin="".join(f"{ref}:{relative}\n" for ref in refs).encode())
    if batch is None:
        raise Unknown(f"{manifest}: git could not read the manifests of the other branches and tags")
    shown = _other_sites(root, relative, env)
    seen: set[bytes] = set()
    at = 0
    for ref in refs:
        end = batch.index(b"\n", at)
        header = batch[at:end].split()
        at = end + 1
        if header[-1] == b"missing":
            continue
        size = int(header[2])
        blob, at = batch[at : at + size], at + size + 1
        if header[0] in seen:
            continue
        seen.add(header[0])
        name = ref.removeprefix("refs/")
        try:
            recorded = from_yaml(blob.decode("utf-8"), f"{name}:{relative}")
        except (ManifestError, UnicodeDecodeError) as error:
            raise Unknown(f"{error}: so what {name} shows is not known") from None
        _record(shown, recorded, env, name)
    return shown


def _record(shown: dict[str, str], recorded: Manifest, env: str | None, name: str) -> None:
    if env is None or recorded.env in (None, env):
        for entry in recorded.images.values():
            shown.setdefault(entry.file_id, name)


def _other_sites(root: Path, relative: str, env: str | None) -> dict[str, str]:
    """The file ids that the other sites of the repository (manifests of the same name, elsewhere in the
    checkout: a monorepo's sites) record."""
    listed = _git(root, "ls-files", "-z", "--", f":(glob)**/{posixpath.basename(relative)}")
    shown: dict[str, str] = {}
    for name in (listed or b"").decode("utf-8", "surrogateescape").split("\0"):
        if not name or name == relative or not (root / name).is_file():
            continue
        try:
            recorded = from_yaml((root / name).read_text(encoding="utf-8"), name)
        except (ManifestError, OSError, UnicodeDecodeError) as error:
            raise Unknown(f"{error}: so what the site of {name} shows is not known") from None
        _record(shown, recorded, env, name)
    return shown
