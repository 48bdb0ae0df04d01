"""Pages for looking across cases: 年度 statistics with the chart, the audit, the lifecycle."""

from __future__ import annotations

import logging
import threading
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Query, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy import Engine

from models.keyset import Page
from states import Role
from states.diagram import mermaid
from yorisoi.jpdates import as_of_label, fiscal_year_short, today_tokyo
from yorisoi.reports.audit import (
    APPROVAL_COLUMNS,
    CLOSURE_COLUMNS,
    OVERDUE_COLUMNS,
    WITHDRAWN_COLUMNS,
    approval_cells,
    closure_cells,
    overdue_cells,
    recorded_summary,
    withdrawn_cells,
)
from yorisoi.reports.layout import annual_sheets
from yorisoi.service import audit_page, verification
from yorisoi.settings import Settings
from yorisoi.web import reporting
from yorisoi.web.api.reports import READERS
from yorisoi.web.deps import CurrentUser, FormCsrf, MachineDep, SessionDep, require_role
from yorisoi.web.params import DayParam, FiscalYearParam, fiscal_year_param
from yorisoi.web.templating import render

router = APIRouter()
logger = logging.getLogger(__name__)

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
    figures = request.app.state.figures
    report = reporting.annual(session, settings, fiscal_year_param(fiscal_year), as_of, figures)
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
    case: Annotated[str | None, Query(max_length=40)] = None,
    log_staff: Annotated[str | None, Query(max_length=64)] = None,
    log_outcome: Annotated[str | None, Query(max_length=16)] = None,
) -> Response:
    """The audit of a period (default: this 年度): every list one keyset page at a time, the
    newest recorded chain verification, links to the whole period as files."""
    require_role(user, AUDITORS, "監査", "audit")
    where = audit_page.audit_filter(
        session,
        today=today_tokyo(),
        start=start,
        end=end,
        case=case,
        staff=log_staff,
        outcome=log_outcome,
    )
    cursors = {kind.param: request.query_params.get(kind.param) for kind in audit_page.CURSORS.values()}
    settings, figures = request.app.state.settings, request.app.state.figures
    page = audit_page.audit_page(
        session,
        machine,
        where,
        cursors,
        memo=lambda question, build: figures.get_or_build(session, settings, question, build),
    )
    filters = {
        "start": where.start.isoformat(),
        "end": where.end.isoformat(),
        "case": where.case_number or "",
        "log_staff": where.staff_login or "",
        "log_outcome": "" if where.outcome == "all" else where.outcome,
    }
    kept = {k: v for k, v in {**filters, **cursors}.items() if v}

    def link(**changes: str | None) -> str:
        """This page's URL with some parameters changed (None: dropped)."""
        params = {k: v for k, v in {**kept, **changes}.items() if v}
        return "/audit?" + urlencode(params)

    def next_page(name: str) -> str | None:
        kind = audit_page.CURSORS[name]
        listed: Page[Any] = getattr(page, name)
        after = kind.encode(listed.next)
        return None if after is None else link(**{kind.param: after}) + f"#{name}"

    def first_page(name: str) -> str | None:
        kind = audit_page.CURSORS[name]
        return link(**{kind.param: None}) + f"#{name}" if kept.get(kind.param) else None

    export = urlencode({k: v for k, v in filters.items() if v and k in ("start", "end", "case")})
    log_export = urlencode({k: v for k, v in filters.items() if v})
    context = {
        "page": page,
        "where": where,
        "filters": filters,
        "next_page": next_page,
        "first_page": first_page,
        "export": export,
        "log_export": log_export,
        "summary": recorded_summary(page.verification.finished),
        "page_size": audit_page.PAGE_SIZE,
        "columns": {
            "approvals": APPROVAL_COLUMNS,
            "closures": CLOSURE_COLUMNS,
            "withdrawn": WITHDRAWN_COLUMNS,
            "overdue": OVERDUE_COLUMNS,
        },
        "cells": {
            "approvals": approval_cells,
            "closures": closure_cells,
            "withdrawn": withdrawn_cells,
            "overdue": lambda r: overdue_cells(r, where.today, machine),
        },
    }
    return render(request, "audit.html", context)


@router.post("/audit/verify")
def verify(request: Request, form: FormCsrf, session: SessionDep, user: CurrentUser) -> Response:
    """Start a verification of every audit trail in the background and go back to the page.

    In a background thread, not in the request: at a million cases it takes minutes, longer
    than a browser or a proxy waits; its `running` row (committed before the thread starts)
    makes the page say 「検証中」, and a thread that dies with the process leaves a row the
    page calls 中断 after `models.verification.STALE_AFTER`."""
    require_role(user, AUDITORS, "監査記録の検証", "verify the audit trail")
    session.commit()  # the request's transaction ends before the run's row is written
    engine = request.app.state.engine
    run_id = verification.start(engine, trigger="web", by=user.login)
    thread = threading.Thread(
        target=_verify_in_background,
        args=(engine, request.app.state.settings, run_id),
        name=f"audit-verify-{run_id}",
        daemon=True,
    )
    thread.start()
    return RedirectResponse("/audit#verification", status_code=303)


def _verify_in_background(engine: Engine, settings: Settings, run_id: int) -> None:
    try:
        verification.run(engine, settings, run_id)
    except Exception:  # recorded as failed by `run`; the thread has no one else to tell
        logger.exception("監査記録の検証に失敗しました / verification run %s failed", run_id)


@router.get("/lifecycle")
def lifecycle(request: Request, user: CurrentUser, machine: MachineDep) -> Response:
    lc = machine.lifecycle
    rows = [(stage, [t for t in lc.transitions if stage.name in t.sources]) for stage in lc.stages]
    return render(request, "lifecycle.html", {"rows": rows, "mermaid": mermaid(lc)})
