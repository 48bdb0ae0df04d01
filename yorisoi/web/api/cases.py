"""Cases: the viewer's list with filters, one case's record, its timeline, a new intake."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request, Response

from models.caselists import ListCard
from models.queries import TimelineEntry
from yorisoi.jpdates import today_tokyo
from yorisoi.service import cases, viewing
from yorisoi.service.cases import Fired
from yorisoi.service.inputs import OpenCaseInput
from yorisoi.web import lists
from yorisoi.web.deps import CurrentUser, HeaderCsrf, MachineDep, SessionDep, viewer_of
from yorisoi.web.lists import CaseListFilters, WhoFilters
from yorisoi.web.params import (
    AfterOnParam,
    IdParam,
)
from yorisoi.web.schemas import ERRORS, CaseOut

router = APIRouter(prefix="/api", tags=["cases"], responses=ERRORS)


API_PAGE = 200
"""Cases per API page unless `limit` says otherwise (at most `API_PAGE_MAX`)."""
API_PAGE_MAX = 500
Limit = Annotated[int, Query(ge=1, le=API_PAGE_MAX, description="Cases per page")]


def _next_link(request: Request, response: Response, **cursor: object) -> None:
    """`Link: <…>; rel="next"`: this request's URL continuing after the last case (RFC 8288);
    a cursor part that is None is left out."""
    given = {name: value for name, value in cursor.items() if value is not None}
    url = request.url.remove_query_params(list(cursor)).include_query_params(**given)
    response.headers["Link"] = f'<{url}>; rel="next"'


@router.get("/cases", response_model=list[ListCard])
def list_cases(
    request: Request,
    response: Response,
    session: SessionDep,
    user: CurrentUser,
    machine: MachineDep,
    chosen: Annotated[CaseListFilters, Depends()],
    after: IdParam = None,
    limit: Limit = API_PAGE,
) -> list[ListCard]:
    """The cases the signed-in user may see, in registration order, one page at a time: the
    next page's URL is in the `Link` header (rel="next"), absent on the last page."""
    listed = lists.case_list(
        session, user, machine.lifecycle, chosen.of(user), today=today_tokyo(), after=after, limit=limit
    )
    if listed.page.next_after is not None:
        _next_link(request, response, after=listed.page.next_after)
    return list(listed.page.cards)


@router.get("/due", response_model=list[ListCard])
def due(
    request: Request,
    response: Response,
    session: SessionDep,
    user: CurrentUser,
    machine: MachineDep,
    who: Annotated[WhoFilters, Depends()],
    days: Annotated[int, Query(ge=0, le=366, description="Due within this many days")] = 14,
    after_on: AfterOnParam = None,
    after: IdParam = None,
    limit: Limit = API_PAGE,
) -> list[ListCard]:
    """Open cases 期限超過 or whose monitoring falls due within `days`: those marked overdue
    without a date first, then the soonest date; the next page's URL is in the `Link` header."""
    cursor = (after_on, after) if after is not None else None
    listed = lists.due_list(
        session,
        user,
        machine.lifecycle,
        who.of(user),
        today=today_tokyo(),
        days=days,
        after=cursor,
        limit=limit,
    )
    if listed.page.next_after is not None:
        day, last = listed.page.next_after
        _next_link(request, response, after=last, after_on=day.isoformat() if day else None)
    return list(listed.page.cards)


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
