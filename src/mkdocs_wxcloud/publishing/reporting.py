"""What a run did, in the words every host and command uses: the report, its summary, its problems.

One wording for all: the MkDocs plugin, the Markdown extension and the commands log the same
lines for the same outcome (``12 uploaded (1.3 MB), 240 reused, 0 failed in 2.1 s``).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ..references.assets import kind_of

PRIVATE_STORAGE = (
    "the storage is private, so download links carry sign=/t= and expire after `link_max_age`; make the storage "
    "readable by everyone (cloud console → 存储 → 权限设置) or set `base_url` to a CDN domain; expiring links "
    "are refreshed on the next build"
)


def human_size(n: float) -> str:
    """``1.3 MB``: for the summary line and messages (1 KB = 1024 bytes)."""
    for unit in ("B", "KB", "MB", "GB"):
        if n < 1024 or unit == "GB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n} B"


@dataclass(frozen=True)
class Summary:
    """Counted from a run's results, never by hand."""

    uploaded: int = 0
    reused: int = 0
    failed: int = 0
    bytes: int = 0  # stored: after optimizing
    saved: int = 0  # by optimizing what was uploaded
    seconds: float = 0.0
    requests: int = 0  # HTTP requests the run sent

    def line(self) -> str:
        saved = f", {human_size(self.saved)} saved by optimizing" if self.saved > 0 else ""
        return (
            f"{self.uploaded} uploaded ({human_size(self.bytes)}{saved}), {self.reused} reused, "
            f"{self.failed} failed in {self.seconds:.1f} s"
        )


@dataclass
class Report:
    urls: dict[str, str] = field(default_factory=dict)  # docs path -> URL, for what was scheduled
    sizes: dict[str, tuple[int, int]] = field(default_factory=dict)  # docs path -> (width, height), when known
    errors: dict[str, str] = field(default_factory=dict)  # docs path -> one-line reason
    summary: Summary = field(default_factory=Summary)
    signed: bool = False  # links carry sign=/t=: the storage is private and links expire


def not_published(path: str, reason: str, page: str = "") -> str:
    """The message of a failed upload, whose page (or site, without ``page``) keeps the local file."""
    where = f"{page}: " if page else ""
    whose = "page" if page else "site"
    return f"wxcloud: {where}{kind_of(path)} '{path}' not published, the {whose} links the local file: {reason}"
