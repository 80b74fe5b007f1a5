"""What a manifest may hold: every field of every entry is checked before anything uses it.

The manifest is committed, so a pull request (from a fork, too) can edit it: a ``url`` must be an
http(s) URL (it goes into pages as it is), paths and ids must be what mkdocs-wxcloud writes. A
manifest that breaks a rule is refused with the line and key at fault, never repaired: repairing
would silently drop entries, and with them the record of files in the cloud.
"""

from __future__ import annotations

import re
from typing import Any, Callable
from urllib.parse import urlsplit

import yaml

VERSION = 1
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_NOT_IN_URL = re.compile(r"[\x00-\x1f\x7f\s]")  # controls and any whitespace: one pass in C
_ODD_PART = re.compile(r"(?:^|/)\.{0,2}(?:/|$)")  # an empty, "." or ".." part (a leading "/" is an empty one)
_PLAIN_WEB_URL = re.compile(r"(?i)https?://[a-z0-9.-]+(?::[0-9]*)?/")  # a scheme, a host name, a path
_SHA256 = re.compile(r"[0-9a-f]{64}")
Path = tuple  # where a value sits: ("images", "img/a.png", "url"), ("retired", 3, "file_id")


_FIX = "fix it, or restore the manifest from version control"
_UPGRADE = "upgrade mkdocs-wxcloud"


class Invalid(Exception):
    """A rule broken at ``path``: what is wrong and what to do (no file name: the caller knows it)."""

    def __init__(self, path: Path, message: str, advice: str = _FIX) -> None:
        super().__init__(message)
        self.path = path
        self.message = message
        self.advice = advice


def is_web_url(url: object) -> bool:
    """Whether ``url`` is an absolute http(s) URL with a host: the only kind that may reach a page."""
    if not isinstance(url, str) or _NOT_IN_URL.search(url):
        return False
    if _PLAIN_WEB_URL.match(url):  # the usual form, whose answer below is certain: one pass in C
        return True
    try:
        parts = urlsplit(url)
        return parts.scheme.lower() in ("http", "https") and bool(parts.hostname)
    except ValueError:  # e.g. an unclosed IPv6 bracket
        return False


def _text(value: object) -> bool:
    return isinstance(value, str) and bool(value) and not _CONTROL.search(value)


def docs_path_problem(value: object) -> str | None:
    """What is wrong with a docs path (a normalised path inside docs_dir, as written here), or None."""
    if not isinstance(value, str) or not _text(value):
        return "must be a non-empty text without control characters"
    if _ODD_PART.search(value):  # what posixpath.normpath would change, or what climbs out
        return "must be a normalised path inside docs_dir, as mkdocs-wxcloud writes it"
    return None


def _cloud_path(value: object) -> str | None:
    if not isinstance(value, str) or not _text(value):
        return "must be a non-empty text without control characters"
    if _ODD_PART.search(value):
        return "must be a cloud storage path (no leading '/', no empty, '.' or '..' parts)"
    return None


def _file_id(value: object) -> str | None:
    if not isinstance(value, str) or not _text(value) or not value.startswith("cloud://"):
        return "must be a cloud file id (cloud://env.bucket/path)"
    return None


def _count(value: object) -> str | None:
    ok = isinstance(value, int) and not isinstance(value, bool) and value >= 0
    return None if ok else "must be a whole number of at least 0"


def _pixels(value: object) -> str | None:
    ok = isinstance(value, int) and not isinstance(value, bool) and 1 <= value <= 100_000
    return None if ok else "must be a whole number of pixels from 1 to 100000"


def _note(value: object, longest: int) -> str | None:
    if value in ("", None):
        return None
    if not _text(value) or len(value) > longest:  # type: ignore[arg-type]
        return f"must be a short text (at most {longest} characters) without control characters"
    return None


FIELDS: dict[str, tuple[bool, Callable[[Any], "str | None"]]] = {
    # name: (required, check returning what is wrong or None)
    "sha256": (
        True,
        lambda v: None if isinstance(v, str) and _SHA256.fullmatch(v) else "must be 64 lowercase hex digits",
    ),
    "size": (True, _count),
    "cloud_path": (True, _cloud_path),
    "file_id": (True, _file_id),
    "url": (False, lambda v: None if v in ("", None) or is_web_url(v) else "must be an http:// or https:// URL"),
    "expires": (False, lambda v: None if v is None else _count(v)),
    "stored_size": (False, lambda v: None if v is None else _count(v)),
    "width": (False, lambda v: None if v is None else _pixels(v)),  # goes into pages: a number, always
    "height": (False, lambda v: None if v is None else _pixels(v)),
    "optimize": (False, lambda v: _note(v, 80)),
    "done": (False, lambda v: _note(v, 200)),
    "source": (False, lambda v: None if v in ("", None) or is_web_url(v) else "must be an http:// or https:// URL"),
}
"""The fields of an image entry; the manifest's ``Entry`` has exactly these."""


def _imported_key(value: object) -> str | None:
    """An imported file is keyed by its source URL (as downloads name it: no fragment)."""
    if not is_web_url(value) or "#" in value:  # type: ignore[operator]
        return "must be an http(s) URL without a #fragment, as mkdocs-wxcloud writes it"
    return None


def check_image(path: object, raw: object) -> None:
    """Check one image: its docs path and its entry (from the manifest, or a journal line)."""
    where = ("images", path)
    imported = isinstance(raw, dict) and raw.get("source") not in ("", None)
    wrong = _imported_key(path) if imported else docs_path_problem(path)
    if wrong:
        raise Invalid(where, f"the {'source URL' if imported else 'image path'} {wrong}")
    if not isinstance(raw, dict):
        raise Invalid(where, "must be a mapping of sha256, size, cloud_path, file_id and url")
    for key in raw:
        if key not in FIELDS:
            raise Invalid(
                (*where, key),
                f"unknown field (an entry has {', '.join(FIELDS)})",
                f"{_UPGRADE} if a newer one wrote it, else {_FIX}",
            )
    for key, (required, check) in FIELDS.items():
        if key not in raw:
            if required:
                raise Invalid((*where, key), "is missing")
            continue
        wrong = check(raw[key])
        if wrong:
            raise Invalid((*where, key), wrong)
    if not raw["file_id"].endswith("/" + raw["cloud_path"]):  # pages may link the id itself (rewrite --link file-id)
        raise Invalid((*where, "file_id"), "must be the id of the entry's cloud_path (cloud://env.bucket/<cloud_path>)")


def check(data: object) -> None:
    """Check a whole parsed manifest; raises :class:`Invalid` at the first rule broken."""
    if not isinstance(data, dict):
        raise Invalid((), "not a mkdocs-wxcloud manifest (the top level must be a mapping with `images:`)")
    for key in data:
        if key not in ("version", "env", "images", "retired"):
            raise Invalid((key,), "unknown key (a manifest has version, env, images and retired)")
    version = data.get("version", VERSION)
    if version != VERSION or isinstance(version, bool):
        raise Invalid(
            ("version",),
            f"manifest version {version!r} is not supported by this mkdocs-wxcloud (expects {VERSION})",
            _UPGRADE,
        )
    if data.get("env") is not None and not _text(data["env"]):
        raise Invalid(("env",), "must be a cloud environment id")
    images = data.get("images")
    if images is not None and not isinstance(images, dict):
        raise Invalid(("images",), "must be a mapping of docs paths to entries")
    for path, raw in (images or {}).items():
        check_image(path, raw)
    retired = data.get("retired")
    if retired is not None and not isinstance(retired, list):
        raise Invalid(("retired",), "must be a list of {file_id, cloud_path}")
    for index, item in enumerate(retired or []):
        check_retired(index, item)


def check_retired(index: int, item: object) -> None:
    """Check one retired upload ``{file_id, cloud_path}`` (from the manifest, or a journal line)."""
    if not isinstance(item, dict) or set(item) != {"file_id", "cloud_path"}:
        raise Invalid(("retired", index), "must be a mapping of exactly file_id and cloud_path")
    for key, rule in (("file_id", _file_id), ("cloud_path", _cloud_path)):
        wrong = rule(item[key])
        if wrong:
            raise Invalid(("retired", index, key), wrong)


def describe(path: Path) -> str:
    """``path`` as a reader finds it in the file: ``image 'a.png' field url``, ``retired item 2``."""
    if not path:
        return "the manifest"
    if path[0] == "images" and len(path) > 1:
        return f"image {path[1]!r}" + (f" field `{path[2]}`" if len(path) > 2 else "")
    if path[0] == "retired" and len(path) > 1:
        return f"retired item {path[1] + 1}" + (f" field `{path[2]}`" if len(path) > 2 else "")
    return f"`{path[0]}`"


def _compose(text: str, loader: type) -> yaml.Node | None:
    try:
        return yaml.compose(text, Loader=loader)
    except yaml.YAMLError:
        return None


def image_lines(text: str, loader: type) -> dict[str, int]:
    """The 1-based line of each image entry, for messages that point into the manifest."""
    node = _compose(text, loader)
    images = (
        next((v for k, v in node.value if k.value == "images"), None) if isinstance(node, yaml.MappingNode) else None
    )
    return {k.value: k.start_mark.line + 1 for k, _ in images.value} if isinstance(images, yaml.MappingNode) else {}


def line_of(text: str, path: Path, loader: type) -> int | None:
    """The 1-based line of ``path`` in the YAML ``text`` (only composed when there is a problem)."""
    node = _compose(text, loader)
    line = node.start_mark.line + 1 if node is not None else None
    for step in path:
        if isinstance(node, yaml.MappingNode):
            match = next(((k, v) for k, v in node.value if k.value == str(step)), None)
            if match is None:
                break
            line, node = match[0].start_mark.line + 1, match[1]
        elif isinstance(node, yaml.SequenceNode) and isinstance(step, int) and step < len(node.value):
            node = node.value[step]
            line = node.start_mark.line + 1
        else:
            break
    return line
