"""Which failures are worth another attempt, and how long to wait before it.

Busy answers, 5xx, COS's slow-upload and slow-down answers and dropped connections are retried with
exponential backoff and full jitter; a minute-quota answer (and the open API service's token not
being ready) waits ``quota_wait``; a stale COS upload link is asked for again at once, a signature
COS refuses once more; a rejected token is renewed once, outside the retry budget. Everything else
(daily and plan quotas included) is final at once.
"""

from __future__ import annotations

import logging
import random
import threading
from dataclasses import dataclass, field
from typing import Callable, Protocol, TypeVar

from ..errors import WxCloudError
from .errors import BUSY_ERRORS, TOKEN_ERRORS, WAIT_ERRORS, ApiError, Cancelled, CosError, NetworkError, TransientError
from .transport import Credential

log = logging.getLogger("mkdocs.plugins.wxcloud")
T = TypeVar("T")

_MAX_DELAY = 30.0


class CredentialSource(Protocol):
    """Where a call's credential comes from, and who replaces one the server refused."""

    def current(self) -> Credential: ...

    def renew(self, rejected: Credential) -> bool:
        """Replace ``rejected``; False when the service hands out the very same token again."""
        ...


@dataclass(frozen=True)
class RetryPolicy:
    max_retries: int = 6
    backoff: float = 0.5
    quota_wait: float = 60.0
    cancelled: threading.Event = field(default_factory=threading.Event, compare=False)
    """Set by :meth:`~.client.WxCloudClient.cancel`: no new attempt starts, waits end at once."""

    def run(self, what: str, attempt: Callable[[Credential], T], credentials: CredentialSource | None = None) -> T:
        """Run ``attempt`` until it succeeds, a final error occurs, or the retries run out.

        With ``credentials``, each attempt gets the current one, and a rejected token is renewed
        and the call retried once, on top of the retry budget.
        """
        renewed = signed_again = same_token = False
        tries = 0
        while True:
            if self.cancelled.is_set():
                raise Cancelled(f"{what}: not started, the run was interrupted")
            credential = credentials.current() if credentials is not None else None
            try:
                return attempt(credential)
            except (ApiError, CosError, NetworkError) as exc:
                error: WxCloudError = exc
            if (
                credentials is not None
                and isinstance(error, ApiError)
                and error.errcode in TOKEN_ERRORS
                and not renewed
            ):
                renewed = True
                log.debug("wxcloud: %s: token refused (errcode %s), renewing it", what, error.errcode)
                same_token = not credentials.renew(credential)
                continue
            if same_token and isinstance(error, ApiError) and error.errcode in TOKEN_ERRORS:
                raise error.stale_token()
            if isinstance(error, CosError) and error.code == "SignatureDoesNotMatch" and not signed_again:
                signed_again = True  # once with a fresh link; a path COS cannot sign then fails alone
                continue
            delay = self.delay(error, tries)
            if delay is None:
                raise error
            if tries >= self.max_retries:
                if isinstance(error, TransientError):
                    raise NetworkError(f"{error} (gave up after {tries + 1} attempts)")
                raise error
            tries += 1
            log.debug("wxcloud: %s: retry %d/%d in %.2f s after: %s", what, tries, self.max_retries, delay, error)
            self.cancelled.wait(delay)

    def delay(self, error: WxCloudError, tries: int) -> float | None:
        """Seconds to wait before retrying after ``error``, or None when it is final."""
        backoff = random.uniform(0, min(_MAX_DELAY, self.backoff * 2**tries))
        if isinstance(error, TransientError):
            return backoff
        if isinstance(error, ApiError):
            if error.errcode in WAIT_ERRORS:
                return self.quota_wait
            return backoff if error.errcode in BUSY_ERRORS else None
        if isinstance(error, CosError):
            if error.stale_link:
                return 0.0  # ask for a new link at once
            return backoff if error.transient else None
        return None
