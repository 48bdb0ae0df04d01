"""短期宿泊場所提供事業: remind before a stay ends, and every business day after it without an exit.

- ending within `short_stay_notice_days` calendar days (a stay ends on a calendar day,
  holiday or not) → `reminder.short_stay_ending` to the coordinator, once per end date;
- past its end with no exit recorded → `reminder.short_stay_overdue` once per business day
  until `record_program_exit` is done.
"""

from __future__ import annotations

import datetime as dt

from sqlmodel import Session

from models.due import Cursor, ShortStayDue, short_stays_ending
from models.outbox import ReminderTopic
from yorisoi.sweeps.common import Planned, Sweep, SweepContext, remind


def fetch(session: Session, ctx: SweepContext, after: Cursor | None) -> list[ShortStayDue]:
    end_until = ctx.on + dt.timedelta(days=ctx.short_stay_notice_days)
    return short_stays_ending(session, end_until=end_until, after=after, limit=ctx.batch_size)


def plan(ctx: SweepContext, rows: list[ShortStayDue]) -> Planned:
    planned = Planned()
    for row in rows:
        owners = ctx.owners(row.coordinator)
        # Calendar days: a stay ends on its day whether or not the office is open.
        payload = {
            **ctx.case_payload(row.number, row.stage, row.end_on),
            "days_overdue": max((ctx.on - row.end_on).days, 0),
        }
        if row.end_on >= ctx.on:
            planned.reminders += remind(
                ctx, ReminderTopic.SHORT_STAY_ENDING, row.case_id, row.end_on, owners, payload
            )
        else:  # past its end with no exit recorded: again every business day
            planned.reminders += remind(
                ctx, ReminderTopic.SHORT_STAY_OVERDUE, row.case_id, ctx.on, owners, payload
            )
    return planned


SWEEP = Sweep[ShortStayDue](
    name="short_stay_ending",
    ja="短期宿泊の終了",
    fetch=fetch,
    cursor_of=lambda row: (row.end_on, row.enrolment_id),
    plan=plan,
)
