"""The audit's lists for a whole period as CSV, streamed: rows are read one keyset batch at a
time and written out as they come, so a 400,000-row list never sits in memory or in one page.

The columns and cells are the audit sheets' own (`yorisoi.reports.audit`), and every text cell
goes through `yorisoi.reports.csvfiles.safe_cell` (formula-like text quoted, control
characters escaped), as in every other CSV yorisoi writes. UTF-8 with a byte-order mark, as
Excel needs for Japanese.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from sqlalchemy import Engine
from sqlmodel import Session

from models import audit_lists, oversight
from models.db import read_only, session_scope
from states import LifecycleMachine
from yorisoi.jpdates import tokyo_datetime
from yorisoi.reports.audit import (
    APPROVAL_COLUMNS,
    CLOSURE_COLUMNS,
    FINDING_COLUMNS,
    OVERDUE_COLUMNS,
    WITHDRAWN_COLUMNS,
    approval_cells,
    closure_cells,
    closure_findings,
    finding_cells,
    overdue_cells,
    plan_findings,
    withdrawn_cells,
)
from yorisoi.reports.csvfiles import safe_cell
from yorisoi.reports.layout import Cell, ja_date
from yorisoi.safetext import is_formula_like, visible

BATCH = 2_000
ACCESS_LOG_COLUMNS = ["日時", "ケース", "職員", "ログイン名", "閲覧内容", "経路", "結果"]
_WHAT_JA = {"case_detail": "ケース記録", "meeting_material": "会議資料", "timeline": "経過", "action": "操作"}


@dataclass(frozen=True, slots=True)
class Part:
    """One keyset-paged query of a list and how its rows become CSV lines."""

    fetch: Callable[[Session, Sequence[Any] | None, int], list[Any]]
    key: Callable[[Any], tuple[Any, ...]]
    cells: Callable[[Any], list[list[Cell]]]


@dataclass(frozen=True, slots=True)
class Listing:
    key: str
    title: str
    columns: list[str]
    parts: tuple[Part, ...]


@dataclass(frozen=True, slots=True)
class Scope:
    """The period, the case, `today` (for overdue) and the access log's filter."""

    start: dt.date
    end: dt.date
    today: dt.date
    case_id: int | None
    log: audit_lists.AccessLogFilter


def _log_cells(v: audit_lists.AccessLogRow) -> list[list[Cell]]:
    return [
        [
            tokyo_datetime(v.viewed_at).format("YYYY-MM-DD HH:mm:ss"),
            v.case_number,
            v.staff_name,
            v.staff_login,
            _WHAT_JA.get(v.what, v.what),
            "画面" if v.channel == "web" else "API",
            "閲覧" if v.granted else "拒否",
        ]
    ]


def listing(name: str, scope: Scope, machine: LifecycleMachine) -> Listing:
    """The list `name` (approvals, closures, findings, withdrawn, overdue, access_log)."""
    s, e, case_id = scope.start, scope.end, scope.case_id
    period = f"{ja_date(s)}〜{ja_date(e)}"
    stages = machine.lifecycle.monitoring_stages

    def approvals(violations: bool) -> Callable[[Session, Sequence[Any] | None, int], list[Any]]:
        return lambda session, after, limit: oversight.plan_approvals(
            session, s, e, case_id=case_id, violations=violations, after=after, limit=limit
        )

    def closures(violations: bool) -> Callable[[Session, Sequence[Any] | None, int], list[Any]]:
        return lambda session, after, limit: oversight.closure_decisions(
            session, s, e, case_id=case_id, violations=violations, after=after, limit=limit
        )

    def approval_key(r: oversight.PlanApproval) -> tuple[Any, ...]:
        return (r.approved_on, r.plan_id)

    def closure_key(r: oversight.ClosureDecision) -> tuple[Any, ...]:
        return (r.decided_on, r.closure_id)

    listings = {
        "approvals": lambda: Listing(
            "approvals",
            f"支援プランの承認（{period}）",
            APPROVAL_COLUMNS,
            (Part(approvals(False), approval_key, lambda r: [approval_cells(r)]),),
        ),
        "closures": lambda: Listing(
            "closures",
            f"終結の承認（{period}）",
            CLOSURE_COLUMNS,
            (Part(closures(False), closure_key, lambda r: [closure_cells(r)]),),
        ),
        "findings": lambda: Listing(
            "findings",
            f"指摘事項（二者確認・会議なしの承認など、{period}）",
            FINDING_COLUMNS,
            (
                Part(approvals(True), approval_key, lambda r: [finding_cells(f) for f in plan_findings(r)]),
                Part(closures(True), closure_key, lambda r: [finding_cells(f) for f in closure_findings(r)]),
            ),
        ),
        "withdrawn": lambda: Listing(
            "consents_withdrawn",
            f"本人同意の撤回（{period}）",
            WITHDRAWN_COLUMNS,
            (
                Part(
                    lambda session, after, limit: oversight.consents_withdrawn(
                        session, s, e, case_id=case_id, after=after, limit=limit
                    ),
                    lambda r: (r.withdrawn_on, r.consent_id),
                    lambda r: [withdrawn_cells(r)],
                ),
            ),
        ),
        "overdue": lambda: Listing(
            "overdue",
            f"モニタリング期限を過ぎているケース（{ja_date(scope.today)} 現在）",
            OVERDUE_COLUMNS,
            (
                Part(
                    lambda session, after, limit: audit_lists.overdue_cases(
                        session, stages=stages, on=scope.today, case_id=case_id, after=after, limit=limit
                    ),
                    lambda r: (r.due_on, r.number),
                    lambda r: [overdue_cells(r, scope.today, machine)],
                ),
            ),
        ),
        "access_log": lambda: Listing(
            "access_log",
            f"閲覧記録（{period}、新しい順）",
            ACCESS_LOG_COLUMNS,
            (
                Part(
                    lambda session, after, limit: audit_lists.access_log(
                        session, scope.log, after=after, limit=limit
                    ),
                    lambda r: (r.viewed_at, r.id),
                    _log_cells,
                ),
            ),
        ),
    }
    return listings[name]()


LISTS = ("approvals", "closures", "findings", "withdrawn", "overdue", "access_log")


def _lines(rows: Sequence[Sequence[Cell]]) -> str:
    buffer = io.StringIO()
    csv.writer(buffer).writerows([safe_cell(v) for v in row] for row in rows)
    return buffer.getvalue()


def stream_csv(engine: Engine, listing: Listing, *, batch: int = BATCH) -> Iterator[bytes]:
    """The list as CSV bytes, batch by batch, in one read-only transaction (one snapshot)."""
    yield ("\ufeff" + _lines([[listing.title], listing.columns])).encode("utf-8")
    with session_scope(read_only(engine)) as session:
        for part in listing.parts:
            after: tuple[Any, ...] | None = None
            while True:
                rows = part.fetch(session, after, batch)
                if rows:
                    yield _lines([line for r in rows for line in part.cells(r)]).encode("utf-8")
                if len(rows) < batch:
                    break
                after = part.key(rows[-1])


def _xlsx_cell(ws: Any, value: Cell) -> Any:
    """A write-only cell holding `value`; text stays text (never a formula, as
    `yorisoi.reports.xlsx._put` does for the other workbooks)."""
    if not isinstance(value, str):
        return WriteOnlyCell(ws, value=value)
    shown = visible(value)
    cell = WriteOnlyCell(ws, value=shown)
    cell.data_type = "s"
    if is_formula_like(shown):
        cell.quotePrefix = True
    return cell


def write_xlsx(
    engine: Engine, listings: Sequence[Listing], notes: Sequence[str], path: Path, *, batch: int = BATCH
) -> Path:
    """Every list in one workbook, a sheet each, written row by row (openpyxl's write-only
    mode keeps no sheet in memory), read batch by batch in one read-only transaction; `notes`
    (the recorded verification) on a last sheet."""
    book = Workbook(write_only=True)
    with session_scope(read_only(engine)) as session:
        for listing in listings:
            ws = book.create_sheet(SHEET_NAMES.get(listing.key, listing.key))
            ws.append([_xlsx_cell(ws, listing.title)])
            ws.append([])
            ws.append([_xlsx_cell(ws, c) for c in listing.columns])
            for part in listing.parts:
                after: tuple[Any, ...] | None = None
                while True:
                    rows = part.fetch(session, after, batch)
                    for r in rows:
                        for line in part.cells(r):
                            ws.append([_xlsx_cell(ws, v) for v in line])
                    if len(rows) < batch:
                        break
                    after = part.key(rows[-1])
    ws = book.create_sheet("監査記録の検証")
    for note in notes:
        ws.append([_xlsx_cell(ws, note)])
    book.save(path)
    return path


SHEET_NAMES = {
    "approvals": "支援プランの承認",
    "closures": "終結の承認",
    "findings": "指摘事項",
    "consents_withdrawn": "本人同意の撤回",
    "overdue": "モニタリング期限超過",
    "access_log": "閲覧記録",
}
WORKBOOK_LISTS = ("findings", "approvals", "closures", "withdrawn", "overdue")
"""The lists the whole-period workbook holds (the access log has its own CSV, filtered)."""
