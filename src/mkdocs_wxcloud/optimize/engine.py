"""From the bytes of one image to fewer bytes of the same picture; never more.

Every mode tries a few candidates and keeps the smallest, or the original when none is smaller:
``lossless`` keeps every pixel (oxipng for PNG, mozjpeg's lossless recompression for JPEG, and
WebP lossless for PNG with ``webp``); ``lossy`` may change pixels within the user's knobs (scale
down to ``max_width``/``max_height``, a JPEG/WebP quality, a PNG palette of at most 256 colours
through libimagequant as pngquant does). A library that is missing, an image it cannot read or
an image it fails on: the original is uploaded, with the reason in :attr:`Outcome.done`.

Runs in worker processes (:mod:`.workers`): everything here is a pure function of its arguments.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from typing import Any, Callable

from . import formats
from .metadata import (
    PNG_COLOUR,
    jpeg_with_exif,
    orientation,
    orientation_exif,
    png_colour,
    png_colour_beyond_icc,
    png_with_chunks,
    png_with_exif,
)
from .settings import JPEG, OPTIMIZABLE, PNG, Optimization

OXIPNG_LEVEL = 1  # benchmarks/optimize.py: 11% smaller at 53 KB/CPU-s; level 2 saves 14% at 32 KB/CPU-s
WEBP_METHOD = 4  # libwebp's default effort: 5 and 6 cost twice the time for about 1% fewer bytes
_WIDE = ("I;16", "I;16B", "I;16L", "I;16N", "I")  # Pillow's modes of 16-bit greyscale PNGs


@dataclass(frozen=True)
class Outcome:
    """What to store for one image: ``data`` None means the original bytes."""

    data: bytes | None
    ext: str  # the stored file's extension (``.webp`` when WebP won)
    width: int | None
    height: int | None
    done: str  # what was done, for the manifest and the summary ("oxipng", "kept: already as small")


@dataclass(frozen=True)
class _Candidate:
    data: bytes
    ext: str
    done: str
    size: tuple[int, int] | None = None  # None: the original's


def missing_library(ext: str, mode: str) -> str | None:
    """The distribution that optimizing ``ext`` in ``mode`` needs and this interpreter lacks."""
    import importlib.util

    needed = ["PIL"] + (["oxipng"] if ext in PNG else ["mozjpeg_lossless_optimization"] if ext in JPEG else [])
    names = {"PIL": "pillow", "oxipng": "pyoxipng", "mozjpeg_lossless_optimization": "mozjpeg-lossless-optimization"}
    for module in needed:
        if importlib.util.find_spec(module) is None:
            return names[module]
    return None


def optimize(data: bytes, ext: str, settings: Optimization) -> Outcome:
    """The smallest acceptable version of ``data`` (a file named ``*ext``) under ``settings``.

    The name says whether an image is optimized (its profile); its bytes say how: a JPEG named
    ``.png`` or ``.jfif`` is optimized as the JPEG it is.
    """
    ext = ext.lower()
    size = formats.dimensions(data)
    kind = formats.sniff(data)

    def kept(why: str) -> Outcome:
        width, height = size or (None, None)
        return Outcome(None, ext, width, height, f"kept: {why}")

    if settings.mode == "off" or ext not in OPTIMIZABLE:
        return kept("not optimized")
    if kind not in ("png", "jpeg"):
        return kept("not a PNG or JPEG inside")
    if kind == "png" and formats.is_animated_png(data):
        return kept("animated")
    if size is None:
        return kept("not readable as an image")
    if size[0] * size[1] > formats.MAX_PIXELS:
        return kept(f"too large to optimize ({size[0]}x{size[1]})")
    try:
        candidates = _STRATEGIES[settings.mode, kind](data, ext, settings)
    except Exception as error:  # noqa: BLE001 - a library failing on one image: it is uploaded as it is
        return kept(f"could not be optimized ({type(error).__name__})")
    best = min(candidates, key=lambda c: len(c.data), default=None)
    if best is None or len(best.data) >= len(data):
        return kept("already as small")
    return Outcome(best.data, best.ext, *(best.size or size), best.done)


# -- lossless --------------------------------------------------------------------------------


def _png_lossless(data: bytes, ext: str, settings: Optimization) -> list[_Candidate]:
    turn = orientation(data)
    found = [_Candidate(_oxipng(data, turn), ext, "oxipng")]
    if settings.webp and turn == 1 and formats.png_bit_depth(data) <= 8 and not png_colour_beyond_icc(data):
        image = _open(data)
        found.append(_Candidate(_webp(image, lossless=True, quality=100), ".webp", "WebP lossless"))
    return found


def _jpeg_lossless(data: bytes, ext: str, settings: Optimization) -> list[_Candidate]:
    return [_Candidate(_mozjpeg(data, orientation(data)), ext, "mozjpeg")]


def _oxipng(data: bytes, turn: int) -> bytes:
    """oxipng keeping the chunks that set the colours (not only its "safe" ones: it drops gamma and
    primaries, which browsers apply), and the orientation alone in a new ``eXIf``."""
    import oxipng

    out = oxipng.optimize_from_memory(data, level=OXIPNG_LEVEL, strip=oxipng.StripChunks.keep(list(PNG_COLOUR)))
    return png_with_exif(out, orientation_exif(turn)) if turn != 1 else out


def _png_of(image: Any, source: bytes) -> bytes:
    """``image`` as an optimized PNG, with the colour chunks of the PNG ``source`` it was made from."""
    encoded = _encode(image, "PNG", compress_level=1)
    present = {kind for kind, _ in png_colour(encoded)}
    return _oxipng(png_with_chunks(encoded, [c for c in png_colour(source) if c[0] not in present]), 1)


def _mozjpeg(data: bytes, turn: int) -> bytes:
    import mozjpeg_lossless_optimization as mozjpeg

    out = mozjpeg.optimize(data, copy=mozjpeg.COPY_MARKERS.ICC)  # the colour profile, nothing else
    return jpeg_with_exif(out, orientation_exif(turn)) if turn != 1 else out


# -- lossy -----------------------------------------------------------------------------------


def _png_lossy(data: bytes, ext: str, settings: Optimization) -> list[_Candidate]:
    image, note = _upright_and_fitted(data, settings)
    found = []
    palette = _quantized(image, settings)
    if palette is not None:
        colours = len(palette.getpalette() or []) // 3
        found.append(_Candidate(_png_of(palette, data), ext, _join(note, f"quantized to {colours} colours"),
                                image.size))  # fmt: skip
    if note:
        found.append(_Candidate(_png_of(image, data), ext, note, image.size))
    else:
        found.append(_Candidate(_oxipng(data, orientation(data)), ext, "oxipng"))
    if settings.webp and not png_colour_beyond_icc(data):
        found.append(_Candidate(_webp(image, lossless=False, quality=settings.quality), ".webp",
                                _join(note, f"WebP q{settings.quality}"), image.size))  # fmt: skip
    return found


def _jpeg_lossy(data: bytes, ext: str, settings: Optimization) -> list[_Candidate]:
    image, note = _upright_and_fitted(data, settings)
    if image.mode not in ("L", "RGB", "CMYK"):
        image = image.convert("RGB")
    encoded = _encode(image, "JPEG", quality=settings.quality, optimize=True, progressive=True)
    found = [_Candidate(_mozjpeg(encoded, 1), ext, _join(note, f"JPEG q{settings.quality}"), image.size)]
    if not note:
        found.append(_Candidate(_mozjpeg(data, orientation(data)), ext, "mozjpeg"))
    if settings.webp:
        found.append(_Candidate(_webp(image, lossless=False, quality=settings.quality), ".webp",
                                _join(note, f"WebP q{settings.quality}"), image.size))  # fmt: skip
    return found


def _upright_and_fitted(data: bytes, settings: Optimization) -> tuple[Any, str]:
    """The decoded image turned as its EXIF orientation says (read as browsers read it), scaled down to
    fit the maximum size."""
    from PIL import Image

    image = _open(data)
    turn = orientation(data)
    if turn != 1:
        t = Image.Transpose
        methods = {2: t.FLIP_LEFT_RIGHT, 3: t.ROTATE_180, 4: t.FLIP_TOP_BOTTOM, 5: t.TRANSPOSE, 6: t.ROTATE_270,
                   7: t.TRANSVERSE, 8: t.ROTATE_90}  # fmt: skip
        turned = image.transpose(methods[turn])
        turned.info = image.info
        image = turned
    if image.mode not in ("L", "LA", "RGB", "RGBA", "CMYK"):  # palettes, 1-bit, 16-bit: resized in full colour
        image = _full_colour(image)
    width, height = image.size
    scale = min((settings.max_width or width) / width, (settings.max_height or height) / height, 1.0)
    if scale >= 1.0:
        return image, ""
    fitted = image.resize((max(1, round(width * scale)), max(1, round(height * scale))), Image.Resampling.LANCZOS)
    fitted.info = _looks(image)
    return fitted, f"resized from {width}x{height}"


def _quantized(image: Any, settings: Optimization) -> Any | None:
    """A palette version within ``png_quality``, or None (libimagequant missing, or quality not met)."""
    try:
        import imagequant
    except ImportError:
        return None
    low, high = settings.png_quality
    try:
        palette = imagequant.quantize_pil_image(image.convert("RGBA"), dithering_level=1.0, max_colors=256,
                                                min_quality=low, max_quality=high)  # fmt: skip
    except RuntimeError:  # the least acceptable quality cannot be met: keep the colours
        return None
    except Exception:  # noqa: BLE001 - the binding failing (a Pillow it does not know): no palette candidate
        return None
    palette.info = _looks(image)
    return palette


# -- encoding --------------------------------------------------------------------------------


def _open(data: bytes) -> Any:
    from PIL import Image

    image = Image.open(io.BytesIO(data))
    image.load()
    return image


def _looks(image: Any) -> dict[str, Any]:
    """Of a decoded image's metadata, what an encoder may carry over: the colour profile alone."""
    icc = image.info.get("icc_profile")
    return {"icc_profile": icc} if icc else {}


def _encode(image: Any, fmt: str, **options: Any) -> bytes:
    out = io.BytesIO()
    icc = image.info.get("icc_profile")
    image.save(out, fmt, **({"icc_profile": icc} if icc else {}), **options)
    return out.getvalue()


def _webp(image: Any, *, lossless: bool, quality: int) -> bytes:
    """WebP keeps RGB(A) of 8 bits; ``exact`` keeps the colour under transparent pixels (lossless)."""
    converted = _full_colour(image)
    return _encode(converted, "WEBP", lossless=lossless, quality=quality, method=WEBP_METHOD, exact=lossless)


def _full_colour(image: Any) -> Any:
    """RGB, or RGBA where the image has transparency, 8 bits a sample; with its colour profile and
    nothing else (CMYK is converted through its profile to sRGB: an RGB image cannot carry that one)."""
    if image.mode in _WIDE:
        image = _eight_bits(image)
    if image.mode == "CMYK" and image.info.get("icc_profile"):
        return _srgb(image)
    has_alpha = image.mode in ("RGBA", "LA", "PA") or "transparency" in image.info
    converted = image.convert("RGBA" if has_alpha else "RGB")
    converted.info = _looks(image)
    return converted


def _eight_bits(image: Any) -> Any:
    """16-bit greyscale scaled to 8 bits, as browsers show it (Pillow's own conversion clips at 255),
    with its transparent grey as an alpha channel."""
    from PIL import ImageMath

    wide = image.convert("I")
    narrowed = wide.point(lambda v: v * (1 / 257) + 0.5).convert("L")
    transparent = image.info.get("transparency")
    if isinstance(transparent, int):
        narrowed.putalpha(ImageMath.lambda_eval(lambda a: (a["v"] != transparent) * 255, v=wide).convert("L"))
    narrowed.info = _looks(image)
    return narrowed


def _srgb(image: Any) -> Any:
    """A CMYK image in RGB, through its ICC profile to sRGB (what browsers assume without a profile)."""
    from PIL import ImageCms

    source = ImageCms.ImageCmsProfile(io.BytesIO(image.info["icc_profile"]))
    converted: Any = ImageCms.profileToProfile(image, source, ImageCms.createProfile("sRGB"), outputMode="RGB")
    converted.info = {}
    return converted


def _join(*parts: str) -> str:
    return ", ".join(p for p in parts if p)


_STRATEGIES: dict[tuple[str, str], Callable[[bytes, str, Optimization], list[_Candidate]]] = {
    ("lossless", "png"): _png_lossless,
    ("lossless", "jpeg"): _jpeg_lossless,
    ("lossy", "png"): _png_lossy,
    ("lossy", "jpeg"): _jpeg_lossy,
}
