"""What every sweep shares: the day's context, reminder rows, and one batch step.

A sweep is three small functions — fetch a batch of due rows after a cursor, turn them into
reminders (and overdue marks), tell where the batch ended — and `step` does the rest the same
way for all of them: skip what is already queued, enqueue the new reminders, mark overdue
cases through the case service, commit. One batch is one transaction, so a sweep stopped
halfway keeps the batches it finished and a re-run queues only what is missing.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Generic, Protocol, TypeVar

from sqlmodel import Session

from models.due import Coordinator, Cursor, SupervisorRow, active_supervisors, existing_keys
from models.outbox_queries import Reminder, enqueue_reminders, validate_reminder
from models.timestamps import utcnow
from states import Lifecycle
from yorisoi.business_days import BusinessCalendar
from yorisoi.service.monitoring import OverdueMark, mark_overdue
from yorisoi.settings import Settings

EXAMPLES_PER_BATCH = 20


class DayMath:
    """Business-day arithmetic for one sweep day, memoised per date (due dates repeat a lot)."""

    def __init__(self, calendar: BusinessCalendar, on: dt.date) -> None:
        self.calendar = calendar
        self.on = on
        self._moved: dict[dt.date, dt.date] = {}
        self._between: dict[tuple[dt.date, dt.date], int] = {}

    def due(self, day: dt.date) -> dt.date:
        """The effective due date: `day`, or the next business day when `day` is closed."""
        moved = self._moved.get(day)
        if moved is None:
            moved = self._moved[day] = self.calendar.on_or_after(day)
        return moved

    def between(self, start: dt.date, end: dt.date) -> int:
        """Business days in (start, end]."""
        key = (start, end)
        count = self._between.get(key)
        if count is None:
            count = self._between[key] = self.calendar.business_days_between(start, end)
        return count


@dataclass(frozen=True)
class SweepContext:
    """Everything a sweep needs to know about the day it runs for, as plain values."""

    on: dt.date
    days: DayMath
    notice_business_days: int
    escalation_business_days: int
    plan_review_days: int
    consent_review_days: int
    short_stay_notice_days: int
    progress_meetings: tuple[str, ...]
    batch_size: int
    available_at: dt.datetime
    base_url: str
    final_stages: frozenset[str]
    monitoring_stages: frozenset[str]
    stage_labels: dict[str, str]
    supervisors: tuple[SupervisorRow, ...]
    dry_run: bool

    @classmethod
    def build(
        cls,
        session: Session,
        settings: Settings,
        lifecycle: Lifecycle,
        *,
        on: dt.date,
        dry_run: bool = False,
        now: dt.datetime | None = None,
    ) -> SweepContext:
        calendar = BusinessCalendar(settings.calendar.closed_days)
        return cls(
            on=on,
            days=DayMath(calendar, on),
            notice_business_days=settings.sweep.notice_business_days,
            escalation_business_days=settings.sweep.escalation_business_days,
            plan_review_days=settings.sweep.plan_review_days,
            consent_review_days=lifecycle.consent_review_days,
            short_stay_notice_days=settings.sweep.short_stay_notice_days,
            progress_meetings=tuple(settings.sweep.progress_meetings),
            batch_size=settings.sweep.batch_size,
            # Reminders wait for business hours on a business day (no messages at night).
            available_at=calendar.next_delivery_time(
                now or utcnow(), opens=settings.calendar.opens, closes=settings.calendar.closes
            ),
            base_url=settings.notifications.base_url.rstrip("/"),
            final_stages=lifecycle.final_stages,
            monitoring_stages=lifecycle.monitoring_stages,
            stage_labels={stage.name: stage.ja for stage in lifecycle.stages},
            supervisors=tuple(active_supervisors(session)),
            dry_run=dry_run,
        )

    @property
    def calendar(self) -> BusinessCalendar:
        return self.days.calendar

    def notice_until(self) -> dt.date:
        """The last due date inside the notice window (a business day)."""
        return self.calendar.add_business_days(self.on, self.notice_business_days)

    def link(self, case_number: str) -> str:
        return f"{self.base_url}/cases/{case_number}"

    def case_payload(self, case_number: str, stage: str, due_on: dt.date) -> dict[str, Any]:
        """What a case reminder carries: the number, what is due when, a link — never the story."""
        return {
            "case_number": case_number,
            "due_on": due_on.isoformat(),
            "days_overdue": self.days.between(due_on, self.on) if due_on < self.on else 0,
            "stage_ja": self.stage_labels.get(stage, stage),
            "link": self.link(case_number),
        }

    def supervisors_for(self, team: str | None) -> list[str]:
        """The supervisors of `team`, or every supervisor when the team has none of its own."""
        same_team = [s.login for s in self.supervisors if team is not None and s.team == team]
        return same_team or [s.login for s in self.supervisors]

    def owners(self, coordinator: Coordinator) -> list[str]:
        """Who is reminded about a case: its coordinator, else (none or inactive) the supervisors."""
        if coordinator.login and coordinator.active:
            return [coordinator.login]
        return self.supervisors_for(coordinator.team)


def remind(
    ctx: SweepContext,
    topic: str,
    case_id: int | None,
    key_on: dt.date,
    logins: Sequence[str],
    payload: dict[str, Any],
) -> list[Reminder]:
    """One reminder per staff member; `key_on` is the date part of the idempotency key.

    For a reminder sent once, `key_on` is the due date; for one repeated every business day
    (overdue), it is the sweep's date, so each day's reminder is a message of its own.
    """
    return [
        Reminder(
            topic=topic,
            case_id=case_id,
            recipient=f"staff:{login}",
            due_on=key_on,
            payload=payload,
            available_at=ctx.available_at,
        )
        for login in dict.fromkeys(logins)
    ]


@dataclass
class Planned:
    reminders: list[Reminder] = field(default_factory=list)
    marks: list[OverdueMark] = field(default_factory=list)


@dataclass
class BatchResult:
    """What one batch did (or, on a dry run, would do)."""

    sweep: str
    cursor: Cursor | None
    scanned: int
    queued: dict[str, int]
    marked: list[str]
    examples: list[tuple[str, str, str, str]]
    """(topic, case number, recipient, due) of some newly queued reminders, for showing."""

    @property
    def done(self) -> bool:
        return self.cursor is None


Row = TypeVar("Row")


class Fetch(Protocol[Row]):
    def __call__(self, session: Session, ctx: SweepContext, after: Cursor | None) -> list[Row]: ...


@dataclass(frozen=True)
class Sweep(Generic[Row]):
    """A sweep: its name, its query, how to read a row's cursor, how to plan reminders."""

    name: str
    ja: str
    fetch: Fetch[Row]
    cursor_of: Callable[[Row], Cursor]
    plan: Callable[[SweepContext, list[Row]], Planned]


def step(sweep: Sweep[Any], session: Session, ctx: SweepContext, after: Cursor | None) -> BatchResult:
    """Run one batch of `sweep` after `after` in one transaction (commits unless a dry run)."""
    try:
        rows = sweep.fetch(session, ctx, after)
        planned = sweep.plan(ctx, rows)
        by_key = {r.idempotency_key: r for r in planned.reminders}
        known = existing_keys(session, by_key)
        new = [r for key, r in by_key.items() if key not in known]
        if ctx.dry_run:
            for reminder in new:
                validate_reminder(reminder)
            marked = [m.number for m in planned.marks]
            session.rollback()
        else:
            enqueue_reminders(session, new)
            # Commits the batch: the reminders above and the marks, or nothing.
            marks = mark_overdue(
                session=session, marks=planned.marks, swept_on=ctx.on, stages=ctx.monitoring_stages
            )
            marked = [f.number for f in marks]
            session.commit()
    except BaseException:
        session.rollback()
        raise
    cursor = sweep.cursor_of(rows[-1]) if len(rows) >= ctx.batch_size else None
    return BatchResult(
        sweep=sweep.name,
        cursor=cursor,
        scanned=len(rows),
        queued=dict(Counter(str(r.topic) for r in new)),
        marked=marked,
        examples=[_example(r) for r in new[:EXAMPLES_PER_BATCH]],
    )


def _example(reminder: Reminder) -> tuple[str, str, str, str]:
    payload = reminder.payload
    return (
        str(reminder.topic),
        str(payload.get("case_number", "")),
        reminder.recipient,
        str(payload.get("due_on", "")),
    )
