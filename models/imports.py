"""Rows taken in from a municipality's spreadsheets (`yorisoi import`), so a re-run takes each once.

An imported row becomes one or two audit events through the case service; its key is written
in the same transaction, so after a crash or Ctrl-C the rows committed are known and the rest
are not: a re-run adds exactly what is missing. Where the row came from (file hash, sheet,
row) is in the audit event's payload, not here.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection
from dataclasses import dataclass

from sqlmodel import Field, Session, SQLModel, col, select

from models.case import Case
from models.outreach import ProgramEnrolment

_CHUNK = 500


class ImportedRow(SQLModel, table=True):
    __tablename__ = "imported_row"

    key: str = Field(primary_key=True, max_length=80)
    """What identifies the row across files: its sheet, 台帳番号 and content (or its own 記録番号)."""
    case_id: int = Field(foreign_key="case.id", index=True)
    seq: int
    """The case's audit event the row became."""
    digest: str = Field(max_length=64)
    """The row's content as imported: a row with its own 記録番号 that changed since is reported."""


def imported(session: Session, keys: Collection[str]) -> dict[str, str]:
    """Of `keys`, those already imported, with the digest of the row each was."""
    found: dict[str, str] = {}
    wanted = list(keys)
    for start in range(0, len(wanted), _CHUNK):
        chunk = wanted[start : start + _CHUNK]
        query = select(ImportedRow.key, ImportedRow.digest).where(col(ImportedRow.key).in_(chunk))
        found.update(session.exec(query).all())
    return found


@dataclass(frozen=True, slots=True)
class KnownCase:
    id: int
    stage: str
    desk_id: int | None


def cases_by_ref(session: Session, refs: Collection[str]) -> dict[str, KnownCase]:
    """The cases with these 台帳番号."""
    found: dict[str, KnownCase] = {}
    wanted = list(refs)
    for start in range(0, len(wanted), _CHUNK):
        chunk = wanted[start : start + _CHUNK]
        query = select(Case.external_ref, Case.id, Case.stage, Case.desk_id).where(
            col(Case.external_ref).in_(chunk)
        )
        for ref, case_id, stage, desk_id in session.exec(query).all():
            if ref is not None and case_id is not None:
                found[ref] = KnownCase(case_id, stage, desk_id)
    return found


def enrolment_of(session: Session, case_id: int, provider_id: int, start_on: dt.date) -> int | None:
    """The case's enrolment with this provider from this day (to record its exit)."""
    query = (
        select(ProgramEnrolment.id)
        .where(
            ProgramEnrolment.case_id == case_id,
            ProgramEnrolment.provider_id == provider_id,
            ProgramEnrolment.start_on == start_on,
        )
        .order_by(col(ProgramEnrolment.id).desc())
    )
    return session.exec(query).first()
