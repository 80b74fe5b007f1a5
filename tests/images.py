"""Deterministic images shaped like those of docs sites, made on the fly (no binary files in the repo).

Screenshots (flat colours, text-like strokes), phone photos (noise, EXIF with GPS, camera and an
orientation, a colour profile), images with transparency and palettes, 16-bit and CMYK ones, and
what must be uploaded as it is: GIF and PNG animations, SVG, a JPEG named ``.png``, a broken file.
"""

from __future__ import annotations

import io
import random
import struct

from PIL import Image, ImageCms, ImageDraw, ImageOps, PngImagePlugin

GPS, MAKE, ORIENTATION = 0x8825, 0x010F, 0x0112
SRGB = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()


def _bytes(image: Image.Image, fmt: str, **options: object) -> bytes:
    out = io.BytesIO()
    image.save(out, fmt, **options)
    return out.getvalue()


def screenshot_image(seed: int = 1, size: tuple[int, int] = (480, 320)) -> Image.Image:
    rng = random.Random(seed)
    image = Image.new("RGB", size, (250, 250, 250))
    draw = ImageDraw.Draw(image)
    for _ in range(40):
        x, y = rng.randrange(size[0]), rng.randrange(size[1])
        draw.rectangle([x, y, x + rng.randrange(10, 160), y + rng.randrange(6, 30)],
                       fill=(rng.randrange(256), rng.randrange(256), rng.randrange(256)))  # fmt: skip
        draw.text((x + 2, y + 2), f"设置 {rng.randrange(1000)}", fill=(20, 20, 20))
    return image


def screenshot(seed: int = 1, size: tuple[int, int] = (480, 320)) -> bytes:
    """A PNG as a screenshot tool writes it: truecolour, fast compression, a text chunk."""
    info = PngImagePlugin.PngInfo()
    info.add_text("Software", "Snipaste 2.8")
    return _bytes(screenshot_image(seed, size), "PNG", compress_level=1, pnginfo=info)


def exif(orientation: int = 6) -> Image.Exif:
    data = Image.Exif()
    data[ORIENTATION] = orientation
    data[MAKE] = "PhoneMaker"
    data.get_ifd(GPS).update({1: "N", 2: (31.0, 14.0, 2.5), 3: "E", 4: (121.0, 28.0, 1.0)})
    return data


def photo(seed: int = 2, size: tuple[int, int] = (320, 240), orientation: int = 6) -> bytes:
    """A phone photo: JPEG q95 with EXIF (GPS, camera, orientation) and an sRGB profile."""
    rng = random.Random(seed)
    grain = Image.frombytes("L", size, bytes(rng.randrange(100, 156) for _ in range(size[0] * size[1])))
    image = grain.convert("RGB")  # deterministic, unlike Image.effect_noise
    draw = ImageDraw.Draw(image)
    for _ in range(12):
        x, y = rng.randrange(size[0]), rng.randrange(size[1])
        draw.ellipse([x, y, x + 60, y + 40], fill=(rng.randrange(256), 120, 90))
    return _bytes(image, "JPEG", quality=95, exif=exif(orientation).tobytes(), icc_profile=SRGB)


def png_with_metadata(orientation: int = 6) -> bytes:
    """A PNG carrying an eXIf chunk with GPS and an orientation, text and a colour profile."""
    info = PngImagePlugin.PngInfo()
    info.add_text("Comment", "taken at home")
    return _bytes(
        screenshot_image(3, (200, 120)), "PNG", pnginfo=info, exif=exif(orientation).tobytes(), icc_profile=SRGB
    )


def transparent() -> bytes:
    image = Image.new("RGBA", (160, 100), (0, 0, 0, 0))
    ImageDraw.Draw(image).ellipse([10, 10, 150, 90], fill=(200, 30, 30, 180))
    image.putpixel((0, 0), (12, 34, 56, 0))  # a colour under full transparency, kept by lossless
    return _bytes(image, "PNG")


def palette() -> bytes:
    return _bytes(screenshot_image(4, (120, 80)).convert("P", palette=Image.Palette.ADAPTIVE, colors=16), "PNG",
                  transparency=0)  # fmt: skip


def sixteen_bit() -> bytes:
    """A 16-bit greyscale scan: a gradient over the whole range (dark to light), noise in the low bits."""
    rng = random.Random(16)
    size = (128, 96)
    samples = (min(65535, (x * 510 + rng.randrange(256))) for _ in range(size[1]) for x in range(size[0]))
    image = Image.frombytes("I;16", size, b"".join(struct.pack("<H", v) for v in samples))
    return _bytes(image, "PNG")


def cmyk_jpeg(icc: bytes | None = None) -> bytes:
    """A CMYK JPEG, as print workflows export them (with their printer's profile, if ``icc``)."""
    return _bytes(
        screenshot_image(5, (120, 80)).convert("CMYK"), "JPEG", quality=90, **({"icc_profile": icc} if icc else {})
    )


def raw_profile_png(orientation: int = 6) -> bytes:
    """A PNG whose EXIF (orientation included) sits in ImageMagick's "Raw profile type exif" text chunk,
    where browsers never look: it is shown as stored."""
    block = exif(orientation).tobytes()
    text = f"\nexif\n{len(block):8d}\n{block.hex()}\n"
    info = PngImagePlugin.PngInfo()
    info.add_text("Raw profile type exif", text, zip=True)
    return _bytes(screenshot_image(6, (200, 120)), "PNG", pnginfo=info)


def png_with_gamma(colour_space: str | None = None) -> bytes:
    """A PNG with gAMA and cHRM chunks, which browsers apply unless an ``sRGB`` or ``iCCP`` chunk
    (``colour_space``) overrides them."""
    info = PngImagePlugin.PngInfo()
    info.add(b"gAMA", struct.pack(">I", 55555))
    info.add(b"cHRM", struct.pack(">8I", 31270, 32900, 64000, 33000, 30000, 60000, 15000, 6000))
    if colour_space == "sRGB":
        info.add(b"sRGB", b"\x00")
    icc = {"icc_profile": SRGB} if colour_space == "iCCP" else {}
    return _bytes(screenshot_image(7, (160, 100)), "PNG", pnginfo=info, **icc)


def animated_gif() -> bytes:
    frames = [Image.new("P", (40, 40), i * 40) for i in range(3)]
    return _bytes(frames[0], "GIF", save_all=True, append_images=frames[1:], duration=100, loop=0)


def animated_png() -> bytes:
    frames = [screenshot_image(i, (60, 40)) for i in range(3)]
    return _bytes(frames[0], "PNG", save_all=True, append_images=frames[1:], duration=100)


SVG = b'<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><rect width="10" height="10"/></svg>'


def pixels(data: bytes) -> tuple[str, tuple[int, int], bytes]:
    """What a decoder shows: mode, size and every pixel (in RGBA, or as stored for CMYK)."""
    with Image.open(io.BytesIO(data)) as image:
        image.load()
        shown = image if image.mode in ("CMYK", "I;16", "I") else image.convert("RGBA")
        return shown.mode, shown.size, shown.tobytes()


def metadata(data: bytes) -> tuple[Image.Exif, dict]:
    with Image.open(io.BytesIO(data)) as image:
        return image.getexif(), dict(image.info)


# -- what a browser shows ------------------------------------------------------------------------


def shown(data: bytes) -> tuple[tuple[int, int], bytes]:
    """Size and RGBA pixels as a browser shows ``data``: 16-bit samples scaled to 8, CMYK through its
    own profile to sRGB, a profile of another colour space ignored, and turned by the EXIF orientation
    where browsers read it (a PNG's eXIf chunk, a JPEG's APP1, a WebP's EXIF: Pillow's ``info["exif"]``;
    never the text chunks ImageMagick writes)."""
    with Image.open(io.BytesIO(data)) as image:
        image.load()
        info = dict(image.info)
        if image.mode.startswith("I"):
            wide = image.convert("I")
            image = wide.point(lambda v: v * (1 / 257) + 0.5).convert("L")
            if isinstance(info.get("transparency"), int):
                image.putalpha(Image.frombytes("L", image.size, bytes(0 if v == info["transparency"] else 255
                                                                     for v in wide.get_flattened_data())))  # fmt: skip
        icc = info.get("icc_profile")
        if icc and image.mode == "CMYK" and ImageCms.ImageCmsProfile(io.BytesIO(icc)).profile.xcolor_space == "CMYK":
            image = ImageCms.profileToProfile(image, io.BytesIO(icc), ImageCms.createProfile("sRGB"), outputMode="RGB")
        turned = ImageOps.exif_transpose(_with_exif_of(image.convert("RGBA"), info.get("exif")))
        return turned.size, turned.tobytes()


def _with_exif_of(image: Image.Image, exif: bytes | None) -> Image.Image:
    image.info = {"exif": exif} if exif else {}
    return image


def difference(a: bytes, b: bytes) -> float:
    """Mean absolute difference of two RGBA pixel buffers (0: identical; 255: opposite)."""
    assert len(a) == len(b)
    return sum(abs(x - y) for x, y in zip(a, b)) / len(a)


def cmyk_profile() -> bytes:
    """A small but real CMYK printer profile (ICC v2, one lut8 A2B0 table to Lab) whose inks are not
    what a naive conversion assumes: cyan ink prints magenta, magenta prints yellow, yellow prints cyan."""

    def lab(rgb: tuple[float, float, float]) -> bytes:  # sRGB (0-1) to 8-bit ICC Lab, D65 white kept
        lin = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in rgb]
        x = (0.4124 * lin[0] + 0.3576 * lin[1] + 0.1805 * lin[2]) / 0.9505
        y = 0.2126 * lin[0] + 0.7152 * lin[1] + 0.0722 * lin[2]
        z = (0.0193 * lin[0] + 0.1192 * lin[1] + 0.9505 * lin[2]) / 1.089
        f = [t ** (1 / 3) if t > 0.008856 else 7.787 * t + 16 / 116 for t in (x, y, z)]
        big_l, a, b = 116 * f[1] - 16, 500 * (f[0] - f[1]), 200 * (f[1] - f[2])
        return bytes([round(big_l * 2.55), max(0, min(255, round(a) + 128)), max(0, min(255, round(b) + 128))])

    clut = b""
    for c in (0, 1):  # the first input varies slowest
        for m in (0, 1):
            for y in (0, 1):
                for k in (0, 1):
                    clut += lab(tuple((1 - ink) * (1 - k) for ink in (y, c, m)))  # type: ignore[arg-type]
    identity = [65536, 0, 0, 0, 65536, 0, 0, 0, 65536]
    ramp = bytes(range(256))
    tags = {
        b"desc": b"desc\0\0\0\0" + struct.pack(">I", 5) + b"CMYK\0" + bytes(4 + 4 + 2 + 1 + 67),
        b"wtpt": b"XYZ \0\0\0\0" + struct.pack(">3i", 63190, 65536, 54061),
        b"A2B0": b"mft1\0\0\0\0" + bytes([4, 3, 2, 0]) + struct.pack(">9i", *identity) + ramp * 4 + clut + ramp * 3,
        b"cprt": b"text\0\0\0\0" + b"none\0",
    }
    table, body, offset = b"", b"", 128 + 4 + 12 * len(tags)
    for signature, data in tags.items():
        data += bytes(-len(data) % 4)
        table += signature + struct.pack(">II", offset + len(body), len(data))
        body += data
    size = offset + len(body)
    head = struct.pack(
        ">I4sI4s4s4s6H4sI4sI4s8sI3i4s16s28s",
        size,
        b"lcms",
        0x02100000,
        b"prtr",
        b"CMYK",
        b"Lab ",
        2026,
        1,
        1,
        0,
        0,
        0,
        b"acsp",
        0,
        b"",
        0,
        b"",
        b"",
        0,
        63190,
        65536,
        54061,
        b"",
        b"",
        b"",
    )
    return head + struct.pack(">I", len(tags)) + table + body
