"""`yorisoi export`: the records of a period (or all) in the import's workbook layout.

The same sheets and headers as the template, codes written as their Japanese labels, dates as
date cells, people by login and agencies by name: importing the file into an empty database
gives the same annual report (`tests/importing/test_round_trip.py`). A DV-protected household's
address is never written (the DV flag is). What the layout cannot carry is left out: plans
never approved, closures not approved, consents withdrawn without a new one (their
withdrawal), attendees from no agency.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Collection, Iterable, Iterator
from pathlib import Path
from typing import Any

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font
from openpyxl.worksheet._write_only import WriteOnlyWorksheet
from sqlmodel import Session

from models import exports
from models.exports import Window
from yorisoi.importing import layout
from yorisoi.importing.layout import Column, SheetSpec
from yorisoi.importing.template import DATE_FORMAT, HEAD_FILL, REQUIRED_FILL

YES = "はい"


def _label(column: Column, code: str | None) -> str | None:
    if code is None or column.vocabulary is None:
        return code
    return column.vocabulary().get(code, code)


def _labels(column: Column, codes: Iterable[str]) -> str:
    return "、".join(str(_label(column, c)) for c in codes)


def _yes(flag: bool) -> str | None:
    return YES if flag else None


def _pairs(pairs: Iterable[tuple[str, str]]) -> str:
    return "\n".join(f"{left}：{right}" if left else right for left, right in pairs)


def _sheet(
    book: Workbook, spec: SheetSpec, rows: Iterable[dict[str, Any]], advance: Callable[[int], None]
) -> int:
    sheet: WriteOnlyWorksheet = book.create_sheet(spec.name)
    heads = []
    for column in spec.columns:
        cell = WriteOnlyCell(sheet, column.header)
        cell.font = Font(bold=True)
        cell.fill = REQUIRED_FILL if column.required else HEAD_FILL
        heads.append(cell)
    sheet.append(heads)
    count = 0
    for values in rows:
        line: list[Any] = []
        for column in spec.columns:
            value = values.get(column.key)
            if isinstance(value, dt.date):
                cell = WriteOnlyCell(sheet, value)
                cell.number_format = DATE_FORMAT
                line.append(cell)
            else:
                line.append(value if value != "" else None)
        sheet.append(line)
        count += 1
        advance(1)
    return count


def write_export(
    session: Session,
    path: Path,
    *,
    start: dt.date | None = None,
    end: dt.date | None = None,
    reopen_actions: Collection[str] = ("reopen",),
    progress: Callable[[int], None] | None = None,
    total: Callable[[int], None] | None = None,
) -> dict[str, int]:
    """Write the records dated from `start` to `end` (both optional) to `path`; rows per sheet."""
    advance = progress or (lambda _n: None)
    window = Window(start, end)
    refs = exports.case_refs(session)
    records: dict[str, list[tuple[Any, ...]]] = {
        "contacts": list(exports.contacts(session, window, refs, reopen_actions)),
        "consents": list(exports.consents(session, window, refs)),
        "meetings": list(exports.meetings(session, window, refs)),
        "plans": list(exports.plans(session, window, refs)),
        "monitoring": list(exports.monitoring(session, window, refs)),
        "outreach": list(exports.outreach(session, window, refs)),
        "enrolments": list(exports.enrolments(session, window, refs)),
        "closures": list(exports.closures(session, window, refs)),
    }
    case_ids = {row[0] for rows in records.values() for row in rows}
    if total is not None:
        total(len(case_ids) + sum(len(rows) for rows in records.values()))
    book = Workbook(write_only=True)
    counts = {
        layout.AGENCIES.name: _sheet(book, layout.AGENCIES, _agencies(session), lambda _n: None),
        layout.PROVIDERS.name: _sheet(book, layout.PROVIDERS, _providers(session), lambda _n: None),
        layout.STAFF.name: _sheet(book, layout.STAFF, _staff(session), lambda _n: None),
        layout.CASES.name: _sheet(book, layout.CASES, _cases(session, case_ids, refs), advance),
    }
    writers: dict[str, Callable[[tuple[Any, ...]], dict[str, Any]]] = {
        "contacts": _contact,
        "consents": _consent,
        "meetings": _meeting,
        "plans": _plan,
        "monitoring": _monitoring,
        "outreach": _outreach,
        "enrolments": _enrolment,
        "closures": _closure,
    }
    for key, rows in records.items():
        sheet = layout.BY_KEY[key]
        counts[sheet.name] = _sheet(book, sheet, (writers[key](r) for r in rows), advance)
    book.save(path)
    return counts


def _agencies(session: Session) -> Iterator[dict[str, Any]]:
    field = layout.AGENCIES.column("field")
    for name, code, desk in exports.agencies(session):
        yield {"name": name, "field": _label(field, code), "is_desk": YES if desk else "いいえ"}


def _providers(session: Session) -> Iterator[dict[str, Any]]:
    program = layout.PROVIDERS.column("program")
    for name, code, registered_on in exports.providers(session):
        yield {"name": name, "program": _label(program, code), "registered_on": registered_on}


def _staff(session: Session) -> Iterator[dict[str, Any]]:
    roles = layout.STAFF.column("roles")
    for login, name, codes in exports.staff(session):
        yield {"login": login, "name": name, "roles": _labels(roles, codes)}


def _cases(session: Session, case_ids: Collection[int], refs: dict[int, str]) -> Iterator[dict[str, Any]]:
    for ref, name, kana, born, address, dv, household, desk, coordinator in exports.cases(
        session, case_ids, refs
    ):
        yield {
            "ref": ref,
            "name": name,
            "kana": kana,
            "birth_date": born,
            "address": address,
            "dv_protected": _yes(dv),
            "household": household,
            "desk": desk,
            "coordinator": coordinator,
        }


def _contact(row: tuple[Any, ...]) -> dict[str, Any]:
    _case, ref, on, desk, referrer, method, topics, visit, reopen, by, note = row
    columns = layout.CONTACTS
    return {
        "ref": ref,
        "contacted_on": on,
        "desk": desk,
        "referrer": _label(columns.column("referrer"), referrer),
        "method": _label(columns.column("method"), method),
        "topics": _labels(columns.column("topics"), topics),
        "outreach_visit": _yes(visit),
        "reopen": _yes(reopen),
        "recorded_by": by,
        "note": note,
    }


def _consent(row: tuple[Any, ...]) -> dict[str, Any]:
    _case, ref, on, method, agencies, by, note = row
    return {
        "ref": ref,
        "given_on": on,
        "method": _label(layout.CONSENTS.column("method"), method),
        "agencies": "、".join(agencies),
        "recorded_by": by,
        "note": note,
    }


def _meeting(row: tuple[Any, ...]) -> dict[str, Any]:
    _case, ref, on, kind, title, agencies, acknowledged, decisions, by = row
    return {
        "ref": ref,
        "held_on": on,
        "kind": _label(layout.MEETINGS.column("kind"), kind),
        "title": title,
        "agencies": "、".join(agencies),
        "acknowledged": _yes(acknowledged),
        "decisions": decisions,
        "recorded_by": by,
    }


def _plan(row: tuple[Any, ...]) -> dict[str, Any]:
    _case, ref, drafted, approved, meeting_on, goal, goals, roles, lead, interval, author, approver = row
    return {
        "ref": ref,
        "drafted_on": drafted,
        "approved_on": approved,
        "meeting_on": meeting_on,
        "household_goal": goal,
        "goals": _pairs(goals),
        "roles": _pairs(roles),
        "lead": lead,
        "interval": interval,
        "author": author,
        "approver": approver,
    }


def _monitoring(row: tuple[Any, ...]) -> dict[str, Any]:
    _case, ref, on, summary, next_on, by = row
    return {"ref": ref, "held_on": on, "summary": summary, "next_on": next_on, "recorded_by": by}


def _outreach(row: tuple[Any, ...]) -> dict[str, Any]:
    _case, ref, on, kind, by, note = row
    return {
        "ref": ref,
        "done_on": on,
        "kind": _label(layout.OUTREACH.column("kind"), kind),
        "recorded_by": by,
        "note": note,
    }


def _enrolment(row: tuple[Any, ...]) -> dict[str, Any]:
    _case, ref, provider, start, end, exited = row
    return {"ref": ref, "provider": provider, "start_on": start, "end_on": end, "exited_on": exited}


def _closure(row: tuple[Any, ...]) -> dict[str, Any]:
    _case, ref, decided, proposed, reason, text, evaluation, proposer, approver = row
    return {
        "ref": ref,
        "decided_on": decided,
        "proposed_on": proposed,
        "reason": _label(layout.CLOSURES.column("reason"), reason),
        "reason_text": text,
        "evaluation": evaluation,
        "proposer": proposer,
        "approver": approver,
    }


__all__ = ["write_export"]
