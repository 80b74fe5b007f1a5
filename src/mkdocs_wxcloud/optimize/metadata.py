"""Metadata: keep what changes how an image looks (orientation, colour profile), drop the rest.

Phone photos carry GPS coordinates and camera serial numbers in EXIF, screenshots carry software
names in text chunks. The optimizers drop every optional block but those that set the colours
(the ICC profile; a PNG's gamma, primaries, sRGB and HDR chunks); the EXIF orientation, when the
picture needs one, is written back alone, in a block of its own.
"""

from __future__ import annotations

import struct
import zlib

from .formats import ORIENTATION, header, png_chunks

PNG_COLOUR = (b"iCCP", b"sRGB", b"gAMA", b"cHRM", b"cICP", b"mDCV", b"cLLI")  # chunks browsers apply
_BEYOND_ICC = (b"cICP", b"mDCV", b"cLLI")  # what no ICC profile says (HDR)


def orientation(data: bytes) -> int:
    """The EXIF orientation a browser applies (1 to 8; 1 is upright and needs no tag) to a JPEG, PNG or
    WebP: read where browsers read it (:func:`.formats.header`), not from text chunks that hold EXIF."""
    found = header(data, other_formats=False)
    return found.orientation if found is not None else 1


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
    return png_with_chunks(png, [(b"eXIf", exif.removeprefix(b"Exif\x00\x00"))])


def png_with_chunks(png: bytes, chunks: list[tuple[bytes, bytes]]) -> bytes:
    """``png`` with ``(type, data)`` chunks right after its header, where colour and EXIF chunks belong."""
    at = 8 + 12 + 13  # the signature and IHDR, always first
    made = b"".join(struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
                    for kind, data in chunks)  # fmt: skip
    return png[:at] + made + png[at:]


def png_colour(png: bytes) -> list[tuple[bytes, bytes]]:
    """The chunks of ``png`` that change its colours on screen (gamma, primaries, profile, HDR)."""
    return [(kind, png[start : start + length]) for kind, start, length in png_chunks(png) if kind in PNG_COLOUR]


def png_colour_beyond_icc(png: bytes) -> bool:
    """Whether ``png`` has colour information that an ICC profile in another format cannot carry: gamma
    or primaries that no sRGB or ICC chunk overrides, or HDR signalling."""
    kinds = {kind for kind, _ in png_colour(png)}
    overridden = bool(kinds & {b"iCCP", b"sRGB"})
    return bool(kinds & set(_BEYOND_ICC)) or (not overridden and bool(kinds & {b"gAMA", b"cHRM"}))
