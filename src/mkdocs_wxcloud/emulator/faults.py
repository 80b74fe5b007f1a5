"""Faults the real service produces under load or on a bad day, injected at random or on demand.

Each kind applies to the hosts where it happens: busy, quota, 502 and dropped connections
anywhere (busy and quota are ``SlowDown`` on COS); token, quota, permission and "not enabled"
answers on the storage APIs (``/tcb/``); the XML errors of
``wechat-api.md`` section 4 on COS. ``no_permission`` (-503002) is per file: ``uploadfile``
answers it as its errcode, a batch answers it as the status of its first item only.
"""

from __future__ import annotations

import random
import threading
from typing import Iterable

from .cos import malformed, too_large
from .protocol import ApiFailure, CosFailure

_ANYWHERE = ("busy", "quota", "http502", "drop")
_API_CODES = {
    "busy": (-1, "system error"),
    "quota": (45011, "api minute-quota reach limit mustslower retry next minute"),
    "token_expired": (42001, "access_token expired"),
    "daily_quota": (45009, "reach max api daily quota limit"),
    "not_enabled": (85088, "no cloud dev env, please create it first"),
    "env_quota": (-501003, "EXCEED_REQUEST_LIMIT: the request-count quota of the env is used up"),
    "env_concurrency": (-501004, "EXCEED_CONCURRENT_REQUEST_LIMIT: too many concurrent requests for the env"),
    "read_quota": (-501015, "EXCEED_READ_LIMIT: the read quota of the env is used up"),
    "write_quota": (-501016, "EXCEED_WRITE_LIMIT: the write quota of the env is used up"),
    "no_permission": (-503002, "STORAGE_EXCEED_AUTHORITY"),
}
_COS_ERRORS = {
    "busy": CosFailure(503, "SlowDown", "Please reduce your request rate."),
    "quota": CosFailure(503, "SlowDown", "Please reduce your request rate."),
    "upload_expired": CosFailure(403, "AccessDenied", "Request has expired"),
    "cos_request_timeout": CosFailure(
        400,
        "RequestTimeOut",
        "Your socket connection to the server was not read from or written to within the timeout period.",
    ),  # fmt: skip
    "cos_slow_down": CosFailure(503, "SlowDown", "Please reduce your request rate."),
    "cos_time_skewed": CosFailure(
        403, "RequestTimeTooSkewed", "The difference between the request time and the server's time is too large."
    ),
    "cos_expired_token": CosFailure(403, "ExpiredToken", "The provided token has expired."),
    "cos_invalid_access_key": CosFailure(
        403, "InvalidAccessKeyId", "The access key Id format you provided is invalid."
    ),
    "cos_entity_too_large": too_large(),
    "cos_key_too_long": CosFailure(400, "KeyTooLong", "Your key is too long."),
    "cos_invalid_argument": CosFailure(400, "InvalidArgument", "Invalid Argument."),
    "cos_signature_mismatch": CosFailure(
        403, "SignatureDoesNotMatch", "The calculated signature does not match the provided one."
    ),
    "cos_malformed": malformed(),
}
FAULT_KINDS = tuple(dict.fromkeys([*_ANYWHERE, *_API_CODES, *_COS_ERRORS]))
DEFAULT_FAULTS = _ANYWHERE


def api_failure(kind: str) -> ApiFailure:
    """The JSON answer of a fault on the token or storage APIs."""
    code, message = _API_CODES[kind]
    return ApiFailure(code, message)


def cos_failure(kind: str) -> CosFailure:
    """The XML error of a fault on COS."""
    return _COS_ERRORS[kind]


def applies(kind: str, endpoint: str) -> bool:
    return (
        kind in _ANYWHERE or (endpoint == "api" and kind in _API_CODES) or (endpoint == "cos" and kind in _COS_ERRORS)
    )


class Faults:
    """Queued faults (``fail_next``) first, then random ones at ``rate`` (seeded for reproducibility)."""

    def __init__(self, kinds: Iterable[str], rate: float, seed: int | None) -> None:
        self.kinds = tuple(kinds)
        unknown = set(self.kinds) - set(FAULT_KINDS)
        if unknown:
            raise ValueError(f"unknown fault kinds {sorted(unknown)}; known: {', '.join(FAULT_KINDS)}")
        if not 0.0 <= rate <= 1.0:
            raise ValueError("fault_rate must be between 0 and 1")
        self.rate = rate
        self._rng = random.Random(seed)
        self._queued: list[list] = []  # [kind, remaining, path_prefix]
        self._lock = threading.Lock()

    def fail_next(self, kind: str, count: int = 1, path_prefix: str = "") -> None:
        if kind not in FAULT_KINDS:
            raise ValueError(f"unknown fault kind {kind!r}; known: {', '.join(FAULT_KINDS)}")
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
