"""The recorded results of verifying every case's audit trail (監査記録の検証).

Verifying a million hash chains takes minutes, so it is never done while a page is shown:
the nightly flow, the page's button and `yorisoi audit verify` run it and write one row
here each; the audit page shows the newest. A run writes its row as `running` first, so the
page can say 「検証中」 and a second run is not started on top of it; a row that stays
`running` past `STALE_AFTER` belongs to a run that died with its process.
"""

from __future__ import annotations

import datetime as dt
from enum import StrEnum
from typing import Any

from sqlmodel import JSON, Column, Field, Session, SQLModel, col, select

from models.timestamps import utcnow

STALE_AFTER = dt.timedelta(hours=6)
"""A run still `running` after this long died with its process (the longest full run is
far shorter): it is shown as 中断 and no longer blocks a new one."""
MAX_LISTED_CASES = 200
"""How many problem case numbers a row keeps (the count is always complete)."""


class VerificationStatus(StrEnum):
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"


class ChainVerification(SQLModel, table=True):
    __tablename__ = "chain_verification"

    id: int | None = Field(default=None, primary_key=True)
    started_at: dt.datetime = Field(default_factory=utcnow)
    finished_at: dt.datetime | None = None
    trigger: str = Field(max_length=8)
    """flow, web or cli."""
    started_by: str = Field(max_length=120)
    """The staff login (web, cli) or the flow run's name (flow)."""
    status: str = Field(max_length=16, default=VerificationStatus.RUNNING)
    cases: int = 0
    events: int = 0
    problem_cases: int = 0
    """How many cases have at least one problem."""
    problems: int = 0
    case_numbers: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    """The first `MAX_LISTED_CASES` case numbers with problems, in case order."""
    checkpoint_ja: str = ""
    """What the signed-checkpoint comparison said (not compared where no key is configured)."""
    error: str = ""
    """Why a failed run failed."""

    @property
    def ok(self) -> bool:
        return self.status == VerificationStatus.DONE and self.problem_cases == 0 and not self.error

    def stale(self, now: dt.datetime) -> bool:
        started = self.started_at if self.started_at.tzinfo else self.started_at.replace(tzinfo=dt.UTC)
        return self.status == VerificationStatus.RUNNING and now - started > STALE_AFTER

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "started_at": self.started_at.isoformat(),
            "finished_at": self.finished_at.isoformat() if self.finished_at else None,
            "trigger": self.trigger,
            "started_by": self.started_by,
            "status": self.status,
            "ok": self.ok,
            "cases": self.cases,
            "events": self.events,
            "problem_cases": self.problem_cases,
            "problems": self.problems,
            "case_numbers": list(self.case_numbers),
            "checkpoint_ja": self.checkpoint_ja,
            "error": self.error,
        }


def latest(session: Session) -> ChainVerification | None:
    """The newest run, whatever its state (by primary key: no other index needed)."""
    return session.exec(select(ChainVerification).order_by(col(ChainVerification.id).desc()).limit(1)).first()


def latest_finished(session: Session) -> ChainVerification | None:
    """The newest run that finished (done or failed) — the result the page shows."""
    query = (
        select(ChainVerification)
        .where(col(ChainVerification.status) != VerificationStatus.RUNNING)
        .order_by(col(ChainVerification.id).desc())
        .limit(1)
    )
    return session.exec(query).first()


def running(session: Session, now: dt.datetime) -> ChainVerification | None:
    """A run in progress that has not gone stale, if any."""
    query = (
        select(ChainVerification)
        .where(col(ChainVerification.status) == VerificationStatus.RUNNING)
        .order_by(col(ChainVerification.id).desc())
        .limit(5)
    )
    return next((row for row in session.exec(query) if not row.stale(now)), None)


__all__ = ["ChainVerification", "VerificationStatus", "latest", "latest_finished", "running"]
