"""The real-shaped benchmark site: a Chinese mini-program manual, code-heavy, Material-like.

Chinese titles, headings and prose in nested Chinese folders, fenced code blocks (some in tabs, half
with anchored line numbers) and distinct PNGs shown in every form a real site uses.
"""

from __future__ import annotations

import importlib.util
import posixpath
import random
import re
from pathlib import Path
from typing import Any

from _sites import GeneratedSite, plugin_options, png, relative, write_configs, write_files

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
PAGE_FOLDERS = tuple("指南 指南/入门 指南/进阶 参考 参考/接口 参考/组件 教程 教程/实战 常见问题 更新日志".split())
IMAGE_FOLDERS = ("images/界面截图", "images/流程图", "指南/图片", "参考/接口/示例图", "教程/插图", "assets/配图")
SHARED_FOLDER = "images/图标"
SHARED_IMAGES = 12  # icons shown on about one page in twelve each
TOPICS = tuple(
    "安装 快速开始 配置说明 云存储 图片上传 访问令牌 部署流程 常见错误 性能优化 接口说明 组件用法 权限设置 版本迁移 命令行 持续集成 目录结构 主题定制 多语言".split()
)
ZH = {
    "subject": tuple(
        "小程序 云开发环境 云存储 构建脚本 文档站点 开发者 这个接口 上传任务 清单文件 配置项 插件 命令行工具".split()
    ),
    "verb": tuple(
        "会自动处理 需要先配置 可以直接调用 负责管理 在发布前检查 支持批量上传 不会修改 会缓存 按顺序读取 只需要声明".split()
    ),
    "object": tuple(
        "所有图片 访问令牌 下载链接 页面中的代码块 目录结构 中文文件名 环境变量 每一次构建的结果 云端路径 图片的哈希值".split()
    ),
    "ending": tuple(
        "。 ，并记录在清单中。 ，无需额外设置。 ，这样可以减少请求次数。 ，详见下文。 ；如果失败，会在日志中给出原因。".split()
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
        return relative(images[n], page, raw)

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
    pages, images = max(1, pages), max(1, images)
    theme = theme or ("material" if importlib.util.find_spec("material") else "mkdocs")
    files: dict[str, bytes | str] = {}
    for n in range(images):
        folder = SHARED_FOLDER if n < min(SHARED_IMAGES, images // 4) else IMAGE_FOLDERS[n % len(IMAGE_FOLDERS)]
        rel = f"{folder}/{rng.choice(TOPICS)}-{n:04d}.png"
        files[rel] = png(seed * 1_000_003 + n, rng.randint(8, 64), noisy=True)
    image_paths = list(files)
    shared = [n for n in range(images) if image_paths[n].startswith(SHARED_FOLDER + "/")]
    page_paths = [f"{PAGE_FOLDERS[p % len(PAGE_FOLDERS)]}/{TOPICS[p % len(TOPICS)]}-{p:03d}.md" for p in range(pages)]
    styles: dict[str, int] = {f: 0 for f in (*IMAGE_FORMS, "shared icon")}
    references = code_blocks = 0
    files["index.md"] = (
        "# 小程序云开发文档\n\n"
        + _paragraph(rng)
        + "\n\n"
        + "\n".join(f"- [{posixpath.splitext(posixpath.basename(page))[0]}]({page})" for page in page_paths[:20])
        + "\n"
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
        files[page] = text
        references += shown
        code_blocks += written
    write_files(root / "docs", files)
    base = {
        "site_name": "小程序云开发文档",
        "docs_dir": "docs",
        "site_dir": "site",
        "theme": {"name": theme, "language": "zh"} if theme == "material" else {"name": theme},
        "markdown_extensions": REAL_EXTENSIONS,
        "validation": {"links": {"not_found": "info", "unrecognized_links": "info"}},
    }
    config, plain = write_configs(root, base, ["search"] if search else [], plugin_options(api_base))
    return GeneratedSite(root, config, plain, pages + 1, images, references, styles, theme, code_blocks, api_base)
