"""The MkDocs plugin: a thin adapter from MkDocs events to one publishing run.

``on_config`` opens the run and adds the reference treeprocessor to the site's Markdown extensions
(as mkdocstrings injects its own), so references are found by Python-Markdown itself while each
page renders; the treeprocessor hands each callback the document it renders (a :class:`Document`).
Files already in the manifest get their cloud URL at once; new ones are uploaded on the thread
pool while the other pages render, and hold a placeholder that ``on_env`` (after every page is
rendered, before any is written) replaces with the cloud URL, or with the local URL MkDocs would
have written if the upload failed.
"""

from __future__ import annotations

import dataclasses
import functools
import logging
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote

from markdown import Markdown
from mkdocs.config.defaults import MkDocsConfig
from mkdocs.exceptions import PluginError
from mkdocs.plugins import BasePlugin, event_priority
from mkdocs.structure.files import File, Files
from mkdocs.structure.pages import Page

from ...errors import ManifestError, WxCloudError
from ...publishing.connection import unreachable
from ...publishing.linker import Linker
from ...publishing.placeholders import Placeholders
from ...publishing.reporting import PRIVATE_STORAGE, Report, human_size, not_published
from ...publishing.run import Mode, Run, open_run
from ...publishing.settings import Settings, resolve
from ...publishing.stylesheets import stylesheets
from ...references import css
from ...references.pages import read_page
from ...references.treeprocessor import MARKDOWN, ImageExtension, Reference
from ...references.urls import Target, with_suffix
from ...wechat.errors import NetworkError
from .config import WxCloudConfig
from .exclude import unmentioned, unreadable
from .scan import OPTIMIZE, OPTIMIZE_WARNING, SCANNED, Scan

log = logging.getLogger("mkdocs.plugins.wxcloud")
_REDRAW = 0.1  # seconds between two redraws of the progress line: uploads report every chunk they send


@dataclass(frozen=True)
class Document:
    """What the treeprocessor renders: a page (or a stylesheet), and its text for line numbers."""

    path: str  # docs path of the source
    source: str = ""  # its text, when it is the page whose Markdown MkDocs handed us
    file: File | None = None


@dataclass
class _Build:
    """One build: its run, the pages' placeholders, and what the end of the build needs."""

    settings: Settings
    run: Run
    linker: Linker
    files: Files | None = None
    pending: Placeholders = field(default_factory=Placeholders)
    report: Report | None = None  # once every page is rendered
    linked: set[str] = field(default_factory=set)  # docs paths that some reference links from the cloud
    css: dict[str, dict[str, str | None]] = field(default_factory=dict)  # extra_css -> url() -> its new URL
    progress: _Progress | None = None  # on a terminal
    extra_css: list[str] = field(default_factory=list)  # as configured: minify's on_pre_build renames them


class _Progress:
    """On a terminal, the line a cold build rewrites while it uploads (MkDocs shows nothing meanwhile);
    a plain ``\\r`` line: the build's output is MkDocs' logging, no progress bar library of ours."""

    def __init__(self) -> None:
        self.run: Run | None = None  # the total so far comes from its ledger
        self.files = self.sent = 0
        self._shown = self._last = 0.0
        self._lock = threading.Lock()

    def advance(self, path: str, sent: int, finished: bool) -> None:
        with self._lock:
            self.files += finished
            self.sent += sent
            now = time.monotonic()
            if self.run is None or not (finished or now - self._last >= _REDRAW):
                return
            self._last = now
            files, size = self.run.ledger.scheduled
            # the cursor is left at the start: a message logged meanwhile writes over the line, not after it
            sys.stderr.write(f"\rwxcloud: uploading {self.files}/{files} files, "
                             f"{human_size(min(self.sent, size))} of {human_size(size)}\x1b[K\r")  # fmt: skip
            sys.stderr.flush()
            self._shown = now

    def end(self) -> None:
        """Clear the line, so that the next message starts on a clean one."""
        with self._lock:
            if self._shown:
                sys.stderr.write("\r\x1b[K")
                sys.stderr.flush()
                self._shown = 0.0


class WxCloudPlugin(BasePlugin[WxCloudConfig]):
    supports_multiple_instances = False

    def __init__(self) -> None:
        self.command = "build"
        self.pool: ThreadPoolExecutor | None = None  # kept across the rebuilds of `mkdocs serve`
        self.build: _Build | None = None
        self.scan: Scan | None = None  # set by the commands before a build that only looks
        self._stack = ExitStack()
        self._markdown: tuple[str, str] = ("", "")  # (docs path, Markdown) that on_page_markdown saw last

    def on_startup(self, *, command: str, dirty: bool) -> None:
        self.command = command  # the pool is made in on_config, once the options are validated

    def on_shutdown(self) -> None:
        self._close()
        if self.pool is not None:
            self.pool.shutdown(wait=True, cancel_futures=True)
            self.pool = None

    def on_config(self, config: MkDocsConfig) -> MkDocsConfig | None:
        self._close()
        self.build = None
        try:
            settings = resolve(dict(self.config), Path(config.config_file_path or ".").parent)
        except WxCloudError as error:
            raise PluginError(f"wxcloud: {error}") from None
        settings = settings if self.scan is None else self.scan.settings(settings)
        if not settings.enabled:
            return None
        if self.command == "serve" and not settings.serve_upload:
            log.info("wxcloud: `mkdocs serve` shows local images (set `serve_upload: true` to publish)")
            return None
        if self.pool is None and not settings.offline:
            self.pool = ThreadPoolExecutor(settings.concurrency, thread_name_prefix="wxcloud")
        terminal = sys.stderr.isatty() and log.isEnabledFor(logging.INFO) and not settings.offline
        progress = _Progress() if terminal else None
        mode = Mode(offline=settings.offline, readonly=self.scan is not None, any_profile=settings.offline,
                    on_progress=progress.advance if progress is not None else None, renders=True)  # fmt: skip
        try:
            run = self._stack.enter_context(open_run(settings, Path(config.docs_dir), mode, self.pool))
        except WxCloudError as error:
            raise PluginError(f"wxcloud: {error}") from None
        if progress is not None:
            progress.run = run
        if OPTIMIZE in config.plugins and self.scan is None:
            log.warning("wxcloud: %s", OPTIMIZE_WARNING)
        linker = Linker(run, log.warning, document_of=self._document_of)
        self.build = _Build(settings, run, linker, progress=progress, extra_css=list(map(str, config.extra_css)))
        sized = self._sized if settings.dimensions else None
        config.markdown_extensions.append(ImageExtension(self._replace, self._enter, sized))  # type: ignore[arg-type]
        return config

    def on_files(self, files: Files, *, config: MkDocsConfig) -> Files | None:
        """A page that is not UTF-8 would stop MkDocs with a traceback: say which, in one line.
        The ``url(…)`` references of ``extra_css`` start uploading now, before any page renders."""
        if self.build is None:
            return files
        for file in files.documentation_pages():
            if file.abs_src_path and getattr(file, "generated_by", None) is None:
                try:
                    read_page(Path(file.abs_src_path))
                except (OSError, ValueError) as error:
                    raise PluginError(f"wxcloud: {file.src_uri} {error}") from None
        for file in unreadable(files, self.build.settings.assets):  # MkDocs would stop, copying it, with a traceback
            files.remove(file)
        self.build.files = files
        for path in stylesheets(self.build.extra_css, files):
            stylesheet = files.get_file_from_path(path)
            assert stylesheet is not None and stylesheet.abs_src_path is not None  # stylesheets() found it so
            try:
                text = read_page(Path(stylesheet.abs_src_path))
            except (OSError, ValueError) as error:
                log.warning("wxcloud: %s %s: its url(…) references stay local", path, error)
                continue
            sheet = Document(path, text)
            found = map(Reference._make, css.references(text))
            self.build.css[path] = {ref.url: self._replace(ref, sheet) for ref in found}
        return files

    def on_nav(self, nav, *, config: MkDocsConfig, files: Files):  # noqa: ANN001, ANN201
        """The files as every plugin left them (i18n and blog replace them in their own on_files)."""
        if self.build is not None:
            self.build.files = files
        return nav

    def on_page_markdown(self, markdown: str, *, page: Page, config: MkDocsConfig, files: Files) -> str | None:
        self._markdown = (page.file.src_uri, markdown)
        return None

    def _enter(self, md: Markdown) -> Document | None:
        """The document ``md`` renders. Usually the page whose on_page_markdown just ran, but other
        plugins render pages' Markdown elsewhere (Material's blog renders excerpts of posts inside
        index pages): the MkDocs ``relpath`` processor of that Markdown knows its file."""
        relpath = md.treeprocessors["relpath"] if "relpath" in md.treeprocessors else None
        file = getattr(relpath, "file", None)
        path = getattr(file, "src_uri", None)
        own, markdown = self._markdown
        path = path if isinstance(path, str) else own
        if not path or self.build is None:
            return None
        files = self.build.files
        return Document(path, markdown if path == own else "", files.src_uris.get(path) if files else None)

    def _document_of(self, page: str) -> str | None:
        """The built file of a page (its URL, which raw HTML is relative to), as MkDocs and plugins set it."""
        files = self.build.files if self.build is not None else None
        file = files.get_file_from_path(page) if files is not None else None
        return file.dest_uri if file is not None else None

    def _replace(self, ref: Reference, doc: Document | None) -> str | None:
        """The treeprocessor's callback: the URL this reference gets in the document."""
        build = self.build
        if build is None or doc is None:
            return None
        linker, page = build.linker, doc.path
        target = linker.target(ref.url, ref.tag, page, ref.where)
        if target is None or self._generated(target.path):
            return None
        target = _copied(build.files, target)
        if self.scan is not None:  # linked as the build would link it, to a URL that names it
            self.scan.found.append((page, doc.source, ref.url, target))
            return with_suffix(SCANNED + quote(target.path), target.suffix)
        upload = build.run.online and build.report is None  # after finish (e.g. an excerpt): stays local
        try:
            publishable, cloud = linker.lookup(target, ref.url, page, doc.source, upload=upload)
        except ManifestError as error:  # an upload that could not be recorded would be lost: none is made
            raise PluginError(f"wxcloud: {error}") from None
        if not publishable:
            return None
        if cloud:
            build.linked.add(target.path)
            return with_suffix(cloud, target.suffix)
        if not upload:
            if not build.run.online:
                why = "is not in the manifest (offline): it stays local; run `mkdocs-wxcloud sync` to upload it"
                linker.warn(page, doc.source, ref.url, why, target.kind)
            return None
        fallback = self._local_url(target.path, ref.url, target.suffix, doc) if ref.where == MARKDOWN else ref.url
        return build.pending.add(target.path, target.suffix, fallback)

    def _sized(self, url: str, where: str, doc: Document | None) -> dict[str, str] | None:
        """The treeprocessor's callback for ``dimensions: true``: the size an ``<img>`` gets."""
        if self.build is None or doc is None:
            return None
        return self.build.linker.size_attributes(url, doc.path, where, self.build.pending)

    def _generated(self, path: str) -> bool:
        """Files another plugin made during the build (no file on disk to upload): left to MkDocs."""
        files = self.build.files if self.build is not None else None
        file = files.src_uris.get(path) if files is not None else None  # a docs path already: no PurePath
        return file is not None and getattr(file, "generated_by", None) is not None

    def _local_url(self, path: str, written: str, suffix: str, doc: Document) -> str:
        """The URL MkDocs itself would have written for a Markdown image (for failed uploads)."""
        files = self.build.files if self.build is not None else None
        file = files.src_uris.get(path) if files is not None else None
        return file.url_relative_to(doc.file) + suffix if file is not None and doc.file is not None else written

    @event_priority(100)  # before other plugins (e.g. search) read page.content
    def on_env(self, env, *, config: MkDocsConfig, files: Files):  # noqa: ANN001, ANN201
        build = self.build
        if self.scan is not None:
            self.scan.record(files)
        if build is None or self.scan is not None:
            return env
        try:
            build.report = report = build.run.finish()
        except WxCloudError as error:  # the manifest could not be written
            raise PluginError(f"wxcloud: {error}") from None
        finally:
            if build.progress is not None:
                build.progress.end()
        fatal = build.run.fatal
        if fatal is not None and not isinstance(fatal, NetworkError):
            # credentials, env, quota: no retry helps and every image would fail alike
            raise PluginError(f"wxcloud: {fatal}")
        build.linker.imports_failed(report)  # a warning each, naming the page: `--strict` fails
        # one network failure stopped every upload: said once, not once per file
        messages = (
            [unreachable(build.settings, fatal, list(report.errors))]
            if fatal is not None and len(report.errors) > 1
            else [not_published(path, reason) for path, reason in sorted(report.errors.items())]
        )
        for message in messages:
            if build.settings.on_error == "fail":
                raise PluginError(message)
            log.warning(message)
        if report.signed:
            log.warning("wxcloud: %s", PRIVATE_STORAGE)
        build.linker.check_sizes()
        build.linked.update(path for path in build.pending.paths if path in report.urls)
        for file in files.documentation_pages():
            page = file.page
            if page is not None and page.content:
                page.content = build.pending.fill(page.content, report.urls, report.sizes)
        log.info("wxcloud: %s, %d requests", report.summary.line(), report.summary.requests)  # warm builds too
        return env

    def on_post_page(self, output: str, *, page: Page, config: MkDocsConfig) -> str | None:
        build = self.build
        if build is None or not build.pending or build.report is None:
            return None
        return build.pending.fill(output, build.report.urls, build.report.sizes)

    def on_build_error(self, *, error: Exception) -> None:
        if self.build is not None and self.build.progress is not None:
            self.build.progress.end()  # the error starts on a clean line
        self._close(failed=True)

    @event_priority(50)  # before plugins that minify the built CSS, and before search writes its index
    def on_post_build(self, *, config: MkDocsConfig) -> None:
        build, self.build = self.build, None  # the manifest and caches go before the build's peak of memory
        self._close()
        if build is None or build.files is None:
            return
        self._rewrite_stylesheets(build, build.files)
        if build.settings.exclude_uploaded and self.scan is None:
            _exclude_uploaded(build, Path(config.site_dir), build.files)

    def _rewrite_stylesheets(self, build: _Build, files: Files) -> None:
        """The built copies of ``extra_css`` with the cloud URLs of what their ``url(…)`` name."""
        report = build.report or Report()

        def rewritten(found: dict[str, str | None], url: str) -> str | None:
            new = found.get(url)
            return build.pending.fill(new, report.urls, escape=False) if new else None

        for path, found in build.css.items():
            copy = Path(files.get_file_from_path(path).abs_dest_path)  # type: ignore[union-attr]
            try:  # bytes in and out: line endings and a byte order mark stay as they are
                text = copy.read_bytes().decode("utf-8")
                new = css.rewrite_css(text, functools.partial(rewritten, found))
                if new != text:
                    copy.write_bytes(new.encode("utf-8"))
            except (OSError, UnicodeDecodeError) as error:
                reason = getattr(error, "strerror", None) or error
                log.warning("wxcloud: %s: the built stylesheet was not rewritten (%s): its url(…) load the local "
                            "files", path, reason)  # fmt: skip

    def _close(self, failed: bool = False) -> None:
        """Save what was done (the manifest keeps every finished upload), release the client."""
        try:
            self._stack.close()
        except WxCloudError as error:  # after a failed build, its own error was already shown
            log.log(logging.DEBUG if failed else logging.ERROR, "wxcloud: %s", error)
        finally:
            self._stack = ExitStack()


def _copied(files: Files | None, target: Target) -> Target:
    """A docs path that no file has, but that the site's files answer for (mkdocs-static-i18n finds
    ``images/a.zh.png`` for ``images/a.png``, or the default language's file): MkDocs' own lookup."""
    if files is None or target.path in files.src_uris:
        return target
    file = files.get_file_from_path(target.path)
    if file is None or file.is_documentation_page() or file.src_uri == target.path:
        return target
    return dataclasses.replace(target, path=file.src_uri)


def _exclude_uploaded(build: _Build, site_dir: Path, files: Files) -> None:
    """Delete from site_dir the uploaded files that nothing in the built site mentions."""
    built = [Path(f.abs_dest_path) for p in sorted(build.linked) if (f := files.get_file_from_path(p)) is not None]
    gone = unmentioned(site_dir, [path for path in built if path.is_file()])
    site = site_dir.resolve()
    for path in gone:
        path.unlink()
        folder = path.parent.resolve()
        while folder != site and site in folder.parents and not any(folder.iterdir()):
            folder.rmdir()  # emptied by this: only folders that held what went are looked at
            folder = folder.parent
    if gone:
        log.info("wxcloud: %d uploaded file(s) left out of the site (`exclude_uploaded`)", len(gone))
