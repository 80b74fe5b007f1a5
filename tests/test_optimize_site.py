"""Optimization in real builds against the emulator: what is stored and recorded, what a warm build
or a changed setting costs, image sizes in the pages, budgets, and ``check``."""

from __future__ import annotations

import json
import re
from pathlib import Path

import images
import pytest
import requests
import yaml
from click.testing import CliRunner
from conftest import build, emulator_options, make_site

from mkdocs_wxcloud.cli import main
from mkdocs_wxcloud.emulator import Emulator
from mkdocs_wxcloud.optimize import engine
from mkdocs_wxcloud.publishing import optimizing

PAGE = """# Pictures

![shot](img/shot.png)

![photo](img/照片.jpg)

<img src="img/shot.png" alt="raw">

![sized](img/shot.png){ width="100" }

![logo](img/logo.svg) ![anim](img/anim.gif)
"""


def _site(root: Path, emulator: Emulator, **options: object) -> Path:
    files = {
        "index.md": PAGE,
        "img/shot.png": images.screenshot(),
        "img/照片.jpg": images.photo(),
        "img/logo.svg": images.SVG,
        "img/anim.gif": images.animated_gif(),
    }
    return make_site(root, files, emulator_options(emulator, **options), extensions=["attr_list", "md_in_html"])


def _manifest(root: Path) -> dict:
    return yaml.safe_load((root / "wxcloud-manifest.yml").read_text(encoding="utf-8"))["images"]


def _imgs(root: Path) -> list[str]:
    return re.findall(r"<img[^>]*>", (root / "site/index.html").read_text(encoding="utf-8"))


@pytest.fixture
def optimized(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The docs paths the optimizer worked on in this process, from now on."""
    calls: list[str] = []
    real = optimizing.Optimizer._optimized

    def spy(self: optimizing.Optimizer, data: bytes, ext: str, sha: str, profile: str) -> engine.Outcome:
        calls.append(ext)
        return real(self, data, ext, sha, profile)

    monkeypatch.setattr(optimizing.Optimizer, "_optimized", spy)
    return calls


def test_lossless_stores_fewer_bytes_and_the_manifest_says_what_was_done(tmp_path: Path, emulator: Emulator,
                                                                        caplog: pytest.LogCaptureFixture) -> None:  # fmt: skip
    caplog.set_level("INFO", logger="mkdocs")
    build(_site(tmp_path, emulator, optimize="lossless"))
    entries = _manifest(tmp_path)
    shot, photo = entries["img/shot.png"], entries["img/照片.jpg"]
    assert shot["optimize"] == "lossless" and shot["done"] == "oxipng" and shot["stored_size"] < shot["size"]
    assert (shot["width"], shot["height"]) == (480, 320)
    assert photo["done"] == "mozjpeg" and (photo["width"], photo["height"]) == (240, 320)  # EXIF-turned
    for name in ("img/logo.svg", "img/anim.gif"):  # uploaded byte for byte, recorded as before
        assert not {"optimize", "stored_size", "done"} & entries[name].keys()
    stored = requests.get(shot["url"], timeout=5).content
    assert len(stored) == shot["stored_size"] and images.pixels(stored) == images.pixels(images.screenshot())
    exif, _ = images.metadata(requests.get(photo["url"], timeout=5).content)
    assert images.GPS not in exif and exif.get(images.ORIENTATION) == 6
    assert any("saved by optimizing" in r.getMessage() for r in caplog.records)


def test_a_warm_build_optimizes_nothing_and_sends_nothing(
    tmp_path: Path, emulator: Emulator, optimized: list[str]
) -> None:
    config = _site(tmp_path, emulator, optimize="lossless", dimensions=True)
    build(config)
    assert sorted(optimized) == [".jpg", ".png"]
    pages, manifest = _imgs(tmp_path), (tmp_path / "wxcloud-manifest.yml").read_bytes()
    optimized.clear()
    emulator.reset_counts()
    build(config)
    assert optimized == [] and emulator.request_count() == 0
    assert _imgs(tmp_path) == pages and (tmp_path / "wxcloud-manifest.yml").read_bytes() == manifest


def test_a_changed_setting_reuploads_only_what_it_affects(
    tmp_path: Path, emulator: Emulator, optimized: list[str]
) -> None:
    build(_site(tmp_path, emulator, optimize="lossy", quality=85))
    before = _manifest(tmp_path)
    optimized.clear()
    emulator.reset_counts()
    build(_site(tmp_path, emulator, optimize="lossy", quality=60))  # a JPEG setting: the PNG stays
    after = _manifest(tmp_path)
    assert optimized == [".jpg"] and emulator.request_count("/tcb/uploadfile") == 1
    assert after["img/shot.png"] == before["img/shot.png"]
    assert (
        after["img/照片.jpg"]["optimize"] == "lossy q60"
        and after["img/照片.jpg"]["stored_size"] < before["img/照片.jpg"]["stored_size"]
    )
    retired = yaml.safe_load((tmp_path / "wxcloud-manifest.yml").read_text(encoding="utf-8"))["retired"]
    assert [r["cloud_path"] for r in retired] == [before["img/照片.jpg"]["cloud_path"]]  # `prune` deletes it


def test_results_are_cached_by_content_and_settings(tmp_path: Path, emulator: Emulator, optimized: list[str]) -> None:
    config = _site(tmp_path, emulator, optimize="lossless")
    build(config)
    (tmp_path / "wxcloud-manifest.yml").unlink()  # as if the upload had failed: nothing recorded
    optimized.clear()
    build(config)
    assert optimized == [] and _manifest(tmp_path)["img/shot.png"]["done"] == "oxipng"


def test_sizes_go_on_images_that_have_none_the_same_in_cold_and_warm_builds(tmp_path: Path, emulator: Emulator) -> None:
    config = _site(tmp_path, emulator, optimize="lossy", max_width=240, dimensions=True)
    build(config)
    cold = _imgs(tmp_path)
    assert 'alt="shot" height="160"' in cold[0] and 'width="240"' in cold[0]  # scaled down, as stored
    assert 'width="240" height="160"' in cold[2] and 'alt="raw"' in cold[2]  # raw HTML
    assert 'width="100"' in cold[3] and "height" not in cold[3]  # the author's size is left alone
    assert "height" not in cold[4]  # SVG: no pixel size
    assert not any("wxcloud-pending" in tag for tag in cold)
    build(config)
    assert _imgs(tmp_path) == cold


def test_max_size_warns_naming_the_page(tmp_path: Path, emulator: Emulator, caplog: pytest.LogCaptureFixture) -> None:
    config = _site(tmp_path, emulator, optimize="lossless", max_size="20 KB")
    build(config)
    messages = [r.getMessage() for r in caplog.records if r.levelname == "WARNING"]
    assert any(
        m.startswith("index.md:5: image 'img/照片.jpg' is ") and "over `max_size` (20.0 KB)" in m for m in messages
    ), messages
    assert not any("shot.png" in m for m in messages)


def test_check_says_what_the_settings_would_change_and_totals_the_bytes(tmp_path: Path, emulator: Emulator,
                                                                       monkeypatch: pytest.MonkeyPatch) -> None:  # fmt: skip
    build(_site(tmp_path, emulator, optimize="lossless"))
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(main, ["check", "--format", "json"], catch_exceptions=False)
    report = json.loads(result.stdout)
    assert result.exit_code == 0 and report["ok"]
    entries = _manifest(tmp_path)
    totals = report["totals"]
    assert totals["files"] == 4 and totals["bytes"] == sum(e["size"] for e in entries.values())
    assert 0 < totals["saved_bytes"] == totals["bytes"] - totals["stored_bytes"]
    _site(tmp_path, emulator, optimize="lossy")
    result = CliRunner().invoke(main, ["check"], catch_exceptions=False)
    assert result.exit_code == 1
    assert (
        "img/shot.png: was stored optimized as `lossless`, the options now ask for it optimized as `lossy png65-90`"
        in result.stdout
    )


def test_without_the_library_a_format_is_uploaded_as_it_is_and_work_done_elsewhere_stays(
    tmp_path: Path, emulator: Emulator, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    config = _site(tmp_path, emulator, optimize="lossless")
    build(config)  # a machine with the extra
    (tmp_path / "docs/img/new.png").write_bytes(images.screenshot(seed=9))
    (tmp_path / "docs/more.md").write_text("![new](img/new.png)\n", encoding="utf-8")
    real = engine.missing_library
    monkeypatch.setattr(engine, "missing_library", lambda ext, mode: "pyoxipng" if ext == ".png" else real(ext, mode))
    caplog.set_level("INFO", logger="mkdocs")
    emulator.reset_counts()
    build(config)  # one without pyoxipng
    entries = _manifest(tmp_path)
    assert emulator.request_count("/tcb/uploadfile") == 1  # only the new image; the optimized ones stay
    assert entries["img/shot.png"]["done"] == "oxipng" and "optimize" not in entries["img/new.png"]
    assert (
        sum(
            "PNG images are uploaded as they are, since pyoxipng is not installed" in r.getMessage()
            for r in caplog.records
        )
        == 1
    )


def test_sizes_without_optimizing_and_for_images_uploaded_before(tmp_path: Path, emulator: Emulator) -> None:
    build(_site(tmp_path, emulator))  # uploaded before `dimensions` was turned on
    assert "width" not in _manifest(tmp_path)["img/shot.png"]
    emulator.reset_counts()
    build(_site(tmp_path, emulator, dimensions=True))
    assert emulator.request_count() == 0  # the sizes come from the files' headers, nothing is uploaded again
    shot = _manifest(tmp_path)["img/shot.png"]
    assert (shot["width"], shot["height"]) == (480, 320) and "stored_size" not in shot and "optimize" not in shot
    assert 'height="320"' in _imgs(tmp_path)[0]
    (tmp_path / "docs/img/new.jpg").write_bytes(images.photo(seed=5))
    (tmp_path / "docs/new.md").write_text("![new](img/new.jpg)\n", encoding="utf-8")
    build(_site(tmp_path, emulator, dimensions=True))
    new = _manifest(tmp_path)["img/new.jpg"]
    assert (new["width"], new["height"], new["size"]) == (240, 320, len(images.photo(seed=5)))


def test_every_raster_image_gets_its_size_and_every_jpeg_is_optimized(tmp_path: Path, emulator: Emulator) -> None:
    from test_optimize_headers import huge_gif

    files = {
        "index.md": "![a](img/anim.gif) ![b](img/photo.jfif) ![c](img/photo.jpe) ![d](img/gif-named.png)\n",
        "img/anim.gif": huge_gif(),  # too large for Pillow to open: its size comes from its header
        "img/photo.jfif": images.photo(),
        "img/photo.jpe": images.photo(seed=3),
        "img/gif-named.png": huge_gif(9000, 8000),
    }
    build(make_site(tmp_path, files, emulator_options(emulator, optimize="lossless", dimensions=True)))
    entries = _manifest(tmp_path)
    assert (entries["img/anim.gif"]["width"], entries["img/anim.gif"]["height"]) == (14000, 13000)
    assert (entries["img/gif-named.png"]["width"], entries["img/gif-named.png"]["done"]) == (
        9000,
        "kept: not a PNG or JPEG inside",
    )
    for name in ("img/photo.jfif", "img/photo.jpe"):
        entry = entries[name]
        assert (entry["optimize"], entry["done"], entry["width"], entry["height"]) == ("lossless", "mozjpeg", 240, 320)
        stored = requests.get(entry["url"], timeout=5).content
        exif, _ = images.metadata(stored)
        assert images.GPS not in exif and images.MAKE not in exif
        assert images.shown(stored) == images.shown(files[name])  # type: ignore[arg-type]
