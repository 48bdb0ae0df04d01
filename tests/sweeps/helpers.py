"""Cases at a chosen monitoring date, made through the real case service, and outbox readers."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import Engine, select
from sqlmodel import Session, col

from models import Case, OutboxMessage
from states import LifecycleMachine
from tests import factories
from tests.factories import World
from yorisoi.settings import Settings
from yorisoi.sweeps import DayResult, run_day


def monitoring_case(session: Session, world: World, machine: LifecycleMachine, next_on: dt.date) -> int:
    """A case in 支援・モニタリング whose next monitoring date is `next_on` (after 2025-06-21)."""
    approved_on = max(dt.date(2025, 6, 20), min(dt.date(2025, 6, 25), next_on - dt.timedelta(days=2)))
    held_on = max(approved_on, min(dt.date(2025, 6, 30), next_on - dt.timedelta(days=1)))
    case_id = factories.open_case(session, world, machine).case_id
    factories.to_monitoring(session, world, machine, case_id, approved_on=approved_on)
    factories.fire(
        session,
        machine,
        case_id,
        "record_monitoring",
        world.coordinator,
        held_on=held_on,
        summary="定期モニタリング",
        next_on=next_on,
    )
    return case_id


def settings(**sweep: Any) -> Settings:
    return Settings(sweep=sweep)


def sweep(
    engine: Engine,
    machine: LifecycleMachine,
    on: dt.date,
    *,
    names: tuple[str, ...] = ("monitoring_due",),
    config: Settings | None = None,
    **kwargs: Any,
) -> DayResult:
    return run_day(engine, config or settings(), machine.lifecycle, on=on, names=names, **kwargs)


def reminders(session: Session, topic: str | None = None) -> list[OutboxMessage]:
    """Reminder rows (not case events), oldest first."""
    query = select(OutboxMessage).where(col(OutboxMessage.recipient).startswith("staff:"))
    if topic is not None:
        query = query.where(col(OutboxMessage.topic) == topic)
    session.expire_all()
    rows = list(session.execute(query.order_by(col(OutboxMessage.id))).scalars())
    release(session)
    return rows


def summary(rows: list[OutboxMessage]) -> list[tuple[str, str, str]]:
    """(topic, case number, recipient) of each row, sorted."""
    return sorted((r.topic, r.payload.get("case_number", "-"), r.recipient) for r in rows)


def case_row(session: Session, case_id: int) -> Case:
    session.expire_all()
    case = session.get(Case, case_id)
    assert case is not None
    release(session)
    return case


def release(session: Session) -> None:
    """End the test session's read transaction: on SQLite every transaction holds the write lock
    (BEGIN IMMEDIATE), and the sweep under test needs it. Loaded objects stay readable."""
    session.commit()
