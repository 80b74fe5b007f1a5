"""Cold upload: the concurrent path (``mkdocs-wxcloud sync``) against the hand-written sequential flow.

Target (issue #5): with 50 ms of latency per request, uploading N new images is at least 10x faster
than the per-file flow users write by hand (stable_token, uploadfile, COS POST, batchdownloadfile for
that one file, next file), and the concurrent run sends per new image at most two requests
(uploadfile + COS POST), plus one batchdownloadfile per 50 images and at most one token request.

Each run gets its own fresh emulator (same latency), on the same image files, in a separate process
(``_service.EmulatorProcess``): the real service is remote, and an emulator in this process would
compete with the client for the GIL (with 16 uploads at once, a small sync took 2-3x as long).

    python benchmarks/cold_upload.py [--images 300] [--latency 0.05]
"""

from __future__ import annotations

import argparse
import math
import sys
import time

import _common as common
import _service as service
import _sites as sites

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
    from mkdocs_wxcloud.manifest.model import read as read_manifest

    targets = common.Targets()
    problems: list[str] = []
    figures: dict = {}
    with common.scratch("upload", args.keep) as tmp:

        def emulator_process(name: str) -> service.EmulatorProcess:
            return service.EmulatorProcess(tmp / f"emulator-{name}.log", latency=args.latency, verbose=True)

        # -- what one request costs on a kept-alive connection (expected: about the latency) --------
        with emulator_process("probe") as emulator:
            round_trip = service.probe_round_trip(emulator.base_url)
        print(
            f"One JSON request on a kept-alive connection: {round_trip * 1000:.1f} ms "
            f"(emulator latency {args.latency * 1000:.0f} ms)"
        )

        # -- the project's concurrent path ---------------------------------------------------------
        with emulator_process("sync") as emulator:
            site = sites.generate_site(
                tmp / "site", pages=max(1, n // 4), images=n, seed=args.seed, api_base=emulator.base_url, search=False
            )
            print(f"Site: {site.pages} pages, {site.images} images; emulator latency {args.latency * 1000:.0f} ms")
            started = time.perf_counter()
            result = CliRunner().invoke(cli.main, ["sync", "-f", str(site.config)])
            concurrent = time.perf_counter() - started
            counts = emulator.counts()
        if result.exit_code != 0:
            problems.append(f"sync exited with {result.exit_code}: {result.output.strip()[-500:]}")
        manifest = read_manifest(site.root / "wxcloud-manifest.yml")
        linked = sum(1 for e in manifest.images.values() if e.url)
        if counts["cos"] != n or linked != n:
            problems.append(f"sync stored {counts['cos']} files and linked {linked} images, expected {n}")
        print(f"  sync: {common.secs(concurrent)}, requests {counts}", flush=True)

        # -- the sequential per-file baseline ------------------------------------------------------
        images = sorted(p for p in (site.docs / "images").rglob("*.png"))
        with emulator_process("sequential") as emulator:
            started = time.perf_counter()
            links = service.sequential_upload(emulator.base_url, images, site.docs)
            sequential = time.perf_counter() - started
            baseline_counts = emulator.counts()
        if baseline_counts["cos"] != n or len(links) != n:
            problems.append(f"the sequential baseline stored {baseline_counts['cos']} files and got {len(links)} links")
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
        print(
            f"{n} new images (~{sum(p.stat().st_size for p in images) // n} bytes each), "
            f"{args.latency * 1000:.0f} ms emulator latency per request; one JSON request on a kept-alive "
            f"connection measured at {round_trip * 1000:.0f} ms\n"
        )
        print(
            common.table(
                ["run", "wall time", "images/s", "requests"],
                [
                    [
                        "`mkdocs-wxcloud sync` (concurrent, in-process)",
                        common.secs(concurrent),
                        f"{n / concurrent:.1f}",
                        counts["total"],
                    ],
                    [
                        "sequential per-file flow (requests)",
                        common.secs(sequential),
                        f"{n / sequential:.1f}",
                        baseline_counts["total"],
                    ],
                    ["speed-up", f"{speedup:.1f}x", "", ""],
                ],
            )
        )
        max_links = math.ceil(n / 50)
        print()
        print(
            common.table(
                ["endpoint (concurrent run)", "requests", "allowed"],
                [
                    ["cgi-bin/stable_token", counts["stable_token"], "<= 1"],
                    ["tcb/uploadfile", counts["uploadfile"], f"<= {n}"],
                    ["COS POST", counts["cos"], f"<= {n}"],
                    ["tcb/batchdownloadfile", counts["batchdownloadfile"], f"<= {max_links}"],
                    ["total", counts["total"], f"<= {2 * n + max_links + 1}"],
                ],
            )
        )
        targets.check(
            "speed-up over the sequential flow", speedup >= MIN_SPEEDUP, f">= {MIN_SPEEDUP:.0f}x", f"{speedup:.1f}x"
        )
        targets.check("token requests per run", counts["stable_token"] <= 1, "<= 1", str(counts["stable_token"]))
        targets.check(
            "upload requests per new image",
            counts["uploadfile"] <= n and counts["cos"] <= n,
            "<= 2 (uploadfile + COS)",
            f"{(counts['uploadfile'] + counts['cos']) / n:.2f}",
        )
        targets.check(
            "link requests",
            counts["batchdownloadfile"] <= max_links,
            f"<= {max_links} (1 per 50)",
            str(counts["batchdownloadfile"]),
        )
        params = {"images": n, "latency_s": args.latency, "pages": site.pages, "seed": args.seed}
        return common.finish("cold_upload", info, params, figures, targets, problems)


if __name__ == "__main__":
    sys.exit(main())
