"""Dates make sense, and a closed case takes late entries (後日入力) without being reopened.

Every business date is checked: none in the future, none before the case was opened, no
reopening before the closure, no plan approved at a meeting held before it was drafted — each
refused with both dates named, writing nothing. A contact, outreach, a meeting or a monitoring
record dated on or before a closure is added to the closed episode as it is, marked in the
audit, on either shipped lifecycle.
"""

from __future__ import annotations

import datetime as dt
from functools import partial
from pathlib import Path

import pytest
from sqlmodel import Session, select

from models import AuditEvent, Case
from states import LifecycleMachine, load_lifecycle
from tests.factories import World, attendees, contact, fire, open_case, plan_data, to_monitoring
from tests.service.refusals import assert_refused
from yorisoi.errors import GuardFailed, InvalidInput, TriggerNotAllowed
from yorisoi.jpdates import today_tokyo
from yorisoi.reports.build import build_annual
from yorisoi.service import cases
from yorisoi.service.audit import verify_chains
from yorisoi.service.registry import RESERVED_NAMES
from yorisoi.settings import get_settings

SHIPPED = Path(__file__).resolve().parents[2] / "states" / "lifecycles"
OPENED, CLOSED = dt.date(2025, 6, 2), dt.date(2025, 9, 5)


def _close(session: Session, world: World, machine: LifecycleMachine, case_id: int) -> None:
    closure = {"reason": "goals_met", "evaluation": "安定した", "proposed_on": CLOSED}
    fire(session, machine, case_id, "propose_closure", world.coordinator, **closure)
    fire(session, machine, case_id, "approve_closure", world.supervisor, decided_on=CLOSED)


def test_records_dated_in_the_future_are_refused(
    session: Session, world: World, machine: LifecycleMachine
) -> None:
    case_id = open_case(session, world, machine).case_id
    tomorrow = today_tokyo() + dt.timedelta(days=1)
    refused = assert_refused(
        session,
        InvalidInput,
        partial(
            fire, session, machine, case_id, "add_contact", world.coordinator, **contact(world, on=tomorrow)
        ),
    )
    assert f"相談日: 未来の日付は記録できません（{tomorrow}）" in refused.ja
    assert "in the future" in refused.en
    born_tomorrow = partial(
        cases.open_case,
        session=session,
        actor=world.coordinator,
        machine=machine,
        person={"name": "山田 花子", "birth_date": tomorrow},
        contact=contact(world),
    )
    assert "本人・生年月日: 未来の日付" in assert_refused(session, InvalidInput, born_tomorrow).ja


def test_records_dated_before_the_case_was_opened_are_refused(
    session: Session, world: World, machine: LifecycleMachine
) -> None:
    case_id = open_case(session, world, machine, on=OPENED).case_id
    visit = partial(
        fire,
        session,
        machine,
        case_id,
        "log_outreach",
        world.coordinator,
        kind="home_visit",
        done_on=dt.date(2025, 6, 1),
    )
    refused = assert_refused(session, InvalidInput, visit)
    assert "「アウトリーチの記録」の日付（2025年6月1日）がケース" in refused.ja
    assert "受付日（2025年6月2日）より前です" in refused.ja


def test_reopen_before_the_closure_is_refused(
    session: Session, world: World, machine: LifecycleMachine
) -> None:
    case_id = open_case(session, world, machine, on=OPENED).case_id
    _close(session, world, machine, case_id)
    early = partial(
        fire,
        session,
        machine,
        case_id,
        "reopen",
        world.coordinator,
        contact=contact(world, on=dt.date(2025, 9, 4)),
    )
    refused = assert_refused(session, InvalidInput, early)
    assert "再開の相談日（2025年9月4日）が終結日（2025年9月5日）より前です" in refused.ja
    fire(session, machine, case_id, "reopen", world.coordinator, contact=contact(world, on=CLOSED))


def test_plan_approved_at_a_meeting_held_before_the_draft_is_refused(
    session: Session, world: World, machine: LifecycleMachine
) -> None:
    case_id = open_case(session, world, machine).case_id
    meeting_id = to_monitoring(session, world, machine, case_id)  # meeting and draft 2025-06-20
    fire(
        session,
        machine,
        case_id,
        "revise_plan",
        world.coordinator,
        **plan_data(world, on=dt.date(2025, 7, 1)),
    )
    approve = partial(
        fire,
        session,
        machine,
        case_id,
        "approve_plan",
        world.supervisor,
        meeting_id=meeting_id,
        approved_on=dt.date(2025, 7, 2),
    )
    refused = assert_refused(session, GuardFailed, approve)
    assert "会議（2025年6月20日）はプラン第2版の作成（2025年7月1日）より前です" in refused.ja


@pytest.mark.parametrize("lifecycle", ["default.yaml", "tsunagi.yaml"])
def test_late_entries_join_the_closed_episode_without_reopening(
    session: Session, world: World, lifecycle: str
) -> None:
    machine = LifecycleMachine(load_lifecycle(SHIPPED / lifecycle, reserved=RESERVED_NAMES))
    case_id = open_case(session, world, machine, on=OPENED).case_id
    fire(session, machine, case_id, "start_assessment", world.coordinator)
    _close(session, world, machine, case_id)
    closed = session.get(Case, case_id)
    assert closed is not None
    stage, version = closed.stage, closed.version
    late = dt.date(2025, 8, 1)
    fire(session, machine, case_id, "add_contact", world.coordinator, **contact(world, on=late))
    fire(session, machine, case_id, "log_outreach", world.coordinator, kind="home_visit", done_on=late)
    fire(
        session,
        machine,
        case_id,
        "hold_support_meeting",
        world.coordinator,
        held_on=late,
        attendees=attendees(world.elderly),
    )
    session.expire_all()
    case = session.get(Case, case_id)
    assert case is not None
    assert (case.stage, case.closed_on, case.episode, case.version) == (stage, CLOSED, 1, version + 3)
    events = session.exec(
        select(AuditEvent).where(AuditEvent.case_id == case_id, AuditEvent.seq > version)
    ).all()
    assert [e.payload.get("late_entry") for e in events] == [True, True, True]
    assert {(e.from_stage, e.to_stage) for e in events} == {(stage, stage)}
    assert verify_chains(session, machine).ok
    report = build_annual(
        session, fiscal_year=2025, as_of=dt.date(2026, 3, 31), topics=get_settings().topics()
    )
    assert (report.meetings.support_meetings, report.coordination.home_visits) == (1, 1)
    assert report.consultation.total.contacts == 2


def test_late_entries_keep_their_actions_rules_and_stop_at_the_closure(
    session: Session, world: World, machine: LifecycleMachine
) -> None:
    case_id = open_case(session, world, machine, on=OPENED).case_id
    _close(session, world, machine, case_id)
    unbound = partial(
        fire,
        session,
        machine,
        case_id,
        "hold_support_meeting",
        world.coordinator,
        held_on=dt.date(2025, 8, 1),
        attendees=attendees(world.elderly, acknowledged=False),
    )
    assert [r.guard for r in assert_refused(session, GuardFailed, unbound).refusals] == [
        "attendees_bound_to_confidentiality"
    ]
    after = partial(
        fire,
        session,
        machine,
        case_id,
        "log_outreach",
        world.coordinator,
        kind="home_visit",
        done_on=dt.date(2025, 9, 6),
    )
    refused = assert_refused(session, TriggerNotAllowed, after)
    assert "2025年9月5日 に終結しています" in refused.ja and "再開してから記録してください" in refused.ja
    # A contact after the closure is アフターフォロー, as before: not a late entry.
    fire(
        session, machine, case_id, "add_contact", world.coordinator, **contact(world, on=dt.date(2025, 9, 6))
    )
    case = session.get(Case, case_id)
    assert case is not None
    last = session.exec(
        select(AuditEvent).where(AuditEvent.case_id == case_id, AuditEvent.seq == case.version)
    ).one()
    assert "late_entry" not in last.payload


def test_late_monitoring_record_leaves_the_closed_case_without_a_monitoring_date(
    session: Session, world: World, machine: LifecycleMachine
) -> None:
    case_id = open_case(session, world, machine).case_id
    to_monitoring(session, world, machine, case_id)  # approved 2025-06-25
    _close(session, world, machine, case_id)
    fire(
        session,
        machine,
        case_id,
        "record_monitoring",
        world.coordinator,
        held_on=dt.date(2025, 8, 20),
        summary="安定",
    )
    session.expire_all()
    case = session.get(Case, case_id)
    assert case is not None and case.next_monitoring_on is None and case.closed_on == CLOSED
    last = session.exec(
        select(AuditEvent).where(AuditEvent.case_id == case_id, AuditEvent.seq == case.version)
    ).one()
    assert last.payload["late_entry"] is True and last.payload["on"] == "2025-08-20"
