"""Sizes and orientations read from headers only (issue 23, items 3, 5 and 11): as browsers read
them, from any raster image, without decoding pixels; and cached results that a manifest accepts."""

from __future__ import annotations

import hashlib
import io
import json
import struct
import subprocess
import sys
import zlib
from pathlib import Path

import images
import pytest
from PIL import Image

from mkdocs_wxcloud.optimize import formats
from mkdocs_wxcloud.optimize.settings import Optimization
from mkdocs_wxcloud.publishing.optimizing import Optimizer


def _webp(orientation: int | None = None, **options: object) -> bytes:
    out = io.BytesIO()
    exif = {"exif": images.exif(orientation).tobytes()} if orientation else {}
    images.screenshot_image(2, (90, 60)).save(out, "WEBP", **exif, **options)  # type: ignore[arg-type]
    return out.getvalue()


def huge_gif(width: int = 14000, height: int = 13000) -> bytes:
    """An animation of two 1x1 frames on a large logical screen: browsers show it at the screen's size;
    Pillow refuses to open it (a decompression bomb)."""
    frame = b"!\xf9\x04\x00\x0a\x00\x00\x00" + b"," + struct.pack("<4H", 0, 0, 1, 1) + b"\x00\x02\x02\x44\x01\x00"
    loop = b"!\xff\x0bNETSCAPE2.0\x03\x01\x00\x00\x00"
    return b"GIF89a" + struct.pack("<HH", width, height) + b"\x80\x00\x00" + bytes(6) + loop + frame * 2 + b";"


@pytest.mark.parametrize("data, size", [
    (images.photo(orientation=6), (240, 320)),  # JPEG: APP1 Exif
    (images.photo(orientation=1), (320, 240)),
    (images.png_with_metadata(orientation=8), (120, 200)),  # PNG: eXIf
    (images.raw_profile_png(orientation=6), (200, 120)),  # the text chunk browsers never read
    (_webp(6), (60, 90)),  # WebP: VP8X + EXIF
    (_webp(lossless=True), (90, 60)),  # VP8L
    (_webp(quality=50), (90, 60)),  # VP8
    (images.animated_gif(), (40, 40)),
    (huge_gif(), (14000, 13000)),
    (images.animated_png(), (60, 40)),
], ids=["jpeg 6", "jpeg 1", "png exif 8", "png text exif", "webp exif 6", "webp lossless", "webp lossy", "gif",
        "huge gif", "apng"])  # fmt: skip
def test_sizes_on_screen_come_from_the_headers(data: bytes, size: tuple[int, int], tmp_path: Path) -> None:
    path = tmp_path / "image"
    path.write_bytes(data)
    assert formats.dimensions(data) == formats.dimensions(path) == size


def test_other_raster_formats_are_read_by_pillow_only_when_asked() -> None:
    out = io.BytesIO()
    Image.new("RGB", (30, 20)).save(out, "BMP")
    assert formats.dimensions(out.getvalue()) == (30, 20)
    assert formats.dimensions(out.getvalue(), other_formats=False) is None
    assert formats.dimensions(images.SVG) is None and formats.dimensions(b"\x89PNG\r\n\x1a\n" + bytes(30)) is None


def _flat_png(path: Path, side: int) -> None:
    """A greyscale PNG of ``side`` x ``side`` black pixels: a few hundred KB on disk, ``side``² bytes decoded."""
    deflate, row = zlib.compressobj(9), bytes(side + 1)
    body = b"".join(deflate.compress(row) for _ in range(side)) + deflate.flush()

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    ihdr = struct.pack(">IIBBBBB", side, side, 8, 0, 0, 0, 0)
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", body) + chunk(b"IEND", b""))


PROBE = """
import resource, sys, warnings
from pathlib import Path
from mkdocs_wxcloud.optimize import formats
warnings.simplefilter("ignore")
path = Path(sys.argv[1])
data = path.read_bytes()
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
sizes = formats.dimensions(path), formats.dimensions(data)
print(sizes[0] == sizes[1] == (13000, 13000), resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before)
"""


@pytest.mark.skipif(sys.platform != "linux", reason="ru_maxrss in KB, as Linux counts it")
def test_a_large_png_is_measured_without_decoding_it(tmp_path: Path) -> None:
    _flat_png(tmp_path / "large.png", 13000)  # 169 MB of pixels
    assert (tmp_path / "large.png").stat().st_size < 1 << 20
    result = subprocess.run([sys.executable, "-c", PROBE, str(tmp_path / "large.png")], capture_output=True,
                            text=True, timeout=120, check=True)  # fmt: skip
    right, grown_kb = result.stdout.split()
    assert right == "True" and int(grown_kb) < 20_000, result.stdout  # not the 169 MB of a decoded image


def test_a_cached_result_is_used_only_if_the_manifest_would_take_it(tmp_path: Path) -> None:
    data, path = images.screenshot(), "img/shot.png"
    sha = hashlib.sha256(data).hexdigest()
    first = Optimizer(Optimization(mode="lossless"), tmp_path)
    fresh = first.prepare(path, data, sha)
    first.close()
    (meta_file,) = (tmp_path / "optimized").glob("*.json")
    for width, done in [(True, "oxipng"), (480.0, "oxipng"), (0, "oxipng"), (480, "x" * 201), (480, "a\nb")]:
        meta = json.loads(meta_file.read_text(encoding="utf-8"))
        meta_file.write_text(json.dumps({**meta, "width": width, "done": done}), encoding="utf-8")
        again = Optimizer(Optimization(mode="lossless"), tmp_path)
        try:
            prepared = again.prepare(path, data, sha)
        finally:
            again.close()
        assert prepared.fields == fresh.fields and type(prepared.fields["width"]) is int, (width, done)
