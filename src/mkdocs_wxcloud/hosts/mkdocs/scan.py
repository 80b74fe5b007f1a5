"""The plugin's scan mode: a build that only looks, for the commands (``cli/built.py``).

Sites whose plugins change pages (macros, included files, a blog, i18n) are read by ``check``, ``sync``
and ``prune`` through their real build: the plugin, handed a :class:`Scan`, uploads nothing, writes no
manifest, and links each file it sees to :data:`SCANNED`, so that what the built site still loads
locally is exactly what a real build leaves local.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from mkdocs.structure.files import Files

from ...publishing.settings import Settings
from ...references.urls import Target

OPTIMIZE = "material/optimize"  # its smaller copies in site_dir are not what wxcloud publishes
OPTIMIZE_WARNING = (
    "material/optimize writes smaller copies of images into site_dir, but wxcloud publishes the originals from "
    "docs_dir, so readers load the larger files: disable material/optimize and set wxcloud's `optimize: lossless` "
    "(or `lossy`)"
)
SCANNED = "https://wxcloud-scan.invalid/"  # where a scan build links each file (its docs path follows)


@dataclass
class Scan:
    """What a scan build saw: each reference, resolved as the build resolves it, and the files MkDocs copied."""

    found: list[tuple[str, str, str, Target]] = field(default_factory=list)  # (docs page, its text, url, target)
    copies: dict[str, str | None] = field(default_factory=dict)  # built path -> source of each file MkDocs copies

    @staticmethod
    def settings(settings: Settings) -> Settings:
        """The site's options, for a build that only looks (its own ``enabled``, ``offline``, ``dimensions``
        do not matter)."""
        return Settings(settings.root, {**settings.values, "enabled": True, "offline": True, "dimensions": False})

    def record(self, files: Files) -> None:
        """The files MkDocs copies (i18n builds each language in turn: their files add up)."""
        self.copies.update((f.dest_uri, f.abs_src_path) for f in files if not f.is_documentation_page())
