"""Scale: a site of 2,000 pages and 10,000 images, published, then built and checked warm.

Targets (issue 25, item 5). On the synthetic site (``_sites.generate_site``: theme ``mkdocs``, the
search plugin, one logo on every page) of ``--pages`` (2,000) pages and ``--images`` (10,000)
distinct PNGs, published once with ``mkdocs-wxcloud sync`` against an emulator process:

- a warm ``mkdocs build`` with the plugin uses at most 3% more CPU than the same build without it
  (median of the per-round ratios, builds alternating) and sends 0 requests;
- ``mkdocs-wxcloud check`` answers in under 1 s warm (median of ``--runs``), with 0 requests;
- the peak memory of a warm build with the plugin exceeds that of the build without it by at most
  1 KB per image (``tracemalloc``'s peak, each build in a fresh child process, as ``memory.py`` does;
  the peak RSS is shown too, for information: it also counts the plugin's modules).

``--quick`` is 200 pages and 1,000 images, 1 round. The requests are counted from the log of the
emulator process (``--verbose``): a warm build or check must leave it silent.

    python benchmarks/scale.py [--pages 2000] [--images 10000] [--rounds 3] [--runs 5] [--quick]
"""

from __future__ import annotations

import argparse
import sys
import time
from typing import Any

import _common as common
import _service as service
import _sites as sites
import memory

MAX_CPU_RATIO = 1.03  # warm build with the plugin / without, CPU time
MAX_CHECK_S = 1.0  # warm `check`, median
MAX_BYTES_PER_IMAGE = 1024  # traced peak with the plugin minus without, per image


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pages", type=int, default=2000)
    parser.add_argument("--images", type=int, default=10000)
    parser.add_argument("--rounds", type=int, default=3, help="warm builds with and without the plugin (each)")
    parser.add_argument("--runs", type=int, default=5, help="timed warm runs of check")
    parser.add_argument("--quick", action="store_true", help="200 pages, 1,000 images, 1 round")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder")
    args = parser.parse_args()
    if args.quick:
        args.pages, args.images, args.rounds = 200, 1000, 1
    pages, images = max(1, min(args.pages, 5000)), max(1, min(args.images, 50000))
    rounds, runs = max(1, min(args.rounds, 20)), max(1, min(args.runs, 50))

    info = common.machine()
    common.quiet_logging()
    from click.testing import CliRunner

    from mkdocs_wxcloud.cli import main as cli

    targets = common.Targets()
    problems: list[str] = []
    figures: dict[str, Any] = {}
    runner = CliRunner()
    with common.scratch("scale", args.keep) as tmp:
        site = sites.generate_site(tmp / "site", pages=pages, images=images, seed=args.seed, shared_logo=True)
        print(f"Site: {site.pages} pages, {site.images} images, {site.references} image references", flush=True)
        with service.EmulatorProcess(tmp / "emulator.log", verbose=True) as emulator:
            site.point_at(emulator.base_url)

            def command(*words: str) -> float:
                began = time.perf_counter()
                result = runner.invoke(cli, [*words, "-f", str(site.config)])
                if result.exit_code != 0:
                    problems.append(f"{' '.join(words)} exited with {result.exit_code}: {result.output.strip()[-300:]}")
                return time.perf_counter() - began

            figures["sync_s"] = command("sync", "-q")
            figures["sync_requests"] = emulator.counts()
            if figures["sync_requests"]["cos"] != site.images:
                problems.append(f"sync stored {figures['sync_requests']['cos']} files, expected {site.images}")
            print(f"  published with sync: {common.secs(figures['sync_s'])}, {figures['sync_requests']}", flush=True)

            common.build(site.config)  # warm-up of both configurations (imports, template caches), untimed
            common.build(site.plain)
            before = emulator.counts()["total"]
            cpu = {"with": [], "plain": []}
            for r in range(rounds):
                order = [("with", site.config), ("plain", site.plain)]
                for kind, config in order if r % 2 == 0 else order[::-1]:
                    common.build(config, cpu[kind])
                print(f"  round {r + 1}/{rounds}: warm build CPU {common.secs(cpu['with'][-1])} with the plugin, "
                      f"{common.secs(cpu['plain'][-1])} without", flush=True)  # fmt: skip
            figures["build_requests"] = emulator.counts()["total"] - before

            command("check")  # untimed: fills the hash cache
            before = emulator.counts()["total"]
            figures["check_s"] = [command("check") for _ in range(runs)]
            figures["check_requests"] = emulator.counts()["total"] - before
            print(f"  warm check: {', '.join(f'{s:.3f}' for s in figures['check_s'])} s", flush=True)

        # each build in a fresh child process (the emulator is gone: a warm build needs none)
        configs = {"plain": site.plain, "with": site.config}
        peak = {kind: memory.run_child("build", "--path", str(config)) for kind, config in configs.items()}
        rss = {kind: memory.run_child("build", "--path", str(config), "--no-trace") for kind, config in configs.items()}

    ratios = [w / p for w, p in zip(cpu["with"], cpu["plain"])]
    figures.update(
        cpu_with_s=cpu["with"],
        cpu_plain_s=cpu["plain"],
        cpu_ratio=common.median(ratios),
        check_median_s=common.median(figures["check_s"]),
        traced_peak=peak,
        rss=rss,
        bytes_per_image=(peak["with"]["traced_peak"] - peak["plain"]["traced_peak"]) / site.images,
        rss_bytes_per_image=(rss["with"]["rss_peak"] - rss["plain"]["rss_peak"]) / site.images,
    )
    report(info, site, rounds, runs, figures)
    f = figures
    targets.check("warm build CPU, with / without the plugin", f["cpu_ratio"] <= MAX_CPU_RATIO,
                  f"<= {MAX_CPU_RATIO:.2f}", f"{f['cpu_ratio']:.3f}")  # fmt: skip
    targets.check("requests of the warm builds", f["build_requests"] == 0, "0", str(f["build_requests"]))
    check = f"{common.secs(f['check_median_s'])}, {f['check_requests']} requests"
    targets.check("warm `check`, median", f["check_median_s"] < MAX_CHECK_S and f["check_requests"] == 0,
                  f"< {MAX_CHECK_S:.1f} s, 0 requests", check)  # fmt: skip
    targets.check("peak traced memory over MkDocs' own, per image", f["bytes_per_image"] <= MAX_BYTES_PER_IMAGE,
                  f"<= {MAX_BYTES_PER_IMAGE} B", f"{f['bytes_per_image']:.0f} B")  # fmt: skip
    params = {"pages": site.pages, "images": site.images, "references": site.references, "rounds": rounds,
              "runs": runs, "seed": args.seed, "command": " ".join(["python", *sys.argv])}  # fmt: skip
    return common.finish("scale", info, params, figures, targets, problems)


def report(info: dict[str, Any], site: sites.GeneratedSite, rounds: int, runs: int, f: dict[str, Any]) -> None:
    mb = 1 << 20
    print()
    common.print_machine(info)
    print(f"Command: python {' '.join(sys.argv)}")
    print(f"Site: {site.pages} pages, {site.images} images, {site.references} image references, theme mkdocs, "
          f"search plugin; published once with sync ({common.secs(f['sync_s'])}); {rounds} round(s) of warm builds, "
          f"{runs} warm check(s).\n")  # fmt: skip
    p, w = f["traced_peak"], f["rss"]
    print(
        common.table(
            ["warm", "without the plugin", "with the plugin", "ratio / per image", "requests"],
            [
                ["`mkdocs build`, CPU (median)", common.secs(common.median(f["cpu_plain_s"])),
                 common.secs(common.median(f["cpu_with_s"])), f"**{f['cpu_ratio']:.3f}**", f["build_requests"]],
                ["`mkdocs-wxcloud check`, wall (median)", "", f"**{common.secs(f['check_median_s'])}**", "",
                 f["check_requests"]],
                ["build's peak traced memory", f"{p['plain']['traced_peak'] / mb:.1f} MB",
                 f"{p['with']['traced_peak'] / mb:.1f} MB", f"**{f['bytes_per_image']:.0f} B** per image", ""],
                ["build's peak RSS (information: counts modules)", f"{w['plain']['rss_peak'] / mb:.1f} MB",
                 f"{w['with']['rss_peak'] / mb:.1f} MB", f"{f['rss_bytes_per_image']:.0f} B per image", ""],
            ],
        )
    )  # fmt: skip


if __name__ == "__main__":
    sys.exit(main())
