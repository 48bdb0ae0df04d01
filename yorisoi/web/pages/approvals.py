"""The supervisor's inbox: plans and closures awaiting approval, never their own."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from models import caseload
from states import Role
from yorisoi.web.deps import CurrentUser, SessionDep, require_role
from yorisoi.web.templating import render

router = APIRouter()


@router.get("/inbox")
def inbox(request: Request, session: SessionDep, user: CurrentUser) -> Response:
    require_role(user, frozenset({Role.SUPERVISOR}), "承認", "approve")
    assert user.id is not None
    items = caseload.awaiting_approval(session, excluding_staff_id=user.id)
    return render(request, "inbox.html", {"items": items})
