"""The supervisor's audit (approvals, findings, hash chains) and the access log."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response

from models import caseload
from models.caseload import ViewRow
from states import Role
from yorisoi.reports.audit import audit_json, audit_sheets
from yorisoi.service import journal
from yorisoi.web import reporting
from yorisoi.web.api.reports import Format, files
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
    format: Annotated[Format, Query()] = Format.JSON,
) -> Response:
    """Approvals and closures in [start, end] (default: this 年度 so far), findings, chain check."""
    require_role(user, AUDITORS, "監査", "audit")
    report = reporting.audit(session, machine, start, end)
    stem = f"yorisoi-audit-{report.start}-{report.end}"
    return files(audit_sheets(report, machine), audit_json(report), format.value, stem)


@router.get("/views", response_model=list[ViewRow])
def record_views(
    session: SessionDep,
    user: CurrentUser,
    case: Annotated[str | None, Query(max_length=20, description="One case number")] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 200,
) -> list[ViewRow]:
    """The access log (閲覧記録), newest first."""
    require_role(user, AUDITORS, "閲覧記録の確認", "read the access log")
    case_id = journal.find_case_id(session, case.strip().upper()) if case else None
    return caseload.record_views(session, case_id=case_id, limit=limit)
