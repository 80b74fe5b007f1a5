"""Metadata: keep what changes how an image looks (orientation, colour profile), drop the rest.

Phone photos carry GPS coordinates and camera serial numbers in EXIF, screenshots carry software
names in text chunks. The optimizers drop every optional block but the colour profile; the EXIF
orientation, when the picture needs one, is written back alone, in a block of its own.
"""

from __future__ import annotations

import io
import struct
import zlib

from .formats import ORIENTATION, png_chunks


def orientation(data: bytes) -> int:
    """The EXIF orientation (1 to 8; 1 is upright and needs no tag) of a JPEG, PNG or WebP."""
    from PIL import Image

    try:
        with Image.open(io.BytesIO(data)) as image:
            value = image.getexif().get(ORIENTATION, 1)
    except (OSError, ValueError, SyntaxError):
        return 1
    return value if isinstance(value, int) and 1 <= value <= 8 else 1


def orientation_exif(value: int) -> bytes:
    """An EXIF block (``Exif\\0\\0`` + TIFF) holding the orientation and nothing else."""
    from PIL import Image

    exif = Image.Exif()
    exif[ORIENTATION] = value
    return exif.tobytes()


def jpeg_with_exif(jpeg: bytes, exif: bytes) -> bytes:
    """``jpeg`` with an APP1 EXIF segment after SOI (and after the JFIF APP0, where one is)."""
    at = 2
    if jpeg[2:4] == b"\xff\xe0":
        (length,) = struct.unpack(">H", jpeg[4:6])
        at = 4 + length
    return jpeg[:at] + b"\xff\xe1" + struct.pack(">H", len(exif) + 2) + exif + jpeg[at:]


def png_with_exif(png: bytes, exif: bytes) -> bytes:
    """``png`` with an ``eXIf`` chunk (TIFF data, without the ``Exif\\0\\0`` prefix) before its image data."""
    tiff = exif.removeprefix(b"Exif\x00\x00")
    at = next((start - 8 for kind, start, _ in png_chunks(png) if kind == b"IDAT"), len(png) - 12)
    chunk = struct.pack(">I", len(tiff)) + b"eXIf" + tiff + struct.pack(">I", zlib.crc32(b"eXIf" + tiff))
    return png[:at] + chunk + png[at:]
