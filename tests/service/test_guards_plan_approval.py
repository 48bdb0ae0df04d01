"""支援プラン: approved by a supervisor other than its author, at a 重層的支援会議 of this case."""

from __future__ import annotations

import datetime as dt
from functools import partial
from typing import Any

from sqlmodel import Session, col, select

from models import Case, ExternalPlanRef, Plan, PlanGoal, RoleAssignment, Staff
from models.plan import PlanStatus
from states import LifecycleMachine
from tests.factories import (
    World,
    attendees,
    fire,
    give_consent,
    latest_meeting_id,
    open_case,
    plan_data,
    to_monitoring,
    to_multilayer_meeting,
)
from tests.lifecycle_names import Stage
from tests.service.refusals import assert_refused
from tests.service.walks import hold_support_meeting, stage_of
from yorisoi.errors import GuardFailed, InvalidInput, PermissionDenied, TriggerNotAllowed
from yorisoi.service.cases import Fired

APPROVAL_DAY = dt.date(2025, 6, 25)


def _planning(
    session: Session, world: World, machine: LifecycleMachine, *, author: Staff | None = None
) -> tuple[int, int]:
    """A case in 支援プラン with a draft; returns (case id, id of the deciding meeting)."""
    case_id = open_case(session, world, machine).case_id
    meeting_id = to_multilayer_meeting(session, world, machine, case_id)
    fire(session, machine, case_id, "draft_plan", author or world.coordinator, **plan_data(world))
    return case_id, meeting_id


def _approve(
    session: Session, machine: LifecycleMachine, case_id: int, actor: Staff, meeting_id: int | None
) -> Fired:
    return fire(
        session, machine, case_id, "approve_plan", actor, meeting_id=meeting_id, approved_on=APPROVAL_DAY
    )


def _refused_approval(
    session: Session, machine: LifecycleMachine, case_id: int, actor: Staff, meeting_id: int | None
) -> GuardFailed:
    return assert_refused(
        session, GuardFailed, lambda: _approve(session, machine, case_id, actor, meeting_id)
    )


def _plans(session: Session, case_id: int) -> list[Plan]:
    session.expire_all()
    return list(session.exec(select(Plan).where(Plan.case_id == case_id).order_by(col(Plan.version))).all())


def test_approve_plan_by_another_supervisor_moves_to_monitoring(
    session: Session, world: World, machine: LifecycleMachine
) -> None:
    case_id, meeting_id = _planning(session, world, machine)
    fired = _approve(session, machine, case_id, world.supervisor, meeting_id)
    assert (fired.from_stage, fired.to_stage) == (Stage.PLANNING, Stage.MONITORING)
    (plan,) = _plans(session, case_id)
    assert (plan.status, plan.approved_by, plan.approved_on, plan.meeting_id) == (
        PlanStatus.APPROVED,
        world.supervisor.id,
        APPROVAL_DAY,
        meeting_id,
    )
    case = session.get(Case, case_id)
    assert case is not None and case.next_monitoring_on == APPROVAL_DAY + dt.timedelta(days=30)


def test_approve_plan_refused_for_author(session: Session, world: World, machine: LifecycleMachine) -> None:
    """Even a supervisor may not approve a plan they drafted; another supervisor may."""
    case_id, meeting_id = _planning(session, world, machine, author=world.supervisor)
    error = _refused_approval(session, machine, case_id, world.supervisor, meeting_id)
    assert [r.guard for r in error.refusals] == ["approver_is_not_plan_author"]
    assert "二者確認" in error.ja and "four-eyes" in error.en
    _approve(session, machine, case_id, world.supervisor2, meeting_id)
    (plan,) = _plans(session, case_id)
    assert (plan.author_id, plan.approved_by) == (world.supervisor.id, world.supervisor2.id)


def test_approve_plan_refused_for_coordinator(
    session: Session, world: World, machine: LifecycleMachine
) -> None:
    case_id, meeting_id = _planning(session, world, machine)
    for actor in (world.coordinator2, world.auditor):
        error = assert_refused(
            session, PermissionDenied, partial(_approve, session, machine, case_id, actor, meeting_id)
        )
        assert "supervisor" in error.en and "権限がありません" in error.ja


def test_approve_plan_refused_without_meeting(
    session: Session, world: World, machine: LifecycleMachine
) -> None:
    case_id, _meeting_id = _planning(session, world, machine)
    error = _refused_approval(session, machine, case_id, world.supervisor, None)
    assert [r.guard for r in error.refusals] == ["plan_decided_at_meeting"]
    assert "Name the multi-layered support meeting" in error.en


def test_approve_plan_refused_with_support_meeting(
    session: Session, world: World, machine: LifecycleMachine
) -> None:
    case_id = open_case(session, world, machine).case_id
    fire(session, machine, case_id, "start_assessment", world.coordinator)
    hold_support_meeting(session, world, machine, case_id, on=dt.date(2025, 6, 5))
    support_meeting_id = latest_meeting_id(session, case_id)
    give_consent(session, world, machine, case_id)
    fire(
        session,
        machine,
        case_id,
        "hold_multilayer_meeting",
        world.coordinator,
        held_on=dt.date(2025, 6, 20),
        attendees=attendees(world.elderly),
    )
    fire(session, machine, case_id, "draft_plan", world.coordinator, **plan_data(world))
    error = _refused_approval(session, machine, case_id, world.supervisor, support_meeting_id)
    assert [r.guard for r in error.refusals] == ["plan_decided_at_meeting"]
    assert "支援会議では決定できません" in error.ja


def test_approve_plan_refused_with_another_cases_meeting(
    session: Session, world: World, machine: LifecycleMachine
) -> None:
    case_id, _meeting_id = _planning(session, world, machine)
    other_case = open_case(session, world, machine).case_id
    other_meeting = to_multilayer_meeting(session, world, machine, other_case)
    error = _refused_approval(session, machine, case_id, world.supervisor, other_meeting)
    assert [r.guard for r in error.refusals] == ["plan_decided_at_meeting"]
    assert f"Meeting {other_meeting} is not a meeting of this case" in error.en
    unknown = _refused_approval(session, machine, case_id, world.supervisor, 987654)
    assert "Meeting 987654 is not a meeting of this case" in unknown.en


def test_approve_plan_refused_with_meeting_before_draft_date(
    session: Session, world: World, machine: LifecycleMachine
) -> None:
    case_id = open_case(session, world, machine).case_id
    early_meeting = to_multilayer_meeting(session, world, machine, case_id)  # held 2025-06-20
    fire(
        session,
        machine,
        case_id,
        "draft_plan",
        world.coordinator,
        **plan_data(world, on=dt.date(2025, 6, 21)),
    )
    error = _refused_approval(session, machine, case_id, world.supervisor, early_meeting)
    assert [r.guard for r in error.refusals] == ["plan_decided_at_meeting"]
    assert "2025-06-21" in error.en
    # A meeting held in 支援プラン (recorded; the stage stays) on or after the draft decides it.
    fire(
        session,
        machine,
        case_id,
        "hold_multilayer_meeting",
        world.coordinator,
        held_on=dt.date(2025, 6, 24),
        attendees=attendees(world.elderly, world.poverty),
    )
    assert stage_of(session, case_id) == Stage.PLANNING
    review_meeting = latest_meeting_id(session, case_id)
    too_early = assert_refused(
        session,
        GuardFailed,
        lambda: fire(
            session,
            machine,
            case_id,
            "approve_plan",
            world.supervisor,
            meeting_id=review_meeting,
            approved_on=dt.date(2025, 6, 23),  # before the meeting that decided it
        ),
    )
    assert "approval date (2025-06-23) is before the meeting" in too_early.en
    _approve(session, machine, case_id, world.supervisor, review_meeting)
    assert stage_of(session, case_id) == Stage.MONITORING


def test_approve_plan_refused_when_consent_no_longer_covers_plan_agencies(
    session: Session, world: World, machine: LifecycleMachine
) -> None:
    case_id, meeting_id = _planning(session, world, machine)  # roles: elderly, poverty
    give_consent(session, world, machine, case_id, world.elderly, on=dt.date(2025, 6, 22))  # narrower
    error = _refused_approval(session, machine, case_id, world.supervisor, meeting_id)
    assert [r.guard for r in error.refusals] == ["consent_covers_current_plan"]
    assert world.poverty.name in error.ja


def test_draft_plan_refused_when_consent_misses_a_role_agency(
    session: Session, world: World, machine: LifecycleMachine
) -> None:
    case_id = open_case(session, world, machine).case_id
    fire(session, machine, case_id, "start_assessment", world.coordinator)
    give_consent(session, world, machine, case_id, world.elderly, world.poverty)
    fire(
        session,
        machine,
        case_id,
        "hold_multilayer_meeting",
        world.coordinator,
        held_on=dt.date(2025, 6, 20),
        attendees=attendees(world.elderly),
    )
    data = plan_data(world)
    data["roles"] = [*data["roles"], {"agency_id": world.disability.id, "role": "障害福祉サービス調整"}]
    error = assert_refused(
        session, GuardFailed, lambda: fire(session, machine, case_id, "draft_plan", world.coordinator, **data)
    )
    assert [r.guard for r in error.refusals] == ["consent_covers_plan_agencies"]
    assert world.disability.name in error.en


def test_monitoring_only_after_plan_approved(
    session: Session, world: World, machine: LifecycleMachine
) -> None:
    at_meeting = open_case(session, world, machine).case_id
    first_meeting = to_multilayer_meeting(session, world, machine, at_meeting)
    no_plan = assert_refused(
        session,
        TriggerNotAllowed,
        lambda: _approve(session, machine, at_meeting, world.supervisor, first_meeting),
    )
    assert no_plan.allowed == machine.triggers_from(Stage.MULTILAYER_MEETING)
    case_id, meeting_id = _planning(session, world, machine)
    for trigger, data in (("record_monitoring", {"summary": "x"}), ("revise_plan", {})):
        error = assert_refused(
            session,
            TriggerNotAllowed,
            partial(fire, session, machine, case_id, trigger, world.coordinator, **data),
        )
        assert trigger not in error.allowed and "approve_plan" in error.allowed
    assert [p.status for p in _plans(session, case_id)] == [PlanStatus.DRAFT]
    _approve(session, machine, case_id, world.supervisor, meeting_id)
    fire(
        session,
        machine,
        case_id,
        "record_monitoring",
        world.coordinator,
        summary="外出できた",
        held_on=APPROVAL_DAY,
    )
    assert stage_of(session, case_id) == Stage.MONITORING


# --- revising --------------------------------------------------------------------------------


_CONTENT: dict[type[Any], tuple[str, ...]] = {
    PlanGoal: ("problem", "goal"),
    RoleAssignment: ("agency_id", "role", "is_lead"),
    ExternalPlanRef: ("kind", "agency_id", "note"),
}


def _rows(session: Session, model: type[Any], plan_id: int) -> list[tuple[object, ...]]:
    """What a plan's goals / roles / external plans say, without their ids."""
    columns = [getattr(model, name) for name in _CONTENT[model]]
    query = select(*columns).where(model.plan_id == plan_id).order_by(model.id)
    return [tuple(row) for row in session.exec(query).all()]


def test_revise_plan_creates_new_version_copying_goals_and_roles(
    session: Session, world: World, machine: LifecycleMachine
) -> None:
    case_id = open_case(session, world, machine).case_id
    to_monitoring(session, world, machine, case_id)
    fired = fire(session, machine, case_id, "revise_plan", world.coordinator2, drafted_on=dt.date(2025, 9, 1))
    assert (fired.from_stage, fired.to_stage) == (Stage.MONITORING, Stage.PLANNING)
    v1, v2 = _plans(session, case_id)
    assert (v1.version, v1.status) == (1, PlanStatus.APPROVED)  # in force until v2 is approved
    assert (v2.version, v2.status, v2.author_id, v2.drafted_on) == (
        2,
        PlanStatus.DRAFT,
        world.coordinator2.id,
        dt.date(2025, 9, 1),
    )
    assert (
        v2.household_goal == v1.household_goal and v2.monitoring_interval_days == v1.monitoring_interval_days
    )
    assert v1.id is not None and v2.id is not None
    for model in (PlanGoal, RoleAssignment, ExternalPlanRef):
        assert _rows(session, model, v2.id) == _rows(session, model, v1.id)
    assert _rows(session, PlanGoal, v2.id)


def test_revise_plan_approved_again_supersedes_old_version(
    session: Session, world: World, machine: LifecycleMachine
) -> None:
    case_id = open_case(session, world, machine).case_id
    to_monitoring(session, world, machine, case_id)
    fire(
        session,
        machine,
        case_id,
        "revise_plan",
        world.supervisor2,
        drafted_on=dt.date(2025, 9, 1),
        goals=[{"problem": "就労", "goal": "就労体験に参加する"}],
        monitoring_interval_days=60,
    )
    fire(
        session,
        machine,
        case_id,
        "hold_multilayer_meeting",
        world.coordinator,
        held_on=dt.date(2025, 9, 3),
        attendees=attendees(world.elderly),
    )
    review_meeting = latest_meeting_id(session, case_id)
    _refused_approval(session, machine, case_id, world.supervisor2, review_meeting)  # its author
    fire(
        session,
        machine,
        case_id,
        "approve_plan",
        world.supervisor,
        meeting_id=review_meeting,
        approved_on=dt.date(2025, 9, 5),
    )
    v1, v2 = _plans(session, case_id)
    assert (v1.status, v2.status, v2.meeting_id) == (
        PlanStatus.SUPERSEDED,
        PlanStatus.APPROVED,
        review_meeting,
    )
    assert v2.id is not None
    assert [g[1] for g in _rows(session, PlanGoal, v2.id)] == ["就労体験に参加する"]
    assert stage_of(session, case_id) == Stage.MONITORING
    case = session.get(Case, case_id)
    assert case is not None and case.next_monitoring_on == dt.date(2025, 9, 5) + dt.timedelta(days=60)


def test_monitoring_dated_before_the_plan_approval_is_refused(
    session: Session, world: World, machine: LifecycleMachine
) -> None:
    case_id = open_case(session, world, machine).case_id
    to_monitoring(session, world, machine, case_id)  # plan approved on 2025-06-25

    def record(on: dt.date) -> None:
        fire(session, machine, case_id, "record_monitoring", world.coordinator, summary="面談", held_on=on)

    error = assert_refused(session, InvalidInput, lambda: record(dt.date(2025, 6, 24)))
    assert "承認日（2025年6月25日）より前" in error.ja and "before plan version 1 was approved" in error.en
    record(dt.date(2025, 6, 25))  # the day of the approval itself is fine
