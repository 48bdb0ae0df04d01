"""Forms that act on a case: consent, and one form per lifecycle action (meeting, plan …)."""

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
from yorisoi.web import forms
from yorisoi.web.deps import CurrentUser, FormCsrf, MachineDep, SessionDep, viewer_of
from yorisoi.web.errors import status_of
from yorisoi.web.templating import render

router = APIRouter()

TEMPLATES = {
    "hold_support_meeting": "form_meeting.html",
    "hold_multilayer_meeting": "form_meeting.html",
    "draft_plan": "form_plan.html",
    "revise_plan": "form_plan.html",
    "approve_plan": "form_approve_plan.html",
    "record_monitoring": "form_monitoring.html",
    "withdraw_consent": "form_withdraw.html",
    "propose_closure": "form_closure.html",
    "approve_closure": "form_decide_closure.html",
    "reject_closure": "form_decide_closure.html",
    "reopen": "form_reopen.html",
}
RowsParam = Annotated[int | None, Query(ge=1, le=30, description="Empty rows offered per repeated part")]


def _context(
    request: Request, session: Session, user: Staff, number: str, version: int | None, rows: int | None
) -> dict[str, Any]:
    case_id = viewing.case_for_action(session, viewer_of(user), number, channel="web")
    view = viewing.view_case(session, viewer_of(user), number, channel="web")
    detail = view.detail
    plans = [p for p in detail.plans if p.episode == detail.episode]
    return {
        "case": detail,
        "case_id": case_id,
        "version": version or detail.version,
        "today": today_tokyo(),
        "agencies": queries.list_agencies(session),
        "desks": [a for a in queries.list_agencies(session) if a.is_desk],
        "staff": caseload.staff_options(session),
        "topics": request.app.state.settings.topics(),
        "rows": {k: max(n, rows or 0) for k, n in forms.ROWS.items()},
        "draft_plan": next((p for p in reversed(plans) if p.status == PlanStatus.DRAFT), None),
        "approved_plan": next((p for p in reversed(plans) if p.status == PlanStatus.APPROVED), None),
        "multilayer_meetings": caseload.meetings_of_kind(session, case_id, MeetingKind.MULTILAYER),
        "case_url": f"/cases/{detail.number}",
    }


def _form_page(
    request: Request,
    session: Session,
    user: Staff,
    machine: LifecycleMachine,
    number: str,
    trigger: str,
    *,
    version: int | None = None,
    rows: int | None = None,
    values: FormData | None = None,
    error: YorisoiError | None = None,
) -> Response:
    definition = machine.lifecycle.triggers.get(trigger)
    if definition is None:
        raise InvalidInput(f"不明な操作です: {trigger}", f"Unknown action {trigger!r}.")
    context = _context(request, session, user, number, version, rows)
    context |= {"trigger": trigger, "title": definition.ja, "values": values or {}, "error": error}
    status = status_of(error) if error else 200
    return render(request, TEMPLATES.get(trigger, "form_note.html"), context, status_code=status)


@router.get("/cases/{number}/do/{trigger}")
def action_form(
    number: str,
    trigger: str,
    request: Request,
    session: SessionDep,
    user: CurrentUser,
    machine: MachineDep,
    v: Annotated[int | None, Query(ge=1, le=2**31 - 1)] = None,
    rows: RowsParam = None,
) -> Response:
    return _form_page(request, session, user, machine, number, trigger, version=v, rows=rows)


@router.post("/cases/{number}/do/{trigger}")
def take_action(
    number: str,
    trigger: str,
    request: Request,
    form: FormCsrf,
    session: SessionDep,
    user: CurrentUser,
    machine: MachineDep,
) -> Response:
    case_id = viewing.case_for_action(session, viewer_of(user), number, channel="web")
    version = forms.expected_version(form)
    try:
        preview.check_trigger(session=session, case_id=case_id, trigger=trigger, actor=user, machine=machine)
        fired = cases.fire(
            session=session,
            case_id=case_id,
            trigger=trigger,
            actor=user,
            machine=machine,
            expected_version=version,
            **forms.action(form, trigger),
        )
    except YorisoiError as error:
        return _form_page(
            request, session, user, machine, number, trigger, version=version, values=form, error=error
        )
    return RedirectResponse(f"/cases/{fired.number}?done={trigger}", status_code=303)


@router.get("/cases/{number}/consent")
def consent_form(
    number: str,
    request: Request,
    session: SessionDep,
    user: CurrentUser,
    v: Annotated[int | None, Query(ge=1, le=2**31 - 1)] = None,
) -> Response:
    context = _context(request, session, user, number, v, None) | {"values": {}, "error": None}
    return render(request, "form_consent.html", context)


@router.post("/cases/{number}/consent")
def give_consent(
    number: str, request: Request, form: FormCsrf, session: SessionDep, user: CurrentUser, machine: MachineDep
) -> Response:
    case_id = viewing.case_for_action(session, viewer_of(user), number, channel="web")
    try:
        fired = cases.give_consent(
            session=session, case_id=case_id, actor=user, machine=machine, **forms.consent(form)
        )
    except YorisoiError as error:
        context = _context(request, session, user, number, forms.expected_version(form), None)
        context |= {"values": form, "error": error}
        return render(request, "form_consent.html", context, status_code=status_of(error))
    return RedirectResponse(f"/cases/{fired.number}?done=give_consent", status_code=303)
