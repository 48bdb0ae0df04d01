"""The supervisor's inbox: plans and closures awaiting approval, never their own."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from models import caseload
from states import Role
from yorisoi.web.deps import CurrentUser, MachineDep, SessionDep, require_role
from yorisoi.web.templating import render

router = APIRouter()


@router.get("/inbox")
def inbox(request: Request, session: SessionDep, user: CurrentUser, machine: MachineDep) -> Response:
    require_role(user, frozenset({Role.SUPERVISOR}), "承認", "approve")
    assert user.id is not None
    items = caseload.awaiting_approval(session, excluding_staff_id=user.id)
    # The form to open: the trigger the case's stage offers for the approval (names are the file's).
    approve = {
        item.number: machine.trigger_for(
            item.stage, "approve_plan" if item.kind == "plan" else "approve_closure"
        )
        for item in items
    }
    return render(request, "inbox.html", {"items": items, "approve": approve})
