"""Bad requests get a specific error and write nothing: unknown case, stale version, bad input.

Each test checks several variants on cases of its own within one database: a fresh
PostgreSQL schema per test is the expensive part of the suite.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from functools import partial
from typing import Any

from sqlmodel import Session

from models import Staff
from models.outreach import Program
from states import LifecycleMachine
from tests.factories import (
    World,
    attendees,
    contact,
    fire,
    give_consent,
    open_case,
    plan_data,
    to_multilayer_meeting,
)
from tests.lifecycle_names import Stage
from tests.service.refusals import assert_refused
from tests.service.walks import case_at
from yorisoi.errors import (
    GuardFailed,
    InvalidInput,
    NotFound,
    PermissionDenied,
    TriggerNotAllowed,
    VersionConflict,
)
from yorisoi.service import cases, directory

UNKNOWN = 424242


def test_action_on_unknown_case_is_not_found(
    session: Session, world: World, machine: LifecycleMachine
) -> None:
    open_case(session, world, machine)  # some other case exists
    provider = directory.add_provider(
        session, name="就B はばたき", program=Program.TYPE_B, registered_on=dt.date(2024, 4, 1)
    )
    actor: dict[str, Any] = {
        "session": session,
        "case_id": UNKNOWN,
        "actor": world.coordinator,
        "machine": machine,
    }
    entry_points: dict[str, Callable[[], object]] = {
        "fire": lambda: cases.fire(**actor, action="start_assessment"),
        "add_contact": lambda: cases.fire(action="add_contact", **actor, **contact(world)),
        "give_consent": lambda: cases.fire(action="give_consent", **actor, agency_ids=[world.elderly.id]),
        "log_outreach": lambda: cases.fire(action="log_outreach", **actor, kind="home_visit"),
        "enrol_in_program": lambda: cases.fire(
            action="enrol_in_program",
            **actor,
            provider_id=provider.id,
            start_on=dt.date(2025, 5, 1),
            end_on=dt.date(2025, 5, 2),
        ),
    }
    for name, call in entry_points.items():
        error = assert_refused(session, NotFound, call)
        assert str(UNKNOWN) in error.en and str(UNKNOWN) in error.ja, name
        assert error.as_dict()["code"] == "not_found"


def test_fire_unknown_trigger_is_invalid_input_listing_known_ones(
    session: Session, world: World, machine: LifecycleMachine
) -> None:
    case_id = open_case(session, world, machine).case_id
    error = assert_refused(
        session, InvalidInput, lambda: fire(session, machine, case_id, "start_asessment", world.coordinator)
    )
    assert "'start_asessment'" in error.en and "start_assessment" in error.en


def test_fire_trigger_not_allowed_lists_the_allowed_triggers(
    session: Session, world: World, machine: LifecycleMachine
) -> None:
    case_id = case_at(session, world, machine, Stage.ASSESSMENT)
    error = assert_refused(
        session,
        TriggerNotAllowed,
        lambda: fire(session, machine, case_id, "draft_plan", world.coordinator, **plan_data(world)),
    )
    allowed = machine.triggers_from(Stage.ASSESSMENT)
    assert error.allowed == allowed
    assert error.as_dict()["allowed"] == list(allowed)
    assert error.en == f"'draft_plan' is not allowed from stage 'assessment'; allowed: {', '.join(allowed)}."
    for trigger in allowed:
        assert machine.lifecycle.triggers[trigger].ja in error.ja
    assert "アセスメント" in error.ja and "支援プラン作成" in error.ja


def test_fire_guard_failed_names_the_guard(session: Session, world: World, machine: LifecycleMachine) -> None:
    case_id = case_at(session, world, machine, Stage.ASSESSMENT)
    error = assert_refused(
        session,
        GuardFailed,
        lambda: fire(
            session,
            machine,
            case_id,
            "hold_multilayer_meeting",
            world.coordinator,
            attendees=attendees(world.elderly),
        ),
    )
    assert error.as_dict() == {
        "code": "guard_failed",
        "message_ja": error.refusals[0].ja,
        "message_en": error.refusals[0].en,
        "guards": ["consent_covers_attendees"],
    }


def test_fire_refused_for_auditor_and_inactive_staff(
    session: Session, world: World, machine: LifecycleMachine
) -> None:
    case_id = open_case(session, world, machine).case_id
    error = assert_refused(
        session, PermissionDenied, lambda: fire(session, machine, case_id, "start_assessment", world.auditor)
    )
    assert "coordinator" in error.en and "supervisor" in error.en and "権限がありません" in error.ja
    directory.set_staff_active(session, world.coordinator2.login, False)
    error = assert_refused(
        session,
        PermissionDenied,
        lambda: fire(session, machine, case_id, "start_assessment", world.coordinator2),
    )
    assert "deactivated" in error.en


def test_fire_stale_expected_version_is_version_conflict(
    session: Session, world: World, machine: LifecycleMachine
) -> None:
    opened = open_case(session, world, machine)
    seen = opened.version
    cases.fire(
        action="add_contact",
        session=session,
        case_id=opened.case_id,
        actor=world.coordinator2,
        machine=machine,
        **contact(world),
    )

    def assess(expected_version: int) -> cases.Fired:
        return cases.fire(
            session=session,
            case_id=opened.case_id,
            action="start_assessment",
            actor=world.coordinator,
            machine=machine,
            expected_version=expected_version,
        )

    error = assert_refused(session, VersionConflict, lambda: assess(seen))
    assert f"version {seen}" in error.en and f"now {seen + 1}" in error.en and opened.number in error.ja
    assert assess(seen + 1).version == seen + 2  # not a permanent block: the current version works


def test_second_approval_of_a_plan_on_a_stale_version_is_a_version_conflict(
    session: Session, world: World, machine: LifecycleMachine
) -> None:
    """Two supervisors open the same plan; the second to press 承認 is told the case changed
    (409, reload), not that approving is not allowed in a stage they never saw."""
    case_id = open_case(session, world, machine).case_id
    meeting_id = to_multilayer_meeting(session, world, machine, case_id)
    seen = fire(session, machine, case_id, "draft_plan", world.coordinator, **plan_data(world)).version

    def approve(supervisor: Staff) -> cases.Fired:
        return cases.fire(
            session=session,
            case_id=case_id,
            action="approve_plan",
            actor=supervisor,
            machine=machine,
            expected_version=seen,
            meeting_id=meeting_id,
        )

    assert approve(world.supervisor).version == seen + 1
    error = assert_refused(session, VersionConflict, lambda: approve(world.supervisor2))
    assert f"version {seen}" in error.en


INVALID_TRIGGER_DATA: dict[str, tuple[str, Callable[[World], dict[str, Any]], str]] = {
    # name: (trigger, data, what the message must name)
    "unknown field": (
        "hold_multilayer_meeting",
        lambda w: {"held_onn": "2025-06-20", "attendees": attendees(w.elderly)},
        "held_onn",
    ),
    "bad date": (
        "hold_multilayer_meeting",
        lambda w: {"held_on": "2025-13-01", "attendees": attendees(w.elderly)},
        "held_on",
    ),
    "unknown attendee agency": (
        "hold_multilayer_meeting",
        lambda w: {"held_on": "2025-06-20", "attendees": [{"name": "x", "agency_id": 9999}]},
        "9999",
    ),
    "unknown attendee staff": (
        "hold_multilayer_meeting",
        lambda w: {"held_on": "2025-06-20", "attendees": [{"name": "x", "staff_id": 9999}]},
        "Unknown staff id(s): [9999]",
    ),
    "unknown external plan agency": (
        "draft_plan",
        lambda w: {**plan_data(w), "external_plans": [{"kind": "ケアプラン", "agency_id": 9999}]},
        "Unknown agency id(s): [9999]",
    ),
    "unknown role agency": (
        "draft_plan",
        lambda w: {**plan_data(w), "roles": [{"agency_id": 9999, "role": "x"}]},
        "9999",
    ),
    "two leads": (
        "draft_plan",
        lambda w: {
            **plan_data(w),
            "roles": [
                {"agency_id": w.elderly.id, "role": "a", "is_lead": True},
                {"agency_id": w.poverty.id, "role": "b", "is_lead": True},
            ],
        },
        "lead",
    ),
    "plan without goals": ("draft_plan", lambda w: {**plan_data(w), "goals": []}, "goal"),
    "bad interval": (
        "draft_plan",
        lambda w: {**plan_data(w), "monitoring_interval_days": 0},
        "monitoring_interval_days",
    ),
    "extra key": (
        "propose_closure",
        lambda w: {"reason": "died", "evaluation": "x", "extra": 1},
        "extra",
    ),
}


def test_fire_invalid_input_is_refused_and_writes_nothing(
    session: Session, world: World, machine: LifecycleMachine
) -> None:
    in_assessment = case_at(session, world, machine, Stage.ASSESSMENT)
    give_consent(session, world, machine, in_assessment)
    at_meeting = case_at(session, world, machine, Stage.MULTILAYER_MEETING)
    for name, (trigger, data, names) in INVALID_TRIGGER_DATA.items():
        case_id = at_meeting if trigger == "draft_plan" else in_assessment
        error = assert_refused(
            session,
            InvalidInput,
            partial(fire, session, machine, case_id, trigger, world.coordinator, **data(world)),
        )
        assert names in error.en, name
        assert error.as_dict()["code"] == "invalid_input"


def test_record_actions_invalid_input_is_refused_and_writes_nothing(
    session: Session, world: World, machine: LifecycleMachine
) -> None:
    case_id = open_case(session, world, machine).case_id
    closed_id = open_case(session, world, machine).case_id
    fire(
        session,
        machine,
        closed_id,
        "propose_closure",
        world.coordinator,
        reason="declined",
        evaluation="辞退",
    )
    fire(session, machine, closed_id, "approve_closure", world.supervisor)
    on_case: dict[str, Any] = {
        "session": session,
        "case_id": case_id,
        "actor": world.coordinator,
        "machine": machine,
    }

    def add_contact(**change: Any) -> Callable[[], object]:
        return lambda: cases.fire(action="add_contact", **on_case, **{**contact(world), **change})

    attempts: dict[str, tuple[Callable[[], object], str]] = {
        "unknown topic": (add_contact(topics=["income", "gambling"]), "gambling"),
        "bad date": (add_contact(contacted_on="2025-02-30"), "contacted_on"),
        "bad referrer": (add_contact(referrer="neighbour"), "referrer"),
        "unknown desk": (add_contact(desk_id=9999), "9999"),
        "unknown field": (add_contact(topic=["income"]), "topic"),
        "open_case unknown topic": (
            lambda: cases.open_case(
                session=session,
                actor=world.coordinator,
                machine=machine,
                person={"name": "山田 花子"},
                contact={**contact(world), "topics": ["gambling"]},
            ),
            "gambling",
        ),
        "consent unknown agency": (
            lambda: cases.fire(action="give_consent", **on_case, agency_ids=[world.elderly.id, 9999]),
            "9999",
        ),
        "consent without agencies": (
            lambda: cases.fire(action="give_consent", **on_case, agency_ids=[]),
            "agency_ids",
        ),
        "outreach unknown kind": (
            lambda: cases.fire(action="log_outreach", **on_case, kind="phone_call"),
            "kind",
        ),
        "reopen unknown topic": (
            lambda: fire(
                session,
                machine,
                closed_id,
                "reopen",
                world.coordinator,
                contact={**contact(world), "topics": ["gambling"]},
            ),
            "gambling",
        ),
    }
    for name, (call, names) in attempts.items():
        error = assert_refused(session, InvalidInput, call)
        assert names in error.en, name
