"""The one retry policy of a run: what counts as transient, how long to wait before trying
again (exponential backoff with jitter, or the server's Retry-After), how many attempts one
call gets, and how many retries the whole run may spend.

Whether a call may be repeated at all is the caller's decision (``retrying`` only repeats what
it is given): reads, deletes, member changes and the (de)activate actions are safe to repeat;
a create is repeated with the id it chose; an update re-reads the image and sends only what is
still missing; an upload or an import first reads the image back and decides from what Glance
shows (see transfer.py).
"""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from reconciler.errors import TransferError

T = TypeVar("T")


@dataclass(frozen=True)
class TransientStatuses:
    """The HTTP statuses after which one kind of request is worth another try: those in
    ``statuses``, and with ``any_5xx`` every status from 500 up."""

    statuses: frozenset[int]
    any_5xx: bool = False

    def __contains__(self, status: object) -> bool:
        return status in self.statuses or (
            self.any_5xx and isinstance(status, int) and status >= 500
        )


# The one table of transient statuses, by what answered. 429 is "slow down": as transient as
# a 503, and it usually says for how long.
# Glance's and Keystone's API (and Keystone's authentication).
API_TRANSIENT = TransientStatuses(frozenset({429, 500, 502, 503, 504}))
# Glance answering an upload: also 401, the token expired mid-upload; the next request logs in
# again.
UPLOAD_TRANSIENT = TransientStatuses(API_TRANSIENT.statuses | {401})
# A web server serving an image, a checksum file or an index: any 5xx, whatever its meaning.
SOURCE_TRANSIENT = TransientStatuses(frozenset({429}), any_5xx=True)


@dataclass(frozen=True)
class RetryPolicy:
    """``attempts`` tries per call; the wait before try n+1 is ``base * 2**(n-1)`` seconds,
    at most ``cap``, scaled by a random factor in [0.5, 1] so that parallel workers do not
    retry in step; a server's Retry-After is honoured up to ``retry_after_cap`` seconds.
    ``budget`` bounds the retries of the whole run: once spent, failures are final."""

    attempts: int = 5
    base: float = 0.25
    cap: float = 4.0
    retry_after_cap: float = 30.0
    budget: int = 200

    def delay(self, attempt: int, retry_after: float | None) -> float:
        if retry_after is not None:
            return max(0.0, min(retry_after, self.retry_after_cap))
        ceiling = min(self.cap, self.base * 2.0 ** (attempt - 1))
        return ceiling * random.uniform(0.5, 1.0)


class RetryBudget:
    """The retries one run may still spend, shared by every thread of the run."""

    def __init__(self, limit: int) -> None:
        self._left = limit
        self._lock = threading.Lock()
        self.spent = 0

    def take(self) -> bool:
        with self._lock:
            if self._left <= 0:
                return False
            self._left -= 1
            self.spent += 1
            return True


def parse_retry_after(value: str | None) -> float | None:
    """Seconds from a Retry-After header given in seconds (an HTTP date is ignored: rare, and
    the clock of the server is not ours)."""
    if value is None:
        return None
    try:
        return float(value.strip())
    except ValueError:
        return None


class Retrier:
    """Runs calls under one RetryPolicy and one RetryBudget."""

    def __init__(self, policy: RetryPolicy | None = None) -> None:
        self.policy = policy or RetryPolicy()
        self.budget = RetryBudget(self.policy.budget)

    def run(
        self,
        call: Callable[[], T],
        *,
        before_retry: Callable[[TransferError], None] | None = None,
        attempts: int | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> T:
        """``call()``, tried again while it raises a transient TransferError and attempts
        (the policy's, or fewer for a costly call) and budget remain. ``before_retry`` runs
        after the wait and before the next try: it may inspect the cloud and raise to stop
        (its error is then final)."""
        limit = min(attempts or self.policy.attempts, self.policy.attempts)
        attempt = 1
        while True:
            try:
                return call()
            except TransferError as error:
                if not error.transient or attempt >= limit or not self.budget.take():
                    raise
                sleep(self.policy.delay(attempt, error.retry_after))
                attempt += 1
                if before_retry is not None:
                    before_retry(error)
