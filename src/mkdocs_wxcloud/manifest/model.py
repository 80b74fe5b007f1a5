"""The YAML manifest: which image went where, committed beside mkdocs.yml.

It is meant to be read and diffed by people, so it is deterministic (sorted, no timestamps, no
file times): a run where nothing changed leaves it byte-identical. It never holds a secret.
"""

from __future__ import annotations

import hashlib
import re
import textwrap
from dataclasses import dataclass, field, fields
from pathlib import Path

import yaml

from .. import caches
from ..errors import ManifestError
from . import schema

VERSION = schema.VERSION
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


@dataclass(frozen=True, slots=True)
class Entry:
    """One uploaded image: where it came from and where it is now (slots: a site has thousands)."""

    sha256: str
    size: int
    cloud_path: str
    file_id: str
    url: str = ""  # empty while the download link is not known yet
    expires: int | None = None  # unix time a signed (private storage) link stops working
    stored_size: int | None = None  # bytes in the cloud, when optimizing changed them
    width: int | None = None  # of the stored image as shown on screen, when known
    height: int | None = None
    optimize: str = ""  # the optimization profile it was stored with ("" for the bytes as they are)
    done: str = ""  # what optimizing did ("oxipng", "kept: already as small")
    source: str = ""  # imported files: the URL as the page wrote it (the entry's key is that URL, canonical)

    @property
    def stored(self) -> int:
        """Bytes in the cloud."""
        return self.size if self.stored_size is None else self.stored_size


@dataclass
class Manifest:
    env: str | None = None
    images: dict[str, Entry] = field(default_factory=dict)  # docs-relative path (or imported URL) -> entry
    retired: dict[str, str] = field(default_factory=dict)  # file_id -> cloud_path, no longer used


_ENTRY_FIELDS = [f.name for f in fields(Entry)]


def _dump(data: object) -> str:
    return yaml.dump(data, Dumper=_Dumper, allow_unicode=True, sort_keys=False, width=1 << 16, default_flow_style=False)


# A text PyYAML writes as it is (a plain scalar): word characters (CJK included), and no character
# that starts or ends anything in YAML where it stands; the resolver must also read it back as text.
_PLAIN = re.compile(r"[\w/][\w./:%=@+~?&-]*(?<!:)")
# A text PyYAML must quote (``": "`` starts a mapping value), of printable characters on one line:
# it writes it in single quotes, each quote doubled.
_QUOTED = re.compile(r"(?=.*: )[\x20-\x7e\xa0-\u2027\u202a-\ud7ff\ue000-\ufefe\uff00-\ufffd]+")
_RESOLVER = yaml.resolver.Resolver()
_TEXT = "tag:yaml.org,2002:str"
_SIMPLE_KEY = 128  # PyYAML writes longer keys in the "? key" form


def _scalar(value: object) -> str | None:
    """``value`` as PyYAML would write it, for the common values whose form is certain; else None."""
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    if value == "":
        return "''"
    if (isinstance(value, str) and len(value) < _SIMPLE_KEY and _PLAIN.fullmatch(value)
            and _RESOLVER.resolve(yaml.ScalarNode, value, (True, False)) == _TEXT):  # fmt: skip
        return value
    if isinstance(value, str) and _QUOTED.fullmatch(value):
        return "'" + value.replace("'", "''") + "'"
    return None


def _entry_yaml(path: str, fields_: dict[str, object]) -> str:
    """One entry under ``images:``, byte for byte what ``yaml.dump`` writes; written directly when
    every scalar is a common one (a save of thousands of entries costs milliseconds, not a second)."""
    key, values = _scalar(path) if path else None, [_scalar(v) for v in fields_.values()]  # "" is no simple key
    if key is None or None in values:
        return textwrap.indent(_dump({path: fields_}), "  ")
    return f"  {key}:\n" + "".join(f"    {name}: {value}\n" for name, value in zip(fields_, values))


def to_yaml(manifest: Manifest) -> str:
    """Sorted YAML, written one entry at a time so memory does not grow with a node tree of the whole."""
    parts = [HEADER, _dump({"version": VERSION, "env": manifest.env})]
    if not manifest.images:
        parts.append("images: {}\n")
    else:
        parts.append("images:\n")
        for path in sorted(manifest.images):
            entry = manifest.images[path]
            fields_ = {n: getattr(entry, n) for n in _ENTRY_FIELDS if getattr(entry, n) not in (None, "") or n == "url"}
            parts.append(_entry_yaml(path, fields_))
    if manifest.retired:
        parts.append("retired:\n")
        for file_id in sorted(manifest.retired):
            parts.append(textwrap.indent(_dump([{"file_id": file_id, "cloud_path": manifest.retired[file_id]}]), "  "))
    return "".join(parts)


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
    try:
        schema.check(data)
    except schema.Invalid as problem:
        line = schema.line_of(text, problem.path, _Loader)
        raise ManifestError(
            f"{where}{f':{line}' if line else ''}: {schema.describe(problem.path)}: {problem.message}: "
            f"{problem.advice} (the manifest was left unchanged)"
        ) from None
    return _manifest(data)


def entry_from(raw: dict) -> Entry:
    """An entry from a mapping that :func:`schema.check_entry` accepted."""
    return Entry(**{name: raw[name] for name in schema.FIELDS if raw.get(name) is not None})


def image_lines(path: Path) -> dict[str, int]:
    """The line of each image entry in the manifest file at ``path`` (none when it cannot be read)."""
    try:
        return schema.image_lines(path.read_text(encoding="utf-8"), _Loader)
    except (OSError, UnicodeDecodeError):
        return {}


def read(path: Path, cache: Path | None = None) -> Manifest:
    """Load the manifest at ``path``; a missing file is an empty manifest.

    Parsing YAML costs a warm build of a large site more than everything else the plugin does, so
    the parsed form is cached in ``cache`` (fields by name), valid while the manifest's text is
    unchanged, and checked by the same schema as the manifest: the cache is no way around it.
    """
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return Manifest()
    except (OSError, UnicodeDecodeError) as error:
        raise ManifestError(f"{path}: cannot read the manifest ({error}); it was left unchanged") from None
    key = hashlib.sha256(text.encode("utf-8")).hexdigest()
    data = caches.load(cache, "manifest", 2) if cache is not None else None
    if data is not None and data.pop("sha256", None) == key:
        try:
            schema.check(data)
            return _manifest(data)
        except (schema.Invalid, TypeError):
            pass  # not what we wrote: parse the YAML
    manifest = from_yaml(text, str(path))
    if cache is not None:
        remember(manifest, key, cache)
    return manifest


def _manifest(data: dict) -> Manifest:
    """A manifest from a mapping that :func:`schema.check` accepted."""
    images = {path: entry_from(raw) for path, raw in (data.get("images") or {}).items()}
    retired = {item["file_id"]: item["cloud_path"] for item in data.get("retired") or []}
    return Manifest(env=data.get("env"), images=images, retired=retired)


def remember(manifest: Manifest, sha256: str, cache: Path) -> None:
    """Cache the parsed form of the manifest text whose hash is ``sha256`` (a cache that cannot be
    written only costs time)."""
    images = {
        path: {n: v for n in _ENTRY_FIELDS if (v := getattr(e, n)) is not None} for path, e in manifest.images.items()
    }
    retired = [{"file_id": file_id, "cloud_path": cloud_path} for file_id, cloud_path in manifest.retired.items()]
    data = {"sha256": sha256, "version": VERSION, "env": manifest.env, "images": images, "retired": retired}
    try:
        caches.save(cache, "manifest", 2, data)
    except OSError:
        pass
