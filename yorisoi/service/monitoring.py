"""Monitoring overdue marks: the sweep's one change to a case, made as an audited action.

A case whose monitoring is overdue past the escalation threshold gets `overdue=True` (shown in
`case list`). The mark is an action like any other — one audit event and one outbox row per
case — recorded by the system (no actor). Recording the monitoring clears it again.

Built for the sweep: one call marks a whole batch of cases in one transaction, reading all
their heads in one query. A case that was marked, left the monitoring stage or got a new
monitoring date since the sweep looked at it is skipped, so a re-run changes nothing.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Sequence
from dataclasses import dataclass

from sqlalchemy import Table
from sqlmodel import Session

from models import Case
from yorisoi.service.cases import Fired
from yorisoi.service.journal import CaseChange, CaseHead, append_events, head_query

MARK_OVERDUE = "mark_overdue"

_case: Table = Case.__table__  # type: ignore[attr-defined]


@dataclass(frozen=True, slots=True)
class OverdueMark:
    """Mark `case_id` overdue for its monitoring date `scheduled_on` (as the case row holds it)."""

    case_id: int
    number: str
    scheduled_on: dt.date
    due_on: dt.date
    days_overdue: int


def mark_overdue(
    *, session: Session, marks: Sequence[OverdueMark], swept_on: dt.date, stages: Collection[str]
) -> list[Fired]:
    """Mark the cases overdue, one audited system action each, in one transaction; commits.

    `stages`: where monitoring runs (the lifecycle's `kind: monitoring` stages); a case that
    has left them since the sweep looked is skipped."""
    if not marks:
        return []
    wanted = {mark.case_id: mark for mark in marks}
    try:
        c = _case.c
        rows = session.execute(
            head_query(c.next_monitoring_on)
            .where(c.id.in_(wanted), c.overdue.is_(False), c.stage.in_(stages))
            .order_by(c.id)
        ).all()
        changes = []
        for row in rows:
            head, scheduled_on = CaseHead(*row[:-1]), row[-1]
            mark = wanted[head.id]
            if scheduled_on != mark.scheduled_on:
                continue
            payload = {
                "due_on": mark.due_on.isoformat(),
                "days_overdue": mark.days_overdue,
                "swept_on": swept_on.isoformat(),
            }
            changes.append(
                CaseChange(head, MARK_OVERDUE, head.stage, None, payload, case_updates={"overdue": True})
            )
        fired = [Fired.of(event) for event in append_events(session, changes)]
        session.commit()
    except BaseException:
        session.rollback()
        raise
    return fired
