"""The monitoring sweep: notice windows over real calendars, daily overdue reminders, escalation."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import Engine, select
from sqlmodel import Session, col

from models import AuditEvent
from states import LifecycleMachine
from tests import factories
from tests.factories import World
from tests.sweeps.helpers import case_row, monitoring_case, reminders, settings, summary, sweep
from yorisoi.service.audit import verify_chains

DUE = "reminder.monitoring_due"
OVERDUE = "reminder.monitoring_overdue"
ESCALATION = "escalation.monitoring_overdue"


def test_due_on_golden_week_holiday_moves_to_next_business_day(
    engine: Engine, session: Session, world: World, machine: LifecycleMachine
) -> None:
    # 2026: 5/2–5/6 are closed (5/6 振替休日); a 5/4 date is due on Thursday 5/7.
    holiday = monitoring_case(session, world, machine, dt.date(2026, 5, 4))
    later = monitoring_case(session, world, machine, dt.date(2026, 5, 11))

    result = sweep(engine, machine, dt.date(2026, 4, 30))

    rows = reminders(session, DUE)
    assert [(r.case_id, r.payload["due_on"], r.recipient) for r in rows] == [
        (holiday, "2026-05-07", "staff:tanaka")
    ]
    assert result.total_queued == 1
    # On Friday 5/1 the window reaches 5/11 (5/7, 5/8, 5/11); the 5/7 reminder is not queued again.
    sweep(engine, machine, dt.date(2026, 5, 1))
    assert [(r.case_id, r.payload["due_on"]) for r in reminders(session, DUE)] == [
        (holiday, "2026-05-07"),
        (later, "2026-05-11"),
    ]


def test_due_across_year_end_closure(
    engine: Engine, session: Session, world: World, machine: LifecycleMachine
) -> None:
    # 12/29–1/3 are closed and 1/4/2026 is a Sunday: a 12/30 date is due on Monday 1/5.
    case_id = monitoring_case(session, world, machine, dt.date(2025, 12, 30))

    sweep(engine, machine, dt.date(2025, 12, 24), config=settings(notice_business_days=2))
    assert reminders(session, DUE) == []
    sweep(engine, machine, dt.date(2025, 12, 26), config=settings(notice_business_days=2))
    rows = reminders(session, DUE)
    assert [(r.case_id, r.payload["due_on"]) for r in rows] == [(case_id, "2026-01-05")]
    assert rows[0].idempotency_key == f"{DUE}:{case_id}:2026-01-05:staff:tanaka"


def test_overdue_reminded_once_per_business_day(
    engine: Engine, session: Session, world: World, machine: LifecycleMachine
) -> None:
    case_id = monitoring_case(session, world, machine, dt.date(2025, 7, 1))

    for day in (dt.date(2025, 7, 3), dt.date(2025, 7, 3), dt.date(2025, 7, 4), dt.date(2025, 7, 4)):
        sweep(engine, machine, day)
    # A weekend is not swept at all.
    assert sweep(engine, machine, dt.date(2025, 7, 5)).closed_reason == "土曜日"
    sweep(engine, machine, dt.date(2025, 7, 7))

    rows = reminders(session, OVERDUE)
    assert [r.idempotency_key for r in rows] == [
        f"{OVERDUE}:{case_id}:{day}:staff:tanaka" for day in ("2025-07-03", "2025-07-04", "2025-07-07")
    ]
    assert [r.payload["days_overdue"] for r in rows] == [2, 3, 4]
    assert {r.payload["due_on"] for r in rows} == {"2025-07-01"}


def test_escalation_only_past_the_threshold_and_marks_case_overdue(
    engine: Engine, session: Session, world: World, machine: LifecycleMachine
) -> None:
    case_id = monitoring_case(session, world, machine, dt.date(2025, 7, 1))

    # 7/8 is 5 business days after 7/1: not yet past the threshold of 5.
    sweep(engine, machine, dt.date(2025, 7, 8))
    assert reminders(session, ESCALATION) == []
    assert case_row(session, case_id).overdue is False

    result = sweep(engine, machine, dt.date(2025, 7, 9))
    assert summary(reminders(session, ESCALATION)) == [
        (ESCALATION, case_row(session, case_id).number, "staff:sato"),
        (ESCALATION, case_row(session, case_id).number, "staff:suzuki"),
    ]
    assert reminders(session, ESCALATION)[0].payload["days_overdue"] == 6
    assert result.sweeps[0].marked == [case_row(session, case_id).number]
    case = case_row(session, case_id)
    assert case.overdue is True
    marks = session.execute(
        select(AuditEvent).where(col(AuditEvent.case_id) == case_id, col(AuditEvent.action) == "mark_overdue")
    ).scalars()
    mark = marks.one()
    session.commit()
    assert (mark.actor_id, mark.from_stage, mark.to_stage, mark.seq) == (
        None,
        "monitoring",
        "monitoring",
        case.version,
    )
    assert verify_chains(session, machine).ok
    session.commit()

    # The next day: another overdue reminder, but no second escalation and no second mark.
    again = sweep(engine, machine, dt.date(2025, 7, 10))
    assert again.sweeps[0].marked == []
    assert again.sweeps[0].queued == {OVERDUE: 1}
    assert case_row(session, case_id).version == case.version


def test_escalation_goes_to_the_coordinators_team_supervisors(
    engine: Engine, session: Session, world: World, machine: LifecycleMachine
) -> None:
    from yorisoi.service import directory

    directory.add_staff(
        session, login="east_c", name="東 コーディネーター", roles=["coordinator"], team="east"
    )
    directory.add_staff(
        session, login="east_sv", name="東 スーパーバイザー", roles=["supervisor"], team="east"
    )
    case_id = monitoring_case(session, world, machine, dt.date(2025, 7, 1))
    from sqlalchemy import update

    from models import Case, Staff

    east_c = session.execute(select(col(Staff.id)).where(col(Staff.login) == "east_c")).scalar_one()
    # Reassigning a coordinator is not part of this sweep; set it directly on the fixture data.
    session.execute(update(Case).where(col(Case.id) == case_id).values(coordinator_id=east_c))
    session.commit()

    sweep(engine, machine, dt.date(2025, 7, 9))

    assert {r.recipient for r in reminders(session, ESCALATION)} == {"staff:east_sv"}
    assert {r.recipient for r in reminders(session, OVERDUE)} == {"staff:east_c"}


def test_inactive_coordinator_reminders_go_to_supervisors(
    engine: Engine, session: Session, world: World, machine: LifecycleMachine
) -> None:
    from yorisoi.service import directory

    monitoring_case(session, world, machine, dt.date(2025, 7, 2))
    directory.set_staff_active(session, "tanaka", False)

    sweep(engine, machine, dt.date(2025, 7, 1))

    assert {r.recipient for r in reminders(session, DUE)} == {"staff:sato", "staff:suzuki"}


def test_rerun_enqueues_nothing_new(
    engine: Engine, session: Session, world: World, machine: LifecycleMachine
) -> None:
    for day in (dt.date(2025, 6, 23), dt.date(2025, 7, 2), dt.date(2025, 7, 4)):
        monitoring_case(session, world, machine, day)

    first = sweep(engine, machine, dt.date(2025, 7, 1))
    before = summary(reminders(session))
    second = sweep(engine, machine, dt.date(2025, 7, 1))

    assert first.total_queued == len(before) > 0
    assert second.total_queued == 0
    assert second.sweeps[0].marked == []
    assert summary(reminders(session)) == before


def test_sweep_killed_after_first_batch_then_rerun_queues_the_rest_once(
    engine: Engine, session: Session, world: World, machine: LifecycleMachine
) -> None:
    cases = [monitoring_case(session, world, machine, dt.date(2025, 7, 2)) for _ in range(5)]
    config = settings(batch_size=2)
    batches: list[int] = []

    def crash_after_first(batch: object) -> None:
        batches.append(1)
        raise RuntimeError("worker killed")

    with pytest.raises(RuntimeError, match="worker killed"):
        sweep(engine, machine, dt.date(2025, 7, 1), config=config, progress=crash_after_first)
    assert len(reminders(session, DUE)) == 2  # the first batch was committed

    result = sweep(engine, machine, dt.date(2025, 7, 1), config=config)

    assert result.sweeps[0].batches == 3
    assert result.total_queued == 3
    rows = reminders(session, DUE)
    assert sorted(r.case_id for r in rows if r.case_id is not None) == sorted(cases)
    assert len({r.idempotency_key for r in rows}) == 5


def test_dry_run_writes_nothing_and_reports_what_is_new(
    engine: Engine, session: Session, world: World, machine: LifecycleMachine
) -> None:
    case_id = monitoring_case(session, world, machine, dt.date(2025, 6, 23))

    dry = sweep(engine, machine, dt.date(2025, 7, 9), dry_run=True)

    assert dry.sweeps[0].queued == {OVERDUE: 1, ESCALATION: 2}
    assert dry.sweeps[0].marked == [case_row(session, case_id).number]
    assert reminders(session) == []
    assert case_row(session, case_id).overdue is False


def test_recording_monitoring_clears_overdue_and_stops_reminders(
    engine: Engine, session: Session, world: World, machine: LifecycleMachine
) -> None:
    case_id = monitoring_case(session, world, machine, dt.date(2025, 7, 1))
    sweep(engine, machine, dt.date(2025, 7, 9))
    assert case_row(session, case_id).overdue is True

    factories.fire(
        session,
        machine,
        case_id,
        "record_monitoring",
        world.coordinator,
        held_on=dt.date(2025, 7, 10),
        summary="訪問して確認",
        next_on=dt.date(2025, 10, 10),
    )
    assert case_row(session, case_id).overdue is False
    result = sweep(engine, machine, dt.date(2025, 7, 11))
    assert result.total_queued == 0


def test_cases_not_in_monitoring_are_left_out(
    engine: Engine, session: Session, world: World, machine: LifecycleMachine
) -> None:
    case_id = monitoring_case(session, world, machine, dt.date(2025, 7, 1))
    factories.fire(
        session, machine, case_id, "withdraw_consent", world.coordinator, withdrawn_on=dt.date(2025, 7, 2)
    )

    assert sweep(engine, machine, dt.date(2025, 7, 9)).total_queued == 0
