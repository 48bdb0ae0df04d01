"""Flow `audit-checkpoint`: every evening, pin every case's audit chain head in a signed file.

A thin wrapper over `yorisoi.service.checkpoints.write_checkpoint`, the same code
`yorisoi audit checkpoint` runs. A checkpoint is refused when a case went back behind the
newest one (events deleted and the case rewound): the run then fails, so it shows as failed in
Prefect, and `audit.notify` is told. Either way a Prefect event says what happened
(`yorisoi.audit.checkpoint` or `yorisoi.audit.checkpoint-refused`, with the sequence and the
signature or the case numbers — never a name), for automations and for a record kept outside
this database. The worker needs the key (YORISOI_AUDIT__KEY or YORISOI_AUDIT__KEY_FILE);
the web app does not.
"""

from __future__ import annotations

from typing import Any

from prefect import flow, get_run_logger, task
from prefect.cache_policies import NO_CACHE
from prefect.events import emit_event
from pydantic import BaseModel, ConfigDict, Field

from flows.common import task_engine
from models.db import read_only, session_scope
from yorisoi.errors import AuditKeyError, CheckpointRefused
from yorisoi.service import checkpoints
from yorisoi.settings import get_settings

WRITTEN = "yorisoi.audit.checkpoint"
REFUSED = "yorisoi.audit.checkpoint-refused"
_RESOURCE = {
    "prefect.resource.id": "yorisoi.audit.checkpoints",
    "prefect.resource.name": "監査チェックポイント",
}


class CheckpointOutcome(BaseModel):
    model_config = ConfigDict(extra="forbid")

    written: bool
    summary: dict[str, Any] = Field(default_factory=dict)
    """The checkpoint (sequence, file, signature, cases) when one was written."""
    refused: list[str] = Field(default_factory=list)
    """The case numbers behind the newest checkpoint, when refused."""
    message: str = ""
    notify_error: str | None = None


@task(retries=2, retry_delay_seconds=[10, 60], cache_policy=NO_CACHE)
def write_checkpoint() -> CheckpointOutcome:
    """Write the next checkpoint (database and file I/O, hence the retries); a refusal is an
    outcome, not an error to retry."""
    settings = get_settings()
    key = checkpoints.load_key(settings)
    if key is None:
        raise AuditKeyError(
            "チェックポイントの鍵が設定されていません（YORISOI_AUDIT__KEY または YORISOI_AUDIT__KEY_FILE）。",
            "No checkpoint key is configured on this worker (YORISOI_AUDIT__KEY or YORISOI_AUDIT__KEY_FILE).",
        )
    try:
        with session_scope(read_only(task_engine())) as session:
            written = checkpoints.write_checkpoint(
                session, key, settings.checkpoint_dir(), by="audit-checkpoint"
            )
    except CheckpointRefused as refused:
        return CheckpointOutcome(
            written=False,
            refused=[number for number, _ja, _en in refused.problems],
            message=refused.ja,
            notify_error=checkpoints.announce_refused(settings, refused),
        )
    return CheckpointOutcome(
        written=True,
        summary=written.summary(),
        message=f"チェックポイント第{written.sequence}号（{written.cases} ケース）",
        notify_error=checkpoints.announce_written(settings, written),
    )


@flow(name="audit-checkpoint", log_prints=False)
def audit_checkpoint() -> CheckpointOutcome:
    """Write a signed checkpoint of every case's audit head; fail if a case went back."""
    logger = get_run_logger()
    outcome = write_checkpoint()
    if outcome.notify_error:
        logger.warning("通知を送れませんでした / notification failed: %s", outcome.notify_error)
    if outcome.written:
        emit_event(WRITTEN, resource=_RESOURCE, payload=outcome.summary)
        logger.info("%s", outcome.message)
        return outcome
    emit_event(
        REFUSED, resource=_RESOURCE, payload={"count": len(outcome.refused), "cases": outcome.refused[:500]}
    )
    raise RuntimeError(f"{outcome.message} / checkpoint refused: {len(outcome.refused)} case(s) went back")
