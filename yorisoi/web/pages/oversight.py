"""Pages for looking across cases: 年度 statistics with the chart, the audit, the lifecycle."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from models import caseload
from states import Role
from states.diagram import mermaid
from yorisoi.jpdates import as_of_label, fiscal_year_short
from yorisoi.reports.audit import audit_sheets
from yorisoi.reports.layout import annual_sheets
from yorisoi.web import reporting
from yorisoi.web.api.reports import READERS
from yorisoi.web.deps import CurrentUser, MachineDep, SessionDep, require_role
from yorisoi.web.params import DayParam, FiscalYearParam, fiscal_year_param
from yorisoi.web.templating import render

router = APIRouter()

AUDITORS = frozenset({Role.SUPERVISOR, Role.AUDITOR})


@router.get("/reports")
def statistics(
    request: Request,
    session: SessionDep,
    user: CurrentUser,
    fiscal_year: FiscalYearParam = None,
    as_of: DayParam = None,
) -> Response:
    require_role(user, READERS, "年度統計の閲覧", "read the statistics")
    settings = request.app.state.settings
    report = reporting.annual(session, settings, fiscal_year_param(fiscal_year), as_of)
    fy = fiscal_year_short(report.fiscal_year)
    context = {
        "report": report,
        "fy": fy,
        "sheets": annual_sheets(report, settings.topics()),
        "chart_url": f"/api/reports/trend?format=svg&last={fy}&as_of={report.as_of.isoformat()}",
        "chart_targets": reporting.chart_has_targets(settings, report.fiscal_year),
        "as_of_label": as_of_label(report.as_of),
        "query": f"fiscal_year={fy}&as_of={report.as_of.isoformat()}",
    }
    return render(request, "reports.html", context)


@router.get("/audit")
def audit(
    request: Request,
    session: SessionDep,
    user: CurrentUser,
    machine: MachineDep,
    start: DayParam = None,
    end: DayParam = None,
    case: Annotated[str | None, Query(max_length=20)] = None,
) -> Response:
    require_role(user, AUDITORS, "監査", "audit")
    report = reporting.audit(session, machine, start, end)
    context = {
        "report": report,
        "sheets": audit_sheets(report, machine),
        "views": caseload.record_views(session, limit=100),
        "query": f"start={report.start}&end={report.end}",
    }
    return render(request, "audit.html", context)


@router.get("/lifecycle")
def lifecycle(request: Request, user: CurrentUser, machine: MachineDep) -> Response:
    lc = machine.lifecycle
    rows = [(stage, [t for t in lc.transitions if stage.name in t.sources]) for stage in lc.stages]
    return render(request, "lifecycle.html", {"rows": rows, "mermaid": mermaid(lc)})
