"""支援プランの見直し: remind the coordinator when the current plan's review date comes up.

A plan is reviewed `plan_review_days` after its approval (moved to the next business day when
that is a closed day); the reminder goes out `notice_business_days` business days before, once
per plan and review date. A revision (a new plan version, approved again) sets a new date.
Review dates more than `LOOKBACK_DAYS` past are left alone, so the daily query stays small.
"""

from __future__ import annotations

import datetime as dt

from sqlmodel import Session

from models.due import Cursor, PlanReviewDue, plans_for_review
from models.outbox import ReminderTopic
from yorisoi.sweeps.common import Planned, Sweep, SweepContext, remind

LOOKBACK_DAYS = 60
"""A review date missed by this many days (the sweep was not running) is still reminded."""


def review_on(ctx: SweepContext, approved_on: dt.date) -> dt.date:
    return ctx.days.due(approved_on + dt.timedelta(days=ctx.plan_review_days))


def fetch(session: Session, ctx: SweepContext, after: Cursor | None) -> list[PlanReviewDue]:
    approved_until = ctx.notice_until() - dt.timedelta(days=ctx.plan_review_days)
    since = ctx.on - dt.timedelta(days=ctx.plan_review_days + LOOKBACK_DAYS)
    start = after if after is not None and after[0] >= since else (since, 0)
    return plans_for_review(
        session,
        stages=ctx.monitoring_stages,
        approved_until=approved_until,
        after=start,
        limit=ctx.batch_size,
    )


def plan(ctx: SweepContext, rows: list[PlanReviewDue]) -> Planned:
    planned = Planned()
    until = ctx.notice_until()
    for row in rows:
        due = review_on(ctx, row.approved_on)
        if due > until:
            continue
        payload = ctx.case_payload(row.number, row.stage, due)
        planned.reminders += remind(
            ctx, ReminderTopic.PLAN_REVIEW_DUE, row.case_id, due, ctx.owners(row.coordinator), payload
        )
    return planned


SWEEP = Sweep[PlanReviewDue](
    name="plan_review_due",
    ja="支援プランの見直し",
    fetch=fetch,
    cursor_of=lambda row: (row.approved_on, row.plan_id),
    plan=plan,
)
