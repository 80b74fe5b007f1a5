"""Deterministic images shaped like those of docs sites, made on the fly (no binary files in the repo).

Screenshots (flat colours, text-like strokes), phone photos (noise, EXIF with GPS, camera and an
orientation, a colour profile), images with transparency and palettes, 16-bit and CMYK ones, and
what must be uploaded as it is: GIF and PNG animations, SVG, a JPEG named ``.png``, a broken file.
"""

from __future__ import annotations

import io
import random

from PIL import Image, ImageCms, ImageDraw, PngImagePlugin

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
    image = Image.linear_gradient("L").resize((64, 64)).convert("I;16")
    return _bytes(image, "PNG")


def cmyk_jpeg() -> bytes:
    return _bytes(screenshot_image(5, (120, 80)).convert("CMYK"), "JPEG", quality=90)


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
