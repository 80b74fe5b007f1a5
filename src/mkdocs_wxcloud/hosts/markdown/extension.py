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
from pathlib import Path
from typing import Any

import markdown
from markdown.extensions import Extension
from markdown.postprocessors import Postprocessor
from markdown.preprocessors import Preprocessor

from ...errors import WxCloudError
from ...publishing import settings as options
from ...publishing.linker import not_published
from ...publishing.placeholders import Placeholders
from ...references.treeprocessor import PRIORITY, ImageTreeprocessor
from ...references.urls import with_suffix
from ..zensical.context import in_zensical, page_context
from .runs import Run, run_for

log = logging.getLogger("mkdocs.plugins.wxcloud")
_SHARED = "as the MkDocs plugin's option of the same name (see the README)"
_OWN = {
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
_WORDS = ("emulator", "optimize")
_warned: set[str] = set()  # one-time notices of this process


def _config() -> dict[str, list[Any]]:
    """Every plugin option, plus the extension's own. Python-Markdown parses a value after its
    default's type, and "no default" must accept any text: those defaults are ``""`` (also for the
    options that take ``false`` or a word: ``emulator: auto``, ``optimize: lossless``)."""
    plain = {name: [value if isinstance(value, (int, float, str)) and name not in _WORDS else "", _SHARED]
             for name, value in options.DEFAULTS.items()}  # fmt: skip
    return {**plain, **{name: list(entry) for name, entry in _OWN.items()}}


def _once(key: str, message: str, *args: object) -> None:
    if key not in _warned:
        _warned.add(key)
        log.warning(message, *args)


class WxCloudExtension(Extension):
    def __init__(self, **kwargs: object) -> None:
        self.config = _config()
        super().__init__(**kwargs)
        self._run: Run | None = None
        self._page = ""
        self.source = ""
        self._pending = Placeholders()

    def extendMarkdown(self, md: markdown.Markdown) -> None:  # noqa: N802 - Markdown API
        if not self.getConfig("enabled"):
            return
        md.preprocessors.register(_Source(md, self), "wxcloud-source", 100)
        md.treeprocessors.register(ImageTreeprocessor(md, self._replace, self._enter, self._sized), "wxcloud", PRIORITY)
        md.postprocessors.register(_Fill(md, self), "wxcloud", 0)  # last: after the raw HTML is back

    def _enter(self, md: markdown.Markdown) -> None:
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
        self._page = explicit or (context.page if context is not None else "")
        self._pending = Placeholders()
        self._run = None
        try:
            run = run_for(options.resolve(values, root), docs_dir.resolve(), bool(self.getConfig("upload")))
            run.current()
        except WxCloudError as error:
            if context is None:
                raise  # not a page Zensical renders: the program that calls Markdown gets the error
            # Zensical would print a traceback for a bad option or manifest: one line instead, and
            # the pages keep their local files (nothing from a bad manifest reaches them)
            _once(f"open {error}", "wxcloud: %s; the pages keep their local files, and `mkdocs-wxcloud check` "
                  "fails until this is fixed", error)  # fmt: skip
            return
        self._run = run

    def _replace(self, url: str, tag: str, where: str) -> str | None:
        if self._run is None:
            return None
        linker, page = self._run.linker, self._page
        target = linker.target(url, tag, page, where)
        if target is None:
            return None
        upload = self._run.upload and self._run.stopped is None
        publishable, cloud = linker.lookup(
            target, url, page, self.source, upload=upload
        )  # ManifestError: the build stops
        if not publishable:
            return None
        if cloud is not None:
            return with_suffix(cloud, target.suffix)
        if not upload:
            why = (
                f"not uploaded: {self._run.stopped}"
                if self._run.stopped
                else (
                    "is not in the manifest as it is now: it stays local; run `mkdocs-wxcloud sync` (or set `upload: true`)"
                )
            )
            linker.warn(page, self.source, url, why, target.kind)
            return None
        return self._pending.add(target.path, target.suffix, url)

    def _sized(self, url: str, where: str) -> dict[str, str] | None:
        if self._run is None or not self._run.settings.dimensions:
            return None
        return self._run.linker.size_attributes(url, self._page, where, self._pending)

    def finish(self, text: str) -> str:
        """Wait for this page's uploads and put their URLs in its HTML (the local ones if they failed)."""
        if not self._pending or self._run is None:
            return text
        publisher = self._run.linker.publisher
        report = publisher.finish()
        if publisher.fatal is not None and self._run.stopped is None:
            self._run.stopped = publisher.fatal
            log.error("wxcloud: %s (no more uploads in this build; the pages keep their local images)", publisher.fatal)
        for path in sorted(set(self._pending.paths) & set(report.errors)):
            message = not_published(path, report.errors[path], self._page)
            if self._run.settings.on_error == "fail":
                raise WxCloudError(message)
            log.warning("%s", message)
        self._run.linker.check_sizes()
        return self._pending.fill(text, report.urls, report.sizes)


class _Source(Preprocessor):
    """Keeps the page's text, for the line numbers of warnings."""

    def __init__(self, md: markdown.Markdown, extension: WxCloudExtension) -> None:
        super().__init__(md)
        self.extension = extension

    def run(self, lines: list[str]) -> list[str]:
        self.extension.source = "\n".join(lines)
        return lines


class _Fill(Postprocessor):
    def __init__(self, md: markdown.Markdown, extension: WxCloudExtension) -> None:
        super().__init__(md)
        self.extension = extension

    def run(self, text: str) -> str:
        return self.extension.finish(text)


def makeExtension(**kwargs: object) -> WxCloudExtension:  # noqa: N802 - Markdown API
    return WxCloudExtension(**kwargs)
