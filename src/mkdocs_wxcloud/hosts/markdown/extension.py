"""The ``wxcloud`` Python-Markdown extension, for hosts that run no MkDocs plugins (Zensical).

It finds references with the same treeprocessor as the plugin and links images from the manifest.
Under Zensical it learns each page and the project root from Zensical's rendering context, so
relative paths resolve against the page and every file against the project, never the working
directory. With ``upload: true`` it also publishes what the manifest lacks: a page's new images
upload in parallel, and the page gets their URLs before its conversion ends (Zensical writes a
page as soon as it is rendered). One run is shared by all pages (:mod:`.runs`).

    markdown.Markdown(extensions=["wxcloud"], extension_configs={"wxcloud": {"docs_dir": "docs"}})
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import markdown
from markdown.extensions import Extension
from markdown.postprocessors import Postprocessor
from markdown.preprocessors import Preprocessor

from ...errors import WxCloudError
from ...publishing.connection import unreachable
from ...publishing.placeholders import Placeholders
from ...publishing.reporting import not_published
from ...publishing.settings import Settings, resolve
from ...references.treeprocessor import PRIORITY, ImageTreeprocessor, Reference
from ...references.urls import with_suffix
from ...wechat.errors import NetworkError
from ..zensical.context import in_zensical, page_context
from .runs import SharedRun, run_for

log = logging.getLogger("mkdocs.plugins.wxcloud")
_OWN: dict[str, list[Any]] = {
    "docs_dir": [
        "",
        "The folder the manifest's paths are relative to (default docs); Zensical's own is used under Zensical.",
    ],
    "page": [
        "",
        "The page being rendered, relative to docs_dir; Zensical tells it, plain Markdown needs it for relative paths.",
    ],
    "upload": [False, "Upload what the manifest lacks while pages render (needs credentials, or the emulator)."],
}
_warned: set[str] = set()  # one-time notices of this process


def _config() -> dict[str, list[Any]]:
    """Every option of the schema, plus the extension's own. Python-Markdown parses a value after
    its default's type: the schema's options default to ``""`` here (unset), so that every value
    reaches :func:`resolve` as written (``emulator: auto``, ``optimize: lossless``)."""
    return {**{o.name: ["", o.doc] for o in Settings.options()}, **{name: list(entry) for name, entry in _OWN.items()}}


@dataclass
class _Page:
    """The document being converted, handed to every callback of its treeprocessor."""

    path: str
    run: SharedRun
    source: str = ""  # its text, for the line numbers of warnings
    pending: Placeholders = field(default_factory=Placeholders)


def _once(key: str, message: str, *args: object) -> None:
    if key not in _warned:
        _warned.add(key)
        log.warning(message, *args)


class WxCloudExtension(Extension):
    def __init__(self, **kwargs: object) -> None:
        self.config = _config()
        super().__init__(**kwargs)
        self.source = ""  # the text of the document being converted (Markdown converts one at a time)
        self.page: _Page | None = None

    def extendMarkdown(self, md: markdown.Markdown) -> None:  # noqa: N802 - Markdown API
        if self.getConfig("enabled") is False:
            return
        md.preprocessors.register(_Source(md, self), "wxcloud-source", 100)
        md.treeprocessors.register(ImageTreeprocessor(md, self._replace, self._enter, self._sized), "wxcloud", PRIORITY)
        md.postprocessors.register(_Fill(md, self), "wxcloud", 0)  # last: after the raw HTML is back

    def _enter(self, md: markdown.Markdown) -> _Page | None:
        """Learn the page and the project (once per document), and take the shared run."""
        context = page_context(md)
        explicit = self.getConfig("page")
        if context is None and not explicit and in_zensical():
            _once("context", "wxcloud: this Zensical version does not tell the page being rendered "
                  "(no `rendering_context`): relative image paths resolve against docs_dir; set the "
                  "extension's `page` option, or report this with your Zensical version")  # fmt: skip
        root = context.root if context is not None else Path.cwd()
        docs_dir = context.docs_dir if context is not None else root / (self.getConfig("docs_dir") or "docs")
        values = {name: (None if value == "" else value) for name, value in self.getConfigs().items()}
        if values.get("exclude_uploaded"):
            _once("exclude", "wxcloud: `exclude_uploaded` needs a host that lets plugins leave files out of "
                  "the site (MkDocs); it is ignored here")  # fmt: skip
        self.page = None
        try:
            run = run_for(resolve(values, root), docs_dir.resolve(), bool(self.getConfig("upload")))
            run.current()
        except WxCloudError as error:
            if context is None:
                raise  # not a page Zensical renders: the program that calls Markdown gets the error
            # Zensical would print a traceback for a bad option or manifest: one line instead, and
            # the pages keep their local files (nothing from a bad manifest reaches them)
            _once(f"open {error}", "wxcloud: %s; the pages keep their local files, and `mkdocs-wxcloud check` "
                  "fails until this is fixed", error)  # fmt: skip
            return None
        self.page = _Page(explicit or (context.page if context is not None else ""), run, self.source)
        return self.page

    def _replace(self, ref: Reference, page: _Page | None) -> str | None:
        if page is None:
            return None
        shared, linker = page.run, page.run.linker
        target = linker.target(ref.url, ref.tag, page.path, ref.where)
        if target is None:
            return None
        upload = shared.upload and shared.stopped is None
        publishable, cloud = linker.lookup(
            target, ref.url, page.path, page.source, upload=upload
        )  # ManifestError: stops
        if not publishable:
            return None
        if cloud is not None:
            return with_suffix(cloud, target.suffix)
        if not upload:
            if isinstance(shared.stopped, NetworkError):  # said once, when it stopped the uploads
                return None
            why = (
                f"not uploaded: {shared.stopped}"
                if shared.stopped
                else (
                    "is not in the manifest as it is now: it stays local; run `mkdocs-wxcloud sync` (or set `upload: true`)"
                )
            )
            linker.warn(page.path, page.source, ref.url, why, target.kind)
            return None
        return page.pending.add(target.path, target.suffix, ref.url)

    def _sized(self, url: str, where: str, page: _Page | None) -> dict[str, str] | None:
        if page is None or not page.run.settings.dimensions:
            return None
        return page.run.linker.size_attributes(url, page.path, where, page.pending)

    def finish(self, text: str) -> str:
        """Wait for this page's uploads and put their URLs in its HTML (the local ones if they failed)."""
        page = self.page
        if page is None or not page.pending:
            return text
        shared = page.run
        report = shared.run.finish()
        if shared.run.fatal is not None and shared.stopped is None:
            shared.stopped = shared.run.fatal
            if isinstance(shared.stopped, NetworkError):  # one line, not one per file
                message = unreachable(shared.settings, shared.stopped)
                if shared.settings.on_error == "fail":
                    raise WxCloudError(message)
                log.warning("%s", message)
            else:
                log.error("wxcloud: %s (no more uploads in this build; the pages keep their local images)",
                          shared.stopped)  # fmt: skip
        shared.linker.imports_failed(report)
        said = isinstance(shared.stopped, NetworkError)  # once, for every file
        for path in sorted(set() if said else set(page.pending.paths) & set(report.errors)):
            message = not_published(path, report.errors[path], page.path)
            if shared.settings.on_error == "fail":
                raise WxCloudError(message)
            log.warning("%s", message)
        shared.linker.check_sizes()
        return page.pending.fill(text, report.urls, report.sizes)


class _Source(Preprocessor):
    """Keeps the page's text, for the line numbers of warnings."""

    def __init__(self, md: markdown.Markdown, extension: WxCloudExtension) -> None:
        super().__init__(md)
        self.extension = extension

    def run(self, lines: list[str]) -> list[str]:
        self.extension.source = "\n".join(lines)  # enter() hands it to the page
        return lines


class _Fill(Postprocessor):
    def __init__(self, md: markdown.Markdown, extension: WxCloudExtension) -> None:
        super().__init__(md)
        self.extension = extension

    def run(self, text: str) -> str:
        return self.extension.finish(text)


def makeExtension(**kwargs: object) -> WxCloudExtension:  # noqa: N802 - Markdown API
    return WxCloudExtension(**kwargs)
