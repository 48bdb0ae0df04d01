"""上期/下期の進捗一覧: before each whole-system 重層的支援会議, a progress list for the supervisors.

The meetings are on the days `sweep.progress_meetings` names (MM-DD; a closed day moves to the
next business day). From `notice_business_days` business days before a meeting until its day,
every active supervisor gets one report per meeting: how many cases are open, how many of them
each stage holds (in the lifecycle's stage order, stages without a case left out) and the cases
whose monitoring is overdue (number, stage, due date, days late) — counts and case numbers only,
never names. The message carries only the fields the notification templates read.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlmodel import Session

from models.due import Cursor, OverdueCase, active_cases_by_stage, overdue_cases
from models.outbox import ReminderTopic
from yorisoi.jpdates import fiscal_year, fiscal_year_label
from yorisoi.sweeps.common import Planned, Sweep, SweepContext, remind


@dataclass(frozen=True, slots=True)
class ProgressReport:
    meeting_on: dt.date
    by_stage: dict[str, int]
    overdue: list[OverdueCase]


def half_of(day: dt.date) -> str:
    """上期 (April–September) or 下期 (October–March)."""
    return "上期" if 4 <= day.month <= 9 else "下期"


def meeting_due(ctx: SweepContext) -> dt.date | None:
    """The meeting whose report is due on `ctx.on` (inside its notice window), if any."""
    for year in (ctx.on.year - 1, ctx.on.year, ctx.on.year + 1):
        for text in ctx.progress_meetings:
            month, day = (int(part) for part in text.split("-"))
            if (month, day) == (2, 29) and not _leap(year):
                day = 28
            meeting = ctx.days.due(dt.date(year, month, day))
            notice_from = ctx.calendar.add_business_days(meeting, -ctx.notice_business_days)
            if notice_from <= ctx.on <= meeting:
                return meeting
    return None


def _leap(year: int) -> bool:
    return year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)


def fetch(session: Session, ctx: SweepContext, after: Cursor | None) -> list[ProgressReport]:
    meeting = meeting_due(ctx)
    if after is not None or meeting is None:
        return []
    return [
        ProgressReport(
            meeting_on=meeting,
            by_stage=active_cases_by_stage(session, final_stages=ctx.final_stages),
            overdue=overdue_cases(session, stages=ctx.monitoring_stages, on=ctx.on),
        )
    ]


def stage_counts(ctx: SweepContext, by_stage: dict[str, int]) -> list[dict[str, Any]]:
    """`{"stage_ja", "count"}` per stage holding open cases, in the lifecycle's stage order.

    A stage the lifecycle no longer names (cases left from an earlier definition) comes last,
    under its own name, so the counts always add up to the total.
    """
    order = {stage: i for i, stage in enumerate(ctx.stage_labels)}
    stages = sorted(by_stage, key=lambda stage: (order.get(stage, len(order)), stage))
    return [
        {"stage_ja": ctx.stage_labels.get(stage, stage), "count": by_stage[stage]}
        for stage in stages
        if by_stage[stage]
    ]


def plan(ctx: SweepContext, rows: list[ProgressReport]) -> Planned:
    planned = Planned()
    for report in rows:
        overdue = []
        for case in report.overdue:
            due = ctx.days.due(case.due_on or ctx.on)
            entry = ctx.case_payload(case.number, case.stage, due)
            overdue.append({k: entry[k] for k in ("case_number", "stage_ja", "due_on", "days_overdue")})
        period = fiscal_year_label(fiscal_year(report.meeting_on)) + half_of(report.meeting_on)
        payload = {
            "period_label": period,
            "due_on": report.meeting_on.isoformat(),
            "active_cases": sum(report.by_stage.values()),
            "stage_counts": stage_counts(ctx, report.by_stage),
            "cases": overdue,
            "link": f"{ctx.base_url}/cases",
        }
        planned.reminders += remind(
            ctx,
            ReminderTopic.HALF_YEAR_PROGRESS,
            None,
            report.meeting_on,
            [s.login for s in ctx.supervisors],
            payload,
        )
    return planned


SWEEP = Sweep[ProgressReport](
    name="half_year_progress",
    ja="上期・下期の進捗一覧",
    fetch=fetch,
    cursor_of=lambda report: (report.meeting_on, 0),
    plan=plan,
)
