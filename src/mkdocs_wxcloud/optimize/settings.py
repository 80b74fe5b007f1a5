"""What to do to images before upload, and the profile that says it for one format.

A profile is the part of the settings that decides what happens to one kind of image, as a short
readable string (``lossless``, ``lossy q82 max1920x1080 webp``). The manifest records it with each
image, so a changed setting re-optimizes, and re-uploads, only the images whose profile it changes:
a new JPEG quality leaves PNG screenshots alone.
"""

from __future__ import annotations

import posixpath
import re
from dataclasses import dataclass

from ..errors import ConfigError

MODES = ("off", "lossless", "lossy")
PNG = (".png",)
JPEG = (".jpg", ".jpeg", ".jfif", ".jpe")
OPTIMIZABLE = PNG + JPEG  # GIF, SVG, WebP, AVIF…: uploaded as they are
_QUALITY_RANGE = re.compile(r"^\s*(\d{1,3})\s*-\s*(\d{1,3})\s*$")
_SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([kKmM]i?[bB]|[bB])?\s*$")
_UNITS = {"b": 1, "kb": 1024, "kib": 1024, "mb": 1024**2, "mib": 1024**2}  # as sizes are shown


@dataclass(frozen=True)
class Optimization:
    """The image options, checked. ``mode`` off: images are uploaded byte for byte."""

    mode: str = "off"
    quality: int = 82  # JPEG and lossy WebP; these defaults are the options' (publishing/settings.py)
    png_quality: tuple[int, int] = (65, 90)  # palette quantization: the least acceptable, the target
    max_width: int | None = None
    max_height: int | None = None
    webp: bool = False

    def profile(self, docs_path: str) -> str:
        """What is done to the image at ``docs_path`` (by its extension); "" for nothing."""
        ext = posixpath.splitext(docs_path)[1].lower()
        if self.mode == "off" or ext not in OPTIMIZABLE:
            return ""
        if self.mode == "lossless":
            return "lossless webp" if self.webp and ext in PNG else "lossless"  # WebP of a JPEG is not lossless
        parts = ["lossy", f"png{self.png_quality[0]}-{self.png_quality[1]}" if ext in PNG else f"q{self.quality}"]
        if self.max_width or self.max_height:
            parts.append(f"max{self.max_width or ''}x{self.max_height or ''}")
        if self.webp:
            parts.append(f"webp q{self.quality}")
        return " ".join(parts)


def parse_png_quality(value: object, option: str = "png_quality") -> tuple[int, int]:
    """``(least acceptable, target)`` from ``"65-90"`` (0 to 100), as pngquant's ``--quality``."""
    match = _QUALITY_RANGE.match(str(value))
    low, high = (int(match[1]), int(match[2])) if match else (-1, -1)
    if not 0 <= low <= high <= 100:
        raise ConfigError(f"option `{option}` must be a range such as 65-90 (0 to 100), not {value!r}")
    return low, high


def parse_size(value: object, option: str = "max_size") -> int | None:
    """Bytes from ``500000``, ``"500 KB"``, ``"1.5 MB"`` (1 KB = 1024 bytes); None for none."""
    if value in (None, False, 0, ""):
        return None
    match = None if isinstance(value, bool) else _SIZE.match(str(value))
    if match is None:
        raise ConfigError(f"option `{option}` must be a size such as 500 KB or 2 MB, not {value!r}")
    return int(float(match[1]) * _UNITS[(match[2] or "b").lower()])
