"""First publication at the speed limit: ``sync``, the upload phase and a cold build against the network's floor.

Targets (issue "First publication at the speed limit"). A first publication is bounded by the
network: two requests per new image (the upload link, the COS POST), C of them at once, so with
latency L the floor of N images is 2·N·L/C (plus one link call per 50 images and one token). On a
real-shaped site (``--pages`` 120 Chinese pages of about 12 fenced code blocks each, ``--images``
506 distinct PNGs) against an emulator that answers each request after ``--latency`` (20 ms):

- ``mkdocs-wxcloud sync`` is at least 20x faster than the sequential per-file script users write;
- the upload phase alone (every image scheduled, then ``finish``) takes at most 1.25x the floor;
- a cold ``mkdocs build`` with the plugin takes at most the plain build plus 1.25x the floor.

The emulator runs as a separate process (``mkdocs-wxcloud emulator --verbose``, in memory, a fresh
one for each run, its log counting the requests), because the real service is remote: one in this
process would compete with the client for the GIL. The concurrency is the package's default unless
``--concurrency`` is given; ``--sweep`` measures the upload phase at other concurrencies too. Next
to wall times, the CPU time of the client and of the emulator process show when a run is bound by
the machine's cores rather than by the network (the client's CPU counts the worker processes that
render pages; the emulator's is its process's, from /proc, reported apart). ``sync --dry-run`` with
empty caches shows what finding the images costs, and the upload phase's CPU per upload (client) and
per request (emulator) what publishing them costs.

    python benchmarks/first_publication.py [--pages 120] [--images 506] [--latency 0.02] [--rounds 3]
                                           [--concurrency C] [--sweep 4,8,16,32]
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import itertools
import subprocess
import sys
import time
from dataclasses import dataclass, field
from typing import Any, Callable, Iterator

import _common as common
import _real_site as real_site
import _service as service
import _sites as sites
import processes

MIN_SPEEDUP = 20.0  # sync over the sequential script
MAX_UPLOAD_OVER_FLOOR = 1.25  # upload phase / floor
MAX_EXCESS_OVER_FLOOR = 1.25  # (cold build - plain build) / floor


@dataclass
class Run:
    """One measured run: the client's wall and CPU time (its child processes included; ``own_cpu``: its
    own process alone), the emulator's CPU time, requests per endpoint."""

    wall: float
    cpu: float
    emulator_cpu: float = 0.0
    counts: dict[str, int] = field(default_factory=dict)
    own_cpu: float | None = None


def main() -> int:
    from mkdocs_wxcloud.publishing.settings import Settings

    default = Settings.concurrency.default

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pages", type=int, default=120)
    parser.add_argument("--images", type=int, default=506)
    parser.add_argument("--blocks", type=int, default=12, help="fenced code blocks per page")
    parser.add_argument("--latency", type=float, default=0.02, help="seconds the emulator waits before each answer")
    parser.add_argument(
        "--rounds",
        type=int,
        default=3,
        help="runs of sync, of the upload phase and of the cold/plain build pair (medians)",
    )
    parser.add_argument(
        "--concurrency",
        type=int,
        default=None,
        help=f"uploads at once for sync, the upload phase and the cold build (default: the package's, {default})",
    )
    parser.add_argument(
        "--sweep", default="4,8,16,32", help="comma-separated concurrencies for one upload phase each ('' to skip)"
    )
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder (site, emulator logs)")
    args = parser.parse_args()
    rounds = max(1, min(args.rounds, 20))
    concurrency = max(1, min(args.concurrency or default, 64))
    sweep = [max(1, min(int(c), 64)) for c in args.sweep.split(",") if c.strip()][:8]
    latency = max(0.001, min(args.latency, 1.0))  # the floor is proportional to it

    info = common.machine()
    common.quiet_logging()
    targets = common.Targets()
    problems: list[str] = []
    with common.scratch("first", args.keep) as tmp:
        site = real_site.generate_real_site(
            tmp / "site",
            pages=max(1, min(args.pages, 2000)),
            images=max(1, min(args.images, 20000)),
            blocks=max(0, min(args.blocks, 100)),
            seed=args.seed,
        )
        if concurrency != default:
            site.set_options(concurrency=concurrency)  # for sync and the cold builds
        paths = site.image_paths()
        n = len(paths)
        floor = service.upload_floor(n, latency, concurrency)
        print(
            f"Site: {site.pages} pages, {site.code_blocks} code blocks, {n} images, {site.references} image "
            f"references; theme {site.theme}; emulator latency {latency * 1000:.0f} ms, concurrency {concurrency}, "
            f"floor 2·N·L/C = {common.secs(floor)}",
            flush=True,
        )
        logs = itertools.count()

        def publish(run: Callable[[], tuple[float, float, float]], manifest: bool = True) -> Run:
            """One first publication by ``run`` against a fresh emulator (nothing stored, nothing counted),
            from no manifest, caches or token; every image must be stored, and linked in the manifest."""
            site.forget_uploads()
            with service.EmulatorProcess(tmp / f"emulator-{next(logs):02d}.log", latency=latency, verbose=True) as e:
                site.point_at(e.base_url)
                wall, cpu, own = run()
                result = Run(wall, cpu, e.cpu_seconds(), e.counts(), own)
            linked = linked_images(site) if manifest else n
            if linked != n or result.counts["cos"] != n:
                problems.append(f"a run stored {result.counts['cos']} files and linked {linked} images, expected {n}")
            return result

        with service.EmulatorProcess(tmp / "emulator-probe.log", latency=latency) as e:
            round_trip = service.probe_round_trip(e.base_url)
        print(f"  one JSON request on a kept-alive connection: {round_trip * 1000:.1f} ms", flush=True)

        # (a) the sequential per-file script (it keeps no manifest: its links are counted instead)
        links: dict[str, str] = {}
        sequential = publish(
            lambda: timed(
                lambda: links.update(
                    service.sequential_upload(site.api_base, [site.docs / p for p in paths], site.docs)
                )
            ),
            manifest=False,
        )
        if len(links) != n:
            problems.append(f"the sequential script linked {len(links)} images, expected {n}")
        print(
            f"  (a) sequential script: {common.secs(sequential.wall)}, {sequential.counts['total']} requests",
            flush=True,
        )

        # (b) mkdocs-wxcloud sync, in-process (the target) and as a separate process (for information)
        syncs = []
        for r in range(rounds):
            syncs.append(publish(lambda: run_sync(site, problems)))
            print(
                f"  (b) sync {r + 1}/{rounds}: {common.secs(syncs[-1].wall)}, requests {syncs[-1].counts}", flush=True
            )
        sync_process = publish(lambda: run_sync(site, problems, separate=True))
        print(f"  (b) sync as a separate process: {common.secs(sync_process.wall)}", flush=True)
        dry_runs = []
        for r in range(rounds):
            site.forget_uploads()  # empty caches: every page is rendered
            wall, cpu, own = run_sync(site, problems, dry_run=True)
            dry_runs.append(Run(wall, cpu, own_cpu=own))
            print(f"  (b) sync --dry-run {r + 1}/{rounds}: {common.secs(dry_runs[-1].wall)}", flush=True)

        # (c) the upload phase alone, at the chosen concurrency; (e) at each of the sweep
        phases = []
        for r in range(rounds):
            phases.append(publish(lambda: upload_phase(site, paths, concurrency, problems)))
            print(
                f"  (c) upload phase {r + 1}/{rounds}: {common.secs(phases[-1].wall)} "
                f"({phases[-1].wall / floor:.2f}x the floor)",
                flush=True,
            )
        swept = {}
        for c in sweep:
            swept[c] = publish(functools.partial(upload_phase, site, paths, c, problems))
            print(f"  (e) upload phase at concurrency {c}: {common.secs(swept[c].wall)}", flush=True)

        # (d) cold builds with the plugin against plain builds, alternating
        common.quiet_logging()
        common.build(site.plain)  # warm-up: imports and template caches, untimed
        colds, plains, colds_here = [], [], []
        kinds = ["cold", "plain", "cold, one process"]
        for r in range(rounds):
            for kind in kinds[r % 3 :] + kinds[: r % 3]:  # each kind first in turn
                if kind == "cold":
                    colds.append(publish(lambda: cold_build(site, problems)))
                elif kind == "plain":
                    cpu: list[float] = []
                    plains.append(Run(common.build(site.plain, cpu), cpu[0]))
                else:
                    with one_process():
                        colds_here.append(publish(lambda: cold_build(site, problems)))
            print(
                f"  (d) round {r + 1}/{rounds}: cold build {common.secs(colds[-1].wall)}, plain build "
                f"{common.secs(plains[-1].wall)}; cold, every upload sent from the build's process "
                f"{common.secs(colds_here[-1].wall)}",
                flush=True,
            )

    figures = summarize(
        n, floor, latency, round_trip, sequential, syncs, sync_process, dry_runs, phases, colds, plains, swept
    )
    figures["one_process"] = one_process_figures(floor, colds_here, plains)
    figures["warnings"] = common.WARNINGS.messages[:20]
    report(info, site, rounds, concurrency, latency, figures)
    speedup, over, excess = figures["speedup"], figures["upload_phase_over_floor"], figures["cold_excess_over_floor"]
    targets.check("sync vs the sequential script", speedup >= MIN_SPEEDUP, f">= {MIN_SPEEDUP:.0f}x", f"{speedup:.1f}x")
    targets.check(
        "upload phase vs the floor 2·N·L/C",
        over <= MAX_UPLOAD_OVER_FLOOR,
        f"<= {MAX_UPLOAD_OVER_FLOOR:.2f}x ({common.secs(MAX_UPLOAD_OVER_FLOOR * floor)})",
        f"{over:.2f}x ({common.secs(figures['upload_phase']['wall_s'])})",
    )
    targets.check(
        "cold build minus plain build vs the floor",
        excess <= MAX_EXCESS_OVER_FLOOR,
        f"<= {MAX_EXCESS_OVER_FLOOR:.2f}x ({common.secs(MAX_EXCESS_OVER_FLOOR * floor)})",
        f"{excess:.2f}x ({common.secs(figures['cold_excess_s'])})",
    )
    params = {
        "pages": site.pages,
        "images": n,
        "references": site.references,
        "code_blocks": site.code_blocks,
        "theme": site.theme,
        "latency_s": latency,
        "concurrency": concurrency,
        "rounds": rounds,
        "sweep": sweep,
        "seed": args.seed,
        "command": " ".join(["python", *sys.argv]),
    }
    return common.finish("first_publication", info, params, figures, targets, problems)


@contextlib.contextmanager
def upload_process(started: bool) -> Iterator[None]:
    """Whether a build that queues 32 uploads starts its upload process. The package decides by the load
    average (a second core that nothing else keeps busy), which this benchmark's own runs raise, and
    which lags a minute behind: the in-process builds decide here, so that each measures one thing."""
    from mkdocs_wxcloud.publishing import run

    saved = run.worth_a_process
    run.worth_a_process = lambda: started
    try:
        yield
    finally:
        run.worth_a_process = saved


def one_process() -> contextlib.AbstractContextManager[None]:
    """Every upload sent from the build's own process: the comparison that shows what the upload process
    gains, measured in the same run."""
    return upload_process(False)


def one_process_figures(floor: float, colds: list[Run], plains: list[Run]) -> dict[str, Any]:
    """The cold build with every upload sent from the build's own process."""
    excess = common.median([r.wall for r in colds]) - common.median([r.wall for r in plains])
    return {
        "cold_build_wall_s": common.median([r.wall for r in colds]),
        "cold_build_cpu_s": common.median([r.cpu for r in colds]),
        "cold_excess_s": excess,
        "cold_excess_over_floor": excess / floor,
    }


def timed(action: Callable[[], object]) -> tuple[float, float, float]:
    """Wall time and CPU time of ``action``: this process's plus that of the children it waited for, and
    this process's alone."""
    started, cpu_started, own_started = time.perf_counter(), common.process_cpu(), time.process_time()
    action()
    return time.perf_counter() - started, common.process_cpu() - cpu_started, time.process_time() - own_started


def linked_images(site: sites.GeneratedSite) -> int:
    """Images the manifest links to a URL (0 without a manifest)."""
    from mkdocs_wxcloud.manifest.model import read

    manifest = site.root / "wxcloud-manifest.yml"
    return sum(1 for entry in read(manifest).images.values() if entry.url) if manifest.exists() else 0


def run_sync(
    site: sites.GeneratedSite, problems: list[str], separate: bool = False, dry_run: bool = False
) -> tuple[float, float, float]:
    """``mkdocs-wxcloud sync`` (``--dry-run``), in-process with click's runner or as a ``separate`` process;
    the CPU time counts the worker processes that render pages."""
    command = ["sync", "-q", *(["--dry-run"] if dry_run else []), "-f", str(site.config)]
    outcome: dict[str, Any] = {}

    def sync() -> None:
        if separate:
            process = subprocess.run(
                [processes.console_script("mkdocs-wxcloud"), *command], capture_output=True, text=True, timeout=900
            )
            outcome.update(code=process.returncode, output=process.stderr + process.stdout)
        else:
            from click.testing import CliRunner

            from mkdocs_wxcloud.cli import main

            result = CliRunner().invoke(main, command)
            outcome.update(code=result.exit_code, output=result.output)

    measured = timed(sync)
    if outcome["code"] != 0:
        problems.append(
            f"sync{' (process)' if separate else ''} exited with {outcome['code']}: {outcome['output'].strip()[-300:]}"
        )
    return measured


def upload_phase(
    site: sites.GeneratedSite, paths: list[str], concurrency: int, problems: list[str]
) -> tuple[float, float, float]:
    """``schedule`` of every image, ``finish`` (token, uploads, links, manifest) and the run's end (its
    upload process, if it started one, ends and its CPU is counted), timed; the images are hashed before
    (untimed), so this is the cost of publishing alone, without finding the images."""
    from mkdocs_wxcloud.publishing.run import open_run
    from mkdocs_wxcloud.publishing.settings import resolve

    settings = resolve({**sites.plugin_options(site.api_base), "concurrency": concurrency}, site.root)
    with contextlib.ExitStack() as stack:
        run = stack.enter_context(open_run(settings, site.docs))
        for path in paths:
            run.files.digest(path)

        def publish() -> None:
            result = run.publish_all(paths)
            stack.close()
            if result.errors or len(result.urls) != len(paths):
                problems.append(
                    f"the upload phase at concurrency {concurrency} linked {len(result.urls)} of "
                    f"{len(paths)} images: {list(result.errors.items())[:3]}"
                )

        return timed(publish)


def cold_build(site: sites.GeneratedSite, problems: list[str]) -> tuple[float, float, float]:
    """One in-process ``mkdocs build`` with the plugin, every image new; every <img> must link the cloud."""
    common.quiet_logging()
    cpu: list[float] = []
    own = time.process_time()
    wall = common.build(site.config, cpu)
    own = time.process_time() - own
    cloud, local = common.cloud_references(site.root / "site", site.api_base)
    if cloud != site.references or local:
        problems.append(
            f"a cold build's HTML has {cloud} cloud image references (expected {site.references}) "
            f"and {local} local ones (expected 0)"
        )
    return wall, cpu[0], own


def summarize(
    n: int,
    floor: float,
    latency: float,
    round_trip: float,
    sequential: Run,
    syncs: list[Run],
    sync_process: Run,
    dry_runs: list[Run],
    phases: list[Run],
    colds: list[Run],
    plains: list[Run],
    swept: dict[int, Run],
) -> dict[str, Any]:
    """The figures of results/first_publication.json: medians, ratios to the floor and to the script."""

    def medians(runs: list[Run]) -> dict[str, Any]:
        return {
            "wall_s": common.median([r.wall for r in runs]),
            "cpu_s": common.median([r.cpu for r in runs]),
            "own_process_cpu_s": common.median([r.cpu if r.own_cpu is None else r.own_cpu for r in runs]),
            "emulator_cpu_s": common.median([r.emulator_cpu for r in runs]),
            "runs_wall_s": [r.wall for r in runs],
            "requests": runs[-1].counts,
        }

    sync, phase, cold, plain = medians(syncs), medians(phases), medians(colds), medians(plains)
    excess = cold["wall_s"] - plain["wall_s"]
    return {
        "images": n,
        "floor_s": floor,
        "link_floor_s": service.link_floor(n, latency),
        "json_round_trip_s": round_trip,
        "sequential": medians([sequential]),
        "sync": sync,
        "sync_subprocess": medians([sync_process]),
        "dry_run": medians(dry_runs),
        "client_cpu_per_upload_s": phase["cpu_s"] / n,
        "emulator_cpu_per_request_s": phase["emulator_cpu_s"] / max(1, phase["requests"].get("total", 0)),
        "upload_phase": phase,
        "cold_build": cold,
        "plain_build": plain,
        "speedup": sequential.wall / sync["wall_s"],
        "upload_phase_over_floor": phase["wall_s"] / floor,
        "cold_excess_s": excess,
        "cold_excess_cpu_s": cold["cpu_s"] - plain["cpu_s"],
        "cold_excess_own_process_cpu_s": cold["own_process_cpu_s"] - plain["own_process_cpu_s"],
        "cold_excess_over_floor": excess / floor,
        "sweep": [
            {"concurrency": c, "floor_s": service.upload_floor(n, latency, c), **medians([run])}
            for c, run in swept.items()
        ],
    }


def report(
    info: dict[str, Any], site: sites.GeneratedSite, rounds: int, concurrency: int, latency: float, f: dict[str, Any]
) -> None:
    """The Markdown tables: measured times next to the floor and the sequential script."""
    n, floor, sequential = f["images"], f["floor_s"], f["sequential"]["wall_s"]
    secs = common.secs
    print()
    common.print_machine(info)
    print(f"Command: python {' '.join(sys.argv)}")
    print(
        f"Site: {site.pages} pages ({site.code_blocks} fenced code blocks), {n} distinct images, "
        f"{site.references} image references, theme {site.theme}. Emulator in a separate process, "
        f"{latency * 1000:.0f} ms per request (one JSON request measured at {f['json_round_trip_s'] * 1000:.1f} ms); "
        f"concurrency {concurrency}; medians of {rounds} run(s). CPU: the client's (all its threads; with "
        f"`sync` as a process, that process's) and the emulator process's, on {info['usable_cores']} usable cores. "
        f"A cold build starts its upload process (as on an idle second core); the commands send from their own "
        f"process.\n"
    )

    def row(name: str, run: dict[str, Any], speedup: str = "", target: bool = False) -> list[Any]:
        over = f"{run['wall_s'] / floor:.2f}x"
        return [
            name,
            secs(run["wall_s"]),
            f"**{over}**" if target else over,
            speedup or f"{sequential / run['wall_s']:.1f}x",
            secs(run["cpu_s"]),
            secs(run["emulator_cpu_s"]),
            run["requests"].get("total", ""),
        ]

    print(
        common.table(
            [
                "first publication",
                "wall time",
                "x floor",
                "speed-up over the script",
                "client CPU",
                "emulator CPU",
                "requests",
            ],
            [
                row("sequential per-file script (4 requests per image)", f["sequential"], "1.0x"),
                row("`mkdocs-wxcloud sync` (in-process)", f["sync"], f"**{f['speedup']:.1f}x**"),
                row("`mkdocs-wxcloud sync` (separate process, Python start-up included)", f["sync_subprocess"]),
                row("`sync --dry-run`, empty caches (rendering the pages to find the images)", f["dry_run"]),
                row("upload phase alone (schedule all + finish)", f["upload_phase"], target=True),
                [
                    f"floor 2·N·L/C = 2·{n}·{latency * 1000:.0f} ms/{concurrency}",
                    secs(floor),
                    "1.00x",
                    f"{sequential / floor:.1f}x",
                    "",
                    "",
                    2 * n,
                ],
                [
                    "link calls' floor ceil(N/50)·L (not in the floor above)",
                    secs(f["link_floor_s"]),
                    "",
                    "",
                    "",
                    "",
                    -(-n // 50),
                ],
            ],
        )
    )
    print(
        f"\nUpload phase: {f['client_cpu_per_upload_s'] * 1000:.2f} ms of client CPU per upload (all threads); the "
        f"emulator process: {f['emulator_cpu_per_request_s'] * 1000:.2f} ms of CPU per request. CPU of `sync` counts "
        f"its page-rendering worker processes. The machine may be shared: compare ratios within one run."
    )
    print()
    cold, plain = f["cold_build"], f["plain_build"]
    print(
        common.table(
            ["`mkdocs build`", "wall, median", "min", "max", "CPU, median"],
            [
                [
                    "plain (no `wxcloud` entry)",
                    secs(plain["wall_s"]),
                    secs(min(plain["runs_wall_s"])),
                    secs(max(plain["runs_wall_s"])),
                    secs(plain["cpu_s"]),
                ],
                [
                    "cold, with the plugin (every image new, fresh emulator)",
                    secs(cold["wall_s"]),
                    secs(min(cold["runs_wall_s"])),
                    secs(max(cold["runs_wall_s"])),
                    secs(cold["cpu_s"]),
                ],
                ["excess (cold − plain)", secs(f["cold_excess_s"]), "", "", secs(f["cold_excess_cpu_s"])],
                ["excess CPU in the build's own process", "", "", "", secs(f["cold_excess_own_process_cpu_s"])],
                ["excess / floor", f"**{f['cold_excess_over_floor']:.2f}x**", "", "", ""],
                [
                    "cold, every upload sent from the build's process (no upload process)",
                    secs(f["one_process"]["cold_build_wall_s"]),
                    "",
                    "",
                    secs(f["one_process"]["cold_build_cpu_s"]),
                ],
                ["its excess / floor", f"{f['one_process']['cold_excess_over_floor']:.2f}x", "", "", ""],
            ],
        )
    )
    if f["sweep"]:
        print()
        print(
            common.table(
                ["concurrency", "floor 2·N·L/C", "upload phase", "x floor", "images/s", "client CPU", "emulator CPU"],
                [
                    [
                        s["concurrency"],
                        secs(s["floor_s"]),
                        secs(s["wall_s"]),
                        f"{s['wall_s'] / s['floor_s']:.2f}x",
                        f"{n / s['wall_s']:.0f}",
                        secs(s["cpu_s"]),
                        secs(s["emulator_cpu_s"]),
                    ]
                    for s in f["sweep"]
                ],
            )
        )
    minimum = {"stable_token": 1, "uploadfile": n, "cos": n, "batchdownloadfile": -(-n // 50)}
    minimum["total"] = sum(minimum.values())
    print()
    print(
        common.table(
            ["endpoint", "sync (in-process, last run)", "upload phase", "cold build", "sequential script", "minimum"],
            [
                [
                    name,
                    f["sync"]["requests"][name],
                    f["upload_phase"]["requests"][name],
                    f["cold_build"]["requests"][name],
                    f["sequential"]["requests"][name],
                    minimum[name],
                ]
                for name in minimum
            ],
        )
    )


if __name__ == "__main__":
    with upload_process(True):  # as on an idle second core; `one_process()` for the comparison
        sys.exit(main())
