"""モニタリング: remind before the date, every business day after it, then escalate.

- due within `notice_business_days` business days (a date on a closed day moves to the next
  business day) → `reminder.monitoring_due` to the coordinator, once per due date;
- overdue → `reminder.monitoring_overdue` to the coordinator once per business day (the
  sweep's date is part of the key);
- more than `escalation_business_days` business days overdue →
  `escalation.monitoring_overdue` to the supervisors once per due date, and the case is
  marked overdue through the case service.
"""

from __future__ import annotations

from sqlmodel import Session

from models.due import Cursor, MonitoringDue, monitoring_due
from models.outbox import ReminderTopic
from yorisoi.service.monitoring import OverdueMark
from yorisoi.sweeps.common import Planned, Sweep, SweepContext, remind


def fetch(session: Session, ctx: SweepContext, after: Cursor | None) -> list[MonitoringDue]:
    return monitoring_due(
        session, stages=ctx.monitoring_stages, until=ctx.notice_until(), after=after, limit=ctx.batch_size
    )


def plan(ctx: SweepContext, rows: list[MonitoringDue]) -> Planned:
    planned = Planned()
    for row in rows:
        due = ctx.days.due(row.due_on)
        payload = ctx.case_payload(row.number, row.stage, due)
        owners = ctx.owners(row.coordinator)
        if due >= ctx.on:
            if ctx.days.between(ctx.on, due) <= ctx.notice_business_days:
                planned.reminders += remind(
                    ctx, ReminderTopic.MONITORING_DUE, row.case_id, due, owners, payload
                )
            continue
        # Overdue: keyed by the sweep's date, so one reminder per business day.
        planned.reminders += remind(
            ctx, ReminderTopic.MONITORING_OVERDUE, row.case_id, ctx.on, owners, payload
        )
        days_overdue = payload["days_overdue"]
        if days_overdue > ctx.escalation_business_days:
            planned.reminders += remind(
                ctx,
                ReminderTopic.MONITORING_ESCALATION,
                row.case_id,
                due,
                ctx.supervisors_for(row.coordinator.team),
                {**payload, "coordinator": row.coordinator.login or ""},
            )
            if not row.overdue:
                planned.marks.append(OverdueMark(row.case_id, row.number, row.due_on, due, days_overdue))
    return planned


SWEEP = Sweep[MonitoringDue](
    name="monitoring_due",
    ja="モニタリング期限",
    fetch=fetch,
    cursor_of=lambda row: (row.due_on, row.case_id),
    plan=plan,
)
