"""Flow `audit-verify`: every night, verify every case's audit trail and record the result.

A thin wrapper over `yorisoi.service.verification.verify_and_record`, the same function the
audit page's button and `yorisoi audit verify` run: hash chains, stages, every record against
its events (and the signed checkpoint where the worker has the key). The result is written to
`chain_verification`, which the audit page shows — the page never verifies on a view. A run
that finds problems completes (the finding is the result, recorded and shown); it fails only
when the verification could not run, and the failure is recorded too.
"""

from __future__ import annotations

from prefect import flow, get_run_logger, task
from prefect.cache_policies import NO_CACHE
from prefect.runtime import flow_run
from pydantic import BaseModel, ConfigDict, Field

from flows.common import task_engine
from yorisoi.service import verification
from yorisoi.settings import get_settings


class VerifyOutcome(BaseModel):
    model_config = ConfigDict(extra="forbid")

    run_id: int
    """The `chain_verification` row this run wrote."""
    ok: bool
    cases: int
    events: int
    problem_cases: int
    case_numbers: list[str] = Field(default_factory=list)
    """The first problem case numbers (bounded, as recorded)."""


@task(cache_policy=NO_CACHE)
def verify_all(by: str) -> VerifyOutcome:
    """Verify and record (no retries: a half-done verification is recorded as failed, and the
    next night's run starts afresh)."""
    record, _report = verification.verify_and_record(task_engine(), get_settings(), trigger="flow", by=by)
    assert record.id is not None
    return VerifyOutcome(
        run_id=record.id,
        ok=record.ok,
        cases=record.cases,
        events=record.events,
        problem_cases=record.problem_cases,
        case_numbers=list(record.case_numbers),
    )


@flow(name="audit-verify", log_prints=False)
def audit_verify() -> VerifyOutcome:
    """Verify every case's audit trail and record the result for the audit page."""
    logger = get_run_logger()
    name = flow_run.get_name() or "audit-verify"
    outcome = verify_all(f"audit-verify/{name}")
    if outcome.ok:
        logger.info("監査記録の検証: %s ケース — 異常なし", f"{outcome.cases:,}")
    else:
        logger.warning(
            "監査記録の検証: %s ケース中 %s ケースに異常 (%s)",
            f"{outcome.cases:,}",
            outcome.problem_cases,
            ", ".join(outcome.case_numbers[:20]),
        )
    return outcome
