"""Tiny valid files of the kinds a docs site publishes, made in code for the diagnostic's probes.

Each one is what a browser or PDF reader would open, so that reading it back through the storage's
links shows what a real page would get (the bytes, the ``Content-Type``), and small enough to cost
nothing to upload and delete.
"""

from __future__ import annotations

import struct
import zlib


def png(red: int, green: int, blue: int, size: int = 4) -> bytes:
    """A ``size``×``size`` PNG of one colour."""
    raw = b"".join(b"\x00" + bytes((red, green, blue)) * size for _ in range(size))

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", size, size, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b"")


SVG = (
    b'<svg xmlns="http://www.w3.org/2000/svg" width="16" height="16" viewBox="0 0 16 16">'
    b'<circle cx="8" cy="8" r="6" fill="#07c160"/></svg>\n'
)


def pdf() -> bytes:
    """A one-page PDF with a correct cross-reference table."""
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 72 72] >>",
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(out)


def probes() -> dict[str, bytes]:
    """File name -> content: a PNG, an SVG, a PDF and a file with a Chinese name."""
    return {"probe.png": png(7, 193, 96), "probe.svg": SVG, "probe.pdf": pdf(), "探针图片.png": png(250, 81, 81)}


EXPECTED_TYPES = {".svg": "image/svg+xml", ".pdf": "application/pdf"}
"""The types a browser needs to show these inline (an SVG in ``<img>``, a PDF in its viewer)."""
