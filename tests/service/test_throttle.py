"""The throttle's rule, without a database: free failures, doubling delays, a lock that ends."""

from __future__ import annotations

import datetime as dt

from yorisoi.service.throttle import Limits, Verdict, judge, stricter

T0 = dt.datetime(2026, 12, 1, 9, 0, tzinfo=dt.UTC)
LIMITS = Limits(free=5, lock=10, first_delay=dt.timedelta(seconds=2), lock_for=dt.timedelta(minutes=15))


def test_free_failures_then_doubling_delays_then_a_lock() -> None:
    assert judge(4, T0, T0, LIMITS).allowed
    waits = [judge(n, T0, T0, LIMITS).wait_seconds(T0) for n in range(5, 10)]
    assert waits == [2, 4, 8, 16, 32]
    assert judge(7, T0, T0 + dt.timedelta(seconds=8), LIMITS).allowed
    locked = judge(10, T0, T0 + dt.timedelta(minutes=14), LIMITS)
    assert not locked.allowed and locked.locked and locked.wait_seconds(T0 + dt.timedelta(minutes=14)) == 60
    assert judge(10, T0, T0 + dt.timedelta(minutes=15), LIMITS).allowed


def test_stricter_prefers_a_lock_then_the_longer_wait() -> None:
    wait = Verdict(allowed=False, retry_at=T0 + dt.timedelta(seconds=30))
    lock = Verdict(allowed=False, locked=True, retry_at=T0 + dt.timedelta(seconds=10))
    assert stricter(wait, lock) == lock
    assert stricter(Verdict(allowed=True), wait) == wait
    assert stricter(Verdict(allowed=True), Verdict(allowed=True)).allowed
