"""An image's format, animation and size, from its bytes: a name can lie (``logo.png`` that is a JPEG).

Only the headers are read. Pillow is imported where a size is asked for: it is the optional
``optimize`` extra, and :func:`dimensions` answers None without it.
"""

from __future__ import annotations

import io
import struct
from pathlib import Path

RASTER = (".png", ".jpg", ".jpeg", ".gif", ".webp", ".bmp", ".avif", ".tif", ".tiff", ".ico")
MAX_PIXELS = 80_000_000  # above this an image is uploaded as it is: decoding it could take gigabytes
ORIENTATION = 0x0112  # the EXIF tag; 5 to 8 swap width and height on screen


def sniff(data: bytes) -> str | None:
    """``png``, ``jpeg``, ``gif`` or ``webp`` by the file's signature; None for anything else."""
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if data.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    if data[:6] in (b"GIF87a", b"GIF89a"):
        return "gif"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "webp"
    return None


def png_chunks(data: bytes) -> list[tuple[bytes, int, int]]:
    """``(type, start of data, length)`` of each chunk of a PNG, up to the first broken one."""
    chunks, offset = [], 8
    while offset + 8 <= len(data):
        (length,) = struct.unpack(">I", data[offset : offset + 4])
        kind = data[offset + 4 : offset + 8]
        if offset + 12 + length > len(data):
            break
        chunks.append((kind, offset + 8, length))
        offset += 12 + length
        if kind == b"IEND":
            break
    return chunks


def is_animated_png(data: bytes) -> bool:
    return any(kind == b"acTL" for kind, _, _ in png_chunks(data))


def png_bit_depth(data: bytes) -> int:
    """Bits per sample from IHDR (16-bit images have no lossless WebP equivalent)."""
    return data[24] if len(data) > 24 else 8


def dimensions(source: bytes | Path) -> tuple[int, int] | None:
    """``(width, height)`` as shown on screen (EXIF orientation applied), if Pillow can tell.

    Pillow reads only the header of a file (``source`` a path) to tell.
    """
    try:
        from PIL import Image, UnidentifiedImageError
    except ImportError:
        return None
    try:
        with Image.open(io.BytesIO(source) if isinstance(source, bytes) else source) as image:
            width, height = image.size
            turned = (
                image.getexif().get(ORIENTATION, 1) in (5, 6, 7, 8)
                if image.format in ("JPEG", "PNG", "WEBP")
                else False
            )
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError, Image.DecompressionBombError):
        return None
    return (height, width) if turned else (width, height)
