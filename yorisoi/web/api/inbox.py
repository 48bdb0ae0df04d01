"""The supervisor's inbox: plans and closures awaiting a decision, never their own."""

from __future__ import annotations

from fastapi import APIRouter

from models import caseload
from models.caseload import AwaitingApproval
from states import Role
from yorisoi.web.deps import CurrentUser, SessionDep, require_role
from yorisoi.web.schemas import ERRORS

router = APIRouter(prefix="/api", tags=["approvals"], responses=ERRORS)


@router.get("/inbox", response_model=list[AwaitingApproval])
def inbox(session: SessionDep, user: CurrentUser) -> list[AwaitingApproval]:
    """Draft plans and closure proposals of the current episodes, oldest first."""
    require_role(user, frozenset({Role.SUPERVISOR}), "承認", "approve")
    assert user.id is not None
    return caseload.awaiting_approval(session, excluding_staff_id=user.id)
