"""audit verify compares the records with the events that made them: a row changed, inserted or
deleted behind the service is reported with the case number and the event that says otherwise."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
import sqlalchemy as sa
from sqlmodel import Session, col, select

from models import AuditEvent, Case, Closure, Consent, ConsentAgency, Meeting, MeetingAttendee, Plan
from models.audit import event_hash
from models.case import GENESIS_HASH
from models.keys import key
from states import LifecycleMachine
from tests.factories import World, attendees, fire, give_consent, open_case, plan_data, to_monitoring
from yorisoi.service import integrity
from yorisoi.service.audit import ChainReport, verify_chains
from yorisoi.service.registry import ACTIONS, SYSTEM_EVENTS


def _walk(session: Session, world: World, machine: LifecycleMachine) -> tuple[int, str]:
    """A case through most of what it can do: a plan sent back, drafted again, approved,
    revised and approved again; consent withdrawn and given again; closed and reopened."""
    case = open_case(session, world, machine)
    cid = case.case_id
    to_monitoring(session, world, machine, cid)
    fire(session, machine, cid, "record_monitoring", world.coordinator, summary="外出できた",
         held_on=dt.date(2025, 7, 20))  # fmt: skip
    fire(session, machine, cid, "revise_plan", world.coordinator, **plan_data(world, on=dt.date(2025, 7, 21)))
    fire(session, machine, cid, "return_plan", world.supervisor, reason="目標をもう少し具体的に",
         returned_on=dt.date(2025, 7, 22))  # fmt: skip
    fire(session, machine, cid, "draft_plan", world.coordinator, **plan_data(world, on=dt.date(2025, 7, 23)))
    fire(session, machine, cid, "hold_multilayer_meeting", world.coordinator, held_on=dt.date(2025, 7, 24),
         attendees=attendees(world.elderly, world.poverty))  # fmt: skip
    meeting = session.exec(
        select(Meeting.id).where(Meeting.case_id == cid).order_by(col(Meeting.id).desc())
    ).first()
    fire(session, machine, cid, "approve_plan", world.supervisor, meeting_id=meeting,
         approved_on=dt.date(2025, 7, 25))  # fmt: skip
    fire(session, machine, cid, "withdraw_consent", world.coordinator, withdrawn_on=dt.date(2025, 8, 1))
    give_consent(session, world, machine, cid, on=dt.date(2025, 8, 5))
    fire(session, machine, cid, "propose_closure", world.coordinator, reason="goals_met",
         evaluation="目標を達成した", proposed_on=dt.date(2025, 9, 1))  # fmt: skip
    fire(session, machine, cid, "reject_closure", world.supervisor, decided_on=dt.date(2025, 9, 2))
    fire(session, machine, cid, "propose_closure", world.coordinator, reason="goals_met",
         evaluation="目標を達成した", proposed_on=dt.date(2025, 9, 3))  # fmt: skip
    fire(session, machine, cid, "approve_closure", world.supervisor, decided_on=dt.date(2025, 9, 4))
    fire(session, machine, cid, "reopen", world.coordinator,
         contact={"contacted_on": dt.date(2025, 10, 1), "referrer": "self", "method": "phone",
                  "topics": ["income"]})  # fmt: skip
    return cid, case.number


@pytest.fixture(name="walked")
def walked_fixture(session: Session, world: World, machine: LifecycleMachine) -> tuple[int, str]:
    walked = _walk(session, world, machine)
    open_case(session, world, machine)  # an untouched neighbour, never reported
    return walked


def _raw(session: Session, statement: Any) -> None:
    """Change the database directly, as someone with SQL access could."""
    session.execute(statement)
    session.commit()
    session.expire_all()


def _problems(report: ChainReport) -> list[tuple[str, int | None, str]]:
    return [(p.case_number, p.seq, p.code) for p in report.problems]


def _seq_of(session: Session, case_id: int, action: str, nth: int = -1) -> int:
    seqs = session.exec(
        select(AuditEvent.seq).where(AuditEvent.case_id == case_id, AuditEvent.action == action)
        .order_by(col(AuditEvent.seq))
    ).all()  # fmt: skip
    return seqs[nth]


def test_verify_compares_every_record_of_a_long_walk(
    session: Session, machine: LifecycleMachine, walked: tuple[int, str]
) -> None:
    report = verify_chains(session, machine)
    assert report.ok, report.problems
    assert report.not_compared == ()  # every event of this version carries every fact


def test_verify_reports_a_forged_plan_approver_with_the_case_number(
    session: Session, world: World, machine: LifecycleMachine, walked: tuple[int, str]
) -> None:
    case_id, number = walked
    approved = session.exec(select(Plan).where(Plan.case_id == case_id, Plan.status == "approved")).one()
    _raw(session, sa.update(Plan).where(col(Plan.id) == approved.id).values(approved_by=Plan.author_id))
    report = verify_chains(session, machine)
    assert _problems(report) == [(number, _seq_of(session, case_id, "approve_plan"), "record")]
    problem = report.problems[0]
    assert problem.ja == (
        f"支援プラン（ID {approved.id}）の承認者が監査記録と違います"
        f"（表: tanaka (#{world.coordinator.id})、監査記録: sato (#{world.supervisor.id})）。"
    )
    assert "approved_by" in problem.en


def test_verify_reports_a_forged_closure_decider(
    session: Session, machine: LifecycleMachine, walked: tuple[int, str]
) -> None:
    case_id, number = walked
    approved = session.exec(
        select(Closure).where(Closure.case_id == case_id, Closure.status == "approved")
    ).one()
    _raw(
        session,
        sa.update(Closure).where(col(Closure.id) == approved.id).values(decided_by=Closure.proposed_by),
    )
    report = verify_chains(session, machine)
    assert _problems(report) == [(number, _seq_of(session, case_id, "approve_closure"), "record")]
    assert f"終結（ID {approved.id}）の決定者が監査記録と違います" in report.problems[0].ja


def _ids(model: Any, case_id: int) -> Any:
    return sa.select(model.id).where(model.case_id == case_id)


FORGERIES: dict[str, tuple[str, Any]] = {
    # name: (what the problem says, the UPDATE/DELETE for case c in world w)
    "plan meeting": ("承認した会議", lambda c, w: sa.update(Plan).where(
        col(Plan.case_id) == c, col(Plan.status) == "approved").values(meeting_id=None)),
    "plan status": ("の状態が", lambda c, w: sa.update(Plan).where(
        col(Plan.case_id) == c, col(Plan.status) == "returned").values(status="approved")),
    "plan approval day": ("承認日", lambda c, w: sa.update(Plan).where(
        col(Plan.case_id) == c, col(Plan.status) == "approved").values(approved_on=dt.date(2025, 6, 1))),
    "closure reason": ("終結理由", lambda c, w: sa.update(Closure).where(
        col(Closure.case_id) == c).values(reason="moved_out")),
    "consent withdrawal": ("終了日", lambda c, w: sa.update(Consent).where(
        col(Consent.case_id) == c).values(withdrawn_on=None, withdrawn_by=None)),
    "consent scope": ("同意の範囲", lambda c, w: sa.delete(ConsentAgency).where(
        col(ConsentAgency.consent_id).in_(_ids(Consent, c)), col(ConsentAgency.agency_id) == w.elderly.id)),
    "meeting day": ("開催日", lambda c, w: sa.update(Meeting).where(
        col(Meeting.case_id) == c).values(held_on=dt.date(2025, 1, 1))),
    "confidentiality": ("守秘義務", lambda c, w: sa.update(MeetingAttendee).where(
        col(MeetingAttendee.meeting_id).in_(_ids(Meeting, c))).values(confidentiality_acknowledged=False)),
    "case closed_on": ("ケースの終結日", lambda c, w: sa.update(Case).where(
        col(Case.id) == c).values(closed_on=dt.date(2025, 9, 4))),
    "case coordinator": ("ケースの担当者", lambda c, w: sa.update(Case).where(
        col(Case.id) == c).values(coordinator_id=w.coordinator2.id)),
    "case monitoring": ("次回モニタリング日", lambda c, w: sa.update(Case).where(
        col(Case.id) == c).values(next_monitoring_on=dt.date(2030, 1, 1))),
    "case person": ("ケースの本人", lambda c, w: sa.update(Case).where(col(Case.id) == c).values(
        person_id=sa.select(col(Case.person_id)).where(col(Case.id) != c).limit(1).scalar_subquery())),
}  # fmt: skip


def test_verify_reports_a_record_changed_behind_the_service(
    session: Session, world: World, machine: LifecycleMachine, walked: tuple[int, str]
) -> None:
    """Each forgery on the same walked case, undone (rolled back) before the next."""
    case_id, number = walked
    for forgery, (says, forge) in FORGERIES.items():
        session.execute(forge(case_id, world))  # seen by verify in this transaction, then undone
        report = verify_chains(session, machine)
        session.rollback()
        found = [(p.case_number, p.code, p.seq is not None) for p in report.problems]
        assert found and set(found) == {(number, "record", True)}, (forgery, found)
        assert any(says in p.ja for p in report.problems), (forgery, [p.ja for p in report.problems])
    assert verify_chains(session, machine).ok


def test_verify_reports_rows_no_event_made_and_rows_gone(
    session: Session, world: World, machine: LifecycleMachine, walked: tuple[int, str]
) -> None:
    case_id, number = walked
    meeting = session.exec(select(Meeting).where(Meeting.case_id == case_id)).first()
    assert meeting is not None
    session.add(
        Plan(case_id=case_id, version=9, status="approved", author_id=key(world.coordinator),
             drafted_on=dt.date(2025, 7, 1), monitoring_interval_days=30, approved_by=key(world.supervisor2),
             approved_on=dt.date(2025, 7, 2), meeting_id=meeting.id)
    )  # fmt: skip
    session.commit()
    inserted = session.exec(select(Plan.id).where(Plan.version == 9)).one()
    other = open_case(session, world, machine)
    fire(session, machine, other.case_id, "start_assessment", world.coordinator)
    fire(session, machine, other.case_id, "hold_support_meeting", world.coordinator,
         held_on=dt.date(2025, 6, 5), attendees=attendees(world.elderly))  # fmt: skip
    support = session.exec(select(Meeting.id).where(Meeting.case_id == other.case_id)).one()
    _raw(session, sa.delete(MeetingAttendee).where(col(MeetingAttendee.meeting_id) == support))
    _raw(session, sa.delete(Meeting).where(col(Meeting.id) == support))

    report = verify_chains(session, machine)
    made = _seq_of(session, other.case_id, "hold_support_meeting")
    assert sorted(_problems(report), key=str) == sorted(
        [(number, None, "record"), (other.number, made, "record")], key=str
    )
    by_case = {p.case_number: p.ja for p in report.problems}
    assert by_case[number] == (
        f"支援プラン（ID {inserted}）を作成した監査記録がありません"
        "（監査記録を経ずに追加・移動された可能性）。"
    )
    assert (
        by_case[other.number] == f"監査記録にある会議（ID {support}）が表にありません（削除・移動の可能性）。"
    )


def test_every_action_that_writes_a_compared_record_is_replayed() -> None:
    """A new action that writes plans, closures, consents or meetings needs a handler."""
    writes_none_of_them = {
        "note", "start_assessment", "record_monitoring", "hand_over", "reopen", "add_contact",
        "log_outreach", "enrol_in_program", "record_program_exit", "correct_details",
    }  # fmt: skip
    assert set(integrity.HANDLERS) | writes_none_of_them == set(ACTIONS)
    assert not set(integrity.HANDLERS) & writes_none_of_them
    assert not set(integrity.HANDLERS) & set(SYSTEM_EVENTS)


# --- databases written before the events carried every fact --------------------------------

NEW_KEYS = {
    "case", "status", "approved_by", "approved_on", "author_id", "drafted_on", "monitoring_interval_days",
    "superseded", "returned_by", "returned_on", "reason_text", "proposed_by", "proposed_on", "decided_by",
    "decided_on", "given_on", "method", "recorded_by", "consent_ids", "withdrawn_on", "withdrawn_by",
    "held_on", "acknowledged",
}  # fmt: skip
"""What this version added to the payloads; the rest (plan_id, meeting_id, author_id of an
approval, proposed_by of a decision, agency_ids, replaced …) events always carried."""
ALWAYS_CARRIED = {
    "approve_plan": {"author_id"},
    "return_plan": {"author_id"},
    "approve_closure": {"proposed_by"},
    "reject_closure": {"proposed_by"},
}


def _as_written_before(session: Session, case_id: int) -> None:
    """Rewrite the case's events as the previous version wrote them: without the new facts, the
    chain hashed again (so only the records can tell)."""
    events = session.exec(
        select(AuditEvent).where(AuditEvent.case_id == case_id).order_by(col(AuditEvent.seq))
    ).all()
    prev = GENESIS_HASH
    for event in events:
        keep = ALWAYS_CARRIED.get(event.action, set())
        payload = {k: v for k, v in event.payload.items() if k not in NEW_KEYS or k in keep}
        if event.action == "withdraw_consent":
            payload["consents"] = event.payload["consents"]
        digest = event_hash(
            prev_hash=prev, case_id=event.case_id, seq=event.seq, episode=event.episode, action=event.action,
            from_stage=event.from_stage, to_stage=event.to_stage, actor_id=event.actor_id,
            occurred_at=event.occurred_at, payload=payload,
        )  # fmt: skip
        session.execute(
            sa.update(AuditEvent)
            .where(col(AuditEvent.id) == event.id)
            .values(payload=payload, prev_hash=prev, hash=digest)
        )
        prev = digest
    session.execute(sa.update(Case).where(col(Case.id) == case_id).values(audit_head=prev))
    session.commit()
    session.expire_all()


def test_verify_stays_ok_on_events_written_before_and_says_what_it_could_not_compare(
    session: Session, machine: LifecycleMachine, walked: tuple[int, str]
) -> None:
    case_id, _number = walked
    _as_written_before(session, case_id)
    report = verify_chains(session, machine)
    assert report.ok, report.problems
    not_compared = dict(report.not_compared)
    assert not_compared["終結・理由の記載"] == 2 and not_compared["本人同意・同意の方法"] == 2
    assert not_compared["ケース・担当者"] == 1 and "ケース・終結日" in not_compared
    assert "支援プラン・承認者" not in not_compared and "終結・決定者" not in not_compared
    assert any("照合していない項目" in note and "終結・理由の記載 2 件" in note for note in report.notes())


def test_verify_finds_a_forged_approver_and_decider_in_events_written_before(
    session: Session, machine: LifecycleMachine, walked: tuple[int, str]
) -> None:
    """The actor of an old approve_plan / approve_closure event is the approver / decider."""
    case_id, number = walked
    _as_written_before(session, case_id)
    _raw(session, sa.update(Plan).where(col(Plan.case_id) == case_id, col(Plan.status) == "approved")
         .values(approved_by=Plan.author_id))  # fmt: skip
    _raw(session, sa.update(Closure).where(col(Closure.case_id) == case_id, col(Closure.status) == "approved")
         .values(decided_by=Closure.proposed_by))  # fmt: skip
    report = verify_chains(session, machine)
    assert _problems(report) == [
        (number, _seq_of(session, case_id, "approve_plan"), "record"),
        (number, _seq_of(session, case_id, "approve_closure"), "record"),
    ]
