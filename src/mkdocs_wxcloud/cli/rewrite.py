"""``mkdocs-wxcloud rewrite``: Markdown whose local asset references are cloud URLs or file ids, for mini programs."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import click

from ..atomic import write_atomic
from ..errors import WxCloudError, redact
from ..publishing.imports import is_imported
from ..publishing.linker import Linker
from ..publishing.reporting import Report
from ..publishing.settings import Settings
from ..references.pages import read_page
from ..references.sourcemap import rewrite_source
from ..references.urls import file_id_reference, line_of, with_suffix
from . import projects
from . import site as sites
from .common import load_site, log, site_command, upload
from .progress import Progress
from .scan import scheduled


@click.command()
@site_command
@click.argument("paths", nargs=-1, required=True, type=click.Path(exists=True, path_type=Path))
@click.option(
    "-o",
    "--output",
    type=click.Path(file_okay=False, path_type=Path),
    help="Write the rewritten files into this folder, mirroring the input tree.",
)
@click.option("--in-place", is_flag=True, help="Overwrite the source files (the only way they are ever changed).")
@click.option(
    "--root",
    type=click.Path(file_okay=False, exists=True, path_type=Path),
    default=None,
    help="Without a site configuration: the folder that asset paths and manifest paths are relative to (default: .).",
)
@click.option(
    "--manifest",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Without a site configuration: the manifest file (default: wxcloud-manifest.yml in the current folder, "
    "where the caches go too).",
)
@click.option(
    "-x",
    "--markdown-extension",
    "extensions",
    multiple=True,
    help="Without a site configuration: a Python-Markdown extension pages use (repeatable; default: extra, admonition, toc).",
)
@click.option("--prefix", default=None, help="Cloud folder for uploads (default: docs).")
@click.option(
    "--appid", default=None, help="AppID (default: $WXCLOUD_APPID; the secret only comes from $WXCLOUD_SECRET)."
)
@click.option("--env", default=None, help="Cloud environment id (default: $WXCLOUD_ENV).")
@click.option("--api-base", default=None, help="WeChat API base URL (default: $WXCLOUD_API_BASE or the real API).")
@click.option(
    "--import-host",
    "import_hosts",
    multiple=True,
    help="Without a site configuration: import what pages show from this host (repeatable; see `import_hosts`).",
)
@click.option(
    "--import-allow-private",
    is_flag=True,
    default=None,
    help="UNSAFE: let imports reach loopback and private addresses (see `import_allow_private`).",
)
@click.option("--offline", is_flag=True, help="Upload nothing; rewrite only what the manifest has.")
@click.option(
    "--link",
    type=click.Choice(["url", "file-id"]),
    default="url",
    show_default=True,
    help="Write download URLs, or cloud:// file ids for Markdown rendered in a mini program (CSS url() and "
    "images stored as WebP keep the URL).",
)
@click.option(
    "--webp-ids",
    is_flag=True,
    help="With --link file-id: write file ids for images stored as WebP too (only if your renderer sets the "
    "`webp` attribute of <image>; towxml does not).",
)
def rewrite(config_file: Path | None, paths: tuple[Path, ...], output: Path | None, in_place: bool,
            root: Path | None, manifest: Path | None, extensions: tuple[str, ...], prefix: str | None,
            appid: str | None, env: str | None, api_base: str | None, import_hosts: tuple[str, ...],
            import_allow_private: bool | None, offline: bool, link: str, webp_ids: bool) -> int:  # fmt: skip
    """Write Markdown whose local and imported asset references are cloud URLs (or file ids), the rest unchanged."""
    if bool(output) == in_place:
        raise click.UsageError("give exactly one of -o/--output DIR or --in-place")
    if webp_ids and link != "file-id":
        raise click.UsageError("--webp-ids only applies with --link file-id")
    overrides: dict[str, Any] = {"offline": offline or None, "prefix": prefix, "appid": appid, "env": env,
                                 "api_base": api_base, "import_hosts": list(import_hosts) or None,
                                 "import_allow_private": import_allow_private}  # fmt: skip
    here = any(Path(name).is_file() for name in projects.CONFIG_FILES)
    use_config = config_file is not None or (root is None and manifest is None and here)
    if use_config:
        site = load_site(config_file, {k: v for k, v in overrides.items() if v is not None})
        if site.plugins:  # rewrite maps references back to the Markdown source: what a plugin writes has none
            log.warning(f"the site's plugins {', '.join(site.plugins)} change pages: the references they make are "
                        "not in the Markdown, so they are not rewritten (the build publishes them)")  # fmt: skip
        pages = sorted(set(sites.markdown_pages(paths, site.docs_dir)))
    else:
        base = (root or Path(".")).resolve()
        # beside where the command runs, not in the root: its files may be shipped as they are (a mini program)
        overrides["manifest"] = str((manifest or Path(Settings.manifest.default)).resolve())
        overrides["cache_dir"] = str(Path(Settings.cache_dir.default).resolve())
        site = sites.from_paths(paths, base, list(extensions) or sites.PLAIN_EXTENSIONS, overrides)
        pages = site.pages
    if output is not None:
        out = output.resolve()
        docs = site.docs_dir.resolve()
        if out == docs:
            raise click.UsageError("-o is the docs folder itself: use --in-place to rewrite the sources")
        if site.config_file is not None and docs in out.parents:
            raise click.UsageError(f"-o {output} is inside the docs folder {os.path.relpath(docs)}: the next build "
                                   "would publish the rewritten copies; write them outside it")  # fmt: skip
        if out not in docs.parents:  # never read back what a run wrote into the input
            pages = [p for p in pages if out not in (site.docs_dir / p).resolve().parents]
    progress = Progress("uploading")
    with site.open(offline=site.settings.offline, on_progress=progress.advance) as run:
        linker = site.linker(run)
        # uploads start while the pages are read; offline, what lacks a URL is reported per page
        report = upload(run, linker, scheduled(site, linker, pages), progress) if run.online else Report()
        unwritten: list[str] = []
        ids = _Ids(link == "file-id", webp_ids)
        for page in pages:
            try:
                why = _rewrite_page(site, linker, page, report, output, ids)
            except (OSError, ValueError, WxCloudError) as error:
                why = redact(error)
            if why is not None:
                unwritten.append(why)
    if ids.webp_as_urls:
        log.info(
            f"{len(ids.webp_as_urls)} image(s) stored as WebP written as URLs, not file ids: WeChat's <image> "
            "decodes WebP only from a network URL and with its `webp` attribute, which towxml never sets "
            "(--webp-ids writes ids for them if your renderer sets it)"
        )
    for why in unwritten:  # at the end, one line per page: what is left to fix
        log.error("%s", why)
    return 1 if unwritten or report.errors else 0


@dataclass
class _Ids:
    """Whether ``cloud://`` file ids are written (``--link file-id``), and for WebP (``--webp-ids``).

    WeChat's ``<image>``, ``<video>`` and ``<audio>`` load ``cloud://`` ids with no download-domain
    whitelist, and ``wx.cloud.downloadFile`` opens a linked PDF from one; WXSS loads no ids, so a
    ``url()`` in a style keeps the URL. ``<image>`` decodes WebP only from a network URL with its
    ``webp`` attribute, which towxml never sets: an object stored as WebP keeps the URL unless the
    user says their renderer sets it.
    """

    file_ids: bool
    webp_ids: bool
    webp_as_urls: set[str] = field(default_factory=set)  # docs paths written as URLs for being WebP


def _rewrite_page(site: sites.Site, linker: Linker, page: str, report: Report, output: Path | None,
                  ids: _Ids) -> str | None:  # fmt: skip
    """Rewrite one page; what is wrong with it: one of its files has no URL (then nothing is written),
    or is missing (warned about; the page is written with its other references rewritten)."""
    source_path = site.docs_dir / page
    data = source_path.read_bytes()
    bom = data.startswith(b"\xef\xbb\xbf")
    text = read_page(source_path)
    unresolved: list[str] = []
    missing: list[str] = []  # not found, outside docs_dir…: `check` fails on them too

    def decide(url: str, tag: str, where: str) -> str | None:
        target = linker.target(url, tag, page, where)
        if target is None:
            return None
        publishable, cloud = linker.lookup(target, url, page, text)
        if not publishable:
            if is_imported(target.path):  # it stays remote: the page is not migrated yet
                unresolved.append(url)
            else:
                missing.append(url)
            return None
        cloud = cloud or report.urls.get(target.path)
        if cloud is None:
            unresolved.append(url)
            return None
        entry = linker.run.store.get(target.path)
        if entry is not None and ids.file_ids and not ids.webp_ids and entry.cloud_path.lower().endswith(".webp"):
            ids.webp_as_urls.add(target.path)
        elif ids.file_ids and tag != "style" and entry is not None:
            written = file_id_reference(entry.file_id)
            if written is not None:
                return written
            linker.warn(
                page,
                text,
                url,
                f"its file id cannot be written in a page as it is ({entry.file_id!r}): "
                "the URL is written instead; delete its entry from the manifest and run `mkdocs-wxcloud sync` "
                "to store it under a name that gives a usable id",
                target.kind,
            )
        return with_suffix(cloud, target.suffix)

    new = rewrite_source(text, site.make, decide, page)
    if unresolved:
        lines = ", ".join(f"{u} (line {line_of(text, u)})" for u in sorted(set(unresolved)))
        return f"{site.shown(page)}: not written: no cloud URL for {lines}"
    destination = (output / page) if output else source_path
    if output is None and new == text:
        return _missing(site, page, missing)
    write_atomic(destination, ("\ufeff" if bom else "") + new)
    return _missing(site, page, missing)


def _missing(site: sites.Site, page: str, missing: list[str]) -> str | None:
    """What is left to fix in a page written with files it references missing (warned about above)."""
    if not missing:
        return None
    return f"{site.shown(page)}: written, but {len(set(missing))} file(s) it references are missing (see above)"
