"""Flow `dispatch-notifications`: deliver the due reminders in the outbox through Apprise.

A thin wrapper over `yorisoi.dispatch.dispatch_outbox`, which claims messages, delivers them
and records each outcome (retries with back-off, business hours, failures). Safe to run often
and from several workers at once: a claimed message belongs to one worker.
"""

from __future__ import annotations

import datetime as dt

from prefect import flow, get_run_logger, task
from prefect.cache_policies import NO_CACHE
from pydantic import BaseModel, ConfigDict, Field

from flows.common import task_engine
from models.db import session_scope
from models.outbox_queries import count_by_status
from yorisoi.dispatch import dispatch_outbox, notifier_for, stop_on_signals
from yorisoi.settings import get_settings


class DispatchParams(BaseModel):
    model_config = ConfigDict(extra="forbid")

    limit: int | None = Field(
        default=None,
        ge=1,
        le=100_000,
        description="Messages to deliver at most; empty: notifications.batch_size.",
    )
    dry_run: bool = Field(default=False, description="Count the waiting messages; deliver nothing.")
    now: dt.datetime | None = Field(
        default=None,
        description="The clock for a replay (with its UTC offset): business hours and what is due are "
        "judged at this moment, as by the sweeps given the same `now`. Empty means the real time.",
    )
    reason: str = Field(
        default="", max_length=200, description="Why this run started (a trigger fills in the event)."
    )


class DispatchOutcome(BaseModel):
    sent: int = 0
    retried: int = 0
    failed: int = 0
    deferred: int = 0
    taken_over: int = 0
    released: int = 0
    stopped: bool = False
    sent_ids: list[int] = Field(default_factory=list)
    waiting: dict[str, int] = Field(default_factory=dict)


@task(retries=2, retry_delay_seconds=[10, 60], cache_policy=NO_CACHE)
def deliver_due(limit: int | None, now: dt.datetime | None) -> DispatchOutcome:
    """Deliver what is due now (Apprise and database I/O, hence the retries).

    A cancelled run (the worker's SIGTERM) finishes the message in flight and gives back the
    rest of its claims before Prefect ends the run, instead of leaving them to their lease.
    """
    settings = get_settings()
    with stop_on_signals() as stop:
        report = dispatch_outbox(
            task_engine(), notifier_for(settings), settings=settings, limit=limit, now=now, stop=stop
        )
    return DispatchOutcome(
        sent=report.sent,
        retried=report.retried,
        failed=report.failed,
        deferred=report.deferred,
        taken_over=report.taken_over,
        released=report.released,
        stopped=report.stopped,
        sent_ids=list(report.sent_ids),
    )


@task(cache_policy=NO_CACHE)
def waiting_messages() -> dict[str, int]:
    with session_scope(task_engine()) as session:
        return count_by_status(session)


@flow(name="dispatch-notifications", log_prints=False)
def dispatch_notifications(params: DispatchParams | None = None) -> DispatchOutcome:
    """Deliver the due reminders from the outbox through Apprise."""
    params = params or DispatchParams()
    logger = get_run_logger()
    if params.reason:
        logger.info("started by: %s", params.reason)
    if params.dry_run:
        return DispatchOutcome(waiting=waiting_messages())
    outcome = deliver_due(params.limit, params.now)
    logger.info(
        "sent %d, retrying %d, failed %d, waiting for business hours %d",
        outcome.sent,
        outcome.retried,
        outcome.failed,
        outcome.deferred,
    )
    return outcome
