"""Shared helpers of the benchmark scripts: machine info, reporting (tables, targets, the JSON
result), the isolated scratch folder, quiet logging and timed in-process builds.

The generated sites are in ``_sites`` and ``_real_site``, the emulator process and the sequential
baseline in ``_service``. Not a benchmark itself. Every script puts its own folder on ``sys.path``
(Python does that for ``python benchmarks/<script>.py``) and imports this module, which puts the
tests' folder there too: the helpers that are the same thing for both (``tests/sites.py``,
``tests/processes.py``) are the tests' own.
"""

from __future__ import annotations

import contextlib
import gc
import json
import logging
import os
import platform
import re
import resource
import shutil
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Iterator, Sequence

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results"
sys.path.insert(1, str(HERE.parent / "tests"))

from sites import CREDENTIAL_VARIABLES, LogRecorder  # noqa: E402
from sites import build as build_in_process  # noqa: E402

# -- machine -------------------------------------------------------------------------------------


def machine() -> dict[str, Any]:
    """CPU model (from /proc/cpuinfo), cores, Python and library versions."""
    model = platform.processor() or "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text(encoding="utf-8", errors="replace").splitlines():
            if line.lower().startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    try:
        usable = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        usable = os.cpu_count() or 0
    versions = {}
    for name in ("mkdocs", "markdown", "requests", "mkdocs-wxcloud"):
        try:
            from importlib import metadata

            versions[name] = metadata.version(name)
        except Exception:  # noqa: BLE001 - informative only
            versions[name] = "?"
    return {
        "cpu": model,
        "cores": os.cpu_count(),
        "usable_cores": usable,
        "python": f"{platform.python_implementation()} {platform.python_version()}",
        "platform": platform.platform(),
        "versions": versions,
    }


def print_machine(info: dict[str, Any]) -> None:
    print(
        f"Machine: {info['cpu']}, {info['cores']} cores ({info['usable_cores']} usable), "
        f"{info['python']}, mkdocs {info['versions']['mkdocs']}, {info['platform']}"
    )


# -- reporting -----------------------------------------------------------------------------------


def table(headers: Sequence[str], rows: Iterable[Sequence[Any]]) -> str:
    """A small Markdown table."""
    rows = [[str(c) for c in row] for row in rows]
    widths = [max(len(str(h)), *(len(r[i]) for r in rows)) if rows else len(str(h)) for i, h in enumerate(headers)]
    line = lambda cells: "| " + " | ".join(c.ljust(w) for c, w in zip(cells, widths)) + " |"  # noqa: E731
    out = [line([str(h) for h in headers]), "| " + " | ".join("-" * w for w in widths) + " |"]
    out += [line(r) for r in rows]
    return "\n".join(out)


@dataclass
class Targets:
    """Targets of one benchmark: each is checked once, printed, and decides the exit status."""

    items: list[dict[str, Any]] = field(default_factory=list)

    def check(self, name: str, ok: bool, target: str, measured: str) -> bool:
        self.items.append({"target": name, "goal": target, "measured": measured, "ok": bool(ok)})
        return ok

    @property
    def missed(self) -> list[dict[str, Any]]:
        return [t for t in self.items if not t["ok"]]

    def print(self) -> None:
        print()
        print(
            table(
                ["target", "goal", "measured", "result"],
                [[t["target"], t["goal"], t["measured"], "ok" if t["ok"] else "MISSED"] for t in self.items],
            )
        )


def finish(
    name: str,
    info: dict[str, Any],
    params: dict[str, Any],
    figures: dict[str, Any],
    targets: Targets,
    problems: Sequence[str] = (),
) -> int:
    """Print the targets, write results/<name>.json, return the exit status."""
    targets.print()
    RESULTS.mkdir(parents=True, exist_ok=True)
    result = {
        "benchmark": name,
        "when": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "machine": info,
        "parameters": params,
        "figures": figures,
        "targets": targets.items,
        "problems": list(problems),
        "ok": not targets.missed and not problems,
    }
    path = RESULTS / f"{name}.json"
    path.write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    print(f"\nResult written to {os.path.relpath(path)}")
    for problem in problems:
        print(f"PROBLEM: {problem}")
    for missed in targets.missed:
        print(f"MISSED: {missed['target']}: goal {missed['goal']}, measured {missed['measured']}")
    return 0 if result["ok"] else 1


def median(values: Sequence[float]) -> float:
    return statistics.median(values) if values else float("nan")


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.0f} ms"


def secs(seconds: float) -> str:
    return f"{seconds:.2f} s"


# -- environment ---------------------------------------------------------------------------------


@contextlib.contextmanager
def scratch(name: str, keep: bool) -> Iterator[Path]:
    """A temporary folder for one benchmark, isolated like the tests; removed unless ``keep``."""
    tmp = Path(tempfile.mkdtemp(prefix=f"wxcloud-bench-{name}-"))
    isolate(tmp)
    try:
        yield tmp
    finally:
        if keep:
            print(f"Files kept in {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)


def isolate(tmp: Path) -> None:
    """No WXCLOUD_* credentials from the caller; token cache inside the temporary folder."""
    for name in CREDENTIAL_VARIABLES:
        os.environ.pop(name, None)
    (tmp / "xdg-cache").mkdir(parents=True, exist_ok=True)
    os.environ["XDG_CACHE_HOME"] = str(tmp / "xdg-cache")
    os.environ["NO_MKDOCS_2_WARNING"] = "1"  # Material's banner about MkDocs 2.0 would fill the output


WARNINGS = LogRecorder(logging.WARNING)


def quiet_logging() -> LogRecorder:
    """Silence MkDocs' (and the plugin's) log output; warnings are kept in WARNINGS.messages."""
    logger = logging.getLogger("mkdocs")
    logger.handlers[:] = [WARNINGS]
    logger.setLevel(logging.WARNING)
    logger.propagate = False
    for name in ("urllib3", "filelock"):
        logging.getLogger(name).setLevel(logging.ERROR)
    return WARNINGS


# -- builds --------------------------------------------------------------------------------------


def build(config_file: Path, cpu: list[float] | None = None) -> float:
    """One in-process ``mkdocs build`` (load_config, startup, build, shutdown); its wall time.

    The garbage of earlier builds is collected first (untimed); with ``cpu``, the CPU time of the
    build is appended to it (less disturbed than wall time by other load on the machine): this
    process's, plus that of the child processes the build started and waited for.
    """
    gc.collect()
    cpu_started = process_cpu()
    started = time.perf_counter()
    build_in_process(config_file)
    wall = time.perf_counter() - started
    if cpu is not None:
        cpu.append(process_cpu() - cpu_started)
    return wall


def process_cpu() -> float:
    """CPU time of this process and of the children it waited for."""
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return time.process_time() + children.ru_utime + children.ru_stime


def cloud_references(site_dir: Path, marker: str) -> tuple[int, int]:
    """(image references to ``marker`` URLs, local ``.png`` image references) in the built HTML."""
    src = re.compile(r'<img[^>]*?\ssrc="([^"]+)"')
    cloud = local = 0
    for page in site_dir.rglob("*.html"):
        for url in src.findall(page.read_text(encoding="utf-8")):
            if marker in url:
                cloud += 1
            elif url.endswith(".png") and "://" not in url:
                local += 1
    return cloud, local
