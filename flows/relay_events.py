"""Flow `relay-events`: turn the case events in the outbox into Prefect events.

The case service writes a `yorisoi.case.stage-changed` (or `yorisoi.case.updated`) row with
every action, in the action's own transaction; this flow runs afterwards, outside it, and
emits each row as a Prefect event on resource `yorisoi.case.<number>`, so a municipality can
hang automations and deployment triggers on them (`deploy/prefect.yaml` has one). A batch is
marked sent only after Prefect's events client has sent it; a crash in between relays those
events again (at least once), with the same event id, derived from the row.
"""

from __future__ import annotations

import uuid

from prefect import flow, get_run_logger, task
from prefect.cache_policies import NO_CACHE
from prefect.events import emit_event
from prefect.events.worker import EventsWorker
from pydantic import BaseModel, ConfigDict, Field

from flows.common import task_engine
from models.db import session_scope
from models.event_relay import PendingEvent, count_pending_events, mark_relayed, pending_events
from models.timestamps import utcnow

_EVENT_IDS = uuid.UUID("6f1c1d1e-7a0b-4c56-9b7e-2d9e3f0a5b11")


class RelayParams(BaseModel):
    model_config = ConfigDict(extra="forbid")

    batch_size: int = Field(default=500, ge=1, le=10_000, description="Events per task run.")
    dry_run: bool = Field(default=False, description="Count the waiting events; emit nothing.")


class RelayOutcome(BaseModel):
    relayed: int = 0
    batches: int = 0
    waiting: int = 0


class RelayBatch(BaseModel):
    relayed: int
    last_id: int
    done: bool


def event_id(row: PendingEvent) -> uuid.UUID:
    """The same outbox row always becomes the same event id (a re-relay is recognisable)."""
    return uuid.uuid5(_EVENT_IDS, f"{row.idempotency_key}@{row.created_at.isoformat()}")


def emit(row: PendingEvent) -> bool:
    number = str(row.payload.get("case_number", ""))
    event = emit_event(
        event=row.topic,
        resource={
            "prefect.resource.id": f"yorisoi.case.{number}",
            "prefect.resource.name": number,
            "yorisoi.stage": str(row.payload.get("to_stage", "")),
        },
        payload=dict(row.payload),  # number, action, stages, seq: never a name or a story
        occurred=row.created_at,
        id=event_id(row),
    )
    return event is not None


@task(task_run_name="relay after {after_id}", retries=2, retry_delay_seconds=[5, 30], cache_policy=NO_CACHE)
def relay_batch(after_id: int, limit: int) -> RelayBatch:
    """Emit one batch of case events, wait until they are sent, then mark them sent."""
    with session_scope(task_engine()) as session:
        rows = pending_events(session, after_id=after_id, limit=limit)
        session.rollback()
        if not rows:
            return RelayBatch(relayed=0, last_id=after_id, done=True)
        for row in rows:
            if not emit(row):
                raise RuntimeError(
                    "Prefect にイベントを送れません（PREFECT_API_URL を確認してください） / "
                    "events cannot be sent to Prefect (check PREFECT_API_URL)"
                )
        EventsWorker.instance().wait_until_empty()
        relayed = mark_relayed(session, [row.id for row in rows], now=utcnow())
        session.commit()
    return RelayBatch(relayed=relayed, last_id=rows[-1].id, done=len(rows) < limit)


@task(cache_policy=NO_CACHE)
def count_waiting() -> int:
    with session_scope(task_engine()) as session:
        return count_pending_events(session)


@flow(name="relay-events", log_prints=False)
def relay_events(params: RelayParams | None = None) -> RelayOutcome:
    """Relay the case events waiting in the outbox to Prefect as events."""
    params = params or RelayParams()
    if params.dry_run:
        return RelayOutcome(waiting=count_waiting())
    outcome = RelayOutcome()
    after_id = 0
    while True:
        batch = relay_batch(after_id, params.batch_size)
        outcome.batches += 1
        outcome.relayed += batch.relayed
        if batch.done:
            break
        after_id = batch.last_id
    get_run_logger().info("relayed %d case events to Prefect", outcome.relayed)
    return outcome
