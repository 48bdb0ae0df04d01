"""The case list and the due list as the web pages and the API read them, declared once: their
query parameters (`WhoFilters`, `CaseListFilters`), the viewer's scope, one keyset page.

The page (`yorisoi.web.pages.board`) renders a page of them with its count and 次へ link; the
API (`yorisoi.web.api.cases`) returns the same cards with a `Link: rel="next"` header.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlmodel import Session

from models import Staff, caselists
from models.caselists import CaseFilters, DuePage, Page, Selection
from models.caseload import ListScope
from states import Lifecycle
from yorisoi.service import access
from yorisoi.web.deps import viewer_of
from yorisoi.web.params import FiscalYearParam, IdParam, StageParam, TeamParam, fiscal_year_param


@dataclass
class WhoFilters:
    """Whose cases a list shows, as query parameters: mine, one coordinator's, a team's, the
    DV-protected households'. Within the viewer's scope, always."""

    mine: bool = False
    coordinator: IdParam = None
    team: TeamParam = None
    dv: bool = False

    def of(self, user: Staff) -> CaseFilters:
        return CaseFilters(
            coordinator_id=user.id if self.mine else self.coordinator, team=self.team or None, dv=self.dv
        )


@dataclass
class CaseListFilters(WhoFilters):
    """The case list's query parameters: whose, and a stage, a 年度, 期限超過."""

    stage: StageParam = None
    fiscal_year: FiscalYearParam = None
    overdue: bool = False

    def of(self, user: Staff) -> CaseFilters:
        who = super().of(user)
        return CaseFilters(
            stage=self.stage or None,
            coordinator_id=who.coordinator_id,
            team=who.team,
            overdue=self.overdue,
            dv=who.dv,
            fiscal_year=fiscal_year_param(self.fiscal_year),
        )


@dataclass(frozen=True, slots=True)
class Listed:
    """A page of a list, with what the page also needs: the selection it was read from (to count
    it) and the viewer's scope."""

    scope: ListScope
    chosen: Selection
    page: Page


@dataclass(frozen=True, slots=True)
class DueListed:
    chosen: Selection
    page: DuePage


def case_list(
    session: Session,
    user: Staff,
    lifecycle: Lifecycle,
    filters: CaseFilters,
    *,
    today: dt.date,
    after: int | None,
    limit: int,
) -> Listed:
    """The cases `user` may see that `filters` select, in registration order, after case `after`."""
    scope = access.list_scope(viewer_of(user))
    chosen = caselists.filter_clauses(
        session, scope, filters, today=today, monitoring_stages=lifecycle.monitoring_stages
    )
    page = caselists.page(
        session, chosen, today=today, monitoring_stages=lifecycle.monitoring_stages, after=after, limit=limit
    )
    return Listed(scope, chosen, page)


def due_list(
    session: Session,
    user: Staff,
    lifecycle: Lifecycle,
    filters: CaseFilters,
    *,
    today: dt.date,
    days: int,
    after: tuple[dt.date | None, int] | None,
    limit: int,
) -> DueListed:
    """Open cases `user` may see that are 期限超過 or due within `days`, soonest first."""
    chosen = caselists.due_selection(
        caselists.filter_clauses(
            session,
            access.list_scope(viewer_of(user)),
            filters,
            today=today,
            monitoring_stages=lifecycle.monitoring_stages,
            exclude_stages=tuple(lifecycle.final_stages),
        ),
        today=today,
        due_by=today + dt.timedelta(days=days),
        monitoring_stages=lifecycle.monitoring_stages,
    )
    page = caselists.due_page(
        session, chosen, today=today, monitoring_stages=lifecycle.monitoring_stages, after=after, limit=limit
    )
    return DueListed(chosen, page)
