"""``mkdocs-wxcloud sync``: upload what the pages reference and the manifest lacks, without building."""

from __future__ import annotations

import logging
from pathlib import Path

import click

from ..publishing.current import State
from ..publishing.remote import missing_in_cloud
from ..publishing.run import Run
from . import built
from .common import load_site, say, site_command, upload
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
    site = built.prepare(load_site(config_file))
    progress = Progress("uploading")
    with site.open(offline=dry_run, readonly=dry_run, on_progress=progress.advance) as run:
        linker = site.linker(run)
        unconfirmed = _repair(run) if repair else 0
        if dry_run:
            missing = sorted(missing_images(site, linker))
            # uploaded already (an interrupted run), they lack only a link: one batched call, no upload
            links = [path for path in missing if run.resolve(path).state in (State.UNLINKED, State.EXPIRING)]
            uploads = [path for path in missing if path not in links]
            for path in uploads:
                say(path)
            for path in links:
                say(f"{path}  (uploaded; only its link is fetched)")
            log.info("%d file(s) to upload, %d link(s) to fetch (dry run)", len(uploads), len(links))
            return 0
        report = upload(run, linker, scheduled(site, linker), progress)
    return 1 if report.errors or unconfirmed else 0


def _repair(run: Run) -> int:
    """Retire the entries whose file the cloud says it lost, so that the images are uploaded again: retired,
    not dropped, so that `prune` still sees the file if that answer was wrong and no upload replaces it."""
    images = run.store.manifest.images
    missing, unknown = missing_in_cloud(run.uploads.client(), images)
    for path in sorted(missing):
        entry = images[path]
        run.store.remove(path)
        run.store.retire(entry.file_id, entry.cloud_path)
    for path, why in sorted(unknown.items()):
        log.error("%s: could not be confirmed in the cloud: %s", path, why)
    log.info("repair: %d manifest entr%s had no file in the cloud", len(missing), "y" if len(missing) == 1 else "ies")
    return len(unknown)
