"""What a browser shows of an optimized image is what it showed of the original (issue 23): the
orientation read where browsers read it, colour chunks kept, 16-bit and CMYK converted as browsers
convert them, and every JPEG treated as one whatever its name. Source and result are decoded with
Pillow and compared as a browser would show them (``images.shown``)."""

from __future__ import annotations

import zlib

import images
import pytest

from mkdocs_wxcloud.optimize import engine, formats
from mkdocs_wxcloud.optimize.settings import Optimization

MODES = [
    Optimization(mode="lossless"),
    Optimization(mode="lossless", webp=True),
    Optimization(mode="lossy"),
    Optimization(mode="lossy", webp=True),
]
LOSSY_TOLERANCE = 6  # mean difference per RGBA sample (0-255) that lossy encodings at q82 stay within


def _stored(data: bytes, outcome: engine.Outcome) -> bytes:
    return outcome.data if outcome.data is not None else data


def _looks_the_same(data: bytes, outcome: engine.Outcome, settings: Optimization) -> None:
    (size, before), (after_size, after) = images.shown(data), images.shown(_stored(data, outcome))
    assert after_size == size == (outcome.width, outcome.height), outcome.done
    if settings.mode == "lossless":
        assert after == before, outcome.done
    else:
        assert images.difference(after, before) < LOSSY_TOLERANCE, outcome.done


@pytest.mark.parametrize("settings", MODES, ids=lambda s: f"{s.mode}{'+webp' if s.webp else ''}")
def test_an_orientation_in_a_text_chunk_is_not_applied(settings: Optimization) -> None:
    data = images.raw_profile_png(orientation=6)  # Pillow's getexif() would say 6; browsers show it as stored
    assert formats.dimensions(data) == (200, 120)
    outcome = engine.optimize(data, ".png", settings)
    assert outcome.data is not None
    _looks_the_same(data, outcome, settings)


@pytest.mark.parametrize("name", ["photo.jfif", "photo.jpe", "photo.JFIF", "photo.png"])
@pytest.mark.parametrize("settings", MODES, ids=lambda s: f"{s.mode}{'+webp' if s.webp else ''}")
def test_every_jpeg_is_optimized_as_one_whatever_its_name(name: str, settings: Optimization) -> None:
    data = images.photo()
    assert settings.profile(name) != ""
    outcome = engine.optimize(data, name[name.rindex(".") :], settings)
    assert outcome.data is not None and "kept" not in outcome.done
    exif, _ = images.metadata(outcome.data)
    assert images.GPS not in exif and not exif.get_ifd(images.GPS) and images.MAKE not in exif
    _looks_the_same(data, outcome, settings)


def test_jfif_and_jpe_get_the_jpeg_profile() -> None:
    lossy = Optimization(mode="lossy", quality=70)
    assert lossy.profile("a.jfif") == lossy.profile("a.jpe") == lossy.profile("a.jpg") == "lossy q70"


@pytest.mark.parametrize("settings", MODES, ids=lambda s: f"{s.mode}{'+webp' if s.webp else ''}")
def test_a_16_bit_greyscale_png_keeps_its_greys(settings: Optimization) -> None:
    data = images.sixteen_bit()
    outcome = engine.optimize(data, ".png", settings)
    if settings.mode == "lossy":
        assert outcome.data is not None, outcome.done
    _looks_the_same(data, outcome, settings)


def test_a_16_bit_greyscale_transparent_grey_stays_transparent() -> None:
    import io

    from PIL import Image

    with Image.open(io.BytesIO(images.sixteen_bit())) as image:
        image.load()
        out = io.BytesIO()
        image.save(out, "PNG", transparency=image.getpixel((0, 0)))
    data = out.getvalue()
    settings = Optimization(mode="lossy")
    outcome = engine.optimize(data, ".png", settings)
    assert outcome.data is not None
    assert images.shown(outcome.data)[1][3] == images.shown(data)[1][3] == 0  # the first pixel's alpha
    _looks_the_same(data, outcome, settings)


@pytest.mark.parametrize("colour_space", [None, "sRGB", "iCCP"])
@pytest.mark.parametrize("settings", MODES, ids=lambda s: f"{s.mode}{'+webp' if s.webp else ''}")
def test_colour_chunks_that_browsers_apply_are_kept(colour_space: str | None, settings: Optimization) -> None:
    data = images.png_with_gamma(colour_space)
    outcome = engine.optimize(data, ".png", settings)
    stored = _stored(data, outcome)
    colour = {b"gAMA", b"cHRM", b"sRGB", b"iCCP"}

    def chunks(png: bytes) -> dict[bytes, bytes]:  # the profile's name and compression may change
        found = {kind: png[start : start + length] for kind, start, length in formats.png_chunks(png) if kind in colour}
        if b"iCCP" in found:
            found[b"iCCP"] = zlib.decompress(found[b"iCCP"].split(b"\x00", 1)[1][1:])
        return found

    if formats.sniff(stored) == "webp":  # only where sRGB or a profile (carried over) overrides the gamma
        assert colour_space is not None
        assert images.metadata(stored)[1].get("icc_profile") == (images.SRGB if colour_space == "iCCP" else None)
    else:
        assert chunks(stored) == chunks(data) and len(chunks(data)) == (3 if colour_space else 2)
    _looks_the_same(data, outcome, settings)


@pytest.mark.parametrize("settings", MODES, ids=lambda s: f"{s.mode}{'+webp' if s.webp else ''}")
def test_a_cmyk_jpeg_looks_the_same_through_its_profile(settings: Optimization) -> None:
    data = images.cmyk_jpeg(images.cmyk_profile())
    outcome = engine.optimize(data, ".jpg", settings)
    stored = _stored(data, outcome)
    with images.Image.open(images.io.BytesIO(stored)) as image:
        icc = image.info.get("icc_profile")
        assert image.mode == "CMYK" or icc in (None, images.SRGB)  # never an RGB image with a CMYK profile
    _looks_the_same(data, outcome, settings)
