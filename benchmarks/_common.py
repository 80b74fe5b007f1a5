"""Shared helpers of the benchmark scripts: machine info, the two generated sites (synthetic and
real-shaped), the emulator as a separate process, the hand-written sequential baseline and the
network's floors, in-process builds, reporting.

Not a benchmark itself. Every script puts its own folder on ``sys.path`` (Python does that for
``python benchmarks/<script>.py``) and imports this module.
"""

from __future__ import annotations

import contextlib
import importlib.util
import json
import logging
import math
import os
import platform
import posixpath
import random
import re
import shutil
import socket
import statistics
import struct
import subprocess
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
    for name in ("WXCLOUD_APPID", "WXCLOUD_SECRET", "WXCLOUD_ENV", "WXCLOUD_API_BASE"):
        os.environ.pop(name, None)
    (tmp / "xdg-cache").mkdir(parents=True, exist_ok=True)
    os.environ["XDG_CACHE_HOME"] = str(tmp / "xdg-cache")
    os.environ["NO_MKDOCS_2_WARNING"] = "1"  # Material's banner about MkDocs 2.0 would fill the output


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


def console_script(name: str) -> str:
    """The console script of this virtual environment (not another one on PATH)."""
    return shutil.which(name, path=str(Path(sys.executable).parent)) or name


def plugin_options(api_base: str, **extra: Any) -> dict[str, Any]:
    from mkdocs_wxcloud.emulator import DEFAULT_APPID, DEFAULT_ENV, DEFAULT_SECRET

    return {"api_base": api_base, "appid": DEFAULT_APPID, "secret": DEFAULT_SECRET, "env": DEFAULT_ENV, **extra}


# -- site generation -----------------------------------------------------------------------------


def png(seed: int, side: int = 4) -> bytes:
    """A small valid PNG (``side`` x ``side``, RGB) whose bytes are unique to ``seed`` (a tEXt chunk holds it)."""
    rng = random.Random(seed)
    raw = b"".join(b"\x00" + rng.randbytes(3 * side) for _ in range(side))

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", side, side, 8, 2, 0, 0, 0)
    text = b"Comment\x00benchmark image " + str(seed).encode()
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"tEXt", text)
        + chunk(b"IDAT", zlib.compress(raw))
        + chunk(b"IEND", b"")
    )


WORDS = (
    "cloud storage image upload manifest build page section reference static site deploy mini "
    "program wechat environment token link cache hash markdown theme render asset folder"
).split()
EXTENSIONS = ["admonition", "attr_list", "md_in_html", "tables", "toc"]


@dataclass
class GeneratedSite:
    root: Path
    config: Path  # mkdocs.yml, with the plugin
    plain: Path  # the same configuration without the plugin entry
    pages: int
    images: int
    references: int  # <img> elements the built pages show (each a reference to a local image)
    styles: dict[str, int]
    theme: str = "mkdocs"
    code_blocks: int = 0
    api_base: str = ""  # where the plugin of mkdocs.yml sends its requests
    docs: Path = field(init=False)

    def __post_init__(self) -> None:
        self.docs = self.root / "docs"

    def image_paths(self) -> list[str]:
        """Docs-relative paths of every image file, sorted."""
        return sorted(p.relative_to(self.docs).as_posix() for p in self.docs.rglob("*.png"))

    def set_options(self, **options: Any) -> None:
        """Change options of the wxcloud plugin in mkdocs.yml."""
        config = yaml.safe_load(self.config.read_text(encoding="utf-8"))
        for plugin in config["plugins"]:
            if isinstance(plugin, dict) and "wxcloud" in plugin:
                plugin["wxcloud"].update(options)
        write_yaml(self.config, config)

    def point_at(self, api_base: str) -> None:
        """Make the plugin talk to ``api_base`` (each fresh emulator listens on a new port)."""
        self.set_options(api_base=api_base)
        self.api_base = api_base

    def forget_uploads(self) -> None:
        """Back to a first publication: no manifest, no caches (hashes, references, journal), no cached
        token, no built site."""
        (self.root / "wxcloud-manifest.yml").unlink(missing_ok=True)
        for folder in (self.root / ".cache", self.root / "site", Path(os.environ["XDG_CACHE_HOME"]) / "mkdocs-wxcloud"):
            shutil.rmtree(folder, ignore_errors=True)


def write_yaml(path: Path, data: dict[str, Any]) -> None:
    path.write_text(yaml.safe_dump(data, sort_keys=False, allow_unicode=True), encoding="utf-8")


def _write_configs(root: Path, base: dict[str, Any], plugins: list[Any], wxcloud: dict[str, Any]) -> tuple[Path, Path]:
    """mkdocs.yml (``plugins`` + wxcloud) and mkdocs-plain.yml (``plugins`` only), otherwise identical."""
    config, plain = root / "mkdocs.yml", root / "mkdocs-plain.yml"
    write_yaml(config, {**base, "plugins": [*plugins, {"wxcloud": wxcloud}]})
    write_yaml(plain, {**base, "plugins": list(plugins)})
    return config, plain


def _sentence(rng: random.Random, n: int) -> str:
    words = [rng.choice(WORDS) for _ in range(n)]
    return " ".join(words).capitalize() + "."


STYLES = ("inline", "reference", "raw", "admonition", "attr_list", "md_in_html", "table")


def _relative(image: str, page: str, raw: bool) -> str:
    """The path to ``image`` as ``page`` writes it: MkDocs resolves Markdown against the page's file,
    the browser resolves raw HTML against the page's URL (``use_directory_urls``)."""
    stem = posixpath.splitext(page)[0]
    folder = (
        (posixpath.dirname(stem) if posixpath.basename(stem) == "index" else stem) if raw else posixpath.dirname(page)
    )
    return posixpath.relpath(image, folder or ".")


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


def generate_site(
    root: Path,
    *,
    pages: int,
    images: int,
    seed: int = 42,
    api_base: str = "http://127.0.0.1:9",
    plugin: dict[str, Any] | None = None,
    search: bool = True,
    shared_logo: bool = False,
    sections: int = 20,
) -> GeneratedSite:
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
            block, foot = _reference(style, n, _relative(image_paths[n], rel_page, raw=style == "raw"))
            body += [f"## Figure {n}", "", _sentence(rng, rng.randint(15, 40)), "", block, ""]
            if i == 0:
                body += ["```markdown", f"![not an image reference]({image_paths[n]})", "```", ""]
                following = f"../s{(p + 1) % sections:02d}/page{p + 1:04d}.md" if p + 1 < pages else "../index.md"
                body += [f"A [link to the next page]({following}) and `inline code`.", ""]
            if foot:
                footer.append(foot)
            references += 1
        body += ["| Key | Value |", "| --- | --- |"] + [
            f"| {rng.choice(WORDS)} | {rng.randint(0, 999)} |" for _ in range(4)
        ]
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
    config, plain = _write_configs(
        root, base, ["search"] if search else [], plugin if plugin is not None else plugin_options(api_base)
    )
    return GeneratedSite(root, config, plain, pages + 1, images + shared_logo, references, styles, api_base=api_base)


# -- the real-shaped site (Chinese, code-heavy, Material-like) --------------------------------------

REAL_EXTENSIONS: list[Any] = [
    "admonition",
    "attr_list",
    "md_in_html",
    "tables",
    "footnotes",
    {"toc": {"permalink": True}},
    "pymdownx.details",
    "pymdownx.superfences",
    {"pymdownx.tabbed": {"alternate_style": True}},
    "pymdownx.inlinehilite",
    # what Material's docs recommend; it makes every highlighted block raw HTML full of <a href="#__codelineno-…">
    {"pymdownx.highlight": {"anchor_linenums": True, "line_spans": "__span", "pygments_lang_class": True}},
]
PAGE_FOLDERS = (
    "指南",
    "指南/入门",
    "指南/进阶",
    "参考",
    "参考/接口",
    "参考/组件",
    "教程",
    "教程/实战",
    "常见问题",
    "更新日志",
)
IMAGE_FOLDERS = ("images/界面截图", "images/流程图", "指南/图片", "参考/接口/示例图", "教程/插图", "assets/配图")
SHARED_FOLDER = "images/图标"
SHARED_IMAGES = 12  # icons shown on about one page in twelve each
TOPICS = (
    "安装",
    "快速开始",
    "配置说明",
    "云存储",
    "图片上传",
    "访问令牌",
    "部署流程",
    "常见错误",
    "性能优化",
    "接口说明",
    "组件用法",
    "权限设置",
    "版本迁移",
    "命令行",
    "持续集成",
    "目录结构",
    "主题定制",
    "多语言",
)
ZH = {
    "subject": (
        "小程序",
        "云开发环境",
        "云存储",
        "构建脚本",
        "文档站点",
        "开发者",
        "这个接口",
        "上传任务",
        "清单文件",
        "配置项",
        "插件",
        "命令行工具",
    ),
    "verb": (
        "会自动处理",
        "需要先配置",
        "可以直接调用",
        "负责管理",
        "在发布前检查",
        "支持批量上传",
        "不会修改",
        "会缓存",
        "按顺序读取",
        "只需要声明",
    ),
    "object": (
        "所有图片",
        "访问令牌",
        "下载链接",
        "页面中的代码块",
        "目录结构",
        "中文文件名",
        "环境变量",
        "每一次构建的结果",
        "云端路径",
        "图片的哈希值",
    ),
    "ending": (
        "。",
        "，并记录在清单中。",
        "，无需额外设置。",
        "，这样可以减少请求次数。",
        "，详见下文。",
        "；如果失败，会在日志中给出原因。",
    ),
}
CODE = {
    "python": (
        "import {mod}",
        "from {mod} import {Name}",
        "",
        "def {func}({arg}: str, timeout: float = {num}) -> dict:",
        '    """{zh}"""',
        "    {var} = {Name}({arg}, retries={small})",
        "    # {zh}",
        '    if not {var}.get("{key}"):',
        '        raise RuntimeError(f"{zh}: {{arg}}")',
        '    for item in {var}["{key}"]:',
        '        print(item, "{zh}")',
        '    return {"{key}": {var}, "count": {num}}',
    ),
    "javascript": (
        'const {var} = require("{mod}");',
        "",
        "async function {func}({arg}) {",
        "  // {zh}",
        '  const {key} = await {var}.{func}({ path: "{path}", max: {num} });',
        "  if (!{key}.ok) {",
        '    throw new Error("{zh}");',
        "  }",
        "  for (const item of {key}.list) {",
        "    console.log(`${item.name}: {zh}`);",
        "  }",
        "  return {key}.list.length + {small};",
        "}",
    ),
    "bash": (
        "# {zh}",
        "export WXCLOUD_ENV={key}-{small}",
        "pip install {mod}=={small}.{num}",
        "mkdocs-wxcloud sync -f mkdocs.yml  # {zh}",
        'if [ -f "{path}" ]; then',
        '  echo "{zh}: {path}"',
        "fi",
        "for f in docs/*.md; do",
        '  grep -c "{key}" "$f" || true',
        "done",
        'curl -sS "https://api.weixin.qq.com/{key}?access_token=$TOKEN" -d \'{"env": "{key}"}\'',
    ),
    "yaml": (
        "# {zh}",
        "site_name: {zh}",
        "theme:",
        "  name: material",
        "  language: zh",
        "plugins:",
        "  - search",
        "  - wxcloud:",
        "      prefix: {key}",
        "      concurrency: {small}",
        "extra:",
        '  {key}: "{zh}"',
        "  {var}: {num}",
    ),
    "json": (
        "{",
        '  "{key}": "{zh}",',
        '  "{var}": {num},',
        '  "path": "{path}",',
        '  "enabled": true,',
        '  "items": [',
        '    {"name": "{zh}", "size": {num}},',
        '    {"name": "{key}", "size": {small}}',
        "  ],",
        '  "comment": "{zh}"',
        "}",
    ),
}
_FILL = re.compile(r"\{(zh|var|key|num|small|func|arg|mod|Name|path)\}")
_NAMES = ("upload", "client", "manifest", "token", "images", "config", "result", "files", "batch", "session")
IMAGE_FORMS = ("inline", "reference", "raw", "admonition", "tabbed", "figure", "details", "table", "linked", "srcset")


def _zh(rng: random.Random) -> str:
    return "".join(rng.choice(ZH[k]) for k in ("subject", "verb", "object", "ending"))


def _paragraph(rng: random.Random, extra: str = "") -> str:
    parts = [_zh(rng) for _ in range(rng.randint(2, 5))]
    parts.insert(rng.randrange(len(parts)), f"使用 `{rng.choice(_NAMES)}` 时，")
    if rng.random() < 0.3:
        parts.append('例如 `#!python print("你好，世界")`。')
    return "".join(parts) + extra


def _code(rng: random.Random, language: str, linenums: bool, title: str | None) -> str:
    """One fenced block of 10-25 lines; ``linenums`` makes Material-style anchored line numbers."""
    fill = {
        "zh": lambda: rng.choice(ZH["object"]) + rng.choice(ZH["verb"]),
        "var": lambda: rng.choice(_NAMES),
        "key": lambda: rng.choice(_NAMES) + "_id",
        "num": lambda: str(rng.randint(10, 9999)),
        "small": lambda: str(rng.randint(1, 9)),
        "func": lambda: rng.choice(("fetch", "upload", "publish", "resolve", "load")) + rng.choice(_NAMES).title(),
        "arg": lambda: rng.choice(("path", "env", "options", "page")),
        "mod": lambda: rng.choice(("requests", "yaml", "mkdocs")),
        "Name": lambda: rng.choice(("Client", "Manifest", "Uploader", "Session")),
        "path": lambda: f"docs/{rng.choice(PAGE_FOLDERS)}/{rng.choice(TOPICS)}.md",
    }
    templates = CODE[language]
    lines = [_FILL.sub(lambda m: fill[m.group(1)](), templates[i % len(templates)]) for i in range(rng.randint(10, 25))]
    info = language + (' linenums="1"' if linenums else "") + (f' title="{title}"' if title else "")
    return "\n".join([f"``` {info}", *lines, "```"])


def _indent(block: str) -> str:
    return "\n".join("    " + line if line else "" for line in block.split("\n"))


def _image_block(form: str, rng: random.Random, alt: str, md: str, raw: str, second_raw: str, ref: str) -> str:
    """Markdown showing one image (two for ``srcset``); ``md`` / ``raw`` are its path from the page's file / URL."""
    if form == "inline":
        return f'![{alt}]({md} "{alt}")'
    if form == "reference":
        return f"如下图所示：![{alt}][{ref}]"
    if form == "raw":
        return f'<p align="center"><img src="{raw}" alt="{alt}" width="360"></p>'
    if form == "admonition":
        return f'!!! note "说明"\n\n    {_zh(rng)}\n\n    ![{alt}]({md})'
    if form == "tabbed":
        return f'=== "Windows"\n\n    ![{alt}]({md}){{ loading=lazy }}\n\n=== "macOS"\n\n    {_zh(rng)}'
    if form == "figure":
        return (
            f'<figure markdown="span">\n  ![{alt}]({md}){{ width="480" loading=lazy }}\n'
            f"  <figcaption>{alt}</figcaption>\n</figure>"
        )
    if form == "details":
        return f'??? info "点击展开截图"\n\n    ![{alt}]({md})'
    if form == "table":
        return f"| 步骤 | 截图 |\n| --- | --- |\n| {rng.choice(TOPICS)} | ![{alt}]({md}) |\n| 完成 | {_zh(rng)} |"
    if form == "linked":
        return f'[![{alt}]({md})]({md} "点击查看大图")'
    if form == "srcset":
        return f'<img src="{raw}" srcset="{raw} 1x, {second_raw} 2x" alt="{alt}" width="320">'
    raise ValueError(form)


def _real_page(
    rng: random.Random,
    p: int,
    page: str,
    following: str,
    images: list[str],
    own: list[int],
    icon: int | None,
    blocks: int,
    styles: dict[str, int],
) -> tuple[str, int, int]:
    """The Markdown of page number ``p`` showing the images ``own`` (and the shared ``icon``), with its
    count of <img> elements and of code blocks; ``styles`` counts the forms used."""

    def path(n: int, raw: bool = False) -> str:
        return _relative(images[n], page, raw)

    body = [f"# {TOPICS[p % len(TOPICS)]}（第 {p + 1} 篇）", "", _paragraph(rng, "[^1]"), ""]
    footer = ["[^1]: " + _zh(rng)]
    if icon is not None:
        body += ['!!! tip "提示"', "", f'    ![图标]({path(icon)}){{ width="24" }} {_zh(rng)}', ""]
        styles["shared icon"] += 1
    figures: list[str] = []
    j = 0
    while j < len(own):
        form = IMAGE_FORMS[(p + j) % len(IMAGE_FORMS)]
        second = own[j + 1] if j + 1 < len(own) else None
        if form == "srcset" and second is None:
            form = "inline"
        n, alt, ref = own[j], f"{rng.choice(TOPICS)}示意图 {own[j]}", f"图{own[j]}"
        figures.append(
            _image_block(form, rng, alt, path(n), path(n, True), path(second, True) if second is not None else "", ref)
        )
        if form == "reference":
            footer.append(f'[{ref}]: {path(n)} "{alt}"')
        styles[form] += 1
        j += 2 if form == "srcset" else 1
    shown = len(figures) + (icon is not None)
    written = 0
    for b in range(blocks):  # each step writes one block or two, until ``blocks``
        if written >= blocks:
            break
        if b % 2 == 0:
            body += [f"## {rng.choice(TOPICS)}：{rng.choice(ZH['object'])}", "", _paragraph(rng), ""]
        language, linenums, before = tuple(CODE)[(p + b) % len(CODE)], (p + b) % 2 == 0, written
        if b % 6 == 5 and blocks - written >= 2:  # one block per platform, in tabs, as Material sites show them
            body += [
                '=== "Python"',
                "",
                _indent(_code(rng, "python", linenums, None)),
                "",
                '=== "JavaScript"',
                "",
                _indent(_code(rng, "javascript", linenums, None)),
                "",
            ]
            written += 2
        else:
            suffix = {"python": "py", "javascript": "js", "bash": "sh"}.get(language, language)
            body += [_code(rng, language, linenums, f"{rng.choice(_NAMES)}.{suffix}" if b % 4 == 1 else None), ""]
            written += 1
        body += [_paragraph(rng), ""]
        for _ in range(written * len(own) // blocks - before * len(own) // blocks):  # images spread among the code
            if figures:
                body += [figures.pop(0), ""]
    body += [*figures, "", "| 参数 | 说明 | 默认值 |", "| --- | --- | --- |"]
    body += [f"| `{rng.choice(_NAMES)}` | {_zh(rng)} | `{rng.randint(0, 99)}` |" for _ in range(4)]
    body += [
        "",
        f"下一篇：[{TOPICS[(p + 1) % len(TOPICS)]}]({posixpath.relpath(following, posixpath.dirname(page))})。",
        "",
        *footer,
        "",
    ]
    return "\n".join(body), shown, written


def generate_real_site(
    root: Path,
    *,
    pages: int = 120,
    images: int = 506,
    blocks: int = 12,
    seed: int = 42,
    api_base: str = "http://127.0.0.1:9",
    search: bool = True,
    theme: str | None = None,
) -> GeneratedSite:
    """Write a deterministic site shaped like a real Chinese mini-program manual into ``root``.

    ``pages`` pages (plus index.md) with Chinese titles, headings and prose in nested Chinese folders,
    each with ``blocks`` fenced code blocks (10-25 lines; python, javascript, bash, yaml, json; half
    with ``linenums="1"``, some in tabs) and its share of ``images`` distinct PNGs (8-64 px) in
    Chinese-named folders, shown in every form of :data:`IMAGE_FORMS`; :data:`SHARED_IMAGES` icons
    are also shown on many pages. Extensions :data:`REAL_EXTENSIONS`; theme ``material`` when it is
    installed, else ``mkdocs``. Writes mkdocs.yml (with wxcloud) and mkdocs-plain.yml (without).
    """
    rng = random.Random(seed)
    docs = root / "docs"
    pages, images = max(1, pages), max(1, images)
    theme = theme or ("material" if importlib.util.find_spec("material") else "mkdocs")
    image_paths = []
    for n in range(images):
        folder = SHARED_FOLDER if n < min(SHARED_IMAGES, images // 4) else IMAGE_FOLDERS[n % len(IMAGE_FOLDERS)]
        rel = f"{folder}/{rng.choice(TOPICS)}-{n:04d}.png"
        (docs / rel).parent.mkdir(parents=True, exist_ok=True)
        (docs / rel).write_bytes(png(seed * 1_000_003 + n, side=rng.randint(8, 64)))
        image_paths.append(rel)
    shared = [n for n in range(images) if image_paths[n].startswith(SHARED_FOLDER + "/")]
    page_paths = [f"{PAGE_FOLDERS[p % len(PAGE_FOLDERS)]}/{TOPICS[p % len(TOPICS)]}-{p:03d}.md" for p in range(pages)]
    styles: dict[str, int] = {f: 0 for f in (*IMAGE_FORMS, "shared icon")}
    references = code_blocks = 0
    (docs / "index.md").write_text(
        "# 小程序云开发文档\n\n"
        + _paragraph(rng)
        + "\n\n"
        + "\n".join(f"- [{posixpath.splitext(posixpath.basename(page))[0]}]({page})" for page in page_paths[:20])
        + "\n",
        encoding="utf-8",
    )
    for p, page in enumerate(page_paths):
        text, shown, written = _real_page(
            rng,
            p,
            page,
            page_paths[(p + 1) % pages],
            image_paths,
            list(range(p, images, pages)),
            shared[p % len(shared)] if shared else None,
            blocks,
            styles,
        )
        (docs / page).parent.mkdir(parents=True, exist_ok=True)
        (docs / page).write_text(text, encoding="utf-8")
        references += shown
        code_blocks += written
    base = {
        "site_name": "小程序云开发文档",
        "docs_dir": "docs",
        "site_dir": "site",
        "theme": {"name": theme, "language": "zh"} if theme == "material" else {"name": theme},
        "markdown_extensions": REAL_EXTENSIONS,
        "validation": {"links": {"not_found": "info", "unrecognized_links": "info"}},
    }
    config, plain = _write_configs(root, base, ["search"] if search else [], plugin_options(api_base))
    return GeneratedSite(root, config, plain, pages + 1, images, references, styles, theme, code_blocks, api_base)


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


ENDPOINTS = {
    "stable_token": "/cgi-bin/stable_token",
    "uploadfile": "/tcb/uploadfile",
    "cos": "/cos/",
    "batchdownloadfile": "/tcb/batchdownloadfile",
    "total": "/",
}


def endpoint_counts(emulator: Any) -> dict[str, int]:
    """Requests per endpoint seen by an in-process ``Emulator``."""
    return {name: emulator.request_count(prefix) for name, prefix in ENDPOINTS.items()}


# -- the emulator as a separate process --------------------------------------------------------

_REQUEST_LINE = re.compile(r'"[A-Z]+ (/[^ ?"]*)\S* HTTP/[0-9.]+" \d{3}')


class EmulatorProcess:
    """``mkdocs-wxcloud emulator`` in a process of its own, in memory, on a free loopback port.

    The real service is remote: an emulator inside the measured process would compete with the
    client for the GIL and for the cores, and its memory would count as the client's. With
    ``verbose`` it logs every request, which :meth:`counts` tallies per endpoint.
    """

    def __init__(self, log: Path, *, latency: float = 0.0, verbose: bool = False) -> None:
        self.log = log
        self.base_url = f"http://127.0.0.1:{free_port()}"
        command = [
            console_script("mkdocs-wxcloud"),
            "emulator",
            "--port",
            self.base_url.rsplit(":", 1)[1],
            "--latency",
            repr(latency),
            *(["--verbose"] if verbose else []),
        ]
        with log.open("wb") as out:
            self.process = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT)
        try:
            self._wait_healthy()
        except BaseException:
            self.stop()
            raise
        self._started_cpu = 0.0
        self._started_cpu = self.cpu_seconds()  # its start-up (imports) is not the requests' cost

    def _wait_healthy(self) -> None:
        import requests

        for _ in range(200):  # at most ~20 s
            if self.process.poll() is not None:
                raise RuntimeError(
                    f"the emulator exited with {self.process.returncode}: {self.log.read_text(errors='replace')[-500:]}"
                )
            try:
                if requests.get(self.base_url + "/__emulator__/health", timeout=1).ok:
                    return
            except requests.RequestException:
                pass
            time.sleep(0.1)
        raise RuntimeError("the emulator did not answer its health check within 20 s")

    def __enter__(self) -> EmulatorProcess:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)

    def cpu_seconds(self) -> float:
        """CPU time the emulator has used since it was up (from /proc; 0 where there is none): on a
        machine with few cores it competes with the client, unlike the remote service."""
        try:
            fields = Path(f"/proc/{self.process.pid}/stat").read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            return 0.0
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK") - self._started_cpu

    def counts(self) -> dict[str, int]:
        """Requests per endpoint so far (health checks excluded), from the log of a ``verbose`` emulator;
        the same keys as :func:`endpoint_counts`. A request is logged before its answer is sent."""
        paths = _REQUEST_LINE.findall(self.log.read_text(encoding="utf-8", errors="replace"))
        paths = [path for path in paths if path != "/__emulator__/health"]
        return {name: sum(path.startswith(prefix) for path in paths) for name, prefix in ENDPOINTS.items()}


# -- the hand-written baseline -----------------------------------------------------------------------


def _post_json(session: Any, url: str, body: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
    """POST raw UTF-8 JSON: WeChat rejects the ``\\uXXXX`` escapes of ``requests``' ``json=`` in Chinese paths."""
    answer = session.post(
        url,
        data=json.dumps(body, ensure_ascii=False).encode("utf-8"),
        timeout=30,
        headers={"Content-Type": "application/json"},
        **kwargs,
    )
    answer.raise_for_status()
    return answer.json()


def sequential_upload(base: str, images: Sequence[Path], docs: Path) -> dict[str, str]:
    """The flow users write by hand, one file after the other, four requests each: ``stable_token``,
    ``tcb/uploadfile``, the multipart COS POST (``x-cos-meta-fileid``, the file last), and
    ``tcb/batchdownloadfile`` for that one file. Returns cloud path -> download URL."""
    import requests

    from mkdocs_wxcloud.emulator import DEFAULT_APPID, DEFAULT_ENV, DEFAULT_SECRET

    links: dict[str, str] = {}
    with requests.Session() as session:
        for image in images:
            cloud_path = "manual/" + image.relative_to(docs).as_posix()
            token = _post_json(
                session,
                f"{base}/cgi-bin/stable_token",
                {"grant_type": "client_credential", "appid": DEFAULT_APPID, "secret": DEFAULT_SECRET},
            )["access_token"]
            link = _post_json(
                session,
                f"{base}/tcb/uploadfile",
                {"env": DEFAULT_ENV, "path": cloud_path},
                params={"access_token": token},
            )
            with image.open("rb") as handle:
                session.post(
                    link["url"],
                    timeout=30,
                    data={
                        "key": cloud_path,
                        "Signature": link["authorization"],
                        "x-cos-security-token": link["token"],
                        "x-cos-meta-fileid": link["cos_file_id"],
                    },
                    files={"file": (image.name, handle, "image/png")},
                ).raise_for_status()  # files go after data
            listed = _post_json(
                session,
                f"{base}/tcb/batchdownloadfile",
                {"env": DEFAULT_ENV, "file_list": [{"fileid": link["file_id"], "max_age": 86400}]},
                params={"access_token": token},
            )
            url = listed["file_list"][0].get("download_url")
            if url:
                links[cloud_path] = url
    return links


def probe_round_trip(base: str, calls: int = 7) -> float:
    """Median wall time of one stable_token call on a kept-alive connection (the first is not counted):
    what one request really costs, to compare with the emulator's latency."""
    import requests

    from mkdocs_wxcloud.emulator import DEFAULT_APPID, DEFAULT_SECRET

    times = []
    with requests.Session() as session:
        for _ in range(calls + 1):
            began = time.perf_counter()
            _post_json(
                session,
                f"{base}/cgi-bin/stable_token",
                {"grant_type": "client_credential", "appid": DEFAULT_APPID, "secret": DEFAULT_SECRET},
            )
            times.append(time.perf_counter() - began)
    return median(times[1:])


def upload_floor(images: int, latency: float, concurrency: int) -> float:
    """The network's lower bound of uploading: two requests per new image (uploadfile, COS), C at once."""
    return 2 * images * latency / concurrency


def link_floor(images: int, latency: float) -> float:
    """One link call per 50 images, one after the other."""
    return math.ceil(images / 50) * latency
