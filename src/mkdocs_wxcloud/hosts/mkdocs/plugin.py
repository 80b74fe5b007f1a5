"""The MkDocs plugin: a thin adapter from MkDocs events to the publishing core.

``on_config`` adds the image treeprocessor to the site's Markdown extensions (as mkdocstrings
injects its own), so references are found by Python-Markdown itself while each page renders.
Images already in the manifest get their cloud URL at once; new ones are uploaded on the thread
pool while the other pages render, and hold a placeholder URL that ``on_env`` (after every page
is rendered, before any is written) replaces with the cloud URL, or with the local URL MkDocs
would have written if the upload failed.
"""

from __future__ import annotations

import functools
import logging
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from markdown import Markdown
from mkdocs.config.defaults import MkDocsConfig
from mkdocs.exceptions import PluginError
from mkdocs.plugins import BasePlugin, event_priority
from mkdocs.structure.files import Files
from mkdocs.structure.pages import Page

from ...errors import ManifestError, WxCloudError
from ...publishing import settings as options
from ...publishing.linker import Linker, not_published
from ...publishing.placeholders import Placeholders
from ...publishing.stylesheets import stylesheets
from ...publishing.workspace import open_linker
from ...references import css
from ...references.pages import read_page
from ...references.treeprocessor import MARKDOWN, ImageExtension
from ...references.urls import with_suffix
from ...wechat.errors import NetworkError
from .config import WxCloudConfig
from .exclude import unmentioned

log = logging.getLogger("mkdocs.plugins.wxcloud")


class WxCloudPlugin(BasePlugin[WxCloudConfig]):
    supports_multiple_instances = False

    def __init__(self) -> None:
        self.command = "build"
        self.pool: ThreadPoolExecutor | None = None
        self.linker: Linker | None = None
        self._page: Page | None = None
        self._src_uri = ""  # docs path of the document being rendered
        self._markdown = ""  # the text of the page whose on_page_markdown ran last
        self._source = ""  # the text of the document being rendered, when known
        self._finished = False
        self._files: Files | None = None
        self._pending = Placeholders()
        self._urls: dict[str, str] = {}
        self._sizes: dict[str, tuple[int, int]] = {}
        self._fail = False
        self._linked: set[str] = set()  # docs paths that some reference links from the cloud
        self._css: dict[str, dict[str, str | None]] = {}  # extra_css path -> url() as written -> its new URL

    def on_startup(self, *, command: str, dirty: bool) -> None:
        self.command = command  # the pool is made in on_config, once the options are validated

    def on_shutdown(self) -> None:
        self._close()
        if self.pool is not None:
            self.pool.shutdown(wait=True, cancel_futures=True)
            self.pool = None

    def on_config(self, config: MkDocsConfig) -> MkDocsConfig | None:
        self._close()
        if not self.config.enabled:
            return None
        if self.command == "serve" and not self.config.serve_upload:
            log.info("wxcloud: `mkdocs serve` shows local images (set `serve_upload: true` to publish)")
            return None
        try:
            settings = options.resolve(dict(self.config), Path(config.config_file_path or ".").parent)
            if self.pool is None:  # kept across the rebuilds of `mkdocs serve`
                self.pool = ThreadPoolExecutor(settings.concurrency, thread_name_prefix="wxcloud")
            self.linker = open_linker(settings, Path(config.docs_dir), self.pool, document_of=self._document_of,
                                      any_profile=settings.offline)  # fmt: skip
        except WxCloudError as error:
            raise PluginError(f"wxcloud: {error}") from None
        self._fail = settings.on_error == "fail"
        self._pending = Placeholders()
        self._linked, self._css = set(), {}
        self._finished = False
        sized = self._sized if settings.dimensions else None
        config.markdown_extensions.append(ImageExtension(self._replace, self._enter, sized))  # type: ignore[arg-type]
        return config

    def on_files(self, files: Files, *, config: MkDocsConfig) -> Files | None:
        """A page that is not UTF-8 would stop MkDocs with a traceback: say which, in one line.
        The ``url(…)`` references of ``extra_css`` start uploading now, before any page renders."""
        if self.linker is None:
            return files
        for file in files.documentation_pages():
            if file.abs_src_path and getattr(file, "generated_by", None) is None:
                try:
                    read_page(Path(file.abs_src_path))
                except (OSError, ValueError) as error:
                    raise PluginError(f"wxcloud: {file.src_uri} {error}") from None
        self._files = files
        for path in stylesheets(config.extra_css, files):
            try:
                self._source = read_page(Path(files.get_file_from_path(path).abs_src_path))  # type: ignore[union-attr]
            except (OSError, ValueError) as error:
                log.warning("wxcloud: %s %s: its url(…) references stay local", path, error)
                continue
            self._src_uri = path
            self._css[path] = {url: self._replace(url, tag, where) for url, tag, where in css.references(self._source)}
        self._src_uri = self._source = ""
        return files

    def on_page_markdown(self, markdown: str, *, page: Page, config: MkDocsConfig, files: Files) -> str | None:
        self._page, self._markdown, self._source, self._files = page, markdown, markdown, files
        self._src_uri = page.file.src_uri
        return None

    def _enter(self, md: Markdown) -> None:
        """Learn which page a document is. Usually the one whose on_page_markdown just ran, but
        other plugins render pages' Markdown elsewhere (Material's blog renders excerpts of posts
        inside index pages): the MkDocs ``relpath`` processor of that Markdown knows its file."""
        relpath = md.treeprocessors["relpath"] if "relpath" in md.treeprocessors else None
        file = getattr(relpath, "file", None)
        src_uri = getattr(file, "src_uri", None)
        own = self._page.file.src_uri if self._page is not None else ""
        self._src_uri = src_uri if isinstance(src_uri, str) else own
        self._source = self._markdown if self._src_uri == own else ""  # line numbers: only in its own text

    def _document_of(self, page: str) -> str | None:
        """The built file of a page (its URL, which raw HTML is relative to), as MkDocs and plugins set it."""
        file = self._files.get_file_from_path(page) if self._files is not None else None
        return file.dest_uri if file is not None else None

    def _replace(self, url: str, tag: str, where: str) -> str | None:
        """The treeprocessor's callback: the URL this reference gets in the current page."""
        if self.linker is None or not self._src_uri:
            return None
        page = self._src_uri
        target = self.linker.target(url, tag, page, where)
        if target is None or self._generated(target.path):
            return None
        publisher = self.linker.publisher
        upload = publisher.online and not self._finished  # after finish (e.g. an excerpt): stays local
        try:
            publishable, cloud = self.linker.lookup(target, url, page, self._source, upload=upload)
        except ManifestError as error:  # an upload that could not be recorded would be lost: none is made
            raise PluginError(f"wxcloud: {error}") from None
        if not publishable:
            return None
        if cloud:
            self._linked.add(target.path)
            return with_suffix(cloud, target.suffix)
        if not upload:
            if not publisher.online:
                self.linker.warn(page, self._source, url, "is not in the manifest (offline): it stays local; "
                                 "run `mkdocs-wxcloud sync` to upload it", target.kind)  # fmt: skip
            return None
        fallback = self._local_url(target.path, url, target.suffix) if where == MARKDOWN else url
        return self._pending.add(target.path, target.suffix, fallback)

    def _sized(self, url: str, where: str) -> dict[str, str] | None:
        """The treeprocessor's callback for ``dimensions: true``: the size an ``<img>`` gets."""
        if self.linker is None or not self._src_uri:
            return None
        return self.linker.size_attributes(url, self._src_uri, where, self._pending)

    def _generated(self, path: str) -> bool:
        """Files another plugin made during the build (no file on disk to upload): left to MkDocs."""
        assert self._files is not None
        file = self._files.src_uris.get(path)  # a docs path already: no PurePath per reference
        return file is not None and getattr(file, "generated_by", None) is not None

    def _local_url(self, path: str, written: str, suffix: str) -> str:
        """The URL MkDocs itself would have written for a Markdown image (for failed uploads)."""
        assert self._files is not None and self._page is not None
        file = self._files.src_uris.get(path)
        return file.url_relative_to(self._page.file) + suffix if file else written

    @event_priority(100)  # before other plugins (e.g. search) read page.content
    def on_env(self, env, *, config: MkDocsConfig, files: Files):  # noqa: ANN001, ANN201
        if self.linker is None:
            return env
        publisher = self.linker.publisher
        self._finished = True
        try:
            report = publisher.finish()
        except WxCloudError as error:  # the manifest could not be written
            raise PluginError(f"wxcloud: {error}") from None
        if publisher.fatal is not None and not isinstance(publisher.fatal, NetworkError):
            # credentials, env, quota: no retry helps and every image would fail alike
            raise PluginError(f"wxcloud: {publisher.fatal}")
        for path, reason in sorted(report.errors.items()):
            message = not_published(path, reason)
            if self._fail:
                raise PluginError(message)
            log.warning(message)
        if report.signed:
            log.warning(
                "wxcloud: the storage is private, so download links carry sign=/t= and expire after "
                "`link_max_age`; make the storage readable by everyone (cloud console → 存储 → 权限设置) "
                "or set `base_url` to a CDN domain; expiring links are refreshed on the next build"
            )
        self._urls, self._sizes = report.urls, report.sizes
        self.linker.check_sizes()
        for path in self._pending.paths:
            if path in report.urls:
                self._linked.add(path)
        for file in files.documentation_pages():
            page = file.page
            if page is not None and page.content:
                page.content = self._pending.fill(page.content, self._urls, self._sizes)
        if report.summary.uploaded or report.summary.failed:
            log.info("wxcloud: %s", report.summary.line())
        return env

    def on_post_page(self, output: str, *, page: Page, config: MkDocsConfig) -> str | None:
        return self._pending.fill(output, self._urls, self._sizes) if self._pending else None

    def on_build_error(self, *, error: Exception) -> None:
        self._close(failed=True)

    @event_priority(50)  # before plugins that minify the built CSS
    def on_post_build(self, *, config: MkDocsConfig) -> None:
        self._close()
        if self._files is not None:
            self._rewrite_stylesheets(self._files)
        if self.config.exclude_uploaded and self._files is not None:
            self._exclude_uploaded(Path(config.site_dir), self._files)

    def _rewrite_stylesheets(self, files: Files) -> None:
        """The built copies of ``extra_css`` with the cloud URLs of what their ``url(…)`` name."""

        def rewritten(found: dict[str, str | None], url: str) -> str | None:
            new = found.get(url)
            return self._pending.fill(new, self._urls, escape=False) if new else None

        for path, found in self._css.items():
            copy = Path(files.get_file_from_path(path).abs_dest_path)  # type: ignore[union-attr]
            try:  # bytes in and out: line endings and a byte order mark stay as they are
                text = copy.read_bytes().decode("utf-8")
                new = css.rewrite_css(text, functools.partial(rewritten, found))
                if new != text:
                    copy.write_bytes(new.encode("utf-8"))
            except (OSError, UnicodeDecodeError) as error:
                log.warning("wxcloud: %s: the built stylesheet was not rewritten (%s): its url(…) load the local "
                            "files", path, getattr(error, "strerror", None) or error)  # fmt: skip

    def _exclude_uploaded(self, site_dir: Path, files: Files) -> None:
        """Delete from site_dir the uploaded files that nothing in the built site mentions."""
        built = [Path(f.abs_dest_path) for p in sorted(self._linked) if (f := files.get_file_from_path(p)) is not None]
        gone = unmentioned(site_dir, [path for path in built if path.is_file()])
        for path in gone:
            path.unlink()
        if gone:
            log.info("wxcloud: %d uploaded file(s) left out of the site (`exclude_uploaded`)", len(gone))

    def _close(self, failed: bool = False) -> None:
        """Save what was done (the manifest keeps every finished upload), release the client."""
        if self.linker is not None:
            try:
                self.linker.publisher.close()
            except WxCloudError as error:  # after a failed build, its own error was already shown
                log.log(logging.DEBUG if failed else logging.ERROR, "wxcloud: %s", error)
            self.linker = None
