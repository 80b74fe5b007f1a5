"""The ``mkdocs-wxcloud`` command: rewrite, sync, check, prune and the emulator.

Every command drives the same core as the plugin (scanner, publisher, manifest, client); this
module only parses options, reports progress and turns errors into one line and an exit status:
0 clean, 1 problems found or uploads failed, 2 usage or configuration error.
"""

from __future__ import annotations

import functools
import json
import logging
import os
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator

import click

from . import site as sites
from .atomic import write_atomic
from .connection import connect
from .emulator import DEFAULT_APPID, DEFAULT_ENV, DEFAULT_SECRET, FAULT_KINDS, serve
from .errors import ConfigError, ManifestError, WxCloudError, redact
from .linker import Linker, Problem
from .publisher import ImageProblem, Report
from .scan import PageScan, read_page, scan
from .sourcemap import rewrite_source
from .urls import Target, line_of, with_suffix
from .workspace import open_linker

log = logging.getLogger("mkdocs.plugins.wxcloud")


class _Handler(logging.Handler):
    def emit(self, record: logging.LogRecord) -> None:
        text = redact(record.getMessage()).removeprefix("wxcloud: ")
        prefix = "" if record.levelno == logging.INFO else f"{record.levelname.lower()}: "
        click.echo(f"{prefix}{text}", err=True)


def _setup_logging(verbose: bool, quiet: bool) -> None:
    level = logging.DEBUG if verbose else logging.ERROR if quiet else logging.INFO
    for name in ("mkdocs",):
        logger = logging.getLogger(name)
        logger.handlers[:] = [_Handler()]
        logger.setLevel(level)
        logger.propagate = False


def _common(function: Callable) -> Callable:
    """-f, -v, -q, and error handling shared by the site commands."""

    @click.option("-f", "--config-file", type=click.Path(dir_okay=False, path_type=Path), default=None,
                  help="The site's mkdocs.yml (default: ./mkdocs.yml).")
    @click.option("-v", "--verbose", is_flag=True, help="Show debug messages.")
    @click.option("-q", "--quiet", is_flag=True, help="Show only errors.")
    @functools.wraps(function)
    def wrapper(verbose: bool, quiet: bool, **kwargs: Any) -> None:
        _setup_logging(verbose, quiet)
        try:
            code = function(**kwargs)
        except (ConfigError, ManifestError) as error:
            log.error("%s", error)
            sys.exit(2)
        except WxCloudError as error:
            log.error("%s", error)
            sys.exit(1)
        sys.exit(code or 0)

    return wrapper


def _site(config_file: Path | None, overrides: dict[str, Any] | None = None) -> sites.Site:
    return sites.from_mkdocs(config_file or Path("mkdocs.yml"), overrides)


def _shown(site: sites.Site, page: str) -> str:
    """A page's path as the user can open it: relative to the current directory when possible."""
    full = site.docs_dir / page
    try:
        return os.path.relpath(full)
    except ValueError:
        return str(full)


class _Progress:
    """A bar on a terminal, a line every few seconds otherwise."""

    def __init__(self, label: str) -> None:
        self.label = label
        self.total = 0
        self.done = 0
        self._bar = None
        self._last = time.monotonic()
        self._lock = threading.Lock()

    def start(self, total: int) -> None:
        """Uploads start as they are scheduled: those done before this call are counted in."""
        with self._lock:
            self.total = total
            if total and sys.stderr.isatty() and log.isEnabledFor(logging.INFO):
                self._bar = click.progressbar(length=total, label=self.label, file=sys.stderr)
                self._bar.__enter__()
                self._bar.update(self.done)

    def advance(self, path: str, size: int) -> None:
        with self._lock:
            self.done += 1
            if self._bar is not None:
                self._bar.update(1)
            elif self.total and (time.monotonic() - self._last > 5 or self.done == self.total):
                self._last = time.monotonic()
                log.info("%s: %d/%d", self.label, self.done, self.total)

    def close(self) -> None:
        if self._bar is not None:
            self._bar.__exit__(None, None, None)
            self._bar = None


def _publish(linker: Linker, paths: Iterable[str], progress: _Progress) -> Report:
    """Upload what is missing among ``paths`` and fetch links; the summary goes to stderr."""
    publisher = linker.publisher
    todo = sorted(set(paths))
    for path in todo:
        publisher.schedule(path)
    progress.start(publisher.scheduled_uploads)
    try:
        report = publisher.finish()
    finally:
        progress.close()
    if isinstance(publisher.fatal, (ConfigError, ManifestError)):
        raise publisher.fatal  # _common prints it once, exit status 2
    if publisher.fatal is not None:  # one cause for every image: say it once
        log.error("%s", publisher.fatal)
    else:
        for path, reason in sorted(report.errors.items()):
            log.error(f"{path}: {reason}")
    log.info("%s", report.summary.line())
    return report


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="mkdocs-wxcloud")
def main() -> None:
    """Publish the images of Markdown docs to WeChat cloud storage (云开发 / 云托管)."""


@main.command()
@_common
@click.option("--dry-run", is_flag=True, help="List what would be uploaded; upload nothing.")
def sync(config_file: Path | None, dry_run: bool) -> int:
    """Upload every missing image the site's pages reference and update the manifest."""
    site = _site(config_file)
    with ThreadPoolExecutor(site.settings.concurrency) as pool:
        progress = _Progress("uploading")
        linker = open_linker(site.settings, site.docs_dir, pool, offline=dry_run, readonly=dry_run,
                             on_progress=progress.advance)  # fmt: skip
        try:
            missing = _missing_images(site, linker)
            if dry_run:
                for path in missing:
                    click.echo(path)
                log.info("%d image(s) to upload (dry run)", len(missing))
                return 0
            report = _publish(linker, missing, progress)
        finally:
            linker.publisher.close()
    return 1 if report.errors else 0


def _images(
    site: sites.Site, linker: Linker, warn: Callable[[Problem], None], pages: list[str] | None = None
) -> Iterator[tuple[PageScan, str, Target]]:
    """Every reference to a local image: ``(page, url as written, target)``."""
    for scanned in scan(site, warn, pages):
        for url, tag, _raw in scanned.references:
            target = linker.target(url, tag, scanned.page)
            if target is not None:
                yield scanned, url, target


def _missing_images(site: sites.Site, linker: Linker, pages: list[str] | None = None) -> list[str]:
    """Docs paths of referenced images that the manifest does not have as they are now."""
    missing = set()
    for scanned, url, target in _images(site, linker, log.warning, pages):
        publishable, cloud = linker.lookup(target, url, scanned.page, scanned.source)
        if publishable and cloud is None:
            missing.add(target.path)
    return sorted(missing)


@main.command()
@_common
@click.option("--format", "output", type=click.Choice(["text", "json", "github"]), default="text",
              help="Problems as text lines, one JSON document, or GitHub workflow annotations.")
@click.option("--strict", is_flag=True, help="Also fail on manifest entries that no page references.")
def check(config_file: Path | None, output: str, strict: bool) -> int:
    """Verify, without credentials or network, that every referenced image is uploaded and current."""
    site = _site(config_file, {"offline": True})
    problems: list[tuple[str, Problem]] = []
    with ThreadPoolExecutor(1) as pool:
        linker = open_linker(site.settings, site.docs_dir, pool, offline=True, readonly=True,
                             warn=lambda p: problems.append(("error", p)))  # fmt: skip
        publisher = linker.publisher
        referenced: set[str] = set()
        for scanned, url, target in _images(site, linker, lambda problem: problems.append(("error", problem))):
            referenced.add(target.path)
            try:
                sha, _ = publisher.digest(target.path)
            except ImageProblem as problem:
                linker.warn(scanned.page, scanned.source, url, str(problem))
                continue
            entry = publisher.store.get(target.path)
            if entry is None:
                what = "is not in the manifest: run `mkdocs-wxcloud sync` (or `mkdocs build`)"
            elif entry.sha256 != sha:
                what = "changed since it was uploaded: run `mkdocs-wxcloud sync` (or `mkdocs build`)"
            elif not entry.url:
                what = "was uploaded but has no link yet: run `mkdocs-wxcloud sync`"
            elif target.path in publisher.store.recovered:
                what = "is only in the journal of an interrupted run: run `mkdocs-wxcloud sync` to record it"
            else:
                continue
            linker.warn(scanned.page, scanned.source, url, what)
        publisher.close()
        manifest = publisher.store.manifest
    for path in sorted(set(manifest.images) - referenced):
        problems.append((
            "error" if strict else "warning",
            Problem(site.settings.manifest.name, None, path,
                    "is in the manifest but no page references it: `mkdocs-wxcloud prune` lists it"),
        ))  # fmt: skip
    return _report_check(site, problems, output)


def _github(text: str, *, property: bool = False) -> str:
    """Escape a workflow-command value (``%``, newlines; and ``:`` ``,`` in properties)."""
    text = text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")
    return text.replace(":", "%3A").replace(",", "%2C") if property else text


def _report_check(site: sites.Site, problems: list[tuple[str, Problem]], output: str) -> int:
    def where(problem: Problem) -> str:
        return _shown(site, problem.page) if problem.page in site.pages else problem.page

    def text(problem: Problem) -> str:
        line = f":{problem.line}" if problem.line else ""
        image = f"{problem.url}: " if problem.url else ""
        return f"{where(problem)}{line}: {image}{problem.message}"

    problems = sorted(problems, key=lambda item: (item[1].page, item[1].line or 0, item[1].url))
    errors = sum(1 for level, _ in problems if level == "error")
    if output == "json":
        items = [
            {"level": level, "file": where(p), "line": p.line, "image": p.url, "message": p.message}
            for level, p in problems
        ]
        click.echo(json.dumps({"ok": errors == 0, "problems": items}, ensure_ascii=False, indent=2))
    else:
        for level, problem in problems:
            if output == "github":
                line = f",line={problem.line}" if problem.line else ""
                image = f"{problem.url}: " if problem.url else ""
                file = _github(where(problem), property=True)
                click.echo(f"::{level} file={file}{line}::{_github(image + problem.message)}")
            else:
                click.echo(f"{'warning: ' if level == 'warning' else ''}{text(problem)}")
        log.info("check: %d problem(s), %d warning(s) in %d page(s)", errors, len(problems) - errors, len(site.pages))
    return 1 if errors else 0


@main.command()
@_common
@click.option("--yes", is_flag=True, help="Delete the listed files from cloud storage and the manifest.")
def prune(config_file: Path | None, yes: bool) -> int:
    """List (and with --yes delete) cloud files of the manifest that no page references."""
    site = _site(config_file)
    with ThreadPoolExecutor(1) as pool:
        linker = open_linker(site.settings, site.docs_dir, pool, offline=True)
        store = linker.publisher.store
        referenced = {target.path for _, _, target in _images(site, linker, log.warning)}
        images = store.manifest.images
        kept_ids = {images[p].file_id for p in referenced if p in images}
        stale_paths = sorted(p for p in images if p not in referenced)
        doomed = {images[p].file_id: images[p].cloud_path for p in stale_paths}
        doomed.update(store.manifest.retired)
        doomed = {fid: cp for fid, cp in doomed.items() if fid not in kept_ids}
        for file_id in sorted(doomed):
            click.echo(f"{doomed[file_id]}  ({file_id})")
        if not yes:
            log.info("%d unreferenced cloud file(s); run with --yes to delete them", len(doomed))
            return 0
        failed: dict[str, str] = {}
        if doomed:
            with connect(site.settings) as client:
                failed = client.delete(sorted(doomed))
        gone = {fid for fid in doomed if fid not in failed or "NONEXIST" in failed[fid]}
        for path in stale_paths:
            if images[path].file_id in gone or images[path].file_id in kept_ids:
                store.remove(path)
        for file_id in gone:
            store.forget_retired(file_id)
        linker.publisher.close()
    for file_id, reason in sorted(failed.items()):
        if file_id not in gone:
            log.error(f"{file_id}: not deleted: {reason}")
    log.info("deleted %d of %d file(s)", len(gone), len(doomed))
    return 0 if len(gone) == len(doomed) else 1


@main.command()
@_common
@click.argument("paths", nargs=-1, required=True, type=click.Path(exists=True, path_type=Path))
@click.option("-o", "--output", type=click.Path(file_okay=False, path_type=Path),
              help="Write the rewritten files into this folder, mirroring the input tree.")
@click.option("--in-place", is_flag=True, help="Overwrite the source files (the only way they are ever changed).")
@click.option("--root", type=click.Path(file_okay=False, exists=True, path_type=Path), default=None,
              help="Without mkdocs.yml: the folder that image paths and manifest paths are relative to (default: .).")
@click.option("--manifest", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Without mkdocs.yml: the manifest file (default: ROOT/wxcloud-manifest.yml).")
@click.option("-x", "--markdown-extension", "extensions", multiple=True,
              help="Without mkdocs.yml: a Python-Markdown extension pages use (repeatable; default: extra, admonition, toc).")
@click.option("--prefix", default=None, help="Cloud folder for uploads (default: docs).")
@click.option("--appid", default=None, help="AppID (default: $WXCLOUD_APPID; the secret only comes from $WXCLOUD_SECRET).")
@click.option("--env", default=None, help="Cloud environment id (default: $WXCLOUD_ENV).")
@click.option("--api-base", default=None, help="WeChat API base URL (default: $WXCLOUD_API_BASE or the real API).")
@click.option("--offline", is_flag=True, help="Upload nothing; rewrite only what the manifest has.")
def rewrite(config_file: Path | None, paths: tuple[Path, ...], output: Path | None, in_place: bool,
            root: Path | None, manifest: Path | None, extensions: tuple[str, ...], prefix: str | None,
            appid: str | None, env: str | None, api_base: str | None, offline: bool) -> int:  # fmt: skip
    """Write Markdown whose local image references are cloud URLs, every other byte unchanged."""
    if bool(output) == in_place:
        raise click.UsageError("give exactly one of -o/--output DIR or --in-place")
    overrides: dict[str, Any] = {"offline": offline or None, "prefix": prefix, "appid": appid, "env": env,
                                 "api_base": api_base}  # fmt: skip
    use_config = config_file is not None or (root is None and manifest is None and Path("mkdocs.yml").is_file())
    if use_config:
        site = _site(config_file, {k: v for k, v in overrides.items() if v is not None})
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
    with ThreadPoolExecutor(site.settings.concurrency) as pool:
        progress = _Progress("uploading")
        linker = open_linker(site.settings, site.docs_dir, pool, on_progress=progress.advance,
                             published_docs=site.config_file is not None)  # fmt: skip
        try:
            missing = _missing_images(site, linker, pages)
            report = _publish(linker, missing, progress) if missing and linker.publisher.online else Report()
            failed = 0
            for page in pages:
                try:
                    failed += not _rewrite_page(site, linker, page, report, output)
                except (OSError, ValueError, WxCloudError) as error:
                    log.error("%s", redact(error))
                    failed += 1
        finally:
            linker.publisher.close()
    return 1 if failed or report.errors else 0


def _rewrite_page(site: sites.Site, linker: Linker, page: str, report: Report, output: Path | None) -> bool:
    """Rewrite one page; False (and nothing written) when one of its images has no URL."""
    source_path = site.docs_dir / page
    data = source_path.read_bytes()
    bom = data.startswith(b"\xef\xbb\xbf")
    text = read_page(source_path)
    unresolved: list[str] = []

    def decide(url: str, tag: str, raw: bool) -> str | None:
        target = linker.target(url, tag, page)
        if target is None:
            return None
        publishable, cloud = linker.lookup(target, url, page, text)
        if not publishable:
            return None
        cloud = cloud or report.urls.get(target.path)
        if cloud is None:
            unresolved.append(url)
            return None
        return with_suffix(cloud, target.suffix)

    new = rewrite_source(text, site.make, decide, page)
    if unresolved:
        lines = ", ".join(f"{u} (line {line_of(text, u)})" for u in sorted(set(unresolved)))
        log.error(f"{_shown(site, page)}: not written: no cloud URL for {lines}")
        return False
    destination = (output / page) if output else source_path
    if output is None and new == text:
        return True
    write_atomic(destination, ("\ufeff" if bom else "") + new)
    return True


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on (loopback).")
@click.option("--port", default=8765, show_default=True, type=int, help="Port to listen on.")
@click.option("--data", "data_dir", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Keep uploaded files here across restarts (default: in memory).")
@click.option("--appid", default=DEFAULT_APPID, show_default=True, help="The AppID it accepts.")
@click.option("--secret", default=DEFAULT_SECRET, envvar="WXCLOUD_EMULATOR_SECRET",
              help="The AppSecret it accepts (default: the demo secret).")
@click.option("--env", "envs", multiple=True, default=[DEFAULT_ENV], show_default=True,
              help="Cloud environment ids it knows (repeatable).")
@click.option("--latency", type=float, default=0.0, show_default=True, help="Seconds to wait before each answer.")
@click.option("--fault-rate", type=click.FloatRange(0, 1), default=0.0, show_default=True,
              help="Share of requests that get an injected fault.")
@click.option("--faults", default="busy,quota,http502,drop", show_default=True,
              help=f"Comma-separated fault kinds to draw from ({', '.join(FAULT_KINDS[:4])}).")
@click.option("--seed", type=int, default=None, help="Seed of the fault draws, for reproducible runs.")
@click.option("--private", is_flag=True, help="Private storage: links carry sign=/t= and expire.")
@click.option("--verbose", is_flag=True, help="Log every request.")
def emulator(host: str, port: int, data_dir: Path | None, appid: str, secret: str, envs: tuple[str, ...],
             latency: float, fault_rate: float, faults: str, seed: int | None, private: bool,
             verbose: bool) -> None:  # fmt: skip
    """Run a local stand-in of the WeChat cloud storage API (and its COS upload host)."""
    _setup_logging(verbose=False, quiet=False)
    try:
        serve(host, port, str(data_dir) if data_dir else None, appid=appid, secret=secret, envs=tuple(envs),
              latency=latency, fault_rate=fault_rate, faults=tuple(f.strip() for f in faults.split(",") if f.strip()),
              seed=seed, private=private, verbose=verbose)  # fmt: skip
    except (OSError, ValueError) as error:
        log.error(f"cannot run the emulator on {host}:{port}: {error}")
        sys.exit(2)
