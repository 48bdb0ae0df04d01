"""Withdrawn consent sends the case back to the 支援会議 track until consent is given again."""

from __future__ import annotations

import datetime as dt
from functools import partial

import pytest
from sqlmodel import Session, col, select

from models import Consent
from states import LifecycleMachine
from tests.factories import World, attendees, fire, give_consent, latest_meeting_id, plan_data
from tests.lifecycle_names import Stage
from tests.service.refusals import assert_refused
from tests.service.walks import case_at, fresh_case, hold_support_meeting
from yorisoi.errors import GuardFailed, InvalidInput, TriggerNotAllowed

WITHDRAWN_ON = dt.date(2025, 7, 1)


def _withdraw(session: Session, world: World, machine: LifecycleMachine, case_id: int) -> None:
    fire(session, machine, case_id, "withdraw_consent", world.coordinator, withdrawn_on=WITHDRAWN_ON)


@pytest.mark.parametrize("stage", [Stage.MULTILAYER_MEETING, Stage.PLANNING, Stage.MONITORING])
def test_withdraw_consent_returns_to_support_meeting(
    session: Session, world: World, machine: LifecycleMachine, stage: str
) -> None:
    case_id = case_at(session, world, machine, stage)
    fired = fire(session, machine, case_id, "withdraw_consent", world.coordinator, withdrawn_on=WITHDRAWN_ON)
    assert (fired.from_stage, fired.to_stage) == (stage, Stage.SUPPORT_MEETING)
    case = fresh_case(session, case_id)
    assert (case.stage, case.next_monitoring_on, case.overdue) == (Stage.SUPPORT_MEETING, None, False)
    consent = session.exec(select(Consent).where(Consent.case_id == case_id)).one()
    assert (consent.withdrawn_on, consent.withdrawn_by) == (WITHDRAWN_ON, world.coordinator.id)
    meeting_id = latest_meeting_id(session, case_id)
    error = assert_refused(
        session,
        TriggerNotAllowed,
        lambda: fire(
            session,
            machine,
            case_id,
            "approve_plan",
            world.supervisor,
            meeting_id=meeting_id,
            approved_on=WITHDRAWN_ON,
        ),
    )
    assert "approve_plan" not in error.allowed


def test_withdraw_consent_in_monitoring_blocks_consent_steps_until_given_again(
    session: Session, world: World, machine: LifecycleMachine
) -> None:
    case_id = case_at(session, world, machine, Stage.MONITORING)
    _withdraw(session, world, machine, case_id)

    def multilayer(on: dt.date) -> None:
        fire(
            session,
            machine,
            case_id,
            "hold_multilayer_meeting",
            world.coordinator,
            held_on=on,
            attendees=attendees(world.elderly, world.poverty),
        )

    error = assert_refused(session, GuardFailed, lambda: multilayer(dt.date(2025, 7, 10)))
    assert [r.guard for r in error.refusals] == ["consent_covers_attendees"]
    for trigger, data in (
        ("draft_plan", plan_data(world, on=dt.date(2025, 7, 10))),
        ("record_monitoring", {"summary": "x", "held_on": dt.date(2025, 7, 10)}),
    ):
        refused = assert_refused(
            session,
            TriggerNotAllowed,
            partial(fire, session, machine, case_id, trigger, world.coordinator, **data),
        )
        assert refused.allowed == machine.triggers_from(Stage.SUPPORT_MEETING)
    # The 支援会議 track goes on meanwhile.
    hold_support_meeting(session, world, machine, case_id, on=dt.date(2025, 7, 12))
    assert fresh_case(session, case_id).stage == Stage.SUPPORT_MEETING
    # Consent again: the multi-layered track reopens, and a new plan must be approved.
    give_consent(session, world, machine, case_id, on=dt.date(2025, 7, 15))
    multilayer(dt.date(2025, 7, 20))
    fire(
        session,
        machine,
        case_id,
        "draft_plan",
        world.coordinator,
        **plan_data(world, on=dt.date(2025, 7, 20)),
    )
    fire(
        session,
        machine,
        case_id,
        "approve_plan",
        world.supervisor,
        meeting_id=latest_meeting_id(session, case_id),
        approved_on=dt.date(2025, 7, 22),
    )
    assert fresh_case(session, case_id).stage == Stage.MONITORING


def test_withdraw_consent_before_the_meeting_track_stays_in_stage(
    session: Session, world: World, machine: LifecycleMachine
) -> None:
    case_id = case_at(session, world, machine, Stage.SUPPORT_MEETING)
    give_consent(session, world, machine, case_id, on=dt.date(2025, 6, 25))
    fired = fire(session, machine, case_id, "withdraw_consent", world.coordinator, withdrawn_on=WITHDRAWN_ON)
    assert (fired.from_stage, fired.to_stage) == (Stage.SUPPORT_MEETING, Stage.SUPPORT_MEETING)


def test_withdraw_consent_refused_without_active_consent(
    session: Session, world: World, machine: LifecycleMachine
) -> None:
    case_id = case_at(session, world, machine, Stage.ASSESSMENT)
    error = assert_refused(session, GuardFailed, lambda: _withdraw(session, world, machine, case_id))
    assert [r.guard for r in error.refusals] == ["has_active_consent"]
    give_consent(session, world, machine, case_id)
    _withdraw(session, world, machine, case_id)
    error = assert_refused(session, GuardFailed, lambda: _withdraw(session, world, machine, case_id))
    assert [r.guard for r in error.refusals] == ["has_active_consent"]


def test_give_consent_replaces_the_previous_one(
    session: Session, world: World, machine: LifecycleMachine
) -> None:
    case_id = case_at(session, world, machine, Stage.ASSESSMENT)
    give_consent(session, world, machine, case_id, world.elderly, on=dt.date(2025, 6, 10))
    give_consent(session, world, machine, case_id, world.poverty, on=dt.date(2025, 6, 12))
    first, second = session.exec(
        select(Consent).where(Consent.case_id == case_id).order_by(col(Consent.id))
    ).all()
    assert (first.withdrawn_on, second.withdrawn_on) == (dt.date(2025, 6, 12), None)


def test_withdraw_consent_refused_on_or_before_a_step_that_relied_on_it(
    session: Session, world: World, machine: LifecycleMachine
) -> None:
    """Consent given 6/10, 重層的支援会議 and plan on 6/20, approval on 6/25: it ends 6/26 at the earliest."""
    case_id = case_at(session, world, machine, Stage.MONITORING)
    for day, names in (
        (dt.date(2025, 6, 9), "before it was given"),
        (dt.date(2025, 6, 20), "a multi-layered support meeting on 2025-06-20"),
        (dt.date(2025, 6, 24), "a plan approved on 2025-06-25"),
        (dt.date(2025, 6, 25), "use 2025-06-26 or later"),
    ):
        error = assert_refused(
            session,
            InvalidInput,
            partial(fire, session, machine, case_id, "withdraw_consent", world.coordinator, withdrawn_on=day),
        )
        assert names in error.en, day
    fired = fire(
        session, machine, case_id, "withdraw_consent", world.coordinator, withdrawn_on=dt.date(2025, 6, 26)
    )
    assert fired.to_stage == Stage.SUPPORT_MEETING


def test_give_consent_refused_when_it_would_end_the_previous_one_before_a_meeting(
    session: Session, world: World, machine: LifecycleMachine
) -> None:
    case_id = case_at(session, world, machine, Stage.MULTILAYER_MEETING)  # consent 6/10, meeting 6/20
    for day in (dt.date(2025, 6, 5), dt.date(2025, 6, 18), dt.date(2025, 6, 20)):
        error = assert_refused(
            session,
            InvalidInput,
            partial(give_consent, session, world, machine, case_id, world.elderly, on=day),
        )
        assert "2025-06-10" in error.en and "同意" in error.ja
    give_consent(session, world, machine, case_id, world.elderly, on=dt.date(2025, 6, 21))
    first, second = session.exec(
        select(Consent).where(Consent.case_id == case_id).order_by(col(Consent.id))
    ).all()
    assert (first.withdrawn_on, second.given_on, second.withdrawn_on) == (
        dt.date(2025, 6, 21),
        dt.date(2025, 6, 21),
        None,
    )
