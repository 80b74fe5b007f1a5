"""``mkdocs-wxcloud publish SITE_DIR``: publish what a built site loads, from any generator.

Also ``check --site SITE_DIR`` and ``prune --site SITE_DIR``: the CI gate and the clean-up on a built
folder. Options come from the site's mkdocs.yml or zensical.toml when there is one (same names as
the plugin's), else from the flags and the ``WXCLOUD_*`` variables: a Hugo or Hexo site needs no
MkDocs configuration.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Callable

import click

from ..errors import ConfigError, ManifestError
from ..hosts.folder.publish import FolderRun, is_built_site, missing, referenced_entries
from ..hosts.folder.site import SiteFolder, site_url_of
from ..publishing.linker import Problem
from ..publishing.run import Mode, open_run
from ..publishing.settings import Settings, resolve
from . import projects
from .common import load_site, log, option_flags, say, site_command
from .progress import Progress

FLAGS = ("prefix", "manifest", "cache_dir", "appid", "env", "api_base", "emulator", "assets", "keep_local",
         "optimize", "dimensions", "exclude_uploaded", "concurrency")  # fmt: skip


def site_option(what: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """``--site SITE_DIR`` of ``check`` and ``prune``: judge a built folder, not the Markdown pages."""
    return click.option("--site", "site_dir", type=click.Path(file_okay=False, exists=True, path_type=Path),
                        default=None, help=f"{what} the built site in this folder (what its pages load), not the "
                                           "Markdown pages.")  # fmt: skip


def folder_of(config_file: Path | None, site_dir: Path, site_url: str | None, options: dict[str, Any]
              ) -> tuple[Settings, SiteFolder]:  # fmt: skip
    """The settings (the site's configuration when there is one, else flags and variables) and the folder."""
    if config_file is not None or any(Path(name).is_file() for name in projects.CONFIG_FILES):
        site = load_site(config_file, options)
        settings, url = site.settings, site_url or site.site_url
    else:
        settings, url = resolve(options, Path.cwd()), site_url or site_url_of(Path.cwd())
    folder = SiteFolder(site_dir, url)
    if not is_built_site(folder.root):
        raise ConfigError(f"{site_dir}: holds no HTML page: pass the folder your generator built (site/, public/)")
    return settings, folder


def show_problem(problem: Problem) -> None:
    line = f":{problem.line}" if problem.line else ""
    log.warning("%s%s: %s%s", problem.page, line, f"{problem.url}: " if problem.url else "", problem.message)


@click.command()
@site_command
@click.argument("site_dir", type=click.Path(file_okay=False, exists=True, path_type=Path))
@click.option(
    "--site-url",
    default=None,
    help="Where the site is served (https://example.com/docs/): its base path, and absolute URLs on it "
    "(default: site_url of mkdocs.yml/zensical.toml, baseURL of Hugo, url+root of Hexo).",
)
@click.option("--dry-run", is_flag=True, help="List what would be uploaded; upload and change nothing.")
@option_flags(*FLAGS)
def publish(config_file: Path | None, site_dir: Path, site_url: str | None, dry_run: bool,
            options: dict[str, Any]) -> int:  # fmt: skip
    """Publish every local asset the built site in SITE_DIR loads, and rewrite its URLs in place."""
    settings, folder = folder_of(config_file, site_dir, site_url, options)
    progress = Progress("uploading")
    mode = Mode(offline=dry_run, readonly=dry_run, on_progress=progress.advance)
    with open_run(settings, folder.root, mode) as run:
        folder_run = FolderRun(folder, run, show_problem, settings.keep_local)
        if dry_run:
            paths = missing(folder_run)
            for path in paths:
                say(path)
            log.info("%d file(s) to upload (dry run)", len(paths))
            return 0
        urls: dict[str, str] = {}
        for scanned in folder_run.scan():  # uploads start as soon as a page names a new file
            folder_run.publish(scanned, urls)
        progress.start(lambda: run.ledger.scheduled)
        try:
            report = run.finish()
        finally:
            progress.close()
        if isinstance(run.fatal, (ConfigError, ManifestError)):
            raise run.fatal
        urls.update(report.urls)
        changed = folder_run.rewrite(urls)
        gone = folder_run.leave_out(set(urls)) if settings.exclude_uploaded else []
    if run.fatal is not None:
        log.error("%s", run.fatal)
    for path, reason in sorted(report.errors.items()):
        log.error("%s: not published, the site loads the local file: %s", path, reason)
    left = f", {len(gone)} file(s) left out (`exclude_uploaded`)" if gone else ""
    log.info("%s; %d file(s) of %s rewritten%s", report.summary.line(), changed, site_dir, left)
    return 1 if report.errors else 0


def check_site(config_file: Path | None, site_dir: Path) -> list[tuple[str, Problem]]:
    """``check --site``: what a page of the folder loads locally that the manifest lacks or that changed."""
    settings, folder = folder_of(config_file, site_dir, None, {"offline": True})
    problems: list[tuple[str, Problem]] = []
    with open_run(settings, folder.root, Mode(offline=True, readonly=True)) as run:
        folder_run = FolderRun(folder, run, lambda p: problems.append(("error", p)), settings.keep_local)
        for path in missing(folder_run):
            problems.append(("error", Problem(path, None, "", "is loaded by the site but not published: run "
                                                                "`mkdocs-wxcloud publish`")))  # fmt: skip
    return problems


def prune_site(config_file: Path | None, site_dir: Path) -> tuple[set[str], Settings]:
    """``prune --site``: the manifest entries that the built folder still loads."""
    settings, folder = folder_of(config_file, site_dir, None, {"offline": True})
    with open_run(settings, folder.root, Mode(offline=True, readonly=True)) as run:
        return referenced_entries(FolderRun(folder, run, show_problem, settings.keep_local)), settings
