"""The case events waiting in the outbox for the Prefect relay (recipient `prefect-events`).

Every case action writes one such row in its own transaction; the `relay_events` flow turns
them into Prefect events afterwards and marks them sent. Read in id order, in batches.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection
from typing import Any, NamedTuple

from sqlalchemy import Table, func, select, update
from sqlmodel import Session

from models.outbox import OutboxMessage, OutboxStatus

EVENT_RELAY = "prefect-events"
"""The recipient of case events (the case service writes it; see `yorisoi.service.journal`)."""

_outbox: Table = OutboxMessage.__table__  # type: ignore[attr-defined]


class PendingEvent(NamedTuple):
    id: int
    topic: str
    idempotency_key: str
    payload: dict[str, Any]
    created_at: dt.datetime


def pending_events(session: Session, *, after_id: int, limit: int) -> list[PendingEvent]:
    """Case events not yet relayed, oldest first, after outbox row `after_id`."""
    o = _outbox.c
    rows = session.execute(
        select(o.id, o.topic, o.idempotency_key, o.payload, o.created_at)
        .where(o.status == OutboxStatus.PENDING.value, o.recipient == EVENT_RELAY, o.id > after_id)
        .order_by(o.id)
        .limit(limit)
    ).all()
    return [PendingEvent(*row) for row in rows]


def count_pending_events(session: Session) -> int:
    o = _outbox.c
    query = select(func.count()).where(o.status == OutboxStatus.PENDING.value, o.recipient == EVENT_RELAY)
    return int(session.execute(query).scalar_one())


def mark_relayed(session: Session, ids: Collection[int], *, now: dt.datetime) -> int:
    """Mark case events sent (does not commit); rows already marked are left alone."""
    if not ids:
        return 0
    o = _outbox.c
    result = session.execute(
        update(_outbox)
        .where(o.id.in_(list(ids)), o.status == OutboxStatus.PENDING.value, o.recipient == EVENT_RELAY)
        .values(status=OutboxStatus.SENT.value, sent_at=now, attempts=o.attempts + 1)
    )
    return int(result.rowcount)  # type: ignore[attr-defined]
