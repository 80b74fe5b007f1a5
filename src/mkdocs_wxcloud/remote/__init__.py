"""Importing remote files: downloading what a page links on another host, safely, once.

``import_hosts`` lists the hosts whose files a build may copy into WeChat storage (:mod:`.hosts`);
:func:`fetch` downloads one file within that list, public addresses, a size cap and a deadline
(:mod:`.fetch`, :mod:`.addresses`); :mod:`.sniff` says what the bytes are, whatever the URL or the
``Content-Type`` claims; :class:`RemoteCache` keeps each download on disk by URL; :mod:`.unreliable`
lists the hosts known to fail in mainland China. Imports only :mod:`mkdocs_wxcloud.errors` and
:mod:`mkdocs_wxcloud.references` (the kinds of assets): nothing here knows about WeChat or pages.
"""

from __future__ import annotations

from .cache import RemoteCache
from .fetch import DEADLINE, MAX_BYTES, Fetched, Policy, fetch
from .hosts import HostList, parse_hosts
from .problems import ImportProblem
from .sniff import Sniffed, extension_for, is_html, sniff
from .unreliable import unreliable

__all__ = [
    "DEADLINE",
    "MAX_BYTES",
    "Fetched",
    "HostList",
    "ImportProblem",
    "Policy",
    "RemoteCache",
    "Sniffed",
    "extension_for",
    "fetch",
    "is_html",
    "parse_hosts",
    "sniff",
    "unreliable",
]
