"""A site read through its real build, for sites whose plugins change what the pages show.

Macros, included files, a blog's post URLs, localized files: Python-Markdown alone would judge another
site than the one readers load, so ``check``, ``sync`` and ``prune`` then run ``mkdocs build`` into a
temporary folder with the wxcloud plugin in its scan mode (:mod:`..hosts.mkdocs.scan`: no upload, no
manifest written). The plugin hands over every reference as the build resolves it, and links it to a
marker URL; what the built folder still loads locally is then what a real build leaves local (a theme
template's avatar, a stylesheet a plugin wrote again), mapped back to docs paths by MkDocs' own record
of the files it copied. A site without such plugins keeps the fast scanner (:mod:`.scan`).
"""

from __future__ import annotations

import contextlib
import logging
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator

from ..errors import ConfigError
from ..hosts.folder.publish import FolderRun
from ..hosts.folder.site import SiteFolder
from ..publishing.linker import Problem
from ..publishing.run import Mode, open_run
from ..references.urls import Target
from .scan import PageScan
from .site import Site

log = logging.getLogger("mkdocs.plugins.wxcloud")

# Plugins that leave each page's references as Python-Markdown renders them (by their name in mkdocs.yml,
# without a theme's `material/`): the commands keep the fast scanner for them.
SAFE = frozenset(
    "search wxcloud tags offline privacy glightbox git-revision-date git-revision-date-localized git-authors "
    "git-committers redirects awesome-pages awesome-nav literate-nav section-index social meta typeset "
    "optimize minify htmlproofer rss autorefs mkdocstrings".split()
)
KEPT = frozenset({"search", "wxcloud", "tags"})  # safe plugins that a scan build keeps: others may need them
MAX_SHOWN = 5  # build warnings a command repeats
_NOT_OURS = ("mkdocs.structure", "mkdocs.plugins.wxcloud")  # a broken link, our own words: no page lost images


def page_changing(plugins: Any) -> list[str]:
    """The names of the configured plugins that can change what a page references (``plugins``: MkDocs'
    plugin collection, name -> plugin with its ``config``)."""
    found = []
    for name, plugin in plugins.items():
        bare = name.split("/", 1)[-1]
        config = getattr(plugin, "config", {}) or {}
        if bare == "minify" and (config.get("css_files") or config.get("js_files")):
            found.append(name)  # it renames extra_css entries: their url(…) are no longer the ones we see
        elif bare not in SAFE:
            found.append(name)
    return found


@dataclass
class Leftover:
    """A local file of a published kind that the built site loads but that the build never links."""

    built: str  # the built page or stylesheet that loads it
    line: int
    url: str
    path: str  # its docs path


@dataclass
class Built:
    """What a scan build found: every reference the pages' Markdown holds, what the built site loads
    locally, and the warnings the build logged (a macro that failed shows an error, not its images)."""

    found: list[tuple[PageScan, str, Target]] = field(default_factory=list)
    leftovers: list[Leftover] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


class _Warnings(logging.Handler):
    """The build's warnings, one line each, but MkDocs' own about links and nav; the rest of its output is
    not this command's (-v shows it)."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        if not record.name.startswith(_NOT_OURS):
            self.lines.append(" ".join(record.getMessage().split()))

    @contextlib.contextmanager
    def catching(self) -> Iterator[None]:
        logger = logging.getLogger("mkdocs")
        saved = logger.handlers[:], logger.level, logger.propagate
        verbose = logger.getEffectiveLevel() <= logging.DEBUG
        logger.handlers[:] = [*saved[0], self] if verbose else [self]
        logger.setLevel(logging.DEBUG if verbose else logging.WARNING)
        logger.propagate = False
        try:
            yield
        finally:
            logger.handlers[:], logger.level, logger.propagate = saved


def scan_build(site: Site) -> Built:
    """Build the site into a temporary folder with the plugin in scan mode; what its pages reference."""
    from mkdocs.commands.build import build
    from mkdocs.config import load_config
    from mkdocs.exceptions import Abort, ConfigurationError

    from ..hosts.mkdocs.plugin import WxCloudPlugin
    from ..hosts.mkdocs.scan import Scan

    assert site.config_file is not None
    scan, warnings = Scan(), _Warnings()
    log.info("wxcloud: %s changes the pages: reading them through a build (no upload)", ", ".join(site.plugins))
    with tempfile.TemporaryDirectory(prefix="wxcloud-scan-") as site_dir:
        try:
            config = load_config(str(site.config_file), site_dir=site_dir)
        except (ConfigurationError, Abort) as error:
            raise ConfigError(f"{site.config_file}: {error}") from None
        plugin = config.plugins.get("wxcloud")
        if not isinstance(plugin, WxCloudPlugin):  # no entry: the default options, as the commands use them
            plugin = WxCloudPlugin()
            plugin.load_config({}, str(site.config_file))
            config.plugins["wxcloud"] = plugin
        plugin.scan = scan
        idle = _idle(config.plugins)
        try:
            with warnings.catching():
                config.plugins.on_startup(command="build", dirty=False)
                try:
                    build(config)
                finally:
                    config.plugins.on_shutdown()
        except (Exception, SystemExit) as error:  # noqa: BLE001 - Abort, what a plugin raises, macros' exit(100)
            why = warnings.lines[-1] if warnings.lines else " ".join(str(error).split()) or type(error).__name__
            raise ConfigError(f"{site.config_file}: the build failed ({why}): fix it (`mkdocs build` shows why), "
                              "then run the command again") from None  # fmt: skip
        finally:
            plugin.scan = None  # MkDocs hands the same plugin instance to the next configuration loaded
            for other in idle:
                other.config["enabled"] = True
        return Built(_found(scan), _leftovers(site, Path(site_dir), config.site_url, scan), warnings.lines)


def _idle(plugins: Any) -> list[Any]:
    """Turn off, for the scan, the safe plugins that can be (Material's social cards and privacy download
    fonts and assets, optimize compresses, git-revision-date asks git for every page); those turned off."""
    turned = []
    for name, other in plugins.items():
        config: Any = getattr(other, "config", None)
        if name.split("/", 1)[-1] in SAFE - KEPT and hasattr(config, "get") and config.get("enabled") is True:
            config["enabled"] = False
            turned.append(other)
    return turned


def _found(scan: Any) -> list[tuple[PageScan, str, Target]]:
    pages: dict[tuple[str, str], PageScan] = {}
    found = []
    for page, source, url, target in scan.found:
        scanned = pages.setdefault((page, source), PageScan(page, source, []))
        found.append((scanned, url, target))
    return found


def _leftovers(site: Site, site_dir: Path, site_url: str | None, scan: Any) -> list[Leftover]:
    """Files of docs_dir that the built pages and stylesheets still load locally (the plugin linked what it
    saw), each once, where it is loaded first; a theme's own files are not ours."""
    docs_dir = site.docs_dir.resolve()
    sources = {built: _docs_path(source, docs_dir) for built, source in scan.copies.items()}
    leftovers: dict[str, Leftover] = {}
    problems: list[Problem] = []
    with open_run(site.settings, site_dir, Mode(offline=True, readonly=True)) as run:
        folder_run = FolderRun(SiteFolder(site_dir, site_url), run, problems.append, site.settings.keep_local)
        for scanned in folder_run.scan():
            for reference, target in scanned.found:
                path = sources.get(target.path)
                if path is not None and path not in leftovers:
                    line = scanned.document.text.count("\n", 0, reference.start) + 1
                    leftovers[path] = Leftover(scanned.path, line, reference.url, path)
    return list(leftovers.values())


def _docs_path(source: str | None, docs_dir: Path) -> str | None:
    """The docs path of a copied file's source; None for a theme's file or one made during the build."""
    if source is None:
        return None
    full = Path(source).resolve()
    return full.relative_to(docs_dir).as_posix() if full.is_relative_to(docs_dir) else None


def prepare(site: Site) -> Site:
    """``site`` with its references read through a scan build when its plugins change pages
    (:attr:`Site.found`, :attr:`Site.leftovers`); as it is otherwise."""
    if site.optimized_by_theme:
        from ..hosts.mkdocs.scan import OPTIMIZE_WARNING

        log.warning("wxcloud: %s", OPTIMIZE_WARNING)
    if site.plugins and site.config_file is not None and site.found is None:
        result = scan_build(site)
        site.found, site.leftovers, site.build_warnings = result.found, result.leftovers, result.warnings
        for line in result.warnings[:MAX_SHOWN]:
            log.warning("wxcloud: the build warned: %s", line)
        if len(result.warnings) > MAX_SHOWN:
            log.warning("wxcloud: … and %d more warnings of the build (`mkdocs build` shows them)",
                        len(result.warnings) - MAX_SHOWN)  # fmt: skip
    return site


def leftover_problem(leftover: Leftover) -> Problem:
    """What ``check`` says of a file the built site loads locally without the build linking it."""
    how = (
        "a plugin wrote this stylesheet after wxcloud linked its copy (minify's `cache_safe` does)"
        if leftover.built.lower().endswith(".css")
        else "the theme or a plugin writes this URL outside the pages' Markdown"
    )
    what = (f"the built site loads {leftover.path} from the site, not the cloud: {how}; after `mkdocs build`, "
            "`mkdocs-wxcloud publish site/` publishes it")  # fmt: skip
    return Problem(leftover.built, leftover.line, leftover.url, what)
