"""Peak memory: bounded by the concurrency, not by the size of the files or of the site.

Targets (issue #5):

(a) uploading one large file (200 MB by default) through ``WxCloudClient.upload`` grows the peak RSS
    of the process by far less than the file size (here: < 10% of it);
(c) a cold ``mkdocs build`` of a page showing one large video (``<video src poster>``, the same
    size as (a)) grows the peak RSS by less than 10% of the video: hashed, streamed and counted by
    the progress callbacks without holding it;
(b) a cold build of a site with 2,000 images needs little more memory than one with 200 images.
    MkDocs itself needs more memory for more images (a File per image, longer pages), so the plugin is
    judged against the same build without it: with 10x the images, the growth of the peak traced
    memory with the plugin is at most 1.25x MkDocs' own growth, and the plugin's share of the peak
    (with minus without) costs at most 2 KB per extra image (a manifest entry and a hash-cache entry
    take about 1 KB; anything beyond is memory proportional to the site, not to the concurrency).

The emulator runs in a separate process (``mkdocs-wxcloud emulator``, ``_service.EmulatorProcess``)
so that its memory (it keeps uploads in memory) is not counted, and each measurement runs in a
fresh child process (this script with ``--child``), so that earlier work does not hide a peak.
Peak RSS comes from VmHWM in /proc/self/status (reset through /proc/self/clear_refs before the
measured step, with a 5 ms sampler as fallback); traced memory from ``tracemalloc``.

    python benchmarks/memory.py [--size-mb 200] [--small 200] [--large 2000] [--pages 100]
"""

from __future__ import annotations

import argparse
import gc
import json
import random
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import tracemalloc
from pathlib import Path

import _common as common
import _service as service
import _sites as sites
import requests
import yaml

MAX_UPLOAD_GROWTH = 0.10  # of the file size
MAX_RELATIVE_GROWTH = 1.25  # (peak growth with the plugin) / (peak growth without it)
MAX_PER_IMAGE = 2048  # bytes of the plugin's share of the peak per extra image
MB = 1024 * 1024


# -- measuring (children) ------------------------------------------------------------------------


def _status(field: str) -> int:
    """A field of /proc/self/status in bytes (0 when unavailable)."""
    try:
        match = re.search(rf"^{field}:\s+(\d+) kB", Path("/proc/self/status").read_text(), re.M)
    except OSError:
        return 0
    return int(match.group(1)) * 1024 if match else 0


class Peak:
    """Peak RSS and traced memory of the block it measures."""

    def __init__(self, trace: bool = True) -> None:
        self.trace = trace
        self.traced_peak = 0
        self.sampled = 0
        self._stop = threading.Event()

    def __enter__(self) -> Peak:
        gc.collect()
        try:
            Path("/proc/self/clear_refs").write_text("5")  # resets VmHWM to the current RSS
            self.hwm_reset = True
        except OSError:
            self.hwm_reset = False
        self.rss_before = _status("VmRSS")
        self.sampled = self.rss_before
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()
        if self.trace:
            tracemalloc.start()
        self.started = time.perf_counter()
        return self

    def _sample(self) -> None:
        for _ in range(200_000):  # bounded: 1,000 s at most (the child times out after 600 s anyway)
            if self._stop.wait(0.005):
                return
            self.sampled = max(self.sampled, _status("VmRSS"))

    def __exit__(self, *exc: object) -> None:
        self.seconds = time.perf_counter() - self.started
        if self.trace:
            self.traced_peak = tracemalloc.get_traced_memory()[1]
            tracemalloc.stop()
        self._stop.set()
        self._thread.join()
        hwm = _status("VmHWM") if self.hwm_reset else 0
        self.rss_peak = max(self.sampled, hwm)

    def result(self) -> dict:
        return {
            "seconds": self.seconds,
            "rss_before": self.rss_before,
            "rss_peak": self.rss_peak,
            "rss_growth": self.rss_peak - self.rss_before,
            "traced_peak": self.traced_peak,
            "hwm_reset": self.hwm_reset,
        }


def child_upload(api_base: str, file: Path) -> dict:
    from mkdocs_wxcloud.emulator import DEFAULT_APPID, DEFAULT_ENV, DEFAULT_SECRET
    from mkdocs_wxcloud.wechat.auth import Account
    from mkdocs_wxcloud.wechat.client import WxCloudClient

    account = Account(DEFAULT_ENV, DEFAULT_APPID, DEFAULT_SECRET)
    client = WxCloudClient(api_base, account)
    with client, Peak() as peak:
        file_id = client.upload("benchmark/large.bin", file)
    result = peak.result()
    # outside the measured block: the stored file must be the whole file
    with WxCloudClient(api_base, account) as client:
        urls, errors = client.download_urls([file_id])
    size = 0
    if file_id in urls:
        with requests.get(urls[file_id], stream=True, timeout=120) as answer:
            for chunk in answer.iter_content(MB):
                size += len(chunk)
    result.update({"file_id": file_id, "stored_size": size, "link_errors": errors})
    return result


def child_build(config: Path, trace: bool) -> dict:
    common.quiet_logging()
    import mkdocs.commands.build  # noqa: F401 - imports outside the measured block
    import mkdocs.config  # noqa: F401

    import mkdocs_wxcloud.hosts.mkdocs.plugin  # noqa: F401

    with Peak(trace) as peak:
        common.build(config)
    result = peak.result()
    result["warnings"] = common.WARNINGS.messages[:10]
    return result


# -- orchestration -------------------------------------------------------------------------------


def run_child(*args: str) -> dict:
    process = subprocess.run(
        [sys.executable, str(Path(__file__).resolve()), "--child", *args], capture_output=True, text=True, timeout=600
    )
    if process.returncode != 0:
        raise RuntimeError(f"child {args[0]} failed ({process.returncode}): {process.stderr.strip()[-1500:]}")
    return json.loads(process.stdout.strip().splitlines()[-1])


def write_large_file(path: Path, size: int, seed: int) -> None:
    rng = random.Random(seed)
    with path.open("wb") as out:
        left = size
        while left > 0:
            chunk = min(left, MB)
            out.write(rng.randbytes(chunk))
            left -= chunk


def video_site(root: Path, video: Path, api_base: str) -> Path:
    """A one-page site whose page shows ``video`` (moved into it); returns its mkdocs.yml."""
    (root / "docs/media").mkdir(parents=True)
    video.rename(root / "docs/media/录屏.mp4")
    (root / "docs/media/封面.png").write_bytes(sites.png(1, 4, noisy=True))
    (root / "docs/index.md").write_text('# 录屏\n\n<video src="media/录屏.mp4" poster="media/封面.png" controls></video>\n',
                                        encoding="utf-8")  # fmt: skip
    config = {"site_name": "video", "docs_dir": "docs", "site_dir": "site", "theme": {"name": "mkdocs"},
              "plugins": [{"wxcloud": sites.plugin_options(api_base)}]}  # fmt: skip
    sites.write_yaml(root / "mkdocs.yml", config)
    return root / "mkdocs.yml"


def fmt(n: float) -> str:
    return f"{n / MB:.1f} MB"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size-mb", type=int, default=200, help="size of the large file for (a)")
    parser.add_argument("--small", type=int, default=200, help="images of the small site for (b)")
    parser.add_argument("--large", type=int, default=2000, help="images of the large site for (b)")
    parser.add_argument("--pages", type=int, default=100, help="pages of both sites (the same for both)")
    parser.add_argument("--seed", type=int, default=3)
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder")
    parser.add_argument("--child", choices=("upload", "build"), help=argparse.SUPPRESS)
    parser.add_argument("--api-base", help=argparse.SUPPRESS)
    parser.add_argument("--path", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--no-trace", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.child == "upload":
        print(json.dumps(child_upload(args.api_base, args.path)))
        return 0
    if args.child == "build":
        print(json.dumps(child_build(args.path, not args.no_trace)))
        return 0

    info = common.machine()
    tmp = Path(tempfile.mkdtemp(prefix="wxcloud-bench-memory-"))
    common.isolate(tmp)  # inherited by the children
    targets = common.Targets()
    problems: list[str] = []
    emulator = None
    try:
        emulator = service.EmulatorProcess(tmp / "emulator.log")
        base = emulator.base_url
        print(f"Emulator process {emulator.process.pid} at {base}")

        # (a) one large file
        size = max(1, min(args.size_mb, 4096)) * MB
        large = tmp / "large.bin"
        write_large_file(large, size, args.seed)
        upload = run_child("upload", "--api-base", base, "--path", str(large))
        video = video_site(tmp / "site-video", large, base)
        if upload["stored_size"] != size:
            problems.append(f"the emulator holds {upload['stored_size']} bytes of the large file, expected {size}")
        print(
            f"  upload of {fmt(size)}: {common.secs(upload['seconds'])}, RSS +{fmt(upload['rss_growth'])}, "
            f"traced peak {fmt(upload['traced_peak'])}",
            flush=True,
        )

        # (c) a cold build that publishes one large video (untraced: RSS is the figure)
        video_build = run_child("build", "--path", str(video), "--no-trace")
        recorded = yaml.safe_load((video.parent / "wxcloud-manifest.yml").read_text(encoding="utf-8"))["images"]
        if recorded.get("media/录屏.mp4", {}).get("size") != size:
            problems.append("the cold build of the video site did not record the video in the manifest")
        shutil.rmtree(video.parent, ignore_errors=True)
        video_share = video_build["rss_growth"] / size
        print(
            f"  cold build with a {fmt(size)} video: {common.secs(video_build['seconds'])}, "
            f"RSS +{fmt(video_build['rss_growth'])}",
            flush=True,
        )

        # (b) cold builds of two sites that differ only in the number of images, against a fresh
        # emulator: one that holds the large files of (a) and (c) answers more slowly, and slower
        # answers keep more uploads waiting at the peak
        emulator.stop()
        emulator = service.EmulatorProcess(tmp / "emulator-b.log")
        base = emulator.base_url
        builds = {}
        for label, count in (("small", args.small), ("large", args.large)):
            site = sites.generate_site(
                tmp / f"site-{label}",
                pages=args.pages,
                images=count,
                seed=args.seed + count,
                api_base=base,
                search=True,
            )
            # traced runs for the peak of Python allocations; RSS from untraced runs (tracemalloc's
            # own bookkeeping would count in RSS); the second run with the plugin is warm, so the
            # cold one is the traced one and the RSS run gets a fresh copy of the site
            plain = run_child("build", "--path", str(site.plain))
            plain_rss = run_child("build", "--path", str(site.plain), "--no-trace")
            twin = tmp / f"site-{label}-rss"
            shutil.copytree(site.root, twin)
            cold = run_child("build", "--path", str(site.config))
            cold_rss = run_child("build", "--path", str(twin / "mkdocs.yml"), "--no-trace")
            shutil.rmtree(twin, ignore_errors=True)
            for traced, untraced in ((plain, plain_rss), (cold, cold_rss)):
                traced["rss_growth_traced"] = traced["rss_growth"]
                traced["rss_growth"] = untraced["rss_growth"]
                traced["seconds_untraced"] = untraced["seconds"]
            manifest = (site.root / "wxcloud-manifest.yml").read_text(encoding="utf-8")
            entries = len(re.findall(r"^\s+file_id:", manifest, re.M))
            if entries != count:
                problems.append(f"the cold build of the {count}-image site left {entries} manifest entries")
            builds[label] = {"images": count, "pages": site.pages, "with_plugin": cold, "without_plugin": plain}
            print(
                f"  cold build, {count} images: {common.secs(cold['seconds'])}, traced peak "
                f"{fmt(cold['traced_peak'])} (without plugin {fmt(plain['traced_peak'])})",
                flush=True,
            )

        small, big = builds["small"], builds["large"]
        growth = big["with_plugin"]["traced_peak"] / small["with_plugin"]["traced_peak"]
        plain_growth = big["without_plugin"]["traced_peak"] / small["without_plugin"]["traced_peak"]
        extra_small = small["with_plugin"]["traced_peak"] - small["without_plugin"]["traced_peak"]
        extra_big = big["with_plugin"]["traced_peak"] - big["without_plugin"]["traced_peak"]
        per_image = (extra_big - extra_small) / max(1, big["images"] - small["images"])
        upload_share = upload["rss_growth"] / size

        print()
        common.print_machine(info)
        print()
        print(
            common.table(
                ["(a) upload of one large file", "value"],
                [
                    ["file size", fmt(size)],
                    ["upload time", common.secs(upload["seconds"])],
                    ["peak RSS growth", f"{fmt(upload['rss_growth'])} ({upload_share:.1%} of the file)"],
                    ["peak traced memory (tracemalloc)", fmt(upload["traced_peak"])],
                    ["RSS before", fmt(upload["rss_before"])],
                ],
            )
        )
        print()
        print(
            common.table(
                ["(c) cold build of a page with one large video", "value"],
                [
                    ["video size", fmt(size)],
                    ["build time", common.secs(video_build["seconds"])],
                    ["peak RSS growth", f"{fmt(video_build['rss_growth'])} ({video_share:.1%} of the video)"],
                ],
            )
        )
        print()
        print(
            common.table(
                ["(b) cold build", f"{small['images']} images", f"{big['images']} images", "growth"],
                [
                    ["pages", small["pages"], big["pages"], ""],
                    [
                        "peak traced, with plugin",
                        fmt(small["with_plugin"]["traced_peak"]),
                        fmt(big["with_plugin"]["traced_peak"]),
                        f"{growth:.2f}x",
                    ],
                    [
                        "peak traced, without plugin",
                        fmt(small["without_plugin"]["traced_peak"]),
                        fmt(big["without_plugin"]["traced_peak"]),
                        f"{plain_growth:.2f}x",
                    ],
                    [
                        "plugin's share of the peak (difference)",
                        fmt(extra_small),
                        fmt(extra_big),
                        f"{per_image / 1024:.1f} KB per extra image",
                    ],
                    [
                        "peak RSS growth, with plugin (untraced run)",
                        fmt(small["with_plugin"]["rss_growth"]),
                        fmt(big["with_plugin"]["rss_growth"]),
                        f"{big['with_plugin']['rss_growth'] / max(1, small['with_plugin']['rss_growth']):.2f}x",
                    ],
                    [
                        "peak RSS growth, without plugin (untraced run)",
                        fmt(small["without_plugin"]["rss_growth"]),
                        fmt(big["without_plugin"]["rss_growth"]),
                        f"{big['without_plugin']['rss_growth'] / max(1, small['without_plugin']['rss_growth']):.2f}x",
                    ],
                    [
                        "build time with plugin (no tracemalloc)",
                        common.secs(small["with_plugin"]["seconds_untraced"]),
                        common.secs(big["with_plugin"]["seconds_untraced"]),
                        "",
                    ],
                ],
            )
        )
        targets.check(
            "(a) peak RSS growth uploading one large file",
            upload_share < MAX_UPLOAD_GROWTH,
            f"< {MAX_UPLOAD_GROWTH:.0%} of {fmt(size)}",
            f"{fmt(upload['rss_growth'])} ({upload_share:.1%})",
        )
        targets.check(
            "(c) peak RSS growth of a cold build publishing one large video",
            video_share < MAX_UPLOAD_GROWTH,
            f"< {MAX_UPLOAD_GROWTH:.0%} of {fmt(size)}",
            f"{fmt(video_build['rss_growth'])} ({video_share:.1%})",
        )
        ratio_images = big["images"] / small["images"]
        relative = growth / plain_growth
        targets.check(
            f"(b) growth of a cold build's peak for {ratio_images:.0f}x the images, relative to MkDocs' own",
            relative <= MAX_RELATIVE_GROWTH,
            f"<= {MAX_RELATIVE_GROWTH:.2f}",
            f"{growth:.2f}x / {plain_growth:.2f}x = {relative:.2f}",
        )
        targets.check(
            "(b) plugin's share of the peak per extra image",
            per_image <= MAX_PER_IMAGE,
            f"<= {MAX_PER_IMAGE / 1024:.0f} KB",
            f"{per_image / 1024:.1f} KB",
        )
        figures = {
            "upload": upload,
            "video_build": video_build,
            "builds": builds,
            "build_growth": growth,
            "build_growth_without_plugin": plain_growth,
            "relative_growth": relative,
            "plugin_extra_bytes": {"small": extra_small, "large": extra_big},
            "plugin_extra_per_image_bytes": per_image,
        }
        params = {
            "size_mb": size // MB,
            "small": args.small,
            "large": args.large,
            "pages": args.pages,
            "seed": args.seed,
        }
        return common.finish("memory", info, params, figures, targets, problems)
    finally:
        if emulator is not None:
            emulator.stop()
        if args.keep:
            print(f"Files kept in {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
