"""Cases: the viewer's list with filters, one case's record, its timeline, a new intake."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from fastapi import APIRouter, Query

from models import caseload
from models.caseload import CaseCard
from models.queries import TimelineEntry
from yorisoi.jpdates import today_tokyo
from yorisoi.service import access, cases, viewing
from yorisoi.service.cases import Fired
from yorisoi.service.inputs import OpenCaseInput
from yorisoi.web.deps import CurrentUser, HeaderCsrf, MachineDep, SessionDep, viewer_of
from yorisoi.web.params import FiscalYearParam, fiscal_year_param
from yorisoi.web.schemas import ERRORS, CaseOut

router = APIRouter(prefix="/api", tags=["cases"], responses=ERRORS)


@router.get("/cases", response_model=list[CaseCard])
def list_cases(
    session: SessionDep,
    user: CurrentUser,
    machine: MachineDep,
    stage: Annotated[str | None, Query(max_length=64)] = None,
    fiscal_year: FiscalYearParam = None,
    overdue: bool = False,
    mine: Annotated[bool, Query(description="Only cases I coordinate")] = False,
    limit: Annotated[int, Query(ge=1, le=500)] = 200,
) -> list[CaseCard]:
    """The cases the signed-in user may see, in number order."""
    return caseload.visible_cases(
        session,
        access.list_scope(viewer_of(user)),
        today=today_tokyo(),
        monitoring_stages=machine.lifecycle.monitoring_stages,
        stage=stage,
        coordinator_id=user.id if mine else None,
        fiscal_year=fiscal_year_param(fiscal_year),
        overdue_only=overdue,
        limit=limit,
    )


@router.get("/due", response_model=list[CaseCard])
def due(
    session: SessionDep,
    user: CurrentUser,
    machine: MachineDep,
    days: Annotated[int, Query(ge=0, le=366, description="Due within this many days")] = 14,
) -> list[CaseCard]:
    """Open cases whose monitoring is overdue or due within `days`, soonest first."""
    today = today_tokyo()
    return caseload.visible_cases(
        session,
        access.list_scope(viewer_of(user)),
        today=today,
        monitoring_stages=machine.lifecycle.monitoring_stages,
        due_by=today + dt.timedelta(days=days),
        exclude_stages=tuple(machine.lifecycle.final_stages),
    )


@router.post("/cases", status_code=201, response_model=Fired, dependencies=[HeaderCsrf])
def open_case(body: OpenCaseInput, session: SessionDep, user: CurrentUser, machine: MachineDep) -> Fired:
    """受付: a new case with its person and first consultation contact."""
    return cases.open_case(session=session, actor=user, machine=machine, input=body)


@router.get("/cases/{number}", response_model=CaseOut)
def case_detail(number: str, session: SessionDep, user: CurrentUser) -> CaseOut:
    """One case as the user may see it (all of it, or the material of meetings they attended)."""
    view = viewing.view_case(session, viewer_of(user), number, channel="api")
    return CaseOut(access=view.access.value, case=view.detail)


@router.get("/cases/{number}/timeline", response_model=list[TimelineEntry])
def case_timeline(number: str, session: SessionDep, user: CurrentUser) -> list[TimelineEntry]:
    """The case's audit trail, oldest first."""
    return viewing.view_timeline(session, viewer_of(user), number, channel="api")
