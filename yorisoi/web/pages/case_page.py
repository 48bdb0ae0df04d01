"""The case page: the record as the user may see it, and the actions open to them now."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from models.plan import PlanStatus
from yorisoi.service import preview, registry, viewing
from yorisoi.service.access import Access
from yorisoi.web.deps import CurrentUser, MachineDep, SessionDep, viewer_of
from yorisoi.web.templating import render

router = APIRouter()


@router.get("/cases/{number}")
def case_page(
    number: str,
    request: Request,
    session: SessionDep,
    user: CurrentUser,
    machine: MachineDep,
    done: Annotated[str | None, Query(max_length=64)] = None,
) -> Response:
    view = viewing.view_case(session, viewer_of(user), number, channel="web", with_timeline=True)
    detail = view.detail
    full = view.access is Access.FULL
    actions, records, late = [], [], []
    if full:
        late = preview.late_entries(session=session, case_id=detail.id, actor=user, machine=machine)
        actions = preview.available_actions(session=session, case_id=detail.id, actor=user, machine=machine)
        records = [
            spec
            for spec in preview.record_actions(
                session=session, case_id=detail.id, actor=user, machine=machine
            )
            if spec.form is not None
        ]
    draft = detail.current_plan(PlanStatus.DRAFT)
    in_force = detail.current_plan(PlanStatus.APPROVED)
    current = [p for p in (draft, in_force) if p is not None]
    context = {
        "view": view,
        "case": detail,
        "full": full,
        "allowed": [a for a in actions if a.allowed],
        "blocked": [a for a in actions if not a.allowed],
        "records": records,
        "late_entries": late,
        "current_plans": current,
        "older_plans": [p for p in reversed(detail.plans) if p not in current],
        "done_label": registry.label(machine.lifecycle, done) if done else None,
        "case_url": f"/cases/{detail.number}",
    }
    return render(request, "case.html", context)
