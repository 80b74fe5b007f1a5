"""Warm build of a code-heavy site: every image already in the manifest.

Targets (issue #5, and "First publication at the speed limit"): no HTTP request, no image file
re-read (hash cache keyed by size+mtime), and a warm ``mkdocs build`` with the plugin costing at
most 1.03x the CPU time of the same build without it (median of the per-round ratios).

The site is the real-shaped one of ``_real_site.generate_real_site``: Chinese pages full of fenced code
blocks, half with ``linenums`` and Material's ``anchor_linenums``, so every highlighted block is
stashed raw HTML full of ``<a href="#__codelineno-…">`` that the plugin's raw-HTML pass must get
through cheaply. It is built once cold against an in-process emulator (warm builds make no request,
so the emulator cannot compete with them), then warm builds with the plugin alternate with builds of
the same configuration without the plugin entry, each timed in-process (wall and CPU time). CPU time
is the target because other load on the machine disturbs it much less than wall time.

    python benchmarks/warm_build.py [--rounds 7] [--pages 120] [--images 506] [--blocks 12]
"""

from __future__ import annotations

import argparse
import cProfile
import io
import os
import pstats
import sys
from pathlib import Path
from types import FrameType
from typing import Any

import _common as common
import _real_site as real_site
import _service as service

MAX_CPU_RATIO = 1.03


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=7, help="warm builds with and without the plugin (each)")
    parser.add_argument("--pages", type=int, default=120)
    parser.add_argument("--images", type=int, default=506)
    parser.add_argument("--blocks", type=int, default=12, help="fenced code blocks per page")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--no-search", action="store_true", help="leave the search plugin out of both configs")
    parser.add_argument(
        "--profile",
        type=int,
        default=0,
        metavar="N",
        help="after the timed rounds, profile one warm build and print the N most expensive "
        "mkdocs_wxcloud functions by cumulative time (default 0: skip; adds ~20 s)",
    )
    parser.add_argument("--keep", action="store_true", help="keep the temporary site folder")
    args = parser.parse_args()
    rounds = max(1, min(args.rounds, 100))

    info = common.machine()
    common.quiet_logging()
    from mkdocs_wxcloud.emulator import Emulator

    targets = common.Targets()
    problems: list[str] = []
    figures: dict = {}
    with common.scratch("warm", args.keep) as tmp:
        with Emulator() as emulator:
            site = real_site.generate_real_site(
                tmp / "site",
                pages=max(1, min(args.pages, 2000)),
                images=max(1, min(args.images, 20000)),
                blocks=max(0, min(args.blocks, 100)),
                seed=args.seed,
                api_base=emulator.base_url,
                search=not args.no_search,
            )
            print(
                f"Site: {site.pages} pages, {site.code_blocks} fenced code blocks, {site.images} images, "
                f"{site.references} image references ({', '.join(f'{k} {v}' for k, v in site.styles.items())}); "
                f"theme {site.theme}; {'with' if not args.no_search else 'without'} the search plugin in both "
                f"configurations"
            )

            cold = common.build(site.config)
            cold_counts = service.endpoint_counts(emulator)
            uploaded = len(emulator.stored_files())
            if uploaded != site.images:
                problems.append(f"cold build stored {uploaded} files, expected {site.images}")
            figures["cold_build_s"] = cold
            figures["cold_requests"] = cold_counts
            print(f"Cold build: {common.secs(cold)}, requests {cold_counts}")

            common.build(site.plain)  # warm-up of the plain configuration too (imports, caches)
            emulator.reset_counts()

            with_times: list[float] = []
            plain_times: list[float] = []
            with_cpu: list[float] = []
            plain_cpu: list[float] = []
            for r in range(rounds):
                order = [("with", site.config), ("plain", site.plain)]
                for kind, config in order if r % 2 == 0 else order[::-1]:
                    seconds = common.build(config, with_cpu if kind == "with" else plain_cpu)
                    (with_times if kind == "with" else plain_times).append(seconds)
                print(
                    f"  round {r + 1}/{rounds}: with plugin {common.secs(with_times[-1])} "
                    f"({common.secs(with_cpu[-1])} CPU), without {common.secs(plain_times[-1])} "
                    f"({common.secs(plain_cpu[-1])} CPU): CPU ratio {with_cpu[-1] / plain_cpu[-1]:.3f}",
                    flush=True,
                )
            warm_requests = emulator.request_count()
            ratios = [w / p for w, p in zip(with_times, plain_times)]
            cpu_ratios = [w / p for w, p in zip(with_cpu, plain_cpu)]

            profile_lines: list[str] = []
            if args.profile > 0:
                profile_lines = profile_warm_build(site.config, args.profile)

            opens = instrumented_build(site.config, {str((site.docs / p).resolve()) for p in site.image_paths()})
            cloud, local = common.cloud_references(site.root / "site", emulator.base_url)
            if cloud < site.references or local:
                problems.append(
                    f"warm build HTML has {cloud} cloud image references (expected {site.references}) "
                    f"and {local} local ones (expected 0)"
                )
            if emulator.request_count() != 0:
                problems.append(f"the emulator saw {emulator.request_count()} requests during the instrumented build")

        med_with, med_plain, med_ratio = common.median(with_times), common.median(plain_times), common.median(ratios)
        med_cpu_ratio = common.median(cpu_ratios)
        figures.update(
            {
                "warm_with_plugin_s": with_times,
                "without_plugin_s": plain_times,
                "ratios": ratios,
                "median_with_plugin_s": med_with,
                "median_without_plugin_s": med_plain,
                "median_ratio": med_ratio,
                "ratio_of_medians": med_with / med_plain,
                "cpu_with_plugin_s": with_cpu,
                "cpu_without_plugin_s": plain_cpu,
                "median_cpu_ratio": med_cpu_ratio,
                "load_average": os.getloadavg(),
                "warm_requests": warm_requests,
                "instrumented_build": opens,
                "cloud_image_references_in_html": cloud,
                "local_image_references_in_html": local,
                "profile_top_mkdocs_wxcloud": profile_lines,
                "warnings": common.WARNINGS.messages[:20],
            }
        )

        print()
        common.print_machine(info)
        print(f"Command: python {' '.join(sys.argv)}")
        print(
            f"Site: {site.pages} pages, {site.code_blocks} fenced code blocks, {site.images} images, "
            f"{site.references} references, theme {site.theme}; {rounds} rounds; load average during the run "
            f"{os.getloadavg()[1]:.2f}\n"
        )
        print(
            common.table(
                ["build", "median", "min", "max"],
                [
                    ["cold, with plugin (uploads)", common.secs(cold), "", ""],
                    [
                        "warm, with plugin",
                        common.secs(med_with),
                        common.secs(min(with_times)),
                        common.secs(max(with_times)),
                    ],
                    [
                        "without plugin",
                        common.secs(med_plain),
                        common.secs(min(plain_times)),
                        common.secs(max(plain_times)),
                    ],
                    ["ratio with/without (per round)", f"{med_ratio:.3f}", f"{min(ratios):.3f}", f"{max(ratios):.3f}"],
                    [
                        "CPU time, warm with plugin",
                        common.secs(common.median(with_cpu)),
                        common.secs(min(with_cpu)),
                        common.secs(max(with_cpu)),
                    ],
                    [
                        "CPU time, without plugin",
                        common.secs(common.median(plain_cpu)),
                        common.secs(min(plain_cpu)),
                        common.secs(max(plain_cpu)),
                    ],
                    [
                        "CPU-time ratio (per round)",
                        f"**{med_cpu_ratio:.3f}**",
                        f"{min(cpu_ratios):.3f}",
                        f"{max(cpu_ratios):.3f}",
                    ],
                ],
            )
        )
        print()
        print(
            common.table(
                ["warm-build counter", "value"],
                [
                    ["HTTP requests seen by the emulator (all warm builds)", warm_requests],
                    ["image files opened in one warm build, by any code", opens["image_opens_total"]],
                    ["image files opened in one warm build, by mkdocs_wxcloud code", opens["image_opens_by_plugin"]],
                    ["socket connects in one warm build", opens["socket_connects"]],
                    ["cloud image references in the built HTML", cloud],
                    ["local image references left in the built HTML", local],
                ],
            )
        )
        if profile_lines:
            print(f"\nProfile of one warm build: top {args.profile} mkdocs_wxcloud functions by cumulative time")
            print("```")
            print("\n".join(profile_lines))
            print("```")

        targets.check(
            "no HTTP request in warm builds",
            warm_requests == 0 and opens["socket_connects"] == 0,
            "0",
            f"{warm_requests} requests, {opens['socket_connects']} connects",
        )
        targets.check(
            "no image re-read in a warm build",
            opens["image_opens_by_plugin"] == 0,
            "0 image opens by mkdocs_wxcloud code",
            str(opens["image_opens_by_plugin"]),
        )
        targets.check(
            "warm build vs without plugin, CPU time (median of per-round ratios)",
            med_cpu_ratio <= MAX_CPU_RATIO,
            f"<= {MAX_CPU_RATIO:.2f}",
            f"{med_cpu_ratio:.3f}",
        )
        params = {
            "rounds": rounds,
            "pages": site.pages,
            "images": site.images,
            "references": site.references,
            "code_blocks": site.code_blocks,
            "theme": site.theme,
            "seed": args.seed,
            "search_plugin": not args.no_search,
            "command": " ".join(["python", *sys.argv]),
        }
        return common.finish("warm_build", info, params, figures, targets, problems)


def profile_warm_build(config: Path, top: int) -> list[str]:
    """cProfile one warm build; the ``top`` mkdocs_wxcloud functions by cumulative time."""
    profiler = cProfile.Profile()
    profiler.enable()
    try:
        common.build(config)
    finally:
        profiler.disable()
    stream = io.StringIO()
    stats = pstats.Stats(profiler, stream=stream)
    total = stats.total_tt  # type: ignore[attr-defined]
    stats.sort_stats("cumulative").print_stats(r"mkdocs_wxcloud", top)
    lines = stream.getvalue().splitlines()
    start = next((i for i, line in enumerate(lines) if line.lstrip().startswith("ncalls")), 0)
    return [f"(whole warm build under cProfile: {total:.2f} s)"] + [line for line in lines[start:] if line.strip()]


def instrumented_build(config: Path, images: set[str]) -> dict:
    """One more warm build under an audit hook: opens of the ``images`` (absolute paths; by whom) and
    socket connects.

    Audit hooks cannot be removed, so this runs after the timed rounds.
    """
    package = os.sep + "mkdocs_wxcloud" + os.sep
    state: dict[str, Any] = {
        "active": False,
        "image_opens_total": 0,
        "image_opens_by_plugin": 0,
        "socket_connects": 0,
        "plugin_open_examples": [],
    }

    def hook(event: str, args: tuple) -> None:
        if not state["active"]:
            return
        if event == "open":
            path = args[0]
            if isinstance(path, (str, bytes, os.PathLike)):
                path = os.path.abspath(os.fsdecode(path))
                if path in images:
                    state["image_opens_total"] += 1
                    frame: FrameType | None = sys._getframe(1)
                    while frame is not None:
                        if package in frame.f_code.co_filename:
                            state["image_opens_by_plugin"] += 1
                            if len(state["plugin_open_examples"]) < 5:
                                state["plugin_open_examples"].append(f"{path} from {frame.f_code.co_name}")
                            break
                        frame = frame.f_back
        elif event == "socket.connect":
            state["socket_connects"] += 1

    sys.addaudithook(hook)
    state["active"] = True
    try:
        state["seconds"] = common.build(config)
    finally:
        state["active"] = False
    return state


if __name__ == "__main__":
    sys.exit(main())
