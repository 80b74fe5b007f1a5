"""The YAML manifest: which image went where, committed beside mkdocs.yml.

It is meant to be read and diffed by people, so it is deterministic (sorted, no timestamps, no
file times): a run where nothing changed leaves it byte-identical. It never holds a secret.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from pathlib import Path

import yaml

from .errors import ManifestError

VERSION = 1
HEADER = (
    "# Images of this site in WeChat cloud storage, written by mkdocs-wxcloud.\n"
    "# Commit this file: it lets builds and `mkdocs-wxcloud check` skip the network.\n"
)

try:  # libyaml makes a 2,000-image manifest load in milliseconds
    from yaml import CSafeDumper as _Dumper
    from yaml import CSafeLoader as _Loader
except ImportError:  # pragma: no cover - PyYAML without libyaml
    from yaml import SafeDumper as _Dumper  # type: ignore[assignment]
    from yaml import SafeLoader as _Loader  # type: ignore[assignment]


@dataclass(frozen=True)
class Entry:
    """One uploaded image: where it came from and where it is now."""

    sha256: str
    size: int
    cloud_path: str
    file_id: str
    url: str = ""  # empty while the download link is not known yet
    expires: int | None = None  # unix time a signed (private storage) link stops working


@dataclass
class Manifest:
    env: str | None = None
    images: dict[str, Entry] = field(default_factory=dict)  # docs-relative path -> entry
    retired: dict[str, str] = field(default_factory=dict)  # file_id -> cloud_path, no longer used

    def by_sha(self) -> dict[str, Entry]:
        """Uploaded content by hash, so identical files share one upload."""
        return {e.sha256: e for e in self.images.values() if e.file_id}


_ENTRY_FIELDS = [f.name for f in fields(Entry)]


def to_yaml(manifest: Manifest) -> str:
    images = {}
    for path in sorted(manifest.images):
        entry = manifest.images[path]
        images[path] = {
            name: getattr(entry, name)
            for name in _ENTRY_FIELDS
            if getattr(entry, name) not in (None, "") or name == "url"
        }
    data: dict = {"version": VERSION, "env": manifest.env, "images": images}
    if manifest.retired:
        data["retired"] = [
            {"file_id": fid, "cloud_path": manifest.retired[fid]} for fid in sorted(manifest.retired)
        ]
    body = yaml.dump(
        data, Dumper=_Dumper, allow_unicode=True, sort_keys=False, width=1 << 16, default_flow_style=False
    )
    return HEADER + body


def from_yaml(text: str, where: str) -> Manifest:
    """Parse a manifest; any problem is a :class:`ManifestError` naming ``where`` (and the line)."""
    try:
        data = yaml.load(text, Loader=_Loader)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        at = f"{where}:{mark.line + 1}" if mark else where
        problem = getattr(error, "problem", None) or "not valid YAML"
        raise ManifestError(
            f"{at}: the manifest is not valid YAML ({problem}): fix it or restore it from version "
            "control; it was left unchanged"
        ) from None
    if data is None:
        return Manifest()
    if not isinstance(data, dict) or not isinstance(data.get("images", {}) or {}, dict):
        raise ManifestError(f"{where}: not a mkdocs-wxcloud manifest (no `images:` mapping); it was left unchanged")
    if data.get("version", VERSION) != VERSION:
        raise ManifestError(
            f"{where}: manifest version {data.get('version')!r} is not supported by this mkdocs-wxcloud "
            f"(expects {VERSION}): upgrade mkdocs-wxcloud"
        )
    images = {}
    for path, raw in (data.get("images") or {}).items():
        try:
            if not isinstance(raw, dict):
                raise TypeError("not a mapping")
            images[str(path)] = Entry(
                sha256=str(raw["sha256"]),
                size=int(raw["size"]),
                cloud_path=str(raw["cloud_path"]),
                file_id=str(raw["file_id"]),
                url=str(raw.get("url") or ""),
                expires=int(raw["expires"]) if raw.get("expires") is not None else None,
            )
        except (KeyError, TypeError, ValueError) as error:
            raise ManifestError(
                f"{where}: entry {path!r} is broken ({type(error).__name__}: {error}): fix or delete "
                "that entry; the manifest was left unchanged"
            ) from None
    retired = {}
    for item in data.get("retired") or []:
        if isinstance(item, dict) and item.get("file_id"):
            retired[str(item["file_id"])] = str(item.get("cloud_path", ""))
    env = data.get("env")
    return Manifest(env=str(env) if env else None, images=images, retired=retired)


def read(path: Path) -> Manifest:
    """Load the manifest at ``path``; a missing file is an empty manifest."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return Manifest()
    except (OSError, UnicodeDecodeError) as error:
        raise ManifestError(f"{path}: cannot read the manifest ({error}); it was left unchanged") from None
    return from_yaml(text, str(path))
