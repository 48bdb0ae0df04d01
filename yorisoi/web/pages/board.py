"""The board (cases by stage), the due list, the case list and search: every list bounded.

Each list shows a page of cases and a link to the next one (keyset paging, `models.caselists`),
with the count of everything the filters select; a board column shows its first
`BOARD_PAGE` cards and pages on its own. The viewer's scope is `access.list_scope`, the same
rule the case page judges by, so no list or search result names a case its viewer cannot open.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response
from sqlalchemy import select
from sqlmodel import Session, col

from models import Case, Staff, caselists
from models.case import monitoring_overdue
from models.caselists import BadQuery, CaseFilters, ListCard
from states import Role
from yorisoi.jpdates import today_tokyo
from yorisoi.service import access
from yorisoi.web import lists
from yorisoi.web.deps import CurrentUser, MachineDep, SessionDep, viewer_of
from yorisoi.web.lists import CaseListFilters, WhoFilters
from yorisoi.web.params import (
    AfterOnParam,
    IdParam,
    StageParam,
    TeamParam,
)
from yorisoi.web.templating import render

router = APIRouter()

DUE_DAYS = 14
BOARD_PAGE = 20
"""Cards per board column before 「さらに表示」."""
LIST_PAGE = 50
"""Rows per page of the due list and the case list."""
SEARCH_PAGE = 20


def link(path: str, params: Mapping[str, Any]) -> str:
    """`path` with the given query parameters, leaving out empty ones."""
    kept = {k: ("true" if v is True else v) for k, v in params.items() if v not in (None, "", False)}
    return f"{path}?{urlencode(kept)}" if kept else path


@dataclass(frozen=True, slots=True)
class Choice:
    value: str
    label: str


def _coordinators(session: Session) -> list[Choice]:
    rows = session.execute(
        select(col(Staff.id), col(Staff.name), col(Staff.roles))
        .where(col(Staff.active))
        .order_by(col(Staff.id))
    ).all()
    return [Choice(str(i), name) for i, name, roles in rows if Role.COORDINATOR in (roles or [])]


def _teams(session: Session) -> list[Choice]:
    rows = session.execute(
        select(col(Staff.team)).where(col(Staff.team).is_not(None)).distinct().order_by(col(Staff.team))
    ).scalars()
    return [Choice(str(t), str(t)) for t in rows]


def _filter_choices(session: Session) -> dict[str, list[Choice]]:
    return {"coordinators": _coordinators(session), "teams": _teams(session)}


@dataclass(frozen=True, slots=True)
class Column:
    stage: str
    total: int
    cards: tuple[ListCard, ...]
    more: str | None
    """The link to this column's next cards, if any."""
    paged: bool
    """Whether this column is shown from a later page (offer the way back to its start)."""


@router.get("/")
def board(
    request: Request,
    session: SessionDep,
    user: CurrentUser,
    machine: MachineDep,
    scope: Annotated[str | None, Query(pattern="^(mine|all)$")] = None,
    stage: StageParam = None,
    coordinator: IdParam = None,
    team: TeamParam = None,
    overdue: bool = False,
    dv: bool = False,
    col_stage: Annotated[str | None, Query(alias="col", max_length=64)] = None,
    after: IdParam = None,
) -> Response:
    lifecycle = machine.lifecycle
    if scope is None and coordinator is None and not team:
        if Role.COORDINATOR in user.roles:
            scope = "mine"
        elif user.team:
            team = user.team  # a supervisor starts on their team's board (全体 is one click away)
        else:
            scope = "all"
    mine = scope == "mine"
    filters = CaseFilters(
        stage=stage or None,
        coordinator_id=user.id if mine else coordinator,
        team=team or None,
        overdue=overdue,
        dv=dv,
    )
    today = today_tokyo()
    in_view = access.list_scope(viewer_of(user))
    monitoring, final = lifecycle.monitoring_stages, tuple(lifecycle.final_stages)
    clauses = caselists.filter_clauses(
        session, in_view, filters, today=today, monitoring_stages=monitoring, exclude_stages=final
    )
    counts = caselists.board_counts(
        session, in_view, filters, today=today, monitoring_stages=monitoring, exclude_stages=final
    )
    params: dict[str, Any] = {
        "scope": scope,
        "stage": filters.stage,
        "coordinator": None if mine else coordinator,
        "team": filters.team,
        "overdue": overdue,
        "dv": dv,
    }
    columns = []
    for name in lifecycle.open_stages:
        if filters.stage is not None and name != filters.stage:
            continue
        start = after if col_stage == name else None
        page = (
            caselists.page(
                session,
                clauses.where(col(Case.stage) == name),
                today=today,
                monitoring_stages=lifecycle.monitoring_stages,
                after=start,
                limit=BOARD_PAGE,
            )
            if counts.get(name)
            else caselists.Page((), None)
        )
        more = link("/", {**params, "col": name, "after": page.next_after}) if page.next_after else None
        columns.append(Column(name, counts.get(name, 0), page.cards, more, start is not None))
    context = {
        "columns": columns,
        "mine": mine,
        "filters": filters,
        "params": params,
        "base_link": link("/", params),
        "show_coordinator": filters.coordinator_id is None,
        "total": sum(c.total for c in columns),
        "overdue_link": link("/", {**params, "overdue": True}),
        "today": today,
        "page_size": BOARD_PAGE,
        **_filter_choices(session),
    }
    return render(request, "board.html", context)


@router.get("/due")
def due(
    request: Request,
    session: SessionDep,
    user: CurrentUser,
    machine: MachineDep,
    who: Annotated[WhoFilters, Depends()],
    days: Annotated[int, Query(ge=0, le=366)] = DUE_DAYS,
    after_on: AfterOnParam = None,
    after: IdParam = None,
) -> Response:
    lifecycle = machine.lifecycle
    today = today_tokyo()
    cursor = (after_on, after) if after is not None else None
    listed = lists.due_list(
        session, user, lifecycle, who.of(user), today=today, days=days, after=cursor, limit=LIST_PAGE
    )
    page = listed.page
    counted = caselists.count_where(
        session, listed.chosen, monitoring_overdue(today, lifecycle.monitoring_stages)
    )
    mine, coordinator, team, dv = who.mine, who.coordinator, who.team, who.dv
    params = {
        "days": days,
        "mine": mine,
        "coordinator": None if mine else coordinator,
        "team": team,
        "dv": dv,
    }
    following = None
    if page.next_after is not None:
        following = link("/due", {**params, "after_on": page.next_after[0], "after": page.next_after[1]})
    context = {
        "cards": page.cards,
        "days": days,
        "today": today,
        "counted": counted,
        "cap": caselists.COUNT_CAP,
        "following": following,
        "first": link("/due", params) if cursor else None,
        "filters": {"mine": mine, "coordinator": str(coordinator or ""), "team": team or "", "dv": dv},
        **_filter_choices(session),
    }
    return render(request, "due.html", context)


@router.get("/cases")
def case_list(
    request: Request,
    session: SessionDep,
    user: CurrentUser,
    machine: MachineDep,
    chosen: Annotated[CaseListFilters, Depends()],
    after: IdParam = None,
) -> Response:
    lifecycle = machine.lifecycle
    today = today_tokyo()
    filters = chosen.of(user)
    listed = lists.case_list(session, user, lifecycle, filters, today=today, after=after, limit=LIST_PAGE)
    page = listed.page
    stage, fiscal_year, overdue = chosen.stage, chosen.fiscal_year, chosen.overdue
    mine, coordinator, team, dv = chosen.mine, chosen.coordinator, chosen.team, chosen.dv
    shown = {
        "stage": stage or "",
        "fiscal_year": fiscal_year or "",
        "overdue": overdue,
        "mine": mine,
        "coordinator": "" if mine else str(coordinator or ""),
        "team": team or "",
        "dv": dv,
    }
    context = {
        "cards": page.cards,
        "filters": shown,
        "today": today,
        "counted": caselists.list_count(
            session,
            listed.scope,
            filters,
            today=today,
            monitoring_stages=lifecycle.monitoring_stages,
            chosen=listed.chosen,
        ),
        "cap": caselists.COUNT_CAP,
        "following": link("/cases", {**shown, "after": page.next_after}) if page.next_after else None,
        "first": link("/cases", shown) if after else None,
        **_filter_choices(session),
    }
    return render(request, "cases.html", context)


@router.get("/search")
def search(
    request: Request,
    session: SessionDep,
    user: CurrentUser,
    machine: MachineDep,
    q: Annotated[str, Query(max_length=2000)] = "",
    after: IdParam = None,
) -> Response:
    lifecycle = machine.lifecycle
    today = today_tokyo()
    error = None
    try:
        terms = caselists.search_terms(q)
    except BadQuery as exc:
        terms, error = None, str(exc)
    page = caselists.Page((), None)
    if terms is not None:
        page = caselists.search(
            session,
            access.list_scope(viewer_of(user)),
            terms,
            today=today,
            monitoring_stages=lifecycle.monitoring_stages,
            after=after,
            limit=SEARCH_PAGE,
        )
    context = {
        "q": q[: caselists.MAX_QUERY * 4],
        "terms": terms,
        "cards": page.cards,
        "today": today,
        "following": link("/search", {"q": q, "after": page.next_after}) if page.next_after else None,
        "first": link("/search", {"q": q}) if after else None,
        "short_cap": caselists.SHORT_CAP,
        "error": error,
    }
    return render(request, "search.html", context, status_code=400 if error else 200)
