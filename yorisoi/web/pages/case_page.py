"""The case page: the record as the user may see it, and the actions open to them now."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from models.plan import PlanStatus
from yorisoi.service import preview, viewing
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
    actions = (
        preview.available_actions(session=session, case_id=detail.id, actor=user, machine=machine)
        if full
        else []
    )
    plans = [p for p in detail.plans if p.episode == detail.episode]
    current = next((p for p in reversed(plans) if p.status != PlanStatus.SUPERSEDED), None)
    lifecycle = machine.lifecycle
    done_label = None
    if done:
        trigger = lifecycle.triggers.get(done)
        done_label = (
            trigger.ja if trigger else {"open_case": "受付", "give_consent": "本人同意の記録"}.get(done)
        )
    context = {
        "view": view,
        "case": detail,
        "full": full,
        "allowed": [a for a in actions if a.allowed],
        "blocked": [a for a in actions if not a.allowed],
        "current_plan": current,
        "older_plans": [p for p in reversed(detail.plans) if p is not current],
        "may_record": full
        and bool({"coordinator", "supervisor"} & set(user.roles))
        and detail.stage not in lifecycle.final_stages,
        "done_label": done_label,
        "case_url": f"/cases/{detail.number}",
    }
    return render(request, "case.html", context)
