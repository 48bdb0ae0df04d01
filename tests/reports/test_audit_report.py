"""The supervisor's audit: honest approvals listed, forged ones (written around the service) reported."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from sqlmodel import Session, col, select

from models import AuditEvent, Closure, Meeting, Plan
from models.keys import key
from states import LifecycleMachine
from tests.factories import (
    World,
    attendees,
    fire,
    give_consent,
    open_case,
    to_monitoring,
    to_multilayer_meeting,
)
from yorisoi.reports.audit import AuditReport, audit_sheets, build_audit

START, END, TODAY = dt.date(2025, 4, 1), dt.date(2026, 3, 31), dt.date(2025, 8, 1)


def _audit(session: Session, machine: LifecycleMachine, today: dt.date = TODAY) -> AuditReport:
    return build_audit(session, machine, start=START, end=END, today=today)


def _codes(report: AuditReport) -> set[tuple[str, str]]:
    return {(f.case_number, f.code) for f in report.findings}


def _close(session: Session, world: World, machine: LifecycleMachine, case_id: int, on: dt.date) -> None:
    fire(
        session, machine, case_id, "propose_closure", world.coordinator,
        proposed_on=on, reason="goals_met", evaluation="目標を達成した",
    )  # fmt: skip
    fire(session, machine, case_id, "approve_closure", world.supervisor, decided_on=on)


def test_audit_lists_approvals_and_closures_with_who_and_when(
    session: Session, world: World, machine: LifecycleMachine
) -> None:
    case = open_case(session, world, machine)
    meeting_id = to_monitoring(session, world, machine, case.case_id)
    _close(session, world, machine, case.case_id, dt.date(2025, 9, 1))
    report = _audit(session, machine)
    assert report.clean and report.findings == []
    (approval,) = report.plan_approvals
    assert (approval.case_number, approval.version) == (case.number, 1)
    assert approval.author == "田中 花子 (tanaka)" and approval.approver == "佐藤 一郎 (sato)"
    assert (approval.approved_on, approval.meeting_id) == (dt.date(2025, 6, 25), meeting_id)
    assert (approval.meeting_kind, approval.meeting_held_on) == ("multilayer_meeting", dt.date(2025, 6, 20))
    (closure,) = report.closures
    assert (closure.proposer, closure.decider) == ("田中 花子 (tanaka)", "佐藤 一郎 (sato)")
    assert (closure.decided_on, closure.last_meeting_id) == (dt.date(2025, 9, 1), meeting_id)
    assert report.verified.ok and report.verified.cases == 1
    # Outside the period: nothing listed.
    later = build_audit(session, machine, start=dt.date(2026, 4, 1), end=dt.date(2026, 4, 30), today=TODAY)
    assert later.plan_approvals == [] and later.closures == []


def test_audit_reports_forged_four_eyes_violations_and_approvals_without_a_meeting(
    session: Session, world: World, machine: LifecycleMachine
) -> None:
    own = open_case(session, world, machine)
    to_monitoring(session, world, machine, own.case_id)
    # Forged: the approver rewritten to the plan's author.
    session.execute(
        sa.update(Plan).where(col(Plan.case_id) == own.case_id).values(approved_by=Plan.author_id)
    )
    # Forged: an approved plan inserted with no meeting at all.
    bare = open_case(session, world, machine)
    session.add(
        Plan(
            case_id=bare.case_id,
            version=1,
            status="approved",
            author_id=key(world.coordinator),
            drafted_on=dt.date(2025, 7, 1),
            monitoring_interval_days=30,
            approved_by=world.supervisor.id,
            approved_on=dt.date(2025, 7, 2),
        )
    )
    # Forged: an approval pointed at another case's 支援会議.
    other = open_case(session, world, machine)
    fire(session, machine, other.case_id, "start_assessment", world.coordinator)
    fire(
        session, machine, other.case_id, "hold_support_meeting", world.coordinator,
        held_on=dt.date(2025, 6, 3), attendees=attendees(world.elderly),
    )  # fmt: skip
    support_meeting = session.exec(select(Meeting.id).where(Meeting.case_id == other.case_id)).one()
    moved = open_case(session, world, machine)
    to_monitoring(session, world, machine, moved.case_id)
    session.execute(
        sa.update(Plan).where(col(Plan.case_id) == moved.case_id).values(meeting_id=support_meeting)
    )
    # Forged: a closure decided by its own proposer.
    closed = open_case(session, world, machine)
    _close(session, world, machine, closed.case_id, dt.date(2025, 9, 1))
    session.execute(
        sa.update(Closure)
        .where(col(Closure.case_id) == closed.case_id)
        .values(decided_by=Closure.proposed_by)
    )
    session.commit()

    report = _audit(session, machine)
    assert _codes(report) == {
        (own.number, "four_eyes_plan"),
        (bare.number, "plan_without_meeting"),
        (moved.number, "plan_without_meeting"),
        (moved.number, "plan_meeting_other_case"),
        (moved.number, "plan_meeting_before_draft"),
        (closed.number, "four_eyes_closure"),
    }
    assert not report.clean
    # The forgeries bypassed the audit trail, and the tables no longer say what its events say.
    assert {(p.case_number, p.seq, p.code) for p in report.verified.problems} == {
        (own.number, 6, "record"),  # the approve_plan event names sato, the row tanaka
        (bare.number, None, "record"),  # no event made the inserted plan
        (moved.number, 6, "record"),  # the approval's meeting
        (closed.number, 3, "record"),  # the approve_closure event names sato
    }
    assert any("承認者が監査記録と違います（表: tanaka (#" in p.ja for p in report.verified.problems)
    findings = next(s for s in audit_sheets(report, machine) if s.key == "findings")
    assert {row[0] for row in findings.rows} == {own.number, bare.number, moved.number, closed.number}
    assert any("二者確認の原則に反します" in str(row[2]) for row in findings.rows)


def test_audit_verifies_the_hash_chains(session: Session, world: World, machine: LifecycleMachine) -> None:
    case = open_case(session, world, machine)
    to_monitoring(session, world, machine, case.case_id)
    first = session.exec(
        select(AuditEvent).where(AuditEvent.case_id == case.case_id).order_by(col(AuditEvent.seq))
    ).first()
    assert first is not None
    first.payload = {**first.payload, "person_id": 999}
    session.add(first)
    session.commit()
    report = _audit(session, machine)
    assert not report.verified.ok and not report.clean
    (problem,) = report.verified.problems
    assert (problem.case_number, problem.seq) == (case.number, 1)
    chain = next(s for s in audit_sheets(report, machine) if s.key == "chain")
    assert chain.rows == [[case.number, 1, problem.ja]]
    assert "1 ケースに異常" in chain.title


def test_audit_lists_withdrawn_consents_but_not_replaced_ones(
    session: Session, world: World, machine: LifecycleMachine
) -> None:
    withdrawn = open_case(session, world, machine)
    to_multilayer_meeting(session, world, machine, withdrawn.case_id)
    fire(
        session,
        machine,
        withdrawn.case_id,
        "withdraw_consent",
        world.coordinator,
        withdrawn_on=dt.date(2025, 7, 1),
    )
    replaced = open_case(session, world, machine)
    give_consent(session, world, machine, replaced.case_id, on=dt.date(2025, 6, 2))
    give_consent(session, world, machine, replaced.case_id, on=dt.date(2025, 6, 15))
    report = _audit(session, machine)
    assert [(w.case_number, w.given_on, w.withdrawn_on) for w in report.withdrawn] == [
        (withdrawn.number, dt.date(2025, 6, 10), dt.date(2025, 7, 1))
    ]
    assert report.withdrawn[0].withdrawn_by == "田中 花子 (tanaka)"


def test_audit_lists_cases_overdue_for_monitoring(
    session: Session, world: World, machine: LifecycleMachine
) -> None:
    case = open_case(session, world, machine)
    to_monitoring(session, world, machine, case.case_id)  # approved 2025-06-25, every 30 days
    assert _audit(session, machine, today=dt.date(2025, 7, 25)).overdue == []
    (overdue,) = _audit(session, machine, today=dt.date(2025, 8, 1)).overdue
    assert (overdue.number, overdue.due_on) == (case.number, dt.date(2025, 7, 25))
    sheet = next(s for s in audit_sheets(_audit(session, machine), machine) if s.key == "overdue")
    assert sheet.rows == [[case.number, "支援・モニタリング", "2025-07-25", 7, "田中 花子 (tanaka)"]]
