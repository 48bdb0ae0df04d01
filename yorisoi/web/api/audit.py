"""The supervisor's audit (approvals, findings, hash chains) and the access log."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import FileResponse, StreamingResponse
from starlette.background import BackgroundTask

from models import audit_lists
from models import verification as verification_model
from models.audit_lists import AccessLogFilter, AccessLogRow
from states import Role
from yorisoi.casenumbers import normalize_case_number
from yorisoi.jpdates import today_tokyo
from yorisoi.reports import audit_stream
from yorisoi.reports.audit import audit_json, audit_sheets, recorded_summary
from yorisoi.service import audit_page, journal
from yorisoi.web import reporting
from yorisoi.web.api.reports import XLSX, Format, files
from yorisoi.web.deps import CurrentUser, MachineDep, SessionDep, require_role
from yorisoi.web.params import DayParam
from yorisoi.web.schemas import ERRORS

router = APIRouter(prefix="/api/audit", tags=["audit"], responses=ERRORS)

AUDITORS = frozenset({Role.SUPERVISOR, Role.AUDITOR})


@router.get("")
def audit(
    session: SessionDep,
    user: CurrentUser,
    machine: MachineDep,
    start: DayParam = None,
    end: DayParam = None,
    case: Annotated[str | None, Query(max_length=40, description="One case number")] = None,
    format: Annotated[Format, Query()] = Format.JSON,
) -> Response:
    """Approvals and closures in [start, end] (default: this 年度), findings, overdue cases,
    withdrawals (of one case, with `case`; full-width input accepted) and the newest recorded
    chain verification — the whole period in one file."""
    require_role(user, AUDITORS, "監査", "audit")
    where = audit_page.audit_filter(session, today=today_tokyo(), start=start, end=end, case=case)
    report = reporting.audit(session, machine, where.start, where.end, where.case_id)
    stem = f"yorisoi-audit-{report.start}-{report.end}" + (
        f"-{where.case_number}" if where.case_number else ""
    )
    return files(audit_sheets(report, machine), audit_json(report), format.value, stem)


@router.get("/export.xlsx", responses={200: {"content": {XLSX: {}}}}, response_class=FileResponse)
def export_workbook(
    request: Request,
    session: SessionDep,
    user: CurrentUser,
    machine: MachineDep,
    start: DayParam = None,
    end: DayParam = None,
    case: Annotated[str | None, Query(max_length=40)] = None,
) -> FileResponse:
    """The period's findings, approvals, closures, withdrawals and overdue cases (default: this
    年度; one case with `case`) in one workbook, written row by row to a temporary file and
    sent from it (removed afterwards), with the newest recorded chain verification."""
    require_role(user, AUDITORS, "監査", "audit")
    where = audit_page.audit_filter(session, today=today_tokyo(), start=start, end=end, case=case)
    scope = audit_stream.Scope(where.start, where.end, where.today, where.case_id, where.log_filter())
    listings = [audit_stream.listing(name, scope, machine) for name in audit_stream.WORKBOOK_LISTS]
    notes = [recorded_summary(verification_model.latest_finished(session))]
    session.commit()
    handle, name = tempfile.mkstemp(suffix=".xlsx", prefix="yorisoi-audit-")
    os.close(handle)
    path = Path(name)
    try:
        audit_stream.write_xlsx(request.app.state.engine, listings, notes, path)
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    suffix = f"-{where.case_number}" if where.case_number else ""
    return FileResponse(
        path,
        media_type=XLSX,
        filename=f"yorisoi-audit-{where.start}-{where.end}{suffix}.xlsx",
        background=BackgroundTask(path.unlink, missing_ok=True),
    )


@router.get(
    "/export/{name}.csv", responses={200: {"content": {"text/csv": {}}}}, response_class=StreamingResponse
)
def export_list(
    request: Request,
    session: SessionDep,
    user: CurrentUser,
    machine: MachineDep,
    name: Literal["approvals", "closures", "findings", "withdrawn", "overdue", "access_log"],
    start: DayParam = None,
    end: DayParam = None,
    case: Annotated[str | None, Query(max_length=40)] = None,
    log_staff: Annotated[str | None, Query(max_length=64)] = None,
    log_outcome: Annotated[str | None, Query(max_length=16)] = None,
) -> StreamingResponse:
    """One audit list for the whole period (default: this 年度) as CSV, streamed batch by batch
    (the access log filtered as on the page: case, staff, outcome)."""
    require_role(user, AUDITORS, "監査", "audit")
    where = audit_page.audit_filter(
        session, today=today_tokyo(), start=start, end=end, case=case, staff=log_staff, outcome=log_outcome
    )
    scope = audit_stream.Scope(where.start, where.end, where.today, where.case_id, where.log_filter())
    listing = audit_stream.listing(name, scope, machine)
    session.commit()  # the stream reads in its own transaction, after this request's has ended
    suffix = f"-{where.case_number}" if where.case_number else ""
    filename = f"yorisoi-audit-{listing.key}-{where.start}-{where.end}{suffix}.csv"
    return StreamingResponse(
        audit_stream.stream_csv(request.app.state.engine, listing),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


@router.get("/views", response_model=list[AccessLogRow])
def record_views(
    session: SessionDep,
    user: CurrentUser,
    case: Annotated[str | None, Query(max_length=20, description="One case number")] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 200,
) -> list[AccessLogRow]:
    """The access log (閲覧記録), newest first."""
    require_role(user, AUDITORS, "閲覧記録の確認", "read the access log")
    case_id = journal.find_case_id(session, normalize_case_number(case)) if case else None
    return audit_lists.access_log(session, AccessLogFilter(case_id=case_id), limit=limit)
