"""``mkdocs-wxcloud check`` on a large, unchanged site.

Target (issue #5): on a site of 500 pages and 2,000 images that is fully published and unchanged,
``check`` answers in well under a second (median < 1.0 s, in-process). The first run with empty
caches (no hash cache, no reference cache) is reported too, and one run as a separate process
(interpreter start and imports included), for information.

The site is published first with ``mkdocs-wxcloud sync`` against an in-process emulator; check
itself never touches the network.

    python benchmarks/check.py [--runs 10] [--pages 500] [--images 2000]
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import time

import _common as common
import _sites as sites
import processes

MAX_WARM = 1.0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=10, help="timed warm runs")
    parser.add_argument("--pages", type=int, default=500)
    parser.add_argument("--images", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--keep", action="store_true", help="keep the temporary site folder")
    args = parser.parse_args()
    runs = max(1, min(args.runs, 200))

    info = common.machine()
    from click.testing import CliRunner

    from mkdocs_wxcloud import cli
    from mkdocs_wxcloud.emulator import Emulator
    from mkdocs_wxcloud.manifest import hashing

    targets = common.Targets()
    problems: list[str] = []
    runner = CliRunner()
    with common.scratch("check", args.keep) as tmp:
        with Emulator() as emulator:
            site = sites.generate_site(
                tmp / "site",
                pages=args.pages,
                images=args.images,
                seed=args.seed,
                api_base=emulator.base_url,
                shared_logo=True,
            )
            print(f"Site: {site.pages} pages, {site.images} images, {site.references} image references")
            started = time.perf_counter()
            synced = runner.invoke(cli.main, ["sync", "-q", "-f", str(site.config)])
            sync_seconds = time.perf_counter() - started
            if synced.exit_code != 0 or len(emulator.stored_files()) != site.images:
                problems.append(f"sync failed ({synced.exit_code}): {synced.output.strip()[-300:]}")
            print(f"  published with sync in {common.secs(sync_seconds)}", flush=True)
            emulator.reset_counts()

            shutil.rmtree(site.root / ".cache", ignore_errors=True)  # empty caches for the first run

            hashed: list[str] = []
            original = hashing.sha256_file

            def counting(path):  # noqa: ANN001, ANN202
                hashed.append(str(path))
                return original(path)

            def run_check() -> float:
                began = time.perf_counter()
                result = runner.invoke(cli.main, ["check", "-f", str(site.config)])
                seconds = time.perf_counter() - began
                if result.exit_code != 0:
                    problems.append(f"check exited with {result.exit_code}: {result.output.strip()[-300:]}")
                return seconds

            hashing.sha256_file = counting
            try:
                cold = run_check()
                cold_hashed = len(hashed)
                del hashed[:]
                print(f"  first run (empty caches): {common.secs(cold)}", flush=True)
                warm = [run_check() for _ in range(runs)]
                warm_hashed = len(hashed)
            finally:
                hashing.sha256_file = original
            print(f"  warm runs: {', '.join(f'{s:.3f}' for s in warm)} s", flush=True)
            requests_seen = emulator.request_count()

        began = time.perf_counter()
        process = subprocess.run(
            [processes.console_script("mkdocs-wxcloud"), "check", "-f", str(site.config)],
            capture_output=True,
            text=True,
            timeout=120,
        )
        subprocess_seconds = time.perf_counter() - began
        if process.returncode != 0:
            problems.append(
                f"`mkdocs-wxcloud check` as a process exited with {process.returncode}: {process.stderr.strip()[-300:]}"
            )

        median = common.median(warm)
        figures = {
            "sync_s": sync_seconds,
            "first_run_empty_caches_s": cold,
            "warm_runs_s": warm,
            "median_warm_s": median,
            "subprocess_run_s": subprocess_seconds,
            "sha256_file_calls_first_run": cold_hashed,
            "sha256_file_calls_warm_runs": warm_hashed,
            "requests_during_checks": requests_seen,
            "load_average": os.getloadavg(),
        }
        print()
        common.print_machine(info)
        print(
            f"Site: {site.pages} pages, {site.images} images, {site.references} references, unchanged; "
            f"{runs} warm runs\n"
        )
        print(
            common.table(
                ["`mkdocs-wxcloud check`", "wall time", "images hashed"],
                [
                    ["first run, empty caches (in-process)", common.ms(cold), cold_hashed],
                    [f"warm, median of {runs} (in-process)", common.ms(median), f"{warm_hashed} (all runs)"],
                    ["warm, min / max", f"{common.ms(min(warm))} / {common.ms(max(warm))}", ""],
                    ["warm, as a separate process (with Python start-up)", common.ms(subprocess_seconds), ""],
                ],
            )
        )
        targets.check("warm check, median", median < MAX_WARM, f"< {MAX_WARM:.1f} s", common.ms(median))
        targets.check("no network during check", requests_seen == 0, "0 requests", str(requests_seen))
        params = {
            "runs": runs,
            "pages": site.pages,
            "images": site.images,
            "references": site.references,
            "seed": args.seed,
        }
        return common.finish("check", info, params, figures, targets, problems)


if __name__ == "__main__":
    sys.exit(main())
