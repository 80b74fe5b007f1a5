"""Fewer bytes for the same pictures: what each `optimize` mode saves, what it costs, and the build.

On a generated, real-shaped image set (retina screenshots of UI with anti-aliased text and embedded
photos, phone photos with EXIF GPS and an orientation, already-optimized small PNGs, GIF animations,
SVG; all made here, so no licence question), it measures:

(a) for each mode (off, lossless, lossless + webp, lossy, lossy + webp + max_width 1920): bytes
    before and after per kind of image, and the CPU time per image of the engine (one thread, as in
    a worker process);
(b) oxipng levels 0-4 on the PNGs: bytes and CPU, and the saving per CPU second that picks the level;
(c) a cold `mkdocs build` of a site showing every image, with each mode, against the cold build
    without optimization (emulator in its own process, 20 ms per request), client and worker CPU;
(d) a warm build with `optimize: lossless`: optimizer calls and requests (both must be 0).

Targets: never larger (every image, every mode); lossless keeps every pixel; a warm build does no
optimization work and makes no request.

    python benchmarks/optimize.py [--scale 1.0] [--latency 0.02] [--keep]
"""

from __future__ import annotations

import argparse
import io
import os
import random
import resource
import shutil
import sys
import time
from pathlib import Path
from typing import Any

os.environ["RAYON_NUM_THREADS"] = "1"  # as in the worker processes: one thread per image

import _common as common  # noqa: E402
import _service as service  # noqa: E402
import _sites as sites  # noqa: E402
import images as test_images  # noqa: E402 - the tests' images and their notion of "the same pixels"

MODES: dict[str, dict[str, Any]] = {
    "off": {},
    "lossless": {"optimize": "lossless"},
    "lossless + webp": {"optimize": "lossless", "webp": True},
    "lossy": {"optimize": "lossy"},
    "lossy + webp + max_width 1920": {"optimize": "lossy", "webp": True, "max_width": 1920},
}


# -- the image set -------------------------------------------------------------------------------


def _font(size: int):  # noqa: ANN202
    from PIL import ImageFont

    try:
        return ImageFont.load_default(size=size)
    except TypeError:  # Pillow without FreeType sizes
        return ImageFont.load_default()


def screenshot(rng: random.Random, size: tuple[int, int]) -> bytes:
    """A retina screenshot of an app: gradient bar, panels with shadows, many lines of anti-aliased
    text, icons, an embedded photo; saved as screenshot tools save (zlib level 6, a text chunk)."""
    from PIL import Image, ImageDraw, ImageFilter, PngImagePlugin

    w, h = size
    image = Image.new("RGB", size, (246, 247, 249))
    bar = Image.linear_gradient("L").rotate(90).resize((w, h // 12))
    image.paste(Image.merge("RGB", (bar.point(lambda v: 30 + v // 4), bar.point(lambda v: 120 + v // 5), bar)), (0, 0))
    draw = ImageDraw.Draw(image)
    y = h // 10
    while y < h - 80:
        x0 = rng.randrange(20, w // 3)
        panel = (x0, y, min(w - 20, x0 + rng.randrange(w // 3, w // 2 + 200)), y + rng.randrange(120, 320))
        shadow = Image.new("L", size, 0)
        ImageDraw.Draw(shadow).rectangle(panel, fill=90)
        image.paste((180, 180, 190), (6, 8), shadow.filter(ImageFilter.GaussianBlur(8)))
        draw.rounded_rectangle(panel, 12, fill=(255, 255, 255), outline=(220, 222, 228), width=2)
        ty = panel[1] + 16
        while ty < panel[3] - 30:
            text = " ".join(rng.choice(sites.WORDS) for _ in range(rng.randrange(3, 9)))
            draw.text((panel[0] + 20, ty), text.capitalize(), fill=(40, 44, 52), font=_font(rng.choice((22, 26, 30))))
            ty += 40
        for i in range(rng.randrange(0, 4)):
            cx = panel[2] - 40 - 50 * i
            draw.ellipse((cx - 16, panel[1] + 14, cx + 16, panel[1] + 46), fill=(rng.randrange(256), 140, 220))
        y = panel[3] + rng.randrange(24, 60)
    if rng.random() < 0.6:
        pw, ph = w // 4, h // 4
        photo = Image.effect_noise((pw, ph), 60).convert("RGB").filter(ImageFilter.GaussianBlur(2))
        tint = Image.new("RGB", (pw, ph), (rng.randrange(256), rng.randrange(256), 120))
        image.paste(Image.blend(photo, tint, 0.5), (w - pw - 40, h - ph - 40))
    info = PngImagePlugin.PngInfo()
    info.add_text("Software", "Snipaste")
    out = io.BytesIO()
    image.save(out, "PNG", compress_level=6, pnginfo=info)
    return out.getvalue()


def photo(rng: random.Random, size: tuple[int, int]) -> bytes:
    """A phone photo: smooth shapes, texture and sensor noise; JPEG q92 with the tests' EXIF (GPS, camera,
    orientation) and sRGB profile."""
    from PIL import Image, ImageDraw, ImageFilter

    w, h = size
    sky = Image.linear_gradient("L").resize(size)
    image = Image.merge(
        "RGB", (sky.point(lambda v: 90 + v // 3), sky.point(lambda v: 130 + v // 4), sky.point(lambda v: 200 - v // 5))
    )
    draw = ImageDraw.Draw(image)
    for _ in range(30):
        x, y, r = rng.randrange(w), rng.randrange(h // 3, h), rng.randrange(w // 20, w // 5)
        draw.ellipse(
            (x - r, y - r, x + r, y + r), fill=(rng.randrange(40, 120), rng.randrange(80, 160), rng.randrange(30, 90))
        )
    image = image.filter(ImageFilter.GaussianBlur(6))
    noise = Image.effect_noise(size, 18).convert("RGB")
    image = Image.blend(image, noise, 0.12)
    out = io.BytesIO()
    image.save(
        out, "JPEG", quality=92, exif=test_images.exif(rng.choice((1, 6))).tobytes(), icc_profile=test_images.SRGB
    )
    return out.getvalue()


def optimized_png(rng: random.Random) -> bytes:
    """A small screenshot that was already optimized (oxipng -o4), as careful sites commit them."""
    import oxipng

    return oxipng.optimize_from_memory(screenshot(rng, (rng.randrange(500, 900), rng.randrange(300, 600))), level=4,
                                       strip=oxipng.StripChunks.safe())  # fmt: skip


def animated_gif(rng: random.Random) -> bytes:
    from PIL import Image, ImageDraw

    frames = []
    for i in range(8):
        frame = Image.new("P", (320, 200), 0)
        ImageDraw.Draw(frame).rectangle((20 + 30 * i, 40, 80 + 30 * i, 120), fill=rng.randrange(1, 255))
        frames.append(frame)
    out = io.BytesIO()
    frames[0].save(out, "GIF", save_all=True, append_images=frames[1:], duration=120, loop=0)
    return out.getvalue()


def svg(rng: random.Random) -> bytes:
    shapes = "".join(f'<circle cx="{rng.randrange(200)}" cy="{rng.randrange(120)}" r="{rng.randrange(4, 30)}" fill="#3a7"/>'
                     for _ in range(20))  # fmt: skip
    return f'<svg xmlns="http://www.w3.org/2000/svg" width="200" height="120">{shapes}</svg>'.encode()


def image_set(scale: float, seed: int = 7, shrink: int = 1) -> list[tuple[str, str, bytes]]:
    """``(kind, file name, bytes)`` of the set; ``scale`` multiplies how many of each kind, ``shrink``
    divides the sides of the screenshots and photos."""
    rng = random.Random(seed)
    n = lambda count: max(1, round(count * scale))  # noqa: E731
    found = []
    sizes = [(w // shrink, h // shrink) for w, h in [(2560, 1600), (2880, 1800), (1920, 1200), (1440, 900)]]
    found += [("screenshot", f"截图-{i}.png", screenshot(rng, sizes[i % len(sizes)])) for i in range(n(8))]
    found += [("photo", f"照片-{i}.jpg", photo(rng, (2016 // shrink, 1512 // shrink))) for i in range(n(4))]
    found += [("optimized PNG", f"图标-{i}.png", optimized_png(rng)) for i in range(n(8))]
    found += [("GIF", f"动画-{i}.gif", animated_gif(rng)) for i in range(n(2))]
    found += [("SVG", f"图形-{i}.svg", svg(rng)) for i in range(n(2))]
    return found


# -- measurements --------------------------------------------------------------------------------


def engine_figures(images: list[tuple[str, str, bytes]], problems: list[str]) -> dict:
    from mkdocs_wxcloud.optimize import engine
    from mkdocs_wxcloud.publishing.settings import resolve

    figures: dict = {}
    for mode, options in MODES.items():
        settings = resolve(options, Path("."), environ={}).optimization
        per_kind: dict[str, dict] = {}
        for kind, name, data in images:
            started = time.process_time()
            outcome = engine.optimize(data, os.path.splitext(name)[1], settings)
            cpu = time.process_time() - started
            stored = outcome.data if outcome.data is not None else data
            if len(stored) > len(data):
                problems.append(f"{mode}: {name} grew from {len(data)} to {len(stored)} bytes")
            if (
                mode.startswith("lossless")
                and outcome.data is not None
                and test_images.pixels(stored) != test_images.pixels(data)
            ):
                problems.append(f"{mode}: {name} changed pixels ({outcome.done})")
            row = per_kind.setdefault(kind, {"images": 0, "before": 0, "after": 0, "cpu": 0.0, "done": {}})
            row["images"] += 1
            row["before"] += len(data)
            row["after"] += len(stored)
            row["cpu"] += cpu
            row["done"][outcome.done] = row["done"].get(outcome.done, 0) + 1
        figures[mode] = per_kind
    return figures


def oxipng_levels(images: list[tuple[str, str, bytes]]) -> list[dict]:
    import oxipng

    pngs = [data for kind, _, data in images if kind in ("screenshot", "optimized PNG")]
    rows = []
    for level in range(5):
        before = after = 0
        started = time.process_time()
        for data in pngs:
            out = oxipng.optimize_from_memory(data, level=level, strip=oxipng.StripChunks.safe())
            before, after = before + len(data), after + min(len(out), len(data))
        cpu = time.process_time() - started
        rows.append({"level": level, "before": before, "after": after, "cpu": cpu,
                     "saved_per_cpu_second": (before - after) / cpu if cpu else 0.0})  # fmt: skip
    return rows


def cold_builds(tmp: Path, images: list[tuple[str, str, bytes]], latency: float, problems: list[str]) -> dict:
    """A cold build per mode (fresh emulator, no manifest or caches), then one warm build with lossless."""
    from mkdocs_wxcloud.publishing import optimizing

    site = tmp / "site"
    docs = site / "docs"
    (docs / "图片").mkdir(parents=True)
    lines = ["# 截图与照片", ""]
    for _, name, data in images:
        (docs / "图片" / name).write_bytes(data)
        lines += [f"![{name}](图片/{name})", ""]
    for p in range(4):  # pages share the images, as manuals do
        (docs / f"页面-{p}.md").write_text("\n".join(lines[p % 2 :: 2 if p else 1]), encoding="utf-8")
    (docs / "index.md").write_text("\n".join(lines), encoding="utf-8")
    calls = []
    real = optimizing.Optimizer._optimized
    optimizing.Optimizer._optimized = lambda self, *a: calls.append(1) or real(self, *a)  # type: ignore[method-assign, func-returns-value]
    figures: dict = {}
    for mode, options in MODES.items():
        with service.EmulatorProcess(tmp / f"emulator-{len(figures)}.log", latency=latency, verbose=True) as emulator:
            config = site / "mkdocs.yml"
            sites.write_yaml(
                config,
                {
                    "site_name": "图片",
                    "docs_dir": "docs",
                    "site_dir": "site",
                    "plugins": [{"wxcloud": sites.plugin_options(emulator.base_url, **options)}],
                },
            )
            for folder in (site / ".cache", site / "site"):
                shutil.rmtree(folder, ignore_errors=True)
            (site / "wxcloud-manifest.yml").unlink(missing_ok=True)
            children = resource.getrusage(resource.RUSAGE_CHILDREN)
            cpu: list[float] = []
            wall = common.build(config, cpu)
            after = resource.getrusage(resource.RUSAGE_CHILDREN)
            worker_cpu = (after.ru_utime + after.ru_stime) - (children.ru_utime + children.ru_stime)
            counts = emulator.counts()
            figures[mode] = {"wall": wall, "cpu": cpu[0], "worker_cpu": worker_cpu, "requests": counts["total"]}
            if mode == "lossless":
                calls.clear()
                before = emulator.counts()["total"]
                figures["warm, lossless"] = {"wall": common.build(config), "optimizer_calls": len(calls),
                                             "requests": emulator.counts()["total"] - before}  # fmt: skip
    optimizing.Optimizer._optimized = real  # type: ignore[method-assign]
    for warning in common.WARNINGS.messages:
        problems.append(f"build warning: {warning}")
    return figures


def _size(n: float) -> str:
    return f"{n / 1024 / 1024:.2f} MB" if n >= 1024 * 1024 else f"{n / 1024:.1f} KB"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scale", type=float, default=1.0, help="multiplies how many images of each kind (default 1)")
    parser.add_argument("--latency", type=float, default=0.02, help="seconds the emulator waits before each answer")
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder")
    parser.add_argument(
        "--quick", action="store_true", help="one image of each kind, screenshots and photos at a quarter of their "
        "sides: shows that the script runs (its figures are not the README's)"
    )  # fmt: skip
    args = parser.parse_args()
    info = common.machine()
    common.quiet_logging()
    targets, problems = common.Targets(), list[str]()
    with common.scratch("optimize", args.keep) as tmp:
        images = image_set(0.1, shrink=4) if args.quick else image_set(max(0.25, min(args.scale, 8.0)))
        print(f"{len(images)} images, {_size(sum(len(d) for _, _, d in images))}", flush=True)
        engine = engine_figures(images, problems)
        levels = oxipng_levels(images)
        builds = cold_builds(tmp, images, args.latency, problems)
    common.print_machine(info)
    kinds = list(dict.fromkeys(kind for kind, _, _ in images))
    rows = []
    for mode, per_kind in engine.items():
        for kind in kinds:
            row = per_kind[kind]
            saved = 1 - row["after"] / row["before"]
            rows.append(
                [
                    mode,
                    kind,
                    row["images"],
                    _size(row["before"]),
                    _size(row["after"]),
                    f"{saved:.0%}",
                    common.ms(row["cpu"] / row["images"]),
                    ", ".join(f"{k} ({v})" for k, v in sorted(row["done"].items())),
                ]
            )
    print()
    print(common.table(["mode", "kind", "images", "before", "after", "saved", "CPU per image", "what was done"], rows))
    print()
    print(common.table(["oxipng level", "PNG bytes after", "saved", "CPU (all PNGs)", "saved per CPU second"],
                       [[r["level"], _size(r["after"]), f"{1 - r['after'] / r['before']:.1%}", common.secs(r["cpu"]),
                         f"{_size(r['saved_per_cpu_second'])}/s"] for r in levels]))  # fmt: skip
    plain = builds["off"]
    print()
    print(common.table(["cold build", "wall", "vs off", "build process CPU", "worker processes CPU", "requests"],
                       [[mode, common.secs(b["wall"]), f"{b['wall'] / plain['wall']:.2f}x", common.secs(b["cpu"]),
                         common.secs(b["worker_cpu"]), b["requests"]] for mode, b in builds.items() if mode in MODES]))  # fmt: skip
    warm = builds["warm, lossless"]
    print(
        f"\nwarm build with lossless: {common.secs(warm['wall'])}, {warm['optimizer_calls']} optimizer calls, "
        f"{warm['requests']} requests"
    )
    targets.check(
        "never larger, every image and mode; lossless keeps every pixel", not problems, "0 problems", f"{len(problems)}"
    )
    targets.check("warm build: no optimization work, no request", warm["optimizer_calls"] == 0 and warm["requests"] == 0,
                  "0 calls, 0 requests", f"{warm['optimizer_calls']} calls, {warm['requests']} requests")  # fmt: skip
    return common.finish("optimize", info, vars(args), {"engine": engine, "oxipng_levels": levels, "builds": builds},
                         targets, problems)  # fmt: skip


if __name__ == "__main__":
    sys.exit(main())
