"""ロック解除: logins and client addresses kept from signing in, the sign-in log, and the unlock."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from models.auth import OUTCOME_LABELS_JA
from yorisoi.service import signin
from yorisoi.service.directory import require_manager
from yorisoi.web.deps import CurrentUser, FormCsrf, SessionDep, now, settings
from yorisoi.web.forms import text
from yorisoi.web.templating import render

router = APIRouter()


@router.get("/locks")
def locks(request: Request, session: SessionDep, user: CurrentUser) -> Response:
    require_manager(user, "ログインのロック解除", "unlock sign-ins")
    context = {
        "held": signin.held(session, now=now(request), policy=settings(request).auth),
        "log": signin.sign_in_log(session, limit=100),
        "outcomes": OUTCOME_LABELS_JA,
    }
    return render(request, "locks.html", context)


@router.post("/locks/unlock")
def unlock(request: Request, form: FormCsrf, session: SessionDep, user: CurrentUser) -> Response:
    kind, key = text(form, "kind"), text(form, "key")
    signin.unlock(
        session,
        actor=user,
        login=key if kind == "login" else None,
        client=key if kind == "client" else None,
        now=now(request),
        channel="web",
    )
    return RedirectResponse("/locks", status_code=303)
