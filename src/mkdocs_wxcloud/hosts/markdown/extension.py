"""A Python-Markdown extension that links images from the manifest, for tools without MkDocs plugins.

Zensical and plain ``markdown.Markdown`` run Markdown extensions but not MkDocs plugins. After
``mkdocs-wxcloud sync`` has uploaded the images, this extension rewrites their references to the
cloud URLs recorded in the manifest, with the same scanner as the plugin and no network access.
Images that are not in the manifest (or changed since) stay local, with a warning.

    markdown.Markdown(extensions=["wxcloud"], extension_configs={"wxcloud": {"docs_dir": "docs"}})
"""

from __future__ import annotations

import atexit
import logging
from pathlib import Path

import markdown
from markdown.extensions import Extension

from ...publishing import settings as options
from ...publishing.workspace import open_linker
from ...references.treeprocessor import PRIORITY, ImageTreeprocessor
from ...references.urls import with_suffix

log = logging.getLogger("mkdocs.plugins.wxcloud")


class WxCloudExtension(Extension):
    def __init__(self, **kwargs: object) -> None:
        self.config = {
            "manifest": ["wxcloud-manifest.yml", "The manifest mkdocs-wxcloud wrote (relative to the working directory)."],
            "docs_dir": ["docs", "The folder that the manifest's image paths are relative to."],
            "page": ["", "The page being rendered, relative to docs_dir: relative image URLs resolve against it."],
            "cache_dir": [".cache/plugin/wxcloud", "Where file hashes are cached (relative to the working directory)."],
        }
        super().__init__(**kwargs)
        self._linker = None

    def extendMarkdown(self, md: markdown.Markdown) -> None:  # noqa: N802 - Markdown API
        md.treeprocessors.register(ImageTreeprocessor(md, self._replace), "wxcloud", PRIORITY)

    def _replace(self, url: str, tag: str, where: str) -> str | None:
        if self._linker is None:
            settings = options.resolve(
                {"manifest": self.getConfig("manifest"), "cache_dir": self.getConfig("cache_dir"), "offline": True},
                Path.cwd(),
            )
            self._linker = open_linker(settings, Path(self.getConfig("docs_dir")), None, readonly=True)
            atexit.register(self._linker.publisher.files.hashes.save)  # Markdown has no "done" hook
        page = self.getConfig("page")
        target = self._linker.target(url, tag, page, where)
        if target is None:
            return None
        publishable, cloud = self._linker.lookup(target, url, page, "")
        if not publishable:
            return None
        if cloud is None:
            self._linker.warn(page, "", url, "is not in the manifest as it is now: it stays local; run `mkdocs-wxcloud sync`")
            return None
        return with_suffix(cloud, target.suffix)


def makeExtension(**kwargs: object) -> WxCloudExtension:  # noqa: N802 - Markdown API
    return WxCloudExtension(**kwargs)
