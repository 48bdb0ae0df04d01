"""Short stays, plan reviews, consent reviews and the half-year progress list."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Engine
from sqlmodel import Session

from models.outreach import Program
from states import LifecycleMachine
from tests import factories
from tests.factories import World
from tests.sweeps.helpers import case_row, monitoring_case, release, reminders, settings, summary, sweep
from yorisoi.service import cases, directory
from yorisoi.sweeps.common import SweepContext
from yorisoi.sweeps.half_year_progress import stage_counts

ENDING = "reminder.short_stay_ending"
STAY_OVERDUE = "reminder.short_stay_overdue"
PLAN_REVIEW = "reminder.plan_review_due"
CONSENT_REVIEW = "reminder.consent_review"
PROGRESS = "report.half_year_progress"


def _short_stay(
    session: Session, world: World, machine: LifecycleMachine, start: dt.date, end: dt.date
) -> int:
    provider = directory.add_provider(
        session, name="シェルター中央", program=Program.SHORT_STAY, registered_on=dt.date(2024, 4, 1)
    )
    case_id = factories.open_case(session, world, machine).case_id
    cases.fire(
        action="enrol_in_program",
        session=session,
        case_id=case_id,
        actor=world.coordinator,
        machine=machine,
        provider_id=provider.id,
        start_on=start,
        end_on=end,
    )
    return case_id


def test_short_stay_ending_then_overdue_daily_until_exit(
    engine: Engine, session: Session, world: World, machine: LifecycleMachine
) -> None:
    case_id = _short_stay(session, world, machine, dt.date(2025, 7, 1), dt.date(2025, 7, 20))
    names = ("short_stay_ending",)

    assert sweep(engine, machine, dt.date(2025, 7, 16), names=names).total_queued == 0  # 4 days before
    sweep(engine, machine, dt.date(2025, 7, 17), names=names)
    sweep(engine, machine, dt.date(2025, 7, 18), names=names)
    ending = reminders(session, ENDING)
    assert [(r.case_id, r.payload["due_on"], r.recipient) for r in ending] == [
        (case_id, "2025-07-20", "staff:tanaka")
    ]

    # 7/21 is 海の日; on 7/22 and 7/23 the stay is past its end with no exit.
    sweep(engine, machine, dt.date(2025, 7, 22), names=names)
    sweep(engine, machine, dt.date(2025, 7, 22), names=names)
    sweep(engine, machine, dt.date(2025, 7, 23), names=names)
    overdue = reminders(session, STAY_OVERDUE)
    assert [r.idempotency_key.split(":")[2] for r in overdue] == ["2025-07-22", "2025-07-23"]
    assert [r.payload["days_overdue"] for r in overdue] == [2, 3]

    enrolment_id = _only_enrolment(session, case_id)
    cases.fire(
        session=session,
        case_id=case_id,
        action="record_program_exit",
        actor=world.coordinator,
        machine=machine,
        enrolment_id=enrolment_id,
        exited_on=dt.date(2025, 7, 23),
    )
    assert sweep(engine, machine, dt.date(2025, 7, 24), names=names).total_queued == 0


def _only_enrolment(session: Session, case_id: int) -> int:
    from sqlmodel import select

    from models import ProgramEnrolment

    enrolment_id = session.exec(select(ProgramEnrolment.id).where(ProgramEnrolment.case_id == case_id)).one()
    session.commit()
    assert enrolment_id is not None
    return enrolment_id


def test_plan_review_reminded_once_before_review_date(
    engine: Engine, session: Session, world: World, machine: LifecycleMachine
) -> None:
    case_id = monitoring_case(session, world, machine, dt.date(2026, 3, 1))
    names = ("plan_review_due",)
    # Approved 2025-06-25 + 180 days = Monday 2025-12-22; three business days before is 12/17.
    assert sweep(engine, machine, dt.date(2025, 12, 16), names=names).total_queued == 0
    sweep(engine, machine, dt.date(2025, 12, 17), names=names)
    sweep(engine, machine, dt.date(2025, 12, 23), names=names)

    rows = reminders(session, PLAN_REVIEW)
    assert [(r.case_id, r.payload["due_on"], r.recipient) for r in rows] == [
        (case_id, "2025-12-22", "staff:tanaka")
    ]


def test_consent_review_after_lifecycle_period(
    engine: Engine, session: Session, world: World, machine: LifecycleMachine
) -> None:
    case_id = monitoring_case(session, world, machine, dt.date(2026, 9, 1))
    names = ("consent_review",)
    # Given 2025-06-10 + 365 days = Wednesday 2026-06-10.
    assert sweep(engine, machine, dt.date(2026, 6, 4), names=names).total_queued == 0
    sweep(engine, machine, dt.date(2026, 6, 5), names=names)

    rows = reminders(session, CONSENT_REVIEW)
    assert [(r.case_id, r.payload["due_on"]) for r in rows] == [(case_id, "2026-06-10")]

    factories.fire(
        session, machine, case_id, "withdraw_consent", world.coordinator, withdrawn_on=dt.date(2026, 6, 8)
    )
    config = settings(notice_business_days=5)
    assert sweep(engine, machine, dt.date(2026, 6, 8), names=names, config=config).total_queued == 0


def test_half_year_progress_lists_counts_and_overdue_case_numbers(
    engine: Engine, session: Session, world: World, machine: LifecycleMachine
) -> None:
    late = monitoring_case(session, world, machine, dt.date(2025, 9, 1))
    monitoring_case(session, world, machine, dt.date(2025, 12, 1))
    factories.open_case(session, world, machine)
    names = ("half_year_progress",)
    # The 上期 meeting on 09-20 (a Saturday) moves to Monday 9/22; the list goes out from 9/17.
    assert sweep(engine, machine, dt.date(2025, 9, 16), names=names).total_queued == 0
    sweep(engine, machine, dt.date(2025, 9, 17), names=names)
    sweep(engine, machine, dt.date(2025, 9, 18), names=names)

    rows = reminders(session, PROGRESS)
    assert summary(rows) == [(PROGRESS, "-", "staff:sato"), (PROGRESS, "-", "staff:suzuki")]
    payload = rows[0].payload
    assert payload["period_label"] == "令和7年度上期"
    assert payload["due_on"] == "2025-09-22"
    assert payload["active_cases"] == 3
    # Lifecycle order, stages without a case left out; the counts add up to the total.
    assert payload["stage_counts"] == [
        {"stage_ja": "受付", "count": 1},
        {"stage_ja": "支援・モニタリング", "count": 2},
    ]
    assert sum(entry["count"] for entry in payload["stage_counts"]) == payload["active_cases"]
    assert payload["cases"] == [
        {
            "case_number": case_row(session, late).number,
            "stage_ja": "支援・モニタリング",
            "due_on": "2025-09-01",
            "days_overdue": 11,  # 9/15 was 敬老の日
        }
    ]
    assert rows[0].idempotency_key == f"{PROGRESS}:-:2025-09-22:staff:sato"


def test_half_year_stage_counts_follow_the_lifecycle_order(
    session: Session, machine: LifecycleMachine
) -> None:
    ctx = SweepContext.build(session, settings(), machine.lifecycle, on=dt.date(2025, 9, 17))
    release(session)
    by_stage = {"monitoring": 12, "retired": 1, "planning": 0, "assessment": 3, "intake": 2}

    assert stage_counts(ctx, by_stage) == [
        {"stage_ja": "受付", "count": 2},
        {"stage_ja": "アセスメント", "count": 3},
        {"stage_ja": "支援・モニタリング", "count": 12},
        {"stage_ja": "retired", "count": 1},  # a stage the lifecycle no longer has comes last
    ]


def test_closed_day_runs_no_sweep(
    engine: Engine, session: Session, world: World, machine: LifecycleMachine
) -> None:
    monitoring_case(session, world, machine, dt.date(2025, 12, 1))
    config = settings()
    config.calendar.closed_days = [dt.date(2025, 11, 28)]  # a municipality's own 閉庁日

    for day, reason in ((dt.date(2025, 11, 24), "勤労感謝の日 振替休日"), (dt.date(2025, 11, 28), "閉庁日")):
        result = sweep(engine, machine, day, config=config, names=("monitoring_due", "short_stay_ending"))
        assert (result.closed_reason, result.sweeps) == (reason, [])
    assert reminders(session) == []
