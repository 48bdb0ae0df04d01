"""終結: a reason from the list, an evaluation, approval by a supervisor other than the proposer; 再開."""

from __future__ import annotations

import datetime as dt
from functools import partial
from typing import Any

import pytest
from sqlmodel import Session, col, select

from models import AuditEvent, Closure, Plan
from models.closure import ClosureStatus
from models.plan import PlanStatus
from states import LifecycleMachine
from tests.factories import World, contact, fire, open_case, to_monitoring
from tests.lifecycle_names import Stage
from tests.service.refusals import assert_refused, count
from tests.service.walks import case_at, fresh_case
from yorisoi.errors import GuardFailed, InvalidInput, PermissionDenied, TriggerNotAllowed
from yorisoi.service.audit import verify_chains

PROPOSAL = {"reason": "goals_met", "evaluation": "週1回の外出が定着した", "proposed_on": dt.date(2025, 9, 1)}
DECISION_DAY = dt.date(2025, 9, 5)
OPEN_STAGES = [s for s in Stage if s != Stage.CLOSED]


def _propose(session: Session, world: World, machine: LifecycleMachine, case_id: int, **data: Any) -> None:
    fire(session, machine, case_id, "propose_closure", world.coordinator, **(data or PROPOSAL))


def _refused_proposal(
    session: Session, world: World, machine: LifecycleMachine, case_id: int, **data: Any
) -> GuardFailed:
    error = assert_refused(session, GuardFailed, lambda: _propose(session, world, machine, case_id, **data))
    assert [r.guard for r in error.refusals] == ["closure_reason_complete"]
    return error


@pytest.mark.parametrize("stage", OPEN_STAGES)
def test_approve_closure_from_every_open_stage(
    session: Session, world: World, machine: LifecycleMachine, stage: str
) -> None:
    case_id = case_at(session, world, machine, stage)
    proposed = fire(session, machine, case_id, "propose_closure", world.coordinator, **PROPOSAL)
    assert proposed.to_stage == stage  # a proposal is recorded; the stage stays
    closed = fire(session, machine, case_id, "approve_closure", world.supervisor, decided_on=DECISION_DAY)
    assert (closed.from_stage, closed.to_stage) == (stage, Stage.CLOSED)
    case = fresh_case(session, case_id)
    assert (case.stage, case.closed_on, case.next_monitoring_on) == (Stage.CLOSED, DECISION_DAY, None)
    closure = session.exec(select(Closure).where(Closure.case_id == case_id)).one()
    assert (closure.status, closure.proposed_by, closure.decided_by) == (
        ClosureStatus.APPROVED,
        world.coordinator.id,
        world.supervisor.id,
    )


def test_propose_closure_refused_without_listed_reason_text_or_evaluation(
    session: Session, world: World, machine: LifecycleMachine
) -> None:
    case_id = open_case(session, world, machine).case_id
    with pytest.raises(InvalidInput) as unknown:
        _propose(session, world, machine, case_id, reason="bored", evaluation="x")
    assert "'goals_met'" in unknown.value.en and "終結理由" in unknown.value.ja
    error = _refused_proposal(
        session, world, machine, case_id, reason="other", reason_text=" ", evaluation="x"
    )
    assert "その他" in error.ja and "reason written out" in error.en
    error = _refused_proposal(session, world, machine, case_id, reason="moved_away")
    assert "評価" in error.ja and "evaluation" in error.en
    _propose(
        session,
        world,
        machine,
        case_id,
        reason="other",
        reason_text="長期入院",
        evaluation="入院先で支援継続",
    )
    closure = session.exec(select(Closure).where(Closure.case_id == case_id)).one()
    assert (closure.reason, closure.reason_text, closure.status) == (
        "other",
        "長期入院",
        ClosureStatus.PROPOSED,
    )


def test_propose_closure_refused_while_one_is_pending(
    session: Session, world: World, machine: LifecycleMachine
) -> None:
    case_id = open_case(session, world, machine).case_id
    _propose(session, world, machine, case_id)
    error = assert_refused(session, GuardFailed, lambda: _propose(session, world, machine, case_id))
    assert [r.guard for r in error.refusals] == ["no_pending_closure"]


def test_approve_closure_refused_for_proposer(
    session: Session, world: World, machine: LifecycleMachine
) -> None:
    case_id = open_case(session, world, machine).case_id
    fire(session, machine, case_id, "propose_closure", world.supervisor2, **PROPOSAL)

    def approve() -> None:
        fire(session, machine, case_id, "approve_closure", world.supervisor2, decided_on=DECISION_DAY)

    error = assert_refused(session, GuardFailed, approve)
    assert [r.guard for r in error.refusals] == ["approver_is_not_closure_proposer"]
    assert "二者確認" in error.ja
    fire(session, machine, case_id, "approve_closure", world.supervisor, decided_on=DECISION_DAY)
    assert fresh_case(session, case_id).stage == Stage.CLOSED


def test_approve_or_reject_closure_refused_for_coordinator(
    session: Session, world: World, machine: LifecycleMachine
) -> None:
    case_id = open_case(session, world, machine).case_id
    _propose(session, world, machine, case_id)
    for trigger in ("approve_closure", "reject_closure"):
        error = assert_refused(
            session,
            PermissionDenied,
            partial(fire, session, machine, case_id, trigger, world.coordinator2, decided_on=DECISION_DAY),
        )
        assert "supervisor" in error.en


def test_reject_closure_leaves_no_pending_proposal(
    session: Session, world: World, machine: LifecycleMachine
) -> None:
    case_id = open_case(session, world, machine).case_id
    fire(session, machine, case_id, "start_assessment", world.coordinator)
    never_proposed = assert_refused(
        session,
        GuardFailed,
        lambda: fire(session, machine, case_id, "approve_closure", world.supervisor, decided_on=DECISION_DAY),
    )
    assert [r.guard for r in never_proposed.refusals] == ["closure_pending"]
    _propose(session, world, machine, case_id)
    rejected = fire(
        session,
        machine,
        case_id,
        "reject_closure",
        world.supervisor,
        decided_on=DECISION_DAY,
        note="支援継続",
    )
    assert rejected.to_stage == Stage.ASSESSMENT
    closure = session.exec(select(Closure).where(Closure.case_id == case_id)).one()
    assert (closure.status, closure.decided_by, closure.decision_note) == (
        ClosureStatus.REJECTED,
        world.supervisor.id,
        "支援継続",
    )
    for trigger in ("approve_closure", "reject_closure"):
        error = assert_refused(
            session,
            GuardFailed,
            partial(fire, session, machine, case_id, trigger, world.supervisor, decided_on=DECISION_DAY),
        )
        assert [r.guard for r in error.refusals] == ["closure_pending"]
    _propose(session, world, machine, case_id)  # a new proposal may be made
    assert count(session, Closure, case_id=case_id, status=ClosureStatus.PROPOSED) == 1


# --- reopening -------------------------------------------------------------------------------


def test_reopen_closed_case_starts_new_episode_keeping_history(
    session: Session, world: World, machine: LifecycleMachine
) -> None:
    opened = open_case(session, world, machine)
    case_id = opened.case_id
    to_monitoring(session, world, machine, case_id)
    _propose(session, world, machine, case_id)
    fire(session, machine, case_id, "approve_closure", world.supervisor, decided_on=DECISION_DAY)
    events_before = [
        e.id for e in session.exec(select(AuditEvent).where(AuditEvent.case_id == case_id)).all()
    ]
    reopened = fire(
        session,
        machine,
        case_id,
        "reopen",
        world.coordinator2,
        contact=contact(world, on=dt.date(2026, 1, 8)),
    )
    assert (reopened.number, reopened.from_stage, reopened.to_stage) == (
        opened.number,
        Stage.CLOSED,
        Stage.INTAKE,
    )
    case = fresh_case(session, case_id)
    assert (case.number, case.stage, case.episode, case.closed_on) == (opened.number, Stage.INTAKE, 2, None)
    events = session.exec(
        select(AuditEvent).where(AuditEvent.case_id == case_id).order_by(col(AuditEvent.seq))
    ).all()
    assert [e.id for e in events[:-1]] == events_before
    assert {e.episode for e in events[:-1]} == {1}
    assert (events[-1].action, events[-1].episode, events[-1].payload["episode"]) == ("reopen", 2, 2)
    assessed = fire(session, machine, case_id, "start_assessment", world.coordinator2)
    event = session.exec(
        select(AuditEvent).where(AuditEvent.case_id == case_id, AuditEvent.seq == assessed.version)
    ).one()
    assert event.episode == 2
    plan = session.exec(select(Plan).where(Plan.case_id == case_id)).one()
    assert (plan.episode, plan.status) == (1, PlanStatus.APPROVED)
    closure = session.exec(select(Closure).where(Closure.case_id == case_id)).one()
    assert (closure.episode, closure.status) == (1, ClosureStatus.APPROVED)
    assert verify_chains(session, machine).ok


def test_reopen_new_episode_ignores_old_closure_and_plan(
    session: Session, world: World, machine: LifecycleMachine
) -> None:
    case_id = open_case(session, world, machine).case_id
    _propose(session, world, machine, case_id)
    fire(session, machine, case_id, "approve_closure", world.supervisor, decided_on=DECISION_DAY)
    reopening = contact(world, on=dt.date(2025, 10, 1))
    fire(session, machine, case_id, "reopen", world.coordinator, contact=reopening)
    error = assert_refused(
        session,
        GuardFailed,
        lambda: fire(session, machine, case_id, "approve_closure", world.supervisor, decided_on=DECISION_DAY),
    )
    assert [r.guard for r in error.refusals] == ["closure_pending"]
    _propose(session, world, machine, case_id)
    fire(session, machine, case_id, "approve_closure", world.supervisor, decided_on=dt.date(2026, 2, 1))
    assert fresh_case(session, case_id).stage == Stage.CLOSED
    assert count(session, Closure, case_id=case_id, status=ClosureStatus.APPROVED) == 2


def test_reopen_refused_for_open_case(session: Session, world: World, machine: LifecycleMachine) -> None:
    for stage in (Stage.INTAKE, Stage.MONITORING):
        case_id = case_at(session, world, machine, stage)
        error = assert_refused(
            session,
            TriggerNotAllowed,
            partial(fire, session, machine, case_id, "reopen", world.coordinator, contact=contact(world)),
        )
        assert error.allowed == machine.triggers_from(stage) and "reopen" not in error.allowed


def test_closed_case_allows_only_reopen(session: Session, world: World, machine: LifecycleMachine) -> None:
    case_id = open_case(session, world, machine).case_id
    _propose(session, world, machine, case_id)
    fire(session, machine, case_id, "approve_closure", world.supervisor, decided_on=DECISION_DAY)
    error = assert_refused(
        session,
        TriggerNotAllowed,
        lambda: fire(session, machine, case_id, "start_assessment", world.coordinator),
    )
    assert error.allowed == ("reopen",)
    assert "'start_assessment' is not allowed from stage 'closed'; allowed: reopen." == error.en
    assert "終結" in error.ja and "再開" in error.ja


@pytest.mark.parametrize("trigger", ["approve_closure", "reject_closure"])
def test_closure_decision_dated_before_the_proposal_is_refused(
    session: Session, world: World, machine: LifecycleMachine, trigger: str
) -> None:
    case_id = case_at(session, world, machine, Stage.ASSESSMENT)
    _propose(session, world, machine, case_id)  # proposed on 2025-09-01
    day_before = dt.date(2025, 8, 31)
    error = assert_refused(
        session,
        GuardFailed,
        lambda: fire(session, machine, case_id, trigger, world.supervisor, decided_on=day_before),
    )
    assert [r.guard for r in error.refusals] == ["closure_decided_after_proposal"]
    assert "提案日（2025年9月1日）より前" in error.ja
    decided = fire(session, machine, case_id, trigger, world.supervisor, decided_on=dt.date(2025, 9, 1))
    assert decided.action == trigger
