"""Whether the files the manifest records are still in the cloud (``check --remote``, ``sync --repair``).

A file deleted in the cloud console, or a manifest copied from another environment, leaves entries
that build links to nothing. The link API answers per file, 50 to a call, which tells.
"""

from __future__ import annotations

from ..manifest.model import Entry
from ..wechat.client import WxCloudClient
from ..wechat.errors import FILE_NONEXIST


def missing_in_cloud(client: WxCloudClient, images: dict[str, Entry]) -> tuple[set[str], dict[str, str]]:
    """The docs paths whose file the cloud does not have, and those it could not confirm (with why)."""
    _, errors = client.download_urls(sorted({entry.file_id for entry in images.values()}), 60)
    missing, unknown = set(), {}
    for path, entry in images.items():
        why = errors.get(entry.file_id)
        if why is not None and FILE_NONEXIST in why:
            missing.add(path)
        elif why is not None:
            unknown[path] = why
    return missing, unknown
