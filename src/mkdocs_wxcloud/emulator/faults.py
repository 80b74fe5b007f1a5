"""Faults the real service produces under load, injected at random or on demand.

Each kind applies to the hosts where it happens: busy, quota, 502 and dropped connections
anywhere; expired tokens, the daily quota and "not enabled" on the storage APIs; expired upload
links on COS.
"""

from __future__ import annotations

import random
import threading
from typing import Iterable

from .protocol import ApiFailure

FAULT_KINDS = (
    "busy", "quota", "http502", "drop", "token_expired", "upload_expired", "daily_quota", "not_enabled",
)  # fmt: skip
DEFAULT_FAULTS = ("busy", "quota", "http502", "drop")
_ANY_ENDPOINT = frozenset(DEFAULT_FAULTS)
_API_ONLY = frozenset(("token_expired", "daily_quota", "not_enabled"))


def api_failure(kind: str) -> ApiFailure:
    """The JSON answer of a fault on the token or storage APIs."""
    code, message = {
        "busy": (-1, "system error"),
        "quota": (45011, "api minute-quota reach limit mustslower retry next minute"),
        "token_expired": (42001, "access_token expired"),
        "daily_quota": (45009, "reach max api daily quota limit"),
        "not_enabled": (85088, "no cloud dev env, please create it first"),
    }[kind]
    return ApiFailure(code, message)


def applies(kind: str, endpoint: str) -> bool:
    return (
        kind in _ANY_ENDPOINT
        or (kind in _API_ONLY and endpoint == "api")
        or (kind == "upload_expired" and endpoint == "cos")
    )


class Faults:
    """Queued faults (``fail_next``) first, then random ones at ``rate`` (seeded for reproducibility)."""

    def __init__(self, kinds: Iterable[str], rate: float, seed: int | None) -> None:
        self.kinds = tuple(kinds)
        unknown = set(self.kinds) - set(FAULT_KINDS)
        if unknown:
            raise ValueError(f"unknown fault kinds {sorted(unknown)}; known: {FAULT_KINDS}")
        if not 0.0 <= rate <= 1.0:
            raise ValueError("fault_rate must be between 0 and 1")
        self.rate = rate
        self._rng = random.Random(seed)
        self._queued: list[list] = []  # [kind, remaining, path_prefix]
        self._lock = threading.Lock()

    def fail_next(self, kind: str, count: int = 1, path_prefix: str = "") -> None:
        if kind not in FAULT_KINDS:
            raise ValueError(f"unknown fault kind {kind!r}; known: {FAULT_KINDS}")
        if count < 1:
            raise ValueError("count must be at least 1")
        with self._lock:
            self._queued.append([kind, count, path_prefix])

    def draw(self, path: str, endpoint: str) -> str | None:
        """The fault to inject into this request, if any."""
        with self._lock:
            for index, (kind, remaining, prefix) in enumerate(self._queued):
                if path.startswith(prefix) and applies(kind, endpoint):
                    if remaining <= 1:
                        del self._queued[index]
                    else:
                        self._queued[index][1] = remaining - 1
                    return kind
            kinds = [k for k in self.kinds if applies(k, endpoint)]
            if self.rate > 0 and kinds and self._rng.random() < self.rate:
                return self._rng.choice(kinds)
        return None
