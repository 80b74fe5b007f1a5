"""Errors a user can act on, and the redaction that keeps secrets out of them.

Every exception that reaches a user is a :class:`WxCloudError` whose ``str()`` is one line that
says what is wrong and what to do. Tokens travel in URLs and secrets in request bodies, so any
text that may carry either goes through :func:`redact` before it is shown or logged. Text from
outside (a server's answer, a file name) may hold terminal control sequences (OSC 52 writes the
clipboard): :func:`printable` makes them visible escapes before anything reaches a terminal.
"""

from __future__ import annotations

import re
import threading
from collections import Counter
from contextlib import contextmanager
from typing import Iterator

_QUERY_SECRET = re.compile(
    r"((?:cloudbase_)?access_token|secret|appsecret|authorization|x-cos-security-token)"
    r"(=|\"?\s*:\s*\"?)[^&\s\"',;}]+",
    re.IGNORECASE,
)
_known: Counter[str] = Counter()  # secret -> how many holders registered it
_known_lock = threading.Lock()


def register_secret(value: str | None) -> None:
    """Remember a secret value (AppSecret, token) so that :func:`redact` masks it anywhere."""
    if value and len(value) >= 6:
        with _known_lock:
            _known[value] += 1


@contextmanager
def secrets_while(*values: str) -> Iterator[None]:
    """Mask ``values`` while the block runs: for credentials of one request (a COS signature), which
    would otherwise pile up, one pair per upload, and slow every redaction down."""
    values = tuple(v for v in values if v and len(v) >= 6)
    with _known_lock:
        _known.update(values)
    try:
        yield
    finally:
        with _known_lock:
            _known.subtract(values)
            for value in values:
                if _known[value] <= 0:
                    del _known[value]


def redact(text: object) -> str:
    """Return ``str(text)`` with every known secret and every token-bearing parameter masked."""
    out = _QUERY_SECRET.sub(lambda m: f"{m.group(1)}{m.group(2)}***", str(text))
    with _known_lock:
        known = sorted(_known, key=len, reverse=True)
    for value in known:
        if value in out:
            out = out.replace(value, "***")
    return out


# C0 and C1 controls and DEL; whitespace among them is normalised away first where a line is wanted
_CONTROLS = re.compile(r"[\x00-\x1f\x7f-\x9f]")


def printable(text: object) -> str:
    """``str(text)`` with every control character shown as an escape (``\\x1b``), so that text from a
    server or a file name can move no cursor, set no title and write no clipboard."""
    return _CONTROLS.sub(lambda m: f"\\x{ord(m.group()):02x}", str(text))


class WxCloudError(Exception):
    """An error with a one-line, secret-free, printable message meant for the user."""

    per_file = False
    """True when only the file at hand fails (a bad path, a file too large): other uploads go on."""

    def __init__(self, message: str) -> None:
        super().__init__(printable(redact(" ".join(str(message).split()))))


class ConfigError(WxCloudError):
    """A missing or invalid option, variable or file: fixed by the user, never retried."""


class ManifestError(WxCloudError):
    """The manifest cannot be read or does not belong to this site; it is left untouched."""
