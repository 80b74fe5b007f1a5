"""``mkdocs-wxcloud prune``: list, and with ``--yes`` delete, cloud files that no page references."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import ContextManager

import click

from ..hosts.folder.publish import FolderRun, referenced_entries
from ..publishing.connection import connect, target_env
from ..publishing.linker import Problem
from ..publishing.run import Mode, Run, open_run
from ..wechat.errors import FILE_NONEXIST
from . import built, lineage
from .common import load_site, log, say, site_command
from .publish import folder_of, show_problem, site_option
from .scan import image_references

MAX_DELETE = 100


@click.command()
@site_command
@click.option("--yes", is_flag=True, help="Delete the listed files from cloud storage and the manifest.")
@click.option(
    "--max-delete",
    type=click.IntRange(min=0),
    default=MAX_DELETE,
    show_default=True,
    help="Delete nothing when more files than this would go (a wrong docs_dir would list them all).",
)
@site_option("Judge by")
def prune(config_file: Path | None, yes: bool, max_delete: int, site_dir: Path | None) -> int:
    """List (and with --yes delete) cloud files of the manifest that no page references."""
    unread: list[Problem] = []
    opened: ContextManager[Run]
    if site_dir is not None:
        settings, folder = folder_of(config_file, site_dir, None, {"offline": True})
        opened, show = open_run(settings, folder.root, Mode(offline=True)), show_problem
    else:
        site = built.prepare(load_site(config_file))
        settings, opened, show = site.settings, site.open(offline=True), site.warn

    def warn(problem: Problem) -> None:
        show(problem)
        if not problem.url:  # the page itself could not be read or scanned
            unread.append(problem)

    with opened as run:
        store = run.store
        if site_dir is not None:
            referenced = referenced_entries(FolderRun(folder, run, warn, settings.keep_local))
        else:
            referenced = {target.path for _, _, target in image_references(site, site.linker(run, warn), warn)}
            referenced.update(leftover.path for leftover in site.leftovers)  # loaded from the site, unlinked
        images = store.manifest.images
        kept_ids = {images[p].file_id for p in referenced if p in images}
        stale_paths = sorted(p for p in images if p not in referenced)
        doomed = {images[p].file_id: images[p].cloud_path for p in stale_paths}
        doomed.update(store.manifest.retired)
        doomed = {fid: cp for fid, cp in doomed.items() if fid not in kept_ids}
        try:  # other branches and tagged versions of the site store the same files under the same paths
            elsewhere = lineage.shown_elsewhere(settings.manifest, store.manifest.env or target_env(settings))
        except lineage.Unknown as error:
            if yes:
                log.error("nothing deleted: %s; fix that manifest, or delete the ref", error)
                return 1
            log.warning("%s", error)
            elsewhere = {}
        shared = sorted(fid for fid in doomed if fid in elsewhere)
        if shared:
            log.info("kept %d file(s) that other branches or tags still record (%s records %s)", len(shared),
                     elsewhere[shared[0]], doomed[shared[0]])  # fmt: skip
            kept_ids.update(shared)
            doomed = {fid: cp for fid, cp in doomed.items() if fid not in kept_ids}
        if not doomed and not stale_paths:
            log.info("nothing to prune")
            return 0
        if log.isEnabledFor(logging.INFO):  # -q: nothing but errors
            for file_id in sorted(doomed):
                say(f"{doomed[file_id]}  ({file_id})")
        if not yes:
            if doomed:
                log.info("%d unreferenced cloud file(s); run with --yes to delete them", len(doomed))
            else:  # their content is still shown under other names: only the manifest changes
                log.info("no cloud file to delete; run with --yes to drop %d manifest entr%s that no page "
                         "references", len(stale_paths), "y" if len(stale_paths) == 1 else "ies")  # fmt: skip
            return 0
        if site_dir is None and site.build_warnings:  # a failed macro shows an error, not the page's images
            log.error("nothing deleted: the build warned (%s): fix it (`mkdocs build` shows it), then prune again",
                      site.build_warnings[0])  # fmt: skip
            return 1
        if unread:  # the images only those pages show would look unreferenced
            log.error("nothing deleted: %d page(s) could not be read, and the images they show may be listed above; "
                      "fix them first", len(unread))  # fmt: skip
            return 1
        if len(doomed) > max_delete:
            log.error("nothing deleted: %d files is more than --max-delete %d; check the list above, then run "
                      "`mkdocs-wxcloud prune --yes --max-delete %d`", len(doomed), max_delete, len(doomed))  # fmt: skip
            return 1
        failed: dict[str, str] = {}
        if doomed:
            with connect(settings) as client:
                failed = client.delete(sorted(doomed))
        gone = {fid for fid in doomed if fid not in failed or FILE_NONEXIST in failed[fid]}
        for path in stale_paths:
            entry = images[path]
            if entry.file_id in gone or entry.file_id in kept_ids:
                store.remove(path)
            if entry.file_id in shared:  # deleted by a later prune, once no other ref records it
                store.retire(entry.file_id, entry.cloud_path)
        for file_id in gone:
            store.forget_retired(file_id)
    for file_id, reason in sorted(failed.items()):
        if file_id not in gone:
            log.error(f"{file_id}: not deleted: {reason}")
    log.info("deleted %d of %d file(s)", len(gone), len(doomed))
    return 0 if len(gone) == len(doomed) else 1
