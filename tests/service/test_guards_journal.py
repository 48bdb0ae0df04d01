"""Every action writes exactly one audit event and one outbox message; the version counts them."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from sqlmodel import Session, col, select

from models import AuditEvent, Case, OutboxMessage
from states import LifecycleMachine
from tests.factories import World, attendees, contact, fire, latest_meeting_id, open_case, plan_data
from tests.service.refusals import journal_counts
from yorisoi.errors import VersionConflict
from yorisoi.service import cases, directory, journal
from yorisoi.service.audit import verify_chains
from yorisoi.service.cases import Fired
from yorisoi.service.journal import CASE_UPDATED, STAGE_CHANGED


def test_every_action_writes_one_audit_event_and_one_outbox_message(
    session: Session, world: World, machine: LifecycleMachine
) -> None:
    opened = open_case(session, world, machine)
    case_id = opened.case_id
    assert journal_counts(session, case_id) == (1, 1)
    provider = directory.add_provider(
        session, name="短期宿泊 あけぼの", program="program_short_stay", registered_on=dt.date(2024, 4, 1)
    )

    def run(trigger: str, actor_name: str = "coordinator", **data: object) -> Callable[[], Fired]:
        return lambda: fire(session, machine, case_id, trigger, getattr(world, actor_name), **data)

    def meeting(kind: str, on: dt.date) -> Callable[[], Fired]:
        return run(kind, held_on=on, attendees=attendees(world.elderly, world.poverty))

    def approve(on: dt.date) -> Callable[[], Fired]:
        return lambda: fire(
            session,
            machine,
            case_id,
            "approve_plan",
            world.supervisor,
            meeting_id=latest_meeting_id(session, case_id),
            approved_on=on,
        )

    def consent(on: dt.date) -> Callable[[], Fired]:
        return lambda: cases.fire(
            action="give_consent",
            session=session,
            case_id=case_id,
            actor=world.coordinator,
            machine=machine,
            given_on=on,
            agency_ids=[a.id for a in world.agencies],
        )

    actions: list[tuple[str, Callable[[], Fired]]] = [
        (
            "add_contact",
            lambda: cases.fire(
                action="add_contact",
                session=session,
                case_id=case_id,
                actor=world.coordinator,
                machine=machine,
                **contact(world),
            ),
        ),
        ("start_assessment", run("start_assessment", note="家族から聞き取り")),
        (
            "log_outreach",
            lambda: cases.fire(
                action="log_outreach",
                session=session,
                case_id=case_id,
                actor=world.coordinator,
                machine=machine,
                kind="home_visit",
                done_on=dt.date(2025, 6, 3),
            ),
        ),
        (
            "enrol_in_program",
            lambda: cases.fire(
                action="enrol_in_program",
                session=session,
                case_id=case_id,
                actor=world.coordinator,
                machine=machine,
                provider_id=provider.id,
                start_on=dt.date(2025, 6, 4),
                end_on=dt.date(2025, 7, 4),
            ),
        ),
        ("hold_support_meeting", meeting("hold_support_meeting", dt.date(2025, 6, 5))),
        ("hold_support_meeting", meeting("hold_support_meeting", dt.date(2025, 6, 6))),
        ("give_consent", consent(dt.date(2025, 6, 10))),
        ("hold_multilayer_meeting", meeting("hold_multilayer_meeting", dt.date(2025, 6, 20))),
        ("draft_plan", run("draft_plan", **plan_data(world))),
        (
            "return_plan",
            run("return_plan", "supervisor", reason="目標を具体的に", returned_on=dt.date(2025, 6, 21)),
        ),
        ("draft_plan", run("draft_plan", **plan_data(world, on=dt.date(2025, 6, 21)))),
        ("hold_multilayer_meeting", meeting("hold_multilayer_meeting", dt.date(2025, 6, 22))),
        ("approve_plan", approve(dt.date(2025, 6, 25))),
        ("record_monitoring", run("record_monitoring", summary="外出できた", held_on=dt.date(2025, 7, 25))),
        ("revise_plan", run("revise_plan", drafted_on=dt.date(2025, 8, 1))),
        ("hold_multilayer_meeting", meeting("hold_multilayer_meeting", dt.date(2025, 8, 2))),
        ("approve_plan", approve(dt.date(2025, 8, 3))),
        ("withdraw_consent", run("withdraw_consent", withdrawn_on=dt.date(2025, 8, 10))),
        ("give_consent", consent(dt.date(2025, 8, 20))),
        (
            "propose_closure",
            run(
                "propose_closure", reason="goals_met", evaluation="安定した", proposed_on=dt.date(2025, 9, 20)
            ),
        ),
        ("reject_closure", run("reject_closure", "supervisor", note="もう少し様子を見る")),
        (
            "propose_closure",
            run(
                "propose_closure", reason="goals_met", evaluation="安定した", proposed_on=dt.date(2025, 9, 25)
            ),
        ),
        ("approve_closure", run("approve_closure", "supervisor", decided_on=dt.date(2025, 9, 30))),
        (
            "add_contact",
            lambda: cases.fire(
                action="add_contact",
                session=session,
                case_id=case_id,
                actor=world.coordinator,
                machine=machine,
                **contact(world),
            ),
        ),
        ("reopen", run("reopen", contact=contact(world, on=dt.date(2026, 1, 8)))),
    ]
    assert {name for name, _ in actions} >= set(machine.lifecycle.triggers)
    for expected_version, (name, action) in enumerate(actions, start=2):
        fired = action()
        assert (fired.action, fired.version) == (name, expected_version)
        assert journal_counts(session, case_id) == (expected_version, expected_version), name
        event = session.exec(
            select(AuditEvent).where(AuditEvent.case_id == case_id).order_by(col(AuditEvent.seq).desc())
        ).first()
        message = session.exec(
            select(OutboxMessage)
            .where(OutboxMessage.case_id == case_id)
            .order_by(col(OutboxMessage.id).desc())
        ).first()
        assert event is not None and message is not None
        assert (event.seq, event.action, event.from_stage, event.to_stage, event.actor_id is not None) == (
            expected_version,
            name,
            fired.from_stage,
            fired.to_stage,
            True,
        )
        assert message.idempotency_key == f"case:{case_id}:event:{expected_version}"
        assert message.topic == (STAGE_CHANGED if fired.from_stage != fired.to_stage else CASE_UPDATED)
        assert message.payload["action"] == name and message.payload["case_number"] == opened.number
    session.expire_all()
    case = session.get(Case, case_id)
    assert case is not None and case.version == len(actions) + 1
    assert verify_chains(session, machine).ok


def test_a_batch_with_one_stale_case_writes_nothing_for_any_case(
    session: Session, world: World, machine: LifecycleMachine
) -> None:
    """The sweep marks many cases in one batch: if one of them moved on after its head was read,
    the whole batch is refused, no case half-marked and no event written."""
    first = open_case(session, world, machine).case_id
    second = open_case(session, world, machine).case_id
    heads = [journal.load_head(session, first), journal.load_head(session, second)]
    session.rollback()
    fire(session, machine, second, "start_assessment", world.coordinator)  # second moves on
    before = [journal_counts(session, first), journal_counts(session, second)]

    changes = [
        journal.CaseChange(head, "mark_overdue", head.stage, None, {}, case_updates={"overdue": True})
        for head in heads
    ]
    try:
        journal.append_events(session, changes)
    except VersionConflict as refused:
        assert "他の職員が先に更新" in refused.ja
    else:
        raise AssertionError("a stale head in a batch must be refused")
    finally:
        session.rollback()
    assert [journal_counts(session, first), journal_counts(session, second)] == before
    assert not session.get(Case, first).overdue  # type: ignore[union-attr]
    assert verify_chains(session, machine).ok


def test_a_batch_names_each_case_once(session: Session, world: World, machine: LifecycleMachine) -> None:
    head = journal.load_head(session, open_case(session, world, machine).case_id)
    change = journal.CaseChange(head, "mark_overdue", head.stage, None, {})
    try:
        journal.append_events(session, [change, change])
    except ValueError as refused:
        assert "one change per case" in str(refused)
    else:
        raise AssertionError("two changes chained onto one head must be refused")
