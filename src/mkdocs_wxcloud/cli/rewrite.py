"""``mkdocs-wxcloud rewrite``: Markdown whose local asset references are cloud URLs or file ids, for mini programs."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from ..atomic import write_atomic
from ..errors import WxCloudError, redact
from ..publishing.imports import is_imported
from ..publishing.linker import Linker
from ..publishing.reporting import Report
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
    help="Without a site configuration: the manifest file (default: ROOT/wxcloud-manifest.yml).",
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
    help="Write download URLs, or cloud:// file ids for Markdown rendered in a mini program (CSS url() keeps the URL).",
)
def rewrite(config_file: Path | None, paths: tuple[Path, ...], output: Path | None, in_place: bool,
            root: Path | None, manifest: Path | None, extensions: tuple[str, ...], prefix: str | None,
            appid: str | None, env: str | None, api_base: str | None, import_hosts: tuple[str, ...],
            import_allow_private: bool | None, offline: bool, link: str) -> int:  # fmt: skip
    """Write Markdown whose local and imported asset references are cloud URLs (or file ids), the rest unchanged."""
    if bool(output) == in_place:
        raise click.UsageError("give exactly one of -o/--output DIR or --in-place")
    overrides: dict[str, Any] = {"offline": offline or None, "prefix": prefix, "appid": appid, "env": env,
                                 "api_base": api_base, "import_hosts": list(import_hosts) or None,
                                 "import_allow_private": import_allow_private}  # fmt: skip
    here = any(Path(name).is_file() for name in projects.CONFIG_FILES)
    use_config = config_file is not None or (root is None and manifest is None and here)
    if use_config:
        site = load_site(config_file, {k: v for k, v in overrides.items() if v is not None})
        pages = sorted(set(sites.markdown_pages(paths, site.docs_dir)))
    else:
        base = (root or Path(".")).resolve()
        if manifest is not None:
            overrides["manifest"] = str(manifest.resolve())
        site = sites.from_paths(paths, base, list(extensions) or sites.PLAIN_EXTENSIONS, overrides)
        pages = site.pages
    if output is not None:
        out = output.resolve()
        if out == site.docs_dir.resolve():
            raise click.UsageError("-o is the docs folder itself: use --in-place to rewrite the sources")
        if out not in site.docs_dir.resolve().parents:  # never read back what a run wrote into the input
            pages = [p for p in pages if out not in (site.docs_dir / p).resolve().parents]
    progress = Progress("uploading")
    with site.open(offline=site.settings.offline, on_progress=progress.advance) as run:
        linker = site.linker(run)
        # uploads start while the pages are read; offline, what lacks a URL is reported per page
        report = upload(run, linker, scheduled(site, linker, pages), progress) if run.online else Report()
        unwritten: list[str] = []
        for page in pages:
            try:
                why = _rewrite_page(site, linker, page, report, output, link == "file-id")
            except (OSError, ValueError, WxCloudError) as error:
                why = redact(error)
            if why is not None:
                unwritten.append(why)
    for why in unwritten:  # at the end, one line per page: what is left to fix
        log.error("%s", why)
    return 1 if unwritten or report.errors else 0


def _rewrite_page(site: sites.Site, linker: Linker, page: str, report: Report, output: Path | None,
                  file_ids: bool) -> str | None:  # fmt: skip
    """Rewrite one page; what is wrong (and nothing written) when one of its images has no URL.

    ``file_ids``: WeChat's ``<image>``, ``<video>`` and ``<audio>`` load ``cloud://`` ids with no
    download-domain whitelist, and ``wx.cloud.downloadFile`` opens a linked PDF from one; WXSS
    loads no ids, so a ``url()`` in a style keeps the URL.
    """
    source_path = site.docs_dir / page
    data = source_path.read_bytes()
    bom = data.startswith(b"\xef\xbb\xbf")
    text = read_page(source_path)
    unresolved: list[str] = []

    def decide(url: str, tag: str, where: str) -> str | None:
        target = linker.target(url, tag, page, where)
        if target is None:
            return None
        publishable, cloud = linker.lookup(target, url, page, text)
        if not publishable:
            if is_imported(target.path):  # it stays remote: the page is not migrated yet
                unresolved.append(url)
            return None
        cloud = cloud or report.urls.get(target.path)
        if cloud is None:
            unresolved.append(url)
            return None
        entry = linker.run.store.get(target.path)
        if file_ids and tag != "style" and entry is not None:
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
        return None
    write_atomic(destination, ("\ufeff" if bom else "") + new)
    return None
