"""終結: a proposal with reason and evaluation, decided by a supervisor other than the proposer."""

from __future__ import annotations

import datetime as dt
from enum import StrEnum

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from models.timestamps import utcnow


class ClosureStatus(StrEnum):
    PROPOSED = "proposed"
    APPROVED = "approved"
    REJECTED = "rejected"


class Closure(SQLModel, table=True):
    # The audit's approved closures of a period, paged in (decision date, id) order: all of
    # them, or one case's (without the second, SQLite walks the whole period for one case).
    __table_args__ = (
        sa.Index("ix_closure_status_decided_on_id", "status", "decided_on", "id"),
        sa.Index("ix_closure_case_status_decided_on", "case_id", "status", "decided_on", "id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    case_id: int = Field(foreign_key="case.id", index=True)
    episode: int
    reason: str = Field(max_length=32)
    reason_text: str = ""
    evaluation: str
    status: str = Field(max_length=16, index=True)
    proposed_by: int = Field(foreign_key="staff.id")
    proposed_on: dt.date
    decided_by: int | None = Field(default=None, foreign_key="staff.id")
    decided_on: dt.date | None = Field(default=None, index=True)
    decision_note: str = ""
    created_at: dt.datetime = Field(default_factory=utcnow)
