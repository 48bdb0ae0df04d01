"""受付: the intake form that opens a case."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from starlette.datastructures import FormData

from models import queries
from states import Role
from yorisoi.errors import YorisoiError
from yorisoi.jpdates import today_tokyo
from yorisoi.service import cases
from yorisoi.service.inputs import OpenCaseInput
from yorisoi.web import forms
from yorisoi.web.deps import CurrentUser, FormCsrf, MachineDep, SessionDep, require_role
from yorisoi.web.errors import status_of
from yorisoi.web.templating import render

router = APIRouter()

INTAKE_ROLES = frozenset({Role.COORDINATOR, Role.SUPERVISOR})


def _page(request: Request, session: Any, form: FormData | None, error: YorisoiError | None) -> Response:
    context = {
        "desks": [a for a in queries.list_agencies(session) if a.is_desk],
        "topics": request.app.state.settings.topics(),
        "today": today_tokyo(),
        "values": form,
        "error": error,
    }
    return render(request, "intake.html", context, status_code=status_of(error) if error else 200)


@router.get("/cases/new")
def intake_form(request: Request, session: SessionDep, user: CurrentUser) -> Response:
    require_role(user, INTAKE_ROLES, "ケースの受付", "open a case")
    return _page(request, session, None, None)


@router.post("/cases/new")
def open_case(
    request: Request, form: FormCsrf, session: SessionDep, user: CurrentUser, machine: MachineDep
) -> Response:
    require_role(user, INTAKE_ROLES, "ケースの受付", "open a case")
    try:
        fired = cases.open_case(
            session=session, actor=user, machine=machine, **forms.read(form, OpenCaseInput)
        )
    except YorisoiError as error:
        return _page(request, session, form, error)
    return RedirectResponse(f"/cases/{fired.number}?done=open_case", status_code=303)
