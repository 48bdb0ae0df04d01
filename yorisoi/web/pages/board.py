"""The coordinator's board (my cases by stage), the due list, the filtered case list."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from models import caseload
from states import Role
from yorisoi.jpdates import today_tokyo
from yorisoi.service import access
from yorisoi.web.deps import CurrentUser, MachineDep, SessionDep, viewer_of
from yorisoi.web.params import FiscalYearParam, fiscal_year_param
from yorisoi.web.templating import render

router = APIRouter()

DUE_DAYS = 14


@router.get("/")
def board(
    request: Request,
    session: SessionDep,
    user: CurrentUser,
    machine: MachineDep,
    scope: Annotated[str | None, Query(pattern="^(mine|all)$")] = None,
) -> Response:
    lifecycle = machine.lifecycle
    mine = (scope or ("mine" if Role.COORDINATOR in user.roles else "all")) == "mine"
    today = today_tokyo()
    cards = caseload.visible_cases(
        session,
        access.list_scope(viewer_of(user)),
        today=today,
        monitoring_stages=lifecycle.monitoring_stages,
        coordinator_id=user.id if mine else None,
        exclude_stages=tuple(lifecycle.final_stages),
    )
    columns = [(stage, [c for c in cards if c.stage == stage]) for stage in lifecycle.open_stages]
    context = {
        "columns": columns,
        "mine": mine,
        "overdue": sum(c.overdue for c in cards),
        "due_soon": sum(
            1
            for c in cards
            if not c.overdue
            and c.stage in lifecycle.monitoring_stages
            and c.next_monitoring_on is not None
            and c.next_monitoring_on <= today + dt.timedelta(days=DUE_DAYS)
        ),
        "today": today,
    }
    return render(request, "board.html", context)


@router.get("/due")
def due(
    request: Request,
    session: SessionDep,
    user: CurrentUser,
    machine: MachineDep,
    days: Annotated[int, Query(ge=0, le=366)] = DUE_DAYS,
) -> Response:
    today = today_tokyo()
    cards = caseload.visible_cases(
        session,
        access.list_scope(viewer_of(user)),
        today=today,
        monitoring_stages=machine.lifecycle.monitoring_stages,
        due_by=today + dt.timedelta(days=days),
        exclude_stages=tuple(machine.lifecycle.final_stages),
    )
    return render(request, "due.html", {"cards": cards, "days": days, "today": today})


@router.get("/cases")
def case_list(
    request: Request,
    session: SessionDep,
    user: CurrentUser,
    machine: MachineDep,
    stage: Annotated[str | None, Query(max_length=64)] = None,
    fiscal_year: FiscalYearParam = None,
    overdue: bool = False,
    mine: bool = False,
) -> Response:
    today = today_tokyo()
    fy = fiscal_year_param(fiscal_year)
    cards = caseload.visible_cases(
        session,
        access.list_scope(viewer_of(user)),
        today=today,
        monitoring_stages=machine.lifecycle.monitoring_stages,
        stage=stage or None,
        coordinator_id=user.id if mine else None,
        fiscal_year=fy,
        overdue_only=overdue,
    )
    filters = {"stage": stage or "", "fiscal_year": fiscal_year or "", "overdue": overdue, "mine": mine}
    return render(request, "cases.html", {"cards": cards, "filters": filters, "today": today})
