"""The synthetic benchmark site (English, theme ``mkdocs``, images spread evenly) and what both
generated sites share: the :class:`GeneratedSite` handle, the two configurations (with and without
the plugin), paths as a page writes them. The images and files are the tests' (``tests/sites.py``).
"""

from __future__ import annotations

import os
import posixpath
import random
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import _common  # noqa: F401 - puts tests/ on the path
import yaml
from sites import demo_options, png, write_files

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


def plugin_options(api_base: str, **extra: Any) -> dict[str, Any]:
    """The wxcloud plugin's options for the emulator at ``api_base`` (its demo credentials)."""
    return {**demo_options(api_base), **extra}


def write_yaml(path: Path, data: dict[str, Any]) -> None:
    path.write_text(yaml.safe_dump(data, sort_keys=False, allow_unicode=True), encoding="utf-8")


def write_configs(root: Path, base: dict[str, Any], plugins: list[Any], wxcloud: dict[str, Any]) -> tuple[Path, Path]:
    """mkdocs.yml (``plugins`` + wxcloud) and mkdocs-plain.yml (``plugins`` only), otherwise identical."""
    config, plain = root / "mkdocs.yml", root / "mkdocs-plain.yml"
    write_yaml(config, {**base, "plugins": [*plugins, {"wxcloud": wxcloud}]})
    write_yaml(plain, {**base, "plugins": list(plugins)})
    return config, plain


def _sentence(rng: random.Random, n: int) -> str:
    words = [rng.choice(WORDS) for _ in range(n)]
    return " ".join(words).capitalize() + "."


STYLES = ("inline", "reference", "raw", "admonition", "attr_list", "md_in_html", "table")


def relative(image: str, page: str, raw: bool) -> str:
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
    sections = max(1, min(sections, pages))
    styles: dict[str, int] = {s: 0 for s in STYLES}
    image_paths = [f"images/s{n % sections:02d}/img{n:05d}.png" for n in range(images)]
    files: dict[str, bytes | str] = {rel: png(seed * 1_000_003 + n, 4, noisy=True) for n, rel in enumerate(image_paths)}
    if shared_logo:
        files["images/logo.png"] = png(-1 - seed, 4, noisy=True)
    references = 0
    files["index.md"] = (
        "# Benchmark site\n\n" + _sentence(rng, 20) + "\n\n" + ("![logo](images/logo.png)\n" if shared_logo else "")
    )
    references += shared_logo
    per_page: list[list[int]] = [[] for _ in range(pages)]
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
            block, foot = _reference(style, n, relative(image_paths[n], rel_page, raw=style == "raw"))
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
        files[rel_page] = "\n".join(body) + "\n"
    write_files(root / "docs", files)
    base = {
        "site_name": "wxcloud benchmark",
        "docs_dir": "docs",
        "site_dir": "site",
        "theme": {"name": "mkdocs"},
        "markdown_extensions": list(EXTENSIONS),
        "validation": {"links": {"not_found": "info", "unrecognized_links": "info"}},
    }
    config, plain = write_configs(
        root, base, ["search"] if search else [], plugin if plugin is not None else plugin_options(api_base)
    )
    return GeneratedSite(root, config, plain, pages + 1, images + shared_logo, references, styles, api_base=api_base)
