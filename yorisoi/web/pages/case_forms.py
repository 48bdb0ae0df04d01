"""The form of every action a case can take, derived from the action registry.

`GET /cases/{number}/do/{name}` shows the form of a trigger of the lifecycle or of a record
action (contact, consent …); `POST` reads it into the action's input (`forms.read`) and hands
it to the case service. A refusal shows the form again, filled in, with the reason.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import RedirectResponse, Response
from sqlmodel import Session
from starlette.datastructures import FormData

from models import Staff, caseload, queries
from models.plan import PlanStatus
from states import LifecycleMachine, MeetingKind
from yorisoi.errors import InvalidInput, YorisoiError
from yorisoi.jpdates import today_tokyo
from yorisoi.service import cases, preview, viewing
from yorisoi.service.registry import ActionSpec, resolve
from yorisoi.web import forms
from yorisoi.web.deps import CurrentUser, FormCsrf, MachineDep, SessionDep, viewer_of
from yorisoi.web.errors import status_of
from yorisoi.web.templating import render

router = APIRouter()

RowsParam = Annotated[int | None, Query(ge=1, le=30, description="Empty rows offered per repeated part")]


def _context(
    request: Request,
    session: Session,
    user: Staff,
    number: str,
    version: int | None,
    rows: int | None,
    spec: ActionSpec,
) -> dict[str, Any]:
    case_id = viewing.case_for_action(session, viewer_of(user), number, channel="web")
    view = viewing.view_case(session, viewer_of(user), number, channel="web")
    detail = view.detail
    agencies = queries.list_agencies(session)
    form_rows = spec.form.rows if spec.form else {}
    return {
        "case": detail,
        "case_id": case_id,
        "version": version or detail.version,
        "today": today_tokyo(),
        "agencies": agencies,
        "desks": [a for a in agencies if a.is_desk],
        "staff": caseload.staff_options(session),
        "topics": request.app.state.settings.topics(),
        "providers": queries.list_providers(session),
        "rows": {k: max(n, rows or 0) for k, n in form_rows.items()},
        "draft_plan": detail.current_plan(PlanStatus.DRAFT),
        "approved_plan": detail.current_plan(PlanStatus.APPROVED),
        "multilayer_meetings": caseload.meetings_of_kind(session, case_id, MeetingKind.MULTILAYER),
        "case_url": f"/cases/{detail.number}",
    }


def _form_page(
    request: Request,
    session: Session,
    user: Staff,
    machine: LifecycleMachine,
    number: str,
    name: str,
    *,
    version: int | None = None,
    rows: int | None = None,
    values: FormData | None = None,
    error: YorisoiError | None = None,
) -> Response:
    step = resolve(machine.lifecycle, name)
    if step.spec.form is None:
        raise InvalidInput(
            f"「{step.spec.ja}」には画面のフォームがありません。", f"{name!r} has no page form."
        )
    trigger = machine.lifecycle.triggers.get(name)
    context = _context(request, session, user, number, version, rows, step.spec)
    context |= {
        "trigger": name,
        "action": step.spec.name,
        "title": trigger.ja if trigger else step.spec.ja,
        "values": values or {},
        "error": error,
    }
    status = status_of(error) if error else 200
    return render(request, step.spec.form.template, context, status_code=status)


@router.get("/cases/{number}/do/{name}")
def action_form(
    number: str,
    name: str,
    request: Request,
    session: SessionDep,
    user: CurrentUser,
    machine: MachineDep,
    v: Annotated[int | None, Query(ge=1, le=2**31 - 1)] = None,
    rows: RowsParam = None,
) -> Response:
    return _form_page(request, session, user, machine, number, name, version=v, rows=rows)


@router.post("/cases/{number}/do/{name}")
def take_action(
    number: str,
    name: str,
    request: Request,
    form: FormCsrf,
    session: SessionDep,
    user: CurrentUser,
    machine: MachineDep,
) -> Response:
    case_id = viewing.case_for_action(session, viewer_of(user), number, channel="web")
    version = forms.expected_version(form)
    try:
        spec = preview.check_action(
            session=session, case_id=case_id, action=name, actor=user, machine=machine
        )
        fired = cases.fire(
            session=session,
            case_id=case_id,
            action=name,
            actor=user,
            machine=machine,
            expected_version=version,
            **forms.read(form, spec.input),
        )
    except YorisoiError as error:
        return _form_page(
            request, session, user, machine, number, name, version=version, values=form, error=error
        )
    return RedirectResponse(f"/cases/{fired.number}?done={name}", status_code=303)
