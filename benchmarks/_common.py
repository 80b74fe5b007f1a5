"""Shared helpers of the benchmark scripts: machine info, site generation, builds, reporting.

Not a benchmark itself. Every script puts its own folder on ``sys.path`` (Python does that for
``python benchmarks/<script>.py``) and imports this module.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import platform
import random
import shutil
import socket
import statistics
import struct
import sys
import tempfile
import time
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Iterator, Sequence

import yaml

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results"

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
        print(table(["target", "goal", "measured", "result"],
                    [[t["target"], t["goal"], t["measured"], "ok" if t["ok"] else "MISSED"] for t in self.items]))


def finish(name: str, info: dict[str, Any], params: dict[str, Any], figures: dict[str, Any], targets: Targets,
           problems: Sequence[str] = ()) -> int:
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
    for name in ("WXCLOUD_APPID", "WXCLOUD_SECRET", "WXCLOUD_ENV", "WXCLOUD_API_BASE"):
        os.environ.pop(name, None)
    (tmp / "xdg-cache").mkdir(parents=True, exist_ok=True)
    os.environ["XDG_CACHE_HOME"] = str(tmp / "xdg-cache")


class _Counter(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        if len(self.messages) < 1000:
            self.messages.append(f"{record.levelname}: {record.getMessage()}")


WARNINGS = _Counter()


def quiet_logging() -> _Counter:
    """Silence MkDocs' (and the plugin's) log output; warnings are kept in WARNINGS.messages."""
    logger = logging.getLogger("mkdocs")
    logger.handlers[:] = [WARNINGS]
    logger.setLevel(logging.WARNING)
    logger.propagate = False
    for name in ("urllib3", "filelock"):
        logging.getLogger(name).setLevel(logging.ERROR)
    return WARNINGS


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def plugin_options(api_base: str, **extra: Any) -> dict[str, Any]:
    from mkdocs_wxcloud.emulator import DEFAULT_APPID, DEFAULT_ENV, DEFAULT_SECRET

    return {"api_base": api_base, "appid": DEFAULT_APPID, "secret": DEFAULT_SECRET, "env": DEFAULT_ENV, **extra}


# -- site generation -----------------------------------------------------------------------------


def png(seed: int) -> bytes:
    """A small valid PNG (4x4, RGB) whose bytes are unique to ``seed`` (a tEXt chunk holds it)."""
    rng = random.Random(seed)
    raw = b"".join(b"\x00" + bytes(rng.randrange(256) for _ in range(12)) for _ in range(4))

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", 4, 4, 8, 2, 0, 0, 0)
    text = b"Comment\x00benchmark image " + str(seed).encode()
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"tEXt", text)
            + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))


WORDS = ("cloud storage image upload manifest build page section reference static site deploy mini "
         "program wechat environment token link cache hash markdown theme render asset folder").split()
EXTENSIONS = ["admonition", "attr_list", "md_in_html", "tables", "toc"]


@dataclass
class GeneratedSite:
    root: Path
    config: Path  # mkdocs.yml, with the plugin
    plain: Path  # the same configuration without the plugin entry
    pages: int
    images: int
    references: int
    styles: dict[str, int]
    docs: Path = field(init=False)

    def __post_init__(self) -> None:
        self.docs = self.root / "docs"


def _sentence(rng: random.Random, n: int) -> str:
    words = [rng.choice(WORDS) for _ in range(n)]
    return " ".join(words).capitalize() + "."


STYLES = ("inline", "reference", "raw", "admonition", "attr_list", "md_in_html", "table")


def _reference(style: str, n: int, url: str) -> tuple[str, str]:
    """(block of Markdown, footer line or '') showing image ``n`` in ``style``."""
    alt = f"Figure {n}"
    if style == "inline":
        return f"![{alt}]({url})", ""
    if style == "reference":
        return f"See ![{alt}][fig-{n}] above.", f'[fig-{n}]: {url} "{alt}"'
    if style == "raw":
        return f'<p class="figure"><img src="{url}" alt="{alt}" width="64"></p>', ""
    if style == "admonition":
        return f'!!! note "{alt}"\n\n    The figure: ![{alt}]({url})', ""
    if style == "attr_list":
        return f'![{alt}]({url}){{ width="120" loading=lazy }}', ""
    if style == "md_in_html":
        return f'<figure markdown="span">\n![{alt}]({url})\n<figcaption>{alt}</figcaption>\n</figure>', ""
    if style == "table":
        return f"| Figure | Caption |\n| --- | --- |\n| ![{alt}]({url}) | {alt} |", ""
    raise ValueError(style)


def generate_site(root: Path, *, pages: int, images: int, seed: int = 42, api_base: str = "http://127.0.0.1:9",
                  plugin: dict[str, Any] | None = None, search: bool = True, shared_logo: bool = False,
                  sections: int = 20) -> GeneratedSite:
    """Write a deterministic MkDocs site (theme ``mkdocs``) into ``root``.

    ``images`` distinct PNGs under docs/images/, spread evenly over ``pages`` pages in ``sections``
    folders, each referenced once in one of :data:`STYLES` (plus, with ``shared_logo``, one logo that
    every page shows). Writes ``mkdocs.yml`` (with the wxcloud plugin) and ``mkdocs-plain.yml``
    (identical but without it).
    """
    rng = random.Random(seed)
    docs = root / "docs"
    docs.mkdir(parents=True, exist_ok=True)
    sections = max(1, min(sections, pages))
    styles: dict[str, int] = {s: 0 for s in STYLES}
    image_paths = []
    for n in range(images):
        rel = f"images/s{n % sections:02d}/img{n:05d}.png"
        path = docs / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(png(seed * 1_000_003 + n))
        image_paths.append(rel)
    if shared_logo:
        (docs / "images/logo.png").write_bytes(png(-1 - seed))
    references = 0
    (docs / "index.md").write_text(
        "# Benchmark site\n\n" + _sentence(rng, 20) + "\n\n" + ("![logo](images/logo.png)\n" if shared_logo else ""),
        encoding="utf-8",
    )
    references += shared_logo
    per_page = [[] for _ in range(pages)]
    for n in range(images):
        per_page[n % pages].append(n)
    for p in range(pages):
        section = p % sections
        rel_page = f"s{section:02d}/page{p:04d}.md"
        body = [f"# Page {p}", "", "[TOC]" if p % 10 == 0 else "", _sentence(rng, 30), ""]
        footer = []
        if shared_logo:
            body += ["![logo](../images/logo.png){ .logo }", ""]
            references += 1
        for i, n in enumerate(per_page[p]):
            style = STYLES[(n + p) % len(STYLES)]
            styles[style] += 1
            block, foot = _reference(style, n, "../" + image_paths[n])
            body += [f"## Figure {n}", "", _sentence(rng, rng.randint(15, 40)), "", block, ""]
            if i == 0:
                body += ["```markdown", f"![not an image reference]({image_paths[n]})", "```", ""]
                following = f"../s{(p + 1) % sections:02d}/page{p + 1:04d}.md" if p + 1 < pages else "../index.md"
                body += [f"A [link to the next page]({following}) and `inline code`.", ""]
            if foot:
                footer.append(foot)
            references += 1
        body += ["| Key | Value |", "| --- | --- |"] + [f"| {rng.choice(WORDS)} | {rng.randint(0, 999)} |" for _ in range(4)]
        body += ["", _sentence(rng, 25), ""] + footer
        path = docs / rel_page
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("\n".join(body) + "\n", encoding="utf-8")
    base = {
        "site_name": "wxcloud benchmark",
        "docs_dir": "docs",
        "site_dir": "site",
        "theme": {"name": "mkdocs"},
        "markdown_extensions": list(EXTENSIONS),
        "validation": {"links": {"not_found": "info", "unrecognized_links": "info"}},
    }
    plugins_plain: list[Any] = ["search"] if search else []
    plugins_with = [*plugins_plain, {"wxcloud": plugin if plugin is not None else plugin_options(api_base)}]
    config = root / "mkdocs.yml"
    plain = root / "mkdocs-plain.yml"
    config.write_text(yaml.safe_dump({**base, "plugins": plugins_with}, sort_keys=False), encoding="utf-8")
    plain.write_text(yaml.safe_dump({**base, "plugins": plugins_plain}, sort_keys=False), encoding="utf-8")
    return GeneratedSite(root, config, plain, pages + 1, images + shared_logo, references, styles)


# -- builds --------------------------------------------------------------------------------------


def build(config_file: Path, cpu: list[float] | None = None) -> float:
    """One in-process ``mkdocs build`` (load_config, startup, build, shutdown); its wall time.

    The garbage of earlier builds is collected first (untimed); with ``cpu``, the process CPU time
    of the build is appended to it (less disturbed than wall time by other load on the machine).
    """
    import gc

    from mkdocs.commands.build import build as mkdocs_build
    from mkdocs.config import load_config

    gc.collect()
    cpu_started = time.process_time()
    started = time.perf_counter()
    config = load_config(str(config_file))
    config.plugins.on_startup(command="build", dirty=False)
    try:
        mkdocs_build(config)
    finally:
        config.plugins.on_shutdown()
    wall = time.perf_counter() - started
    if cpu is not None:
        cpu.append(time.process_time() - cpu_started)
    return wall


def cloud_references(site_dir: Path, marker: str) -> tuple[int, int]:
    """(image references to ``marker`` URLs, local ``.png`` image references) in the built HTML."""
    import re

    src = re.compile(r'<img[^>]*?\ssrc="([^"]+)"')
    cloud = local = 0
    for page in site_dir.rglob("*.html"):
        for url in src.findall(page.read_text(encoding="utf-8")):
            if marker in url:
                cloud += 1
            elif url.endswith(".png") and "://" not in url:
                local += 1
    return cloud, local


def endpoint_counts(emulator: Any) -> dict[str, int]:
    return {
        "stable_token": emulator.request_count("/cgi-bin/stable_token"),
        "uploadfile": emulator.request_count("/tcb/uploadfile"),
        "cos": emulator.request_count("/cos/"),
        "batchdownloadfile": emulator.request_count("/tcb/batchdownloadfile"),
        "total": emulator.request_count(""),
    }


def add_here_to_path() -> None:
    if str(HERE) not in sys.path:
        sys.path.insert(0, str(HERE))
