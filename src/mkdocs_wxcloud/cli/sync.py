"""``mkdocs-wxcloud sync``: upload what the pages reference and the manifest lacks, without building."""

from __future__ import annotations

import logging
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Iterable

import click

from ..errors import ConfigError, ManifestError
from ..publishing.linker import Linker
from ..publishing.publisher import Report
from ..publishing.remote import missing_in_cloud
from .common import load_site, site_command
from .progress import Progress
from .scan import missing_images

log = logging.getLogger("mkdocs.plugins.wxcloud")


@click.command()
@site_command
@click.option("--dry-run", is_flag=True, help="List what would be uploaded; upload nothing.")
@click.option(
    "--repair",
    is_flag=True,
    help="First ask the cloud which manifest entries lost their file (see `check --remote`); upload those again.",
)
def sync(config_file: Path | None, dry_run: bool, repair: bool) -> int:
    """Upload every missing asset the site's pages reference and update the manifest."""
    if dry_run and repair:
        raise click.UsageError("--repair asks the cloud: it cannot be combined with --dry-run")
    site = load_site(config_file)
    with ThreadPoolExecutor(site.settings.concurrency) as pool:
        progress = Progress("uploading")
        linker = site.open_linker(pool, offline=dry_run, readonly=dry_run, on_progress=progress.advance)
        try:
            unconfirmed = _repair(linker) if repair else 0
            if dry_run:
                missing = sorted(missing_images(site, linker))
                for path in missing:
                    click.echo(path)
                log.info("%d file(s) to upload (dry run)", len(missing))
                return 0
            report = publish(linker, missing_images(site, linker), progress)
        finally:
            linker.publisher.close()
    return 1 if report.errors or unconfirmed else 0


def _repair(linker: Linker) -> int:
    """Forget the entries whose file the cloud lost, so that the images are uploaded again."""
    store = linker.publisher.store
    missing, unknown = missing_in_cloud(linker.publisher.uploads.client(), store.manifest.images)
    for path in sorted(missing):
        store.remove(path)
    for path, why in sorted(unknown.items()):
        log.error("%s: could not be confirmed in the cloud: %s", path, why)
    log.info("repair: %d manifest entr%s had no file in the cloud", len(missing), "y" if len(missing) == 1 else "ies")
    return len(unknown)


def publish(linker: Linker, paths: Iterable[str], progress: Progress) -> Report:
    """Upload ``paths`` (each as soon as the iterable yields it) and fetch links; the summary goes to stderr."""
    publisher = linker.publisher
    for path in paths:
        publisher.schedule(path)
    progress.start(publisher.scheduled_uploads)
    try:
        report = publisher.finish()
    finally:
        progress.close()
    linker.check_sizes()
    if isinstance(publisher.fatal, (ConfigError, ManifestError)):
        raise publisher.fatal  # site_command prints it once, exit status 2
    if publisher.fatal is not None:  # one cause for every image: say it once
        log.error("%s", publisher.fatal)
    else:
        for path, reason in sorted(report.errors.items()):
            log.error(f"{path}: {reason}")
    log.info("%s", report.summary.line())
    return report
