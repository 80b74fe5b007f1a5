"""``mkdocs-wxcloud sync``: upload what the pages reference and the manifest lacks, without building."""

from __future__ import annotations

import logging
from pathlib import Path

import click

from ..publishing.remote import missing_in_cloud
from ..publishing.run import Run
from .common import load_site, site_command, upload
from .progress import Progress
from .scan import missing_images, scheduled

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
    progress = Progress("uploading")
    with site.open(offline=dry_run, readonly=dry_run, on_progress=progress.advance) as run:
        linker = site.linker(run)
        unconfirmed = _repair(run) if repair else 0
        if dry_run:
            missing = sorted(missing_images(site, linker))
            for path in missing:
                click.echo(path)
            log.info("%d file(s) to upload (dry run)", len(missing))
            return 0
        report = upload(run, linker, scheduled(site, linker), progress)
    return 1 if report.errors or unconfirmed else 0


def _repair(run: Run) -> int:
    """Forget the entries whose file the cloud lost, so that the images are uploaded again."""
    missing, unknown = missing_in_cloud(run.uploads.client(), run.store.manifest.images)
    for path in sorted(missing):
        run.store.remove(path)
    for path, why in sorted(unknown.items()):
        log.error("%s: could not be confirmed in the cloud: %s", path, why)
    log.info("repair: %d manifest entr%s had no file in the cloud", len(missing), "y" if len(missing) == 1 else "ies")
    return len(unknown)
