"""A case's actions: which the user may take now (and why not), and taking one."""

from __future__ import annotations

from fastapi import APIRouter

from yorisoi.service import cases, preview, viewing
from yorisoi.service.cases import Fired
from yorisoi.web.deps import CurrentUser, HeaderCsrf, MachineDep, SessionDep, viewer_of
from yorisoi.web.schemas import ERRORS, ActionIn, ActionOut, ReasonOut

router = APIRouter(prefix="/api/cases/{number}/actions", tags=["actions"], responses=ERRORS)


@router.get("", response_model=list[ActionOut])
def list_actions(number: str, session: SessionDep, user: CurrentUser, machine: MachineDep) -> list[ActionOut]:
    """Every action of the case's stage: allowed for you now, or the reasons it is blocked."""
    case_id = viewing.case_for_action(session, viewer_of(user), number, channel="api")
    return [
        ActionOut(
            trigger=o.trigger,
            ja=o.ja,
            en=o.en,
            allowed=o.allowed,
            to_stage=o.to_stage,
            reasons=[ReasonOut(guard=r.guard, message_ja=r.ja, message_en=r.en) for r in o.reasons],
        )
        for o in preview.available_actions(session=session, case_id=case_id, actor=user, machine=machine)
    ]


@router.post("/{name}", response_model=Fired, dependencies=[HeaderCsrf])
def fire(
    number: str, name: str, body: ActionIn, session: SessionDep, user: CurrentUser, machine: MachineDep
) -> Fired:
    """Take an action (a trigger of the lifecycle or a record action) with `data` as its input;
    `expected_version` (the version you saw) turns a lost update into 409."""
    case_id = viewing.case_for_action(session, viewer_of(user), number, channel="api")
    preview.check_action(session=session, case_id=case_id, action=name, actor=user, machine=machine)
    return cases.fire(
        session=session,
        case_id=case_id,
        action=name,
        actor=user,
        machine=machine,
        expected_version=body.expected_version,
        **body.data,
    )
