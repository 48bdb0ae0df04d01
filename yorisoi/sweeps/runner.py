"""Run sweeps batch after batch, each batch in its own session and transaction."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Engine

from models.db import session_scope
from models.due import Cursor
from states import Lifecycle
from yorisoi.business_days import BusinessCalendar
from yorisoi.errors import InvalidInput
from yorisoi.jpdates import today_tokyo, tokyo_datetime
from yorisoi.settings import Settings
from yorisoi.sweeps import (
    consent_review,
    half_year_progress,
    monitoring_due,
    plan_review_due,
    short_stay_ending,
)
from yorisoi.sweeps.common import BatchResult, Sweep, SweepContext, step

SWEEPS: dict[str, Sweep[Any]] = {
    sweep.name: sweep
    for sweep in (
        monitoring_due.SWEEP,
        plan_review_due.SWEEP,
        consent_review.SWEEP,
        short_stay_ending.SWEEP,
        half_year_progress.SWEEP,
    )
}

Progress = Callable[[BatchResult], None]


@dataclass
class SweepResult:
    """One sweep's whole run: batches, rows looked at, reminders queued per topic, cases marked."""

    sweep: str
    ja: str
    batches: int = 0
    scanned: int = 0
    queued: Counter[str] = field(default_factory=Counter)
    marked: list[str] = field(default_factory=list)
    examples: list[tuple[str, str, str, str]] = field(default_factory=list)

    def add(self, batch: BatchResult) -> None:
        self.batches += 1
        self.scanned += batch.scanned
        self.queued.update(batch.queued)
        self.marked += batch.marked
        self.examples += batch.examples[: max(0, 50 - len(self.examples))]

    @property
    def total_queued(self) -> int:
        return sum(self.queued.values())


@dataclass
class DayResult:
    on: dt.date
    dry_run: bool
    closed_reason: str | None
    sweeps: list[SweepResult]

    @property
    def total_queued(self) -> int:
        return sum(s.total_queued for s in self.sweeps)


def sweep_day(on: dt.date | None, now: dt.datetime | None) -> dt.date:
    """The day a sweep runs for: `on`, else the date of `now` in Asia/Tokyo, else today.

    `now` is the one clock of a replay (`yorisoi sweep --now`, the flows' `now`): the day is
    its date, and the reminders become due from that moment, so `outbox dispatch --now` with
    the same moment delivers them. A day that disagrees with `now` is refused, not guessed.
    """
    if now is None:
        return on or today_tokyo()
    if now.tzinfo is None:
        raise InvalidInput(
            "--now にはタイムゾーン（+09:00 など）が必要です。",
            "now must carry its UTC offset (e.g. +09:00).",
        )
    day = tokyo_datetime(now).date()
    if on is not None and on != day:
        raise InvalidInput(
            f"--on {on} と --now の日付（{day}、Asia/Tokyo）が違います。どちらか一方にしてください。",
            f"--on {on} is not the day of now ({day} in Asia/Tokyo); give one of them.",
        )
    return day


def context(
    engine: Engine,
    settings: Settings,
    lifecycle: Lifecycle,
    *,
    on: dt.date,
    dry_run: bool,
    now: dt.datetime | None = None,
) -> SweepContext:
    with session_scope(engine) as session:
        return SweepContext.build(session, settings, lifecycle, on=on, dry_run=dry_run, now=now)


def run_batch(
    name: str,
    *,
    engine: Engine,
    settings: Settings,
    lifecycle: Lifecycle,
    on: dt.date,
    after: Cursor | None,
    dry_run: bool,
    now: dt.datetime | None = None,
) -> BatchResult:
    """One batch of sweep `name` in a fresh session: what a flow's task run does.

    `now`: the replay clock (reminders become due from it); empty means the real time.
    """
    with session_scope(engine) as session:
        ctx = SweepContext.build(session, settings, lifecycle, on=on, dry_run=dry_run, now=now)
        return step(SWEEPS[name], session, ctx, after)


def run_sweep(
    name: str, engine: Engine, ctx: SweepContext, *, progress: Progress | None = None
) -> SweepResult:
    """Every batch of sweep `name`, until a batch comes back short."""
    sweep = SWEEPS[name]
    result = SweepResult(sweep=name, ja=sweep.ja)
    after: Cursor | None = None
    while True:
        with session_scope(engine) as session:
            batch = step(sweep, session, ctx, after)
        result.add(batch)
        if progress is not None:
            progress(batch)
        if batch.done:
            return result
        after = batch.cursor


def run_day(
    engine: Engine,
    settings: Settings,
    lifecycle: Lifecycle,
    *,
    on: dt.date,
    dry_run: bool = False,
    names: Sequence[str] | None = None,
    progress: Progress | None = None,
    now: dt.datetime | None = None,
) -> DayResult:
    """Run the sweeps (all, or `names`) for `on`; nothing on a closed day (they run on business days).

    `now` fixes the clock the reminders' delivery time is reckoned from (tests, replays).
    """
    unknown = [n for n in names or () if n not in SWEEPS]
    if unknown:
        raise KeyError(f"unknown sweep(s) {unknown}; known: {', '.join(SWEEPS)}")
    closed = BusinessCalendar(settings.calendar.closed_days).closed_reason(on)
    if closed is not None:
        return DayResult(on=on, dry_run=dry_run, closed_reason=closed, sweeps=[])
    ctx = context(engine, settings, lifecycle, on=on, dry_run=dry_run, now=now)
    results = [run_sweep(name, engine, ctx, progress=progress) for name in names or SWEEPS]
    return DayResult(on=on, dry_run=dry_run, closed_reason=None, sweeps=results)
