"""When may someone try to sign in again: growing delays, then a temporary lock.

Pure: it judges a count of recent failures and the moment of the last one, handed over by
`yorisoi.service.signin` (which reads them from the sign-in log), against a `Limits`. The
same rules apply to a login and to a client address, each with its own limits; an attempt
must pass both.

    failures < free            → try now
    free ≤ failures < lock     → wait first_delay × 2^(failures − free) after the last failure
    failures ≥ lock            → locked for lock_for after the last failure
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Limits:
    free: int
    lock: int
    first_delay: dt.timedelta
    lock_for: dt.timedelta


@dataclass(frozen=True, slots=True)
class Verdict:
    allowed: bool
    locked: bool = False
    retry_at: dt.datetime | None = None  # when the next attempt will be looked at

    def wait_seconds(self, now: dt.datetime) -> int:
        """Whole seconds until `retry_at` (at least 1 while refused)."""
        if self.allowed or self.retry_at is None:
            return 0
        return max(1, int((self.retry_at - now).total_seconds() + 0.999))


ALLOWED = Verdict(allowed=True)


def judge(failures: int, last_failure: dt.datetime | None, now: dt.datetime, limits: Limits) -> Verdict:
    """May an attempt be made at `now`, after `failures` failures, the last at `last_failure`?"""
    if failures < limits.free or last_failure is None:
        return ALLOWED
    if failures >= limits.lock:
        until = last_failure + limits.lock_for
        return ALLOWED if now >= until else Verdict(allowed=False, locked=True, retry_at=until)
    # Capped: the delay never outgrows the lock it leads to.
    delay = min(limits.first_delay * 2 ** (failures - limits.free), limits.lock_for)
    until = last_failure + delay
    return ALLOWED if now >= until else Verdict(allowed=False, retry_at=until)


def stricter(first: Verdict, second: Verdict) -> Verdict:
    """The verdict that keeps the caller waiting longer (a lock before a delay)."""
    refused = [v for v in (first, second) if not v.allowed]
    if not refused:
        return ALLOWED
    return max(refused, key=lambda v: (v.locked, v.retry_at or dt.datetime.min.replace(tzinfo=dt.UTC)))
