"""本人同意の確認: remind the coordinator when a consent in force reaches its review period.

A consent is reviewed `consent_review_days` (the lifecycle's setting) after it was given —
moved to the next business day when that is a closed day — with the reminder going out
`notice_business_days` business days before, once per consent and review date. Withdrawn
consents and closed cases are left out; a new consent replaces the old one and starts again.
"""

from __future__ import annotations

import datetime as dt

from sqlmodel import Session

from models.due import ConsentReviewDue, Cursor, consents_for_review
from models.outbox import ReminderTopic
from yorisoi.sweeps.common import Planned, Sweep, SweepContext, remind

LOOKBACK_DAYS = 60
"""A review date missed by this many days (the sweep was not running) is still reminded."""


def review_on(ctx: SweepContext, given_on: dt.date) -> dt.date:
    return ctx.days.due(given_on + dt.timedelta(days=ctx.consent_review_days))


def fetch(session: Session, ctx: SweepContext, after: Cursor | None) -> list[ConsentReviewDue]:
    given_until = ctx.notice_until() - dt.timedelta(days=ctx.consent_review_days)
    since = ctx.on - dt.timedelta(days=ctx.consent_review_days + LOOKBACK_DAYS)
    start = after if after is not None and after[0] >= since else (since, 0)
    return consents_for_review(
        session, final_stages=ctx.final_stages, given_until=given_until, after=start, limit=ctx.batch_size
    )


def plan(ctx: SweepContext, rows: list[ConsentReviewDue]) -> Planned:
    planned = Planned()
    until = ctx.notice_until()
    for row in rows:
        due = review_on(ctx, row.given_on)
        if due > until:
            continue
        payload = ctx.case_payload(row.number, row.stage, due)
        planned.reminders += remind(
            ctx, ReminderTopic.CONSENT_REVIEW, row.case_id, due, ctx.owners(row.coordinator), payload
        )
    return planned


SWEEP = Sweep[ConsentReviewDue](
    name="consent_review",
    ja="本人同意の確認",
    fetch=fetch,
    cursor_of=lambda row: (row.given_on, row.consent_id),
    plan=plan,
)
