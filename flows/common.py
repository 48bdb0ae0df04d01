"""What the sweep flows share: their parameters, their result, and the one batch task.

A sweep flow is one flow run that works through its sweep batch by batch: each batch is one
task run taking plain values (the sweep's name, the day, where the last batch ended) and
opening its own database session, so a retried task run starts clean and a task never holds
a `Session`. The work itself is `yorisoi.sweeps.run_batch`, the same code `yorisoi sweep` runs.
"""

from __future__ import annotations

import datetime as dt

from prefect import get_run_logger, task
from prefect.cache_policies import NO_CACHE
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import Engine

from models.db import session_scope
from models.due import Cursor
from yorisoi import runtime
from yorisoi.business_days import BusinessCalendar
from yorisoi.settings import get_settings
from yorisoi.sweeps import SWEEPS, run_batch, sweep_day
from yorisoi.sweeps.common import BatchResult

_ENGINES: dict[str, Engine] = {}
_KEEP_ENGINES = 2


def task_engine() -> Engine:
    """The database engine of this worker process, kept between task runs.

    A new engine per task run would recompile every statement (the compiled cache lives on the
    engine) and reconnect: that doubled the time of a 10-batch sweep. Few URLs are ever used
    in one process; the oldest engine is disposed when a third appears (tests use many).
    """
    settings = get_settings()
    url = settings.database_url()
    engine = _ENGINES.get(url)
    if engine is None:
        while len(_ENGINES) >= _KEEP_ENGINES:
            _ENGINES.pop(next(iter(_ENGINES))).dispose()
        engine = _ENGINES[url] = runtime.engine(settings)
    return engine


class SweepParams(BaseModel):
    """Parameters of every sweep flow."""

    model_config = ConfigDict(extra="forbid")

    on: dt.date | None = Field(
        default=None, description="The day to sweep; empty means the day of `now` (Asia/Tokyo)."
    )
    now: dt.datetime | None = Field(
        default=None,
        description="The clock for a replay (with its UTC offset): the day to sweep is its date and "
        "the reminders are due from it, so dispatch-notifications with the same `now` sends them. "
        "Empty means the real time.",
    )
    dry_run: bool = Field(default=False, description="Report what would be queued; write nothing.")
    reason: str = Field(
        default="", max_length=200, description="Why this run started (a trigger fills in the event)."
    )


class SweepOutcome(BaseModel):
    """What a sweep flow run did."""

    sweep: str
    on: dt.date
    dry_run: bool
    closed_reason: str | None = None
    batches: int = 0
    scanned: int = 0
    queued: dict[str, int] = Field(default_factory=dict)
    marked: list[str] = Field(default_factory=list)

    def add(self, batch: BatchResult) -> None:
        self.batches += 1
        self.scanned += batch.scanned
        for topic, count in batch.queued.items():
            self.queued[topic] = self.queued.get(topic, 0) + count
        self.marked += batch.marked


@task(
    task_run_name="{name} batch after {after}",
    retries=2,
    retry_delay_seconds=[5, 30],
    cache_policy=NO_CACHE,
)
def sweep_batch(
    name: str, on: dt.date, after: Cursor | None, dry_run: bool, now: dt.datetime | None = None
) -> BatchResult:
    """Run one batch of a sweep in its own transaction (database I/O, hence the retries)."""
    settings = get_settings()
    engine = task_engine()
    with session_scope(engine) as session:
        lifecycle = runtime.machine(settings, session).lifecycle
    return run_batch(
        name,
        engine=engine,
        settings=settings,
        lifecycle=lifecycle,
        on=on,
        after=after,
        dry_run=dry_run,
        now=now,
    )


def run_sweep_flow(name: str, params: SweepParams) -> SweepOutcome:
    """The body of every sweep flow: skip closed days, then batch after batch until done."""
    logger = get_run_logger()
    settings = get_settings()
    on = sweep_day(params.on, params.now)
    outcome = SweepOutcome(sweep=name, on=on, dry_run=params.dry_run)
    if params.reason:
        logger.info("started by: %s", params.reason)
    closed = BusinessCalendar(settings.calendar.closed_days).closed_reason(on)
    if closed is not None:
        # The schedule fires on weekdays; holidays and 閉庁日 are skipped here.
        logger.info("%s は閉庁日（%s）のため実行しません / closed day, nothing to do", on, closed)
        outcome.closed_reason = closed
        return outcome
    after: Cursor | None = None
    while True:
        batch = sweep_batch(name, on, after, params.dry_run, params.now)
        outcome.add(batch)
        logger.info(
            "%s: batch %d, %d rows, queued %s, marked overdue %d",
            SWEEPS[name].ja,
            outcome.batches,
            batch.scanned,
            batch.queued or "{}",
            len(batch.marked),
        )
        if batch.done:
            return outcome
        after = batch.cursor
