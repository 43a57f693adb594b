"""reconciler.retry: what is tried again, how often, how long apart, and the run's bound."""

from __future__ import annotations

import pytest

from reconciler.errors import CloudError, SourceError
from reconciler.retry import (
    API_TRANSIENT,
    SOURCE_TRANSIENT,
    UPLOAD_TRANSIENT,
    Retrier,
    RetryPolicy,
    parse_retry_after,
)


class Flaky:
    """Fails ``failures`` times with ``error``, then returns the number of calls."""

    def __init__(self, failures: int, error: Exception) -> None:
        self.failures = failures
        self.error = error
        self.calls = 0

    def __call__(self) -> int:
        self.calls += 1
        if self.calls <= self.failures:
            raise self.error
        return self.calls


def test_transient_failures_are_tried_again_until_the_call_succeeds() -> None:
    waits: list[float] = []
    flaky = Flaky(3, CloudError("503", transient=True))
    assert Retrier(RetryPolicy(attempts=5)).run(flaky, sleep=waits.append) == 4
    assert len(waits) == 3
    # Exponential with jitter in [0.5, 1] of 0.25, 0.5, 1.0.
    for wait, ceiling in zip(waits, (0.25, 0.5, 1.0), strict=True):
        assert ceiling / 2 <= wait <= ceiling


def test_a_failure_that_is_not_transient_is_final_at_once() -> None:
    flaky = Flaky(1, SourceError("404"))
    with pytest.raises(SourceError):
        Retrier().run(flaky, sleep=lambda _: None)
    assert flaky.calls == 1


def test_attempts_are_bounded_per_call() -> None:
    flaky = Flaky(10, CloudError("reset", transient=True))
    with pytest.raises(CloudError, match="reset"):
        Retrier(RetryPolicy(attempts=4)).run(flaky, sleep=lambda _: None)
    assert flaky.calls == 4


def test_the_budget_bounds_the_retries_of_the_whole_run() -> None:
    retrier = Retrier(RetryPolicy(attempts=5, budget=3))
    first = Flaky(2, CloudError("503", transient=True))
    assert retrier.run(first, sleep=lambda _: None) == 3
    second = Flaky(5, CloudError("503", transient=True))
    with pytest.raises(CloudError):
        retrier.run(second, sleep=lambda _: None)
    assert second.calls == 2  # one retry left in the budget
    assert retrier.budget.spent == 3


def test_retry_after_is_honoured_and_capped() -> None:
    waits: list[float] = []
    policy = RetryPolicy(retry_after_cap=5.0)
    Retrier(policy).run(
        Flaky(1, CloudError("429", transient=True, retry_after=2.0)), sleep=waits.append
    )
    Retrier(policy).run(
        Flaky(1, CloudError("429", transient=True, retry_after=90.0)), sleep=waits.append
    )
    assert waits == [2.0, 5.0]


def test_the_wait_never_exceeds_the_cap() -> None:
    policy = RetryPolicy(base=1.0, cap=3.0)
    assert all(policy.delay(attempt, None) <= 3.0 for attempt in range(1, 20))


def test_before_retry_may_stop_the_retries() -> None:
    def give_up(error: Exception) -> None:
        raise CloudError("the image is killed")

    with pytest.raises(CloudError, match="killed"):
        Retrier().run(
            Flaky(1, CloudError("503", transient=True)), before_retry=give_up, sleep=lambda _: None
        )


@pytest.mark.parametrize(
    ("header", "seconds"),
    [("3", 3.0), (" 1.5 ", 1.5), (None, None), ("Wed, 21 Oct 2026 07:28:00 GMT", None)],
)
def test_retry_after_header(header: str | None, seconds: float | None) -> None:
    assert parse_retry_after(header) == seconds


def test_one_table_says_which_statuses_are_transient_for_each_kind_of_answer() -> None:
    # Glance's and Keystone's API: 429 and the 5xx that mean "not now".
    assert [s for s in (401, 404, 429, 500, 501, 502, 503, 504, 505) if s in API_TRANSIENT] == [
        429,
        500,
        502,
        503,
        504,
    ]
    # An upload also after 401: the token expired mid-upload.
    assert 401 in UPLOAD_TRANSIENT and 401 not in API_TRANSIENT
    assert all(s in UPLOAD_TRANSIENT for s in (429, 500, 502, 503, 504))
    assert 501 not in UPLOAD_TRANSIENT and 404 not in UPLOAD_TRANSIENT
    # A web server serving a source: 429 and every status from 500 up.
    assert all(s in SOURCE_TRANSIENT for s in (429, 500, 501, 505, 599, 600))
    assert not any(s in SOURCE_TRANSIENT for s in (400, 401, 403, 404, 499))
