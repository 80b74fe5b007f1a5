"""An image's format, size and orientation from its bytes: a name can lie (``logo.png`` that is a JPEG).

Only headers and the metadata blocks browsers read are touched, never the image data: a 1 MB PNG
of 20000x8000 pixels is a few reads here, not gigabytes decoded. PNG, JPEG, WebP and GIF are read
by their own structure, where the browsers find the orientation (a PNG's ``eXIf`` chunk, a JPEG's
first APP1 Exif segment, a WebP's ``EXIF`` chunk); the other raster formats by Pillow's header-only
open, when it is installed (the optional ``optimize`` extra).
"""

from __future__ import annotations

import io
import struct
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

RASTER = (".png", ".apng", ".jpg", ".jpeg", ".jfif", ".jpe", ".pjpeg", ".pjp", ".gif", ".webp", ".bmp", ".avif",
          ".tif", ".tiff", ".ico", ".cur")  # fmt: skip
MAX_PIXELS = 80_000_000  # above this an image is uploaded as it is: decoding it could take gigabytes
ORIENTATION = 0x0112  # the EXIF tag; 5 to 8 swap width and height on screen
MAX_BLOCKS = 100_000  # chunks or segments walked before the image data: more is not an image
EXIF_READ = 65_536  # bytes of an EXIF block read: the orientation sits in its first directory
_SOF = {0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF}  # JPEG frame headers


@dataclass(frozen=True)
class Header:
    """What the headers say: the stored size, and the EXIF orientation a browser applies (1: none)."""

    kind: str  # png, jpeg, gif, webp, or Pillow's format name in lower case
    width: int
    height: int
    orientation: int = 1

    @property
    def on_screen(self) -> tuple[int, int]:
        return (self.height, self.width) if self.orientation in (5, 6, 7, 8) else (self.width, self.height)


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


def dimensions(source: bytes | Path, *, other_formats: bool = True) -> tuple[int, int] | None:
    """``(width, height)`` as shown on screen (EXIF orientation applied), if the headers tell.

    ``other_formats``: ask Pillow about files that are not PNG, JPEG, WebP or GIF by their bytes.
    """
    found = header(source, other_formats=other_formats)
    return found.on_screen if found is not None else None


def header(source: bytes | Path, *, other_formats: bool = True) -> Header | None:
    """The :class:`Header` of an image (its bytes, or the file at a path), or None if unreadable."""
    try:
        with io.BytesIO(source) if isinstance(source, bytes) else open(source, "rb") as handle:
            kind = sniff(handle.read(12))
            found = _READERS[kind](handle) if kind in _READERS else _by_pillow(source) if other_formats else None
    except (OSError, struct.error):
        return None
    return found if found is not None and found.width > 0 and found.height > 0 else None


def exif_orientation(exif: bytes) -> int:
    """The orientation tag of an EXIF block (TIFF data, with or without ``Exif\\0\\0``); 1 if none.

    As browsers read it: a single SHORT in the first directory, from 1 to 8.
    """
    tiff = exif.removeprefix(b"Exif\x00\x00")
    order = {b"II*\x00": "<", b"MM\x00*": ">"}.get(tiff[:4])
    if order is None:
        return 1
    try:
        (directory,) = struct.unpack_from(order + "I", tiff, 4)
        (count,) = struct.unpack_from(order + "H", tiff, directory)
        for at in range(directory + 2, directory + 2 + 12 * count, 12):
            tag, kind, n = struct.unpack_from(order + "HHI", tiff, at)
            if tag == ORIENTATION:
                (value,) = struct.unpack_from(order + "H", tiff, at + 8)
                return value if kind == 3 and n == 1 and 1 <= value <= 8 else 1
    except struct.error:
        pass
    return 1


def _at(handle: BinaryIO, offset: int, size: int) -> bytes:
    handle.seek(offset)
    return handle.read(size)


def _png(handle: BinaryIO) -> Header | None:
    ihdr = _at(handle, 8, 16)
    if ihdr[4:8] != b"IHDR":
        return None
    width, height = struct.unpack(">II", ihdr[8:16])
    offset = 8
    for _ in range(MAX_BLOCKS):  # browsers read eXIf only before the image data
        head = _at(handle, offset, 8)
        length, kind = struct.unpack(">I4s", head) if len(head) == 8 else (0, b"IEND")
        if kind in (b"IDAT", b"IEND"):
            break
        if kind == b"eXIf":
            return Header("png", width, height, exif_orientation(_at(handle, offset + 8, min(length, EXIF_READ))))
        offset += 12 + length
    return Header("png", width, height)


def _jpeg(handle: BinaryIO) -> Header | None:
    offset, size, turn = 2, None, None
    for _ in range(MAX_BLOCKS):
        marker = _at(handle, offset, 4)
        if len(marker) < 4 or marker[0] != 0xFF:
            break
        if marker[1] == 0xFF:  # fill byte
            offset += 1
            continue
        if marker[1] in (0xD9, 0xDA):  # the end, or the scan: every header is behind
            break
        (length,) = struct.unpack(">H", marker[2:4])
        if marker[1] == 0xE1 and turn is None:
            segment = _at(handle, offset + 4, min(length - 2, EXIF_READ))
            turn = exif_orientation(segment[6:]) if segment.startswith(b"Exif\x00\x00") else None
        elif marker[1] in _SOF and size is None:
            height, width = struct.unpack(">xHH", _at(handle, offset + 4, 5))
            size = (width, height)
        offset += 2 + length
    return Header("jpeg", *size, turn or 1) if size else None


def _webp(handle: BinaryIO) -> Header | None:
    offset, size, turn = 12, None, 1
    for _ in range(MAX_BLOCKS):
        head = _at(handle, offset, 8)
        if len(head) < 8:
            break
        kind, length = head[:4], struct.unpack("<I", head[4:])[0]
        data = _at(handle, offset + 8, 10)
        if kind == b"VP8X":
            size = (1 + int.from_bytes(data[4:7], "little"), 1 + int.from_bytes(data[7:10], "little"))
        elif kind == b"VP8 " and size is None and data[3:6] == b"\x9d\x01\x2a":
            size = (struct.unpack("<H", data[6:8])[0] & 0x3FFF, struct.unpack("<H", data[8:10])[0] & 0x3FFF)
        elif kind == b"VP8L" and size is None and data[0] == 0x2F:
            bits = struct.unpack("<I", data[1:5])[0]
            size = ((bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1)
        elif kind == b"EXIF":
            turn = exif_orientation(_at(handle, offset + 8, min(length, EXIF_READ)))
        offset += 8 + length + (length & 1)
    return Header("webp", *size, turn) if size else None


def _gif(handle: BinaryIO) -> Header | None:
    return Header("gif", *struct.unpack("<HH", _at(handle, 6, 4)))  # the logical screen


def _by_pillow(source: bytes | Path) -> Header | None:
    """The size Pillow reads from the header of another raster format (BMP, AVIF, TIFF, ICO…)."""
    try:
        from PIL import Image, UnidentifiedImageError
    except ImportError:
        return None
    try:
        with Image.open(io.BytesIO(source) if isinstance(source, bytes) else source) as image:
            return Header(str(image.format).lower(), *image.size)
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError, Image.DecompressionBombError):
        return None


_READERS = {"png": _png, "jpeg": _jpeg, "webp": _webp, "gif": _gif}
