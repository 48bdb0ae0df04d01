"""A case's records, one endpoint each: contacts, consent, meetings, plans, monitoring, closure.

Each is a typed shortcut for an action (so the OpenAPI document shows its fields); they all
end in the case service, exactly as the generic action endpoint does.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from sqlmodel import Session

from models import Staff
from states import LifecycleMachine, Stage
from yorisoi.service import cases, journal, viewing
from yorisoi.service.cases import Fired
from yorisoi.web.deps import CurrentUser, HeaderCsrf, MachineDep, SessionDep, viewer_of
from yorisoi.web.schemas import (
    ERRORS,
    ApprovePlanIn,
    ClosureDecisionIn,
    ClosureProposalIn,
    ConsentIn,
    ContactIn,
    MeetingIn,
    MonitoringIn,
    PlanIn,
)

router = APIRouter(
    prefix="/api/cases/{number}", tags=["records"], responses=ERRORS, dependencies=[HeaderCsrf]
)

_VERSIONED = {"expected_version"}


def _fire(
    session: Session,
    user: Staff,
    machine: LifecycleMachine,
    number: str,
    trigger: str,
    body: Any,
    exclude: set[str] = _VERSIONED,
) -> Fired:
    case_id = viewing.case_for_action(session, viewer_of(user), number, channel="api")
    return cases.fire(
        session=session,
        case_id=case_id,
        trigger=trigger,
        actor=user,
        machine=machine,
        expected_version=body.expected_version,
        **body.model_dump(exclude=exclude),
    )


@router.post("/contacts", status_code=201, response_model=Fired)
def add_contact(
    number: str, body: ContactIn, session: SessionDep, user: CurrentUser, machine: MachineDep
) -> Fired:
    """Record another consultation contact (相談)."""
    case_id = viewing.case_for_action(session, viewer_of(user), number, channel="api")
    return cases.add_contact(
        session=session, case_id=case_id, actor=user, machine=machine, **body.model_dump()
    )


@router.post("/consents", status_code=201, response_model=Fired)
def give_consent(
    number: str, body: ConsentIn, session: SessionDep, user: CurrentUser, machine: MachineDep
) -> Fired:
    """本人同意: the person's consent and the agencies it covers (replaces an earlier one)."""
    case_id = viewing.case_for_action(session, viewer_of(user), number, channel="api")
    return cases.give_consent(
        session=session, case_id=case_id, actor=user, machine=machine, **body.model_dump()
    )


@router.post("/meetings", status_code=201, response_model=Fired)
def hold_meeting(
    number: str, body: MeetingIn, session: SessionDep, user: CurrentUser, machine: MachineDep
) -> Fired:
    """支援会議 (kind=support) or 重層的支援会議 (kind=multilayer), with its attendees."""
    trigger = f"hold_{body.kind}_meeting"
    return _fire(session, user, machine, number, trigger, body, _VERSIONED | {"kind"})


@router.post("/plans", status_code=201, response_model=Fired)
def write_plan(
    number: str, body: PlanIn, session: SessionDep, user: CurrentUser, machine: MachineDep
) -> Fired:
    """支援プラン: a draft, or in monitoring a revision (a new version to approve)."""
    case_id = viewing.case_for_action(session, viewer_of(user), number, channel="api")
    stage = journal.load_head(session, case_id).stage
    session.rollback()
    trigger = "revise_plan" if stage == Stage.MONITORING else "draft_plan"
    return _fire(session, user, machine, number, trigger, body)


@router.post("/plans/approve", response_model=Fired)
def approve_plan(
    number: str, body: ApprovePlanIn, session: SessionDep, user: CurrentUser, machine: MachineDep
) -> Fired:
    """Approve the plan awaiting approval (a supervisor who did not write it)."""
    return _fire(session, user, machine, number, "approve_plan", body)


@router.post("/monitoring", status_code=201, response_model=Fired)
def record_monitoring(
    number: str, body: MonitoringIn, session: SessionDep, user: CurrentUser, machine: MachineDep
) -> Fired:
    """A monitoring record; sets the next monitoring date."""
    return _fire(session, user, machine, number, "record_monitoring", body)


@router.post("/closure", status_code=201, response_model=Fired)
def propose_closure(
    number: str, body: ClosureProposalIn, session: SessionDep, user: CurrentUser, machine: MachineDep
) -> Fired:
    """Propose 終結, with the reason and an evaluation of the support."""
    return _fire(session, user, machine, number, "propose_closure", body)


@router.post("/closure/approve", response_model=Fired)
def approve_closure(
    number: str, body: ClosureDecisionIn, session: SessionDep, user: CurrentUser, machine: MachineDep
) -> Fired:
    """Approve the closure proposal (a supervisor who did not propose it)."""
    return _fire(session, user, machine, number, "approve_closure", body)


@router.post("/closure/reject", response_model=Fired)
def reject_closure(
    number: str, body: ClosureDecisionIn, session: SessionDep, user: CurrentUser, machine: MachineDep
) -> Fired:
    """Send the closure proposal back."""
    return _fire(session, user, machine, number, "reject_closure", body)
