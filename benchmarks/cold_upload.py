"""Cold upload: the concurrent path (``mkdocs-wxcloud sync``) against the hand-written sequential flow.

Target (issue #5): with 50 ms of latency per request, uploading N new images is at least 10x faster
than the per-file flow users write by hand (stable_token, uploadfile, COS POST, batchdownloadfile for
that one file, next file), and the concurrent run sends per new image at most two requests
(uploadfile + COS POST), plus one batchdownloadfile per 50 images and at most one token request.

Each run gets its own fresh in-process emulator (same latency), on the same image files.

    python benchmarks/cold_upload.py [--images 300] [--latency 0.05]
"""

from __future__ import annotations

import argparse
import math
import sys
import time
from pathlib import Path

import _common as common
import requests

MIN_SPEEDUP = 10.0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--images", type=int, default=300)
    parser.add_argument("--latency", type=float, default=0.05, help="seconds the emulator waits before each answer")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--keep", action="store_true", help="keep the temporary site folder")
    args = parser.parse_args()
    n = max(1, min(args.images, 20000))

    info = common.machine()
    from click.testing import CliRunner

    from mkdocs_wxcloud import cli
    from mkdocs_wxcloud.emulator import DEFAULT_APPID, DEFAULT_ENV, DEFAULT_SECRET, Emulator
    from mkdocs_wxcloud.manifest.model import read as read_manifest

    targets = common.Targets()
    problems: list[str] = []
    figures: dict = {}
    with common.scratch("upload", args.keep) as tmp:
        # -- what one request costs on a kept-alive connection (expected: about the latency) --------
        with Emulator(latency=args.latency) as emulator:
            round_trip = probe_round_trip(emulator.base_url, DEFAULT_APPID, DEFAULT_SECRET)
        print(f"One JSON request on a kept-alive connection: {round_trip * 1000:.1f} ms "
              f"(emulator latency {args.latency * 1000:.0f} ms)")

        # -- the project's concurrent path ---------------------------------------------------------
        with Emulator(latency=args.latency) as emulator:
            site = common.generate_site(tmp / "site", pages=max(1, n // 4), images=n, seed=args.seed,
                                        api_base=emulator.base_url, search=False)
            print(f"Site: {site.pages} pages, {site.images} images; emulator latency {args.latency * 1000:.0f} ms")
            started = time.perf_counter()
            result = CliRunner().invoke(cli.main, ["sync", "-f", str(site.config)])
            concurrent = time.perf_counter() - started
            counts = common.endpoint_counts(emulator)
            stored = len(emulator.stored_files())
        if result.exit_code != 0:
            problems.append(f"sync exited with {result.exit_code}: {result.output.strip()[-500:]}")
        manifest = read_manifest(site.root / "wxcloud-manifest.yml")
        linked = sum(1 for e in manifest.images.values() if e.url)
        if stored != n or linked != n:
            problems.append(f"sync stored {stored} files and linked {linked} images, expected {n}")
        print(f"  sync: {common.secs(concurrent)}, requests {counts}", flush=True)

        # -- the sequential per-file baseline ------------------------------------------------------
        images = sorted(p for p in (site.docs / "images").rglob("*.png"))
        with Emulator(latency=args.latency) as emulator:
            started = time.perf_counter()
            links = sequential_upload(emulator.base_url, DEFAULT_APPID, DEFAULT_SECRET, DEFAULT_ENV, images,
                                      site.docs)
            sequential = time.perf_counter() - started
            baseline_counts = common.endpoint_counts(emulator)
            baseline_stored = len(emulator.stored_files())
        if baseline_stored != n or len(links) != n:
            problems.append(f"the sequential baseline stored {baseline_stored} files and got {len(links)} links")
        print(f"  sequential baseline: {common.secs(sequential)}, requests {baseline_counts}", flush=True)

        speedup = sequential / concurrent
        figures = {
            "concurrent_s": concurrent,
            "sequential_s": sequential,
            "speedup": speedup,
            "concurrent_requests": counts,
            "sequential_requests": baseline_counts,
            "json_round_trip_s": round_trip,
            "sync_output_tail": result.output.strip().splitlines()[-3:],
        }
        print()
        common.print_machine(info)
        print(f"{n} new images (~{sum(p.stat().st_size for p in images) // n} bytes each), "
              f"{args.latency * 1000:.0f} ms emulator latency per request; one JSON request on a kept-alive "
              f"connection measured at {round_trip * 1000:.0f} ms\n")
        print(common.table(
            ["run", "wall time", "images/s", "requests"],
            [
                ["`mkdocs-wxcloud sync` (concurrent, in-process)", common.secs(concurrent), f"{n / concurrent:.1f}",
                 counts["total"]],
                ["sequential per-file flow (requests)", common.secs(sequential), f"{n / sequential:.1f}",
                 baseline_counts["total"]],
                ["speed-up", f"{speedup:.1f}x", "", ""],
            ],
        ))
        max_links = math.ceil(n / 50)
        print()
        print(common.table(
            ["endpoint (concurrent run)", "requests", "allowed"],
            [
                ["cgi-bin/stable_token", counts["stable_token"], "<= 1"],
                ["tcb/uploadfile", counts["uploadfile"], f"<= {n}"],
                ["COS POST", counts["cos"], f"<= {n}"],
                ["tcb/batchdownloadfile", counts["batchdownloadfile"], f"<= {max_links}"],
                ["total", counts["total"], f"<= {2 * n + max_links + 1}"],
            ],
        ))
        targets.check("speed-up over the sequential flow", speedup >= MIN_SPEEDUP, f">= {MIN_SPEEDUP:.0f}x",
                      f"{speedup:.1f}x")
        targets.check("token requests per run", counts["stable_token"] <= 1, "<= 1", str(counts["stable_token"]))
        targets.check("upload requests per new image", counts["uploadfile"] <= n and counts["cos"] <= n,
                      "<= 2 (uploadfile + COS)", f"{(counts['uploadfile'] + counts['cos']) / n:.2f}")
        targets.check("link requests", counts["batchdownloadfile"] <= max_links, f"<= {max_links} (1 per 50)",
                      str(counts["batchdownloadfile"]))
        params = {"images": n, "latency_s": args.latency, "pages": site.pages, "seed": args.seed}
        return common.finish("cold_upload", info, params, figures, targets, problems)


def probe_round_trip(base: str, appid: str, secret: str, calls: int = 7) -> float:
    """Median wall time of one stable_token call on a kept-alive connection (the first is not counted)."""
    times = []
    with requests.Session() as session:
        for _ in range(calls + 1):
            began = time.perf_counter()
            session.post(f"{base}/cgi-bin/stable_token", timeout=30, json={
                "grant_type": "client_credential", "appid": appid, "secret": secret}).raise_for_status()
            times.append(time.perf_counter() - began)
    return common.median(times[1:])


def sequential_upload(base: str, appid: str, secret: str, env: str, images: list[Path], docs: Path) -> dict[str, str]:
    """The flow users write by hand: four requests per file, one file after the other."""
    links: dict[str, str] = {}
    with requests.Session() as session:
        for image in images:
            cloud_path = "manual/" + image.relative_to(docs).as_posix()
            answer = session.post(f"{base}/cgi-bin/stable_token", timeout=30, json={
                "grant_type": "client_credential", "appid": appid, "secret": secret})
            token = answer.json()["access_token"]
            link = session.post(f"{base}/tcb/uploadfile", params={"access_token": token}, timeout=30,
                                json={"env": env, "path": cloud_path}).json()
            with image.open("rb") as handle:
                answer = session.post(link["url"], timeout=30, data={
                    "key": cloud_path,
                    "Signature": link["authorization"],
                    "x-cos-security-token": link["token"],
                    "x-cos-meta-fileid": link["cos_file_id"],
                }, files={"file": (image.name, handle, "image/png")})  # requests puts files after data
            answer.raise_for_status()
            listed = session.post(f"{base}/tcb/batchdownloadfile", params={"access_token": token}, timeout=30,
                                  json={"env": env, "file_list": [{"fileid": link["file_id"], "max_age": 86400}]}).json()
            url = listed["file_list"][0].get("download_url")
            if url:
                links[cloud_path] = url
    return links


if __name__ == "__main__":
    sys.exit(main())
