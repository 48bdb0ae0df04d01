"""Verify every case's audit trail and record the result (監査記録の検証の記録).

One function, `verify_and_record`, is what the nightly flow (`flows.audit_verify`), the audit
page's button and `yorisoi audit verify` all run: `yorisoi.service.audit.verify_chains` over
every case, then one `chain_verification` row saying when, who or which run, how many cases
and events were checked, how many cases have problems and which (bounded). The audit page
reads only that row; it never verifies while it is shown.

A run is recorded in two steps, `start` (a `running` row, committed at once, so the page can
say 「検証中」 and a second run is refused while one is under way) and `finish`; a run that
fails is recorded as failed with its error, never left `running`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import Engine, update
from sqlmodel import Session, col

from models import verification
from models.db import read_only, session_scope
from models.timestamps import utcnow
from models.verification import MAX_LISTED_CASES, ChainVerification, VerificationStatus
from states import LifecycleMachine
from yorisoi import runtime
from yorisoi.errors import VersionConflict
from yorisoi.jpdates import tokyo_datetime
from yorisoi.service.audit import ChainReport, verify_chains
from yorisoi.service.checkpoints import for_verify
from yorisoi.settings import Settings

TRIGGERS = frozenset({"flow", "web", "cli"})


class VerificationRunning(VersionConflict):
    """Another verification is under way; starting a second would double the load for nothing."""

    def __init__(self, run: ChainVerification) -> None:
        started = tokyo_datetime(run.started_at).format("YYYY年M月D日 HH:mm")
        super().__init__(
            f"監査記録の検証はすでに実行中です（{started} 開始、{run.started_by}）。"
            "終わるまでお待ちください。",
            f"A verification is already running (started {run.started_at.isoformat()} by {run.started_by}).",
        )


def start(engine: Engine, *, trigger: str, by: str, now: dt.datetime | None = None) -> int:
    """Record a run as started (committed before the work begins); refused while another runs."""
    if trigger not in TRIGGERS:
        raise ValueError(f"unknown trigger {trigger!r}")
    moment = now or utcnow()
    with session_scope(engine) as session:
        busy = verification.running(session, moment)
        if busy is not None:
            raise VerificationRunning(busy)
        row = ChainVerification(started_at=moment, trigger=trigger, started_by=by[:120])
        session.add(row)
        session.commit()
        assert row.id is not None
        return row.id


def _finish(engine: Engine, run_id: int, values: dict[str, object]) -> ChainVerification:
    with session_scope(engine) as session:
        session.execute(update(ChainVerification).where(col(ChainVerification.id) == run_id).values(**values))
        session.commit()
        row = session.get(ChainVerification, run_id)
        assert row is not None
        return row


def finish(engine: Engine, run_id: int, report: ChainReport) -> ChainVerification:
    """Write what `report` found into run `run_id`."""
    numbers = sorted({p.case_number for p in report.problems})
    checkpoint = report.checkpoint
    return _finish(
        engine,
        run_id,
        {
            "finished_at": utcnow(),
            "status": VerificationStatus.DONE,
            "cases": report.cases,
            "events": report.events,
            "problem_cases": len(numbers),
            "problems": len(report.problems),
            "case_numbers": numbers[:MAX_LISTED_CASES],
            "checkpoint_ja": checkpoint.ja if checkpoint is not None else "",
        },
    )


def fail(engine: Engine, run_id: int, error: BaseException) -> ChainVerification:
    """Record that run `run_id` could not finish, and why."""
    shown = getattr(error, "ja", None) or f"{type(error).__name__}: {error}"
    return _finish(
        engine, run_id, {"finished_at": utcnow(), "status": VerificationStatus.FAILED, "error": shown[:2000]}
    )


def run(
    engine: Engine,
    settings: Settings,
    run_id: int,
    *,
    machine: LifecycleMachine | None = None,
    progress: Callable[[int], None] | None = None,
) -> tuple[ChainVerification, ChainReport]:
    """Verify every case (with the signed checkpoint where a key is configured, as `audit
    verify` does) and record the result in run `run_id`; on any error the run is recorded as
    failed and the error raised again."""
    try:
        check = for_verify(settings)
        with session_scope(read_only(engine)) as session:
            found = machine or runtime.machine(settings, session)
            report = verify_chains(session, found, progress=progress, checkpoint=check)
    except BaseException as error:
        fail(engine, run_id, error)
        raise
    return finish(engine, run_id, report), report


def verify_and_record(
    engine: Engine,
    settings: Settings,
    *,
    trigger: str,
    by: str,
    machine: LifecycleMachine | None = None,
    progress: Callable[[int], None] | None = None,
) -> tuple[ChainVerification, ChainReport]:
    """Start, run and record one full verification (`trigger` flow, web or cli; `by` who or
    which run)."""
    run_id = start(engine, trigger=trigger, by=by)
    return run(engine, settings, run_id, machine=machine, progress=progress)


@dataclass(frozen=True, slots=True)
class LastResult:
    """What the audit page shows: the newest finished run, the run under way, and a newer run
    that never finished (its process died: 中断)."""

    finished: ChainVerification | None
    running: ChainVerification | None
    interrupted: ChainVerification | None


def last_result(session: Session, now: dt.datetime | None = None) -> LastResult:
    moment = now or utcnow()
    newest = verification.latest(session)
    interrupted = newest if newest is not None and newest.stale(moment) else None
    return LastResult(
        verification.latest_finished(session), verification.running(session, moment), interrupted
    )
