"""Which files are published: kinds of assets, by extension.

The ``assets`` option lists groups (``images``, ``video``, ``audio``, ``documents``) and single
extensions, written with their dot (``.zip``, ``.apk``). A reference is published when the file it
names has one of the listed extensions; an ``<img>`` shows an image whatever its file is called, so
it counts while ``images`` is listed. Pages and the site's own code are never assets.
"""

from __future__ import annotations

import posixpath
from dataclasses import dataclass

from ..errors import ConfigError

GROUPS: dict[str, frozenset[str]] = {
    "images": frozenset(".apng .avif .bmp .gif .ico .jfif .jpeg .jpg .png .svg .tif .tiff .webp".split()),
    "video": frozenset(".mp4 .m4v .webm .mov .ogv".split()),
    "audio": frozenset(".mp3 .m4a .aac .ogg .oga .opus .wav .flac".split()),
    "documents": frozenset(".pdf".split()),
}
DEFAULT_GROUPS = ("images", "video", "audio")
"""What is published unless ``assets`` says otherwise: what pages *show* (a reader's browser loads
it with the page), not what they let readers download."""
NEVER = frozenset(".md .markdown .html .htm .xhtml .css .js .mjs .json .xml .yml .yaml .toml .map".split())
KINDS = {"images": "image", "video": "video", "audio": "audio", "documents": "document"}


@dataclass(frozen=True)
class Assets:
    extensions: frozenset[str]
    images: bool  # ``<img src>`` counts whatever the file's extension

    def publishes(self, path: str, tag: str) -> bool:
        """Whether a reference from ``tag`` to the docs path ``path`` is published."""
        return posixpath.splitext(path)[1].lower() in self.extensions or (tag == "img" and self.images)


def kind_of(path: str) -> str:
    """``image``, ``video``, ``audio``, ``document`` or ``file``: how messages name what ``path`` is."""
    ext = posixpath.splitext(path.split("?", 1)[0].split("#", 1)[0])[1].lower()
    return next((KINDS[group] for group, extensions in GROUPS.items() if ext in extensions), "file")


def parse(value: object) -> Assets:
    """The ``assets`` option: a list of groups and extensions (a one-line ConfigError for a bad item)."""
    items = list(DEFAULT_GROUPS) if value is None else [value] if isinstance(value, str) else value
    if not isinstance(items, (list, tuple)) or not items:
        raise ConfigError(f"option `assets` must be a list such as [images, video, audio, .zip], not {value!r}")
    extensions: set[str] = set()
    for item in items:
        name = str(item).strip().lower()
        if name in GROUPS:
            extensions |= GROUPS[name]
            continue
        # a word without its dot is a mistyped group (`videos`) far more often than an extension
        bad = len(name) < 2 or not name.startswith(".") or any(c in name[1:] for c in "./\\ *?")
        if not isinstance(item, str) or bad:
            raise ConfigError(
                f"option `assets`: {item!r} is neither a group ({', '.join(GROUPS)}) nor an extension: "
                "write extensions with a dot, such as .zip"
            )
        if name in NEVER:
            raise ConfigError(f"option `assets`: {name} files are part of the site itself, never published as assets")
        extensions.add(name)
    return Assets(frozenset(extensions), images=GROUPS["images"] <= extensions)
