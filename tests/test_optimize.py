"""The optimization engine: fewer bytes, never more; the same pixels in ``lossless``; no GPS, the
orientation and colour profile kept; what it cannot improve or must not touch uploaded as it is."""

from __future__ import annotations

import io
from pathlib import Path

import images
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image

from mkdocs_wxcloud.errors import ConfigError
from mkdocs_wxcloud.optimize import engine, formats
from mkdocs_wxcloud.optimize.settings import Optimization, parse_size
from mkdocs_wxcloud.optimize.workers import Workers
from mkdocs_wxcloud.publishing.settings import resolve

LOSSLESS = Optimization(mode="lossless")
LOSSY = Optimization(mode="lossy")

RASTERS = {
    "screenshot.png": images.screenshot,
    "metadata.png": images.png_with_metadata,
    "transparent.png": images.transparent,
    "palette.png": images.palette,
    "sixteen.png": images.sixteen_bit,
    "photo.jpg": images.photo,
    "cmyk.jpg": images.cmyk_jpeg,
}


def _stored(data: bytes, outcome: engine.Outcome) -> bytes:
    return outcome.data if outcome.data is not None else data


@pytest.mark.parametrize("name", sorted(RASTERS))
@pytest.mark.parametrize("webp", [False, True])
def test_lossless_keeps_every_pixel_and_is_never_larger(name: str, webp: bool) -> None:
    data = RASTERS[name]()
    outcome = engine.optimize(data, name[name.rindex(".") :], Optimization(mode="lossless", webp=webp))
    stored = _stored(data, outcome)
    assert len(stored) <= len(data)
    assert images.pixels(stored) == images.pixels(data), outcome.done


def test_lossless_makes_a_screenshot_smaller_and_says_how() -> None:
    data = images.screenshot()
    outcome = engine.optimize(data, ".png", LOSSLESS)
    assert outcome.data is not None and len(outcome.data) < 0.8 * len(data)
    assert (outcome.ext, outcome.width, outcome.height, outcome.done) == (".png", 480, 320, "oxipng")


@pytest.mark.parametrize("mode", ["lossless", "lossy"])
@pytest.mark.parametrize("make, ext", [(images.photo, ".jpg"), (images.png_with_metadata, ".png")])
def test_gps_and_camera_go_the_orientation_and_colour_profile_stay(mode: str, make, ext: str) -> None:  # noqa: ANN001
    data = make()
    outcome = engine.optimize(data, ext, Optimization(mode=mode))
    assert outcome.data is not None, outcome.done
    exif, info = images.metadata(outcome.data)
    assert images.GPS not in exif and images.MAKE not in exif and not exif.get_ifd(images.GPS)
    assert info.get("icc_profile") == images.SRGB
    assert "Comment" not in info and "Software" not in info
    if mode == "lossless":  # the same pixels, still turned on screen by the tag
        assert exif.get(images.ORIENTATION) == 6
    else:  # turned for good: the pixels are upright and no tag is needed
        assert exif.get(images.ORIENTATION, 1) == 1
    assert (outcome.width, outcome.height) == formats.dimensions(data)  # as shown: width and height swapped


def test_the_size_on_screen_follows_the_orientation() -> None:
    assert formats.dimensions(images.photo(orientation=6)) == (240, 320)
    assert formats.dimensions(images.photo(orientation=1)) == (320, 240)


@pytest.mark.parametrize("data, ext, why", [
    (images.animated_gif(), ".gif", "not optimized"),
    (images.SVG, ".svg", "not optimized"),
    (images.animated_png(), ".png", "animated"),
    (images.animated_gif(), ".png", "not a PNG or JPEG inside"),
    (b"\x89PNG\r\n\x1a\n" + bytes(40), ".png", "not readable as an image"),
    (b"not an image at all", ".jpg", "not a PNG or JPEG inside"),
])  # fmt: skip
@pytest.mark.parametrize("optimization", [LOSSLESS, Optimization(mode="lossy", webp=True, max_width=20)])
def test_what_must_not_be_touched_is_uploaded_as_it_is(
    data: bytes, ext: str, why: str, optimization: Optimization
) -> None:
    outcome = engine.optimize(data, ext, optimization)
    assert outcome.data is None and outcome.done == f"kept: {why}"


def test_an_image_that_cannot_get_smaller_is_kept() -> None:
    once = engine.optimize(images.screenshot(), ".png", LOSSLESS).data
    assert once is not None
    again = engine.optimize(once, ".png", LOSSLESS)
    assert again.data is None and again.done == "kept: already as small"


def test_a_library_failure_keeps_the_original(monkeypatch: pytest.MonkeyPatch) -> None:
    import oxipng

    def broken(*args: object, **kwargs: object) -> bytes:
        raise oxipng.PngError("boom")

    monkeypatch.setattr(oxipng, "optimize_from_memory", broken)
    outcome = engine.optimize(images.screenshot(), ".png", LOSSLESS)
    assert outcome.data is None and outcome.done == "kept: could not be optimized (PngError)"


def test_lossy_scales_down_to_the_maximum_and_records_the_new_size() -> None:
    outcome = engine.optimize(images.screenshot(size=(1200, 800)), ".png", Optimization(mode="lossy", max_width=600))
    assert outcome.data is not None
    assert (outcome.width, outcome.height) == (600, 400) == Image.open(io.BytesIO(outcome.data)).size
    assert "resized from 1200x800" in outcome.done


def test_lossy_quality_decides_the_jpeg_bytes() -> None:
    data = images.photo(orientation=1)
    low = engine.optimize(data, ".jpg", Optimization(mode="lossy", quality=40))
    high = engine.optimize(data, ".jpg", Optimization(mode="lossy", quality=85))
    assert low.data is not None and high.data is not None
    assert len(low.data) < len(high.data) < len(data)
    assert low.done == "JPEG q40"


def test_webp_is_chosen_only_when_smaller_and_keeps_pixels_in_lossless() -> None:
    data = images.transparent()
    outcome = engine.optimize(data, ".png", Optimization(mode="lossless", webp=True))
    stored = _stored(data, outcome)
    assert images.pixels(stored) == images.pixels(data)
    plain = engine.optimize(data, ".png", LOSSLESS)
    assert len(stored) <= len(_stored(data, plain))
    if outcome.ext == ".webp":
        assert outcome.done == "WebP lossless" and formats.sniff(stored) == "webp"


def test_a_png_palette_within_the_quality_range() -> None:
    data = images.screenshot(seed=8, size=(300, 200))
    outcome = engine.optimize(data, ".png", Optimization(mode="lossy", png_quality=(0, 80)))
    assert outcome.data is not None and len(outcome.data) < len(data)
    with Image.open(io.BytesIO(outcome.data)) as image:
        assert image.mode == "P"


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    mode=st.sampled_from(["RGB", "RGBA", "L", "LA", "P"]),
    size=st.tuples(st.integers(1, 40), st.integers(1, 40)),
    seed=st.integers(0, 2**16),
    webp=st.booleans(),
)
def test_lossless_is_exact_and_never_larger_on_any_small_image(
    mode: str, size: tuple[int, int], seed: int, webp: bool
) -> None:
    noise = Image.effect_noise(size, seed % 100 + 1).convert("RGBA")
    image = noise.convert(mode) if mode != "P" else noise.convert("RGB").quantize(colors=seed % 255 + 1)
    out = io.BytesIO()
    image.save(out, "PNG")
    data = out.getvalue()
    stored = _stored(data, engine.optimize(data, ".png", Optimization(mode="lossless", webp=webp)))
    assert len(stored) <= len(data)
    assert images.pixels(stored) == images.pixels(data)


def test_the_workers_give_what_the_engine_gives() -> None:
    data = images.screenshot()
    workers = Workers(processes=1)
    try:
        assert workers.optimize(data, ".png", LOSSLESS) == engine.optimize(data, ".png", LOSSLESS)
    finally:
        workers.close()


def test_without_worker_processes_the_engine_runs_in_the_thread(monkeypatch: pytest.MonkeyPatch) -> None:
    from mkdocs_wxcloud.optimize import workers as module

    def refused(*args: object, **kwargs: object) -> None:
        raise OSError("no semaphores here")

    monkeypatch.setattr(module, "ProcessPoolExecutor", refused)
    assert Workers().optimize(images.screenshot(), ".png", LOSSLESS).done == "oxipng"


# -- the options --------------------------------------------------------------------------------


def test_profiles_name_only_what_decides_each_format() -> None:
    lossy = Optimization(mode="lossy", quality=70, max_width=1920, webp=True)
    assert lossy.profile("a/b.PNG") == "lossy png65-90 max1920x webp q70"
    assert lossy.profile("photo.jpeg") == "lossy q70 max1920x webp q70"
    assert Optimization(mode="lossy", quality=90).profile("x.png") == LOSSY.profile("x.png")  # quality: JPEG only
    assert (
        LOSSLESS.profile("x.jpg") == "lossless"
        and Optimization(mode="lossless", webp=True).profile("x.jpg") == "lossless"
    )
    assert LOSSLESS.profile("anim.gif") == LOSSLESS.profile("logo.svg") == Optimization().profile("x.png") == ""


@pytest.mark.parametrize("values, message", [
    ({"optimize": "max"}, "option `optimize` must be false, lossless or lossy, not 'max'"),
    ({"optimize": "lossy", "quality": 0}, "option `quality` must be a whole number from 1 to 100, not 0"),
    ({"png_quality": "90-60"}, "option `png_quality` must be a range such as 65-90 (0 to 100), not '90-60'"),
    ({"max_width": "wide"}, "option `max_width` must be a whole number from 16 to 100000, not 'wide'"),
    ({"webp": "yes"}, "option `webp` must be true or false, not 'yes'"),
])  # fmt: skip
def test_a_bad_option_is_one_line_naming_it(values: dict, message: str) -> None:
    with pytest.raises(ConfigError, match="^" + message.replace("(", r"\(").replace(")", r"\)") + "$"):
        resolve(values, Path("."), environ={})


def test_sizes_read_as_people_write_them() -> None:
    assert parse_size("500 KB") == 512_000 and parse_size("1.5MB") == 1_572_864 and parse_size(2048) == 2048
    assert parse_size(None) is None
    with pytest.raises(ConfigError, match="option `max_size` must be a size such as 500 KB or 2 MB, not 'big'"):
        parse_size("big")
