"""Append one event to a case: the stage/version update, the audit event and the outbox row.

This is the hot path of every action: four small Core statements (read the head, update the
case, insert the audit event, insert the outbox message), built once at import with named
bind parameters and run on the connection of the session's transaction, so SQLAlchemy caches
their compiled form and its logging and events see each of them. The version check in the
UPDATE is the optimistic lock: if another writer got there first, nothing is written and
`VersionConflict` is raised. `Case.version` counts the case's events; only this module writes
it (the ORM never bumps it behind the audit trail's back).

Every event's hashed payload also names the case columns the action set (`"case": {...}`,
empty when it set none), so `audit verify` can replay the case row from its events
(`yorisoi.service.integrity`); events written before this was recorded have no `"case"` key.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any

from sqlalchemy import Connection, Select, Table, Update, bindparam, insert, inspect, select, update
from sqlalchemy.orm import attributes
from sqlmodel import Session

from models import AuditEvent, Case, OutboxMessage
from models.audit import event_hash
from models.db import connection
from models.outbox import OutboxStatus
from models.timestamps import utcnow
from yorisoi.errors import NotFound, VersionConflict

STAGE_CHANGED = "yorisoi.case.stage-changed"
CASE_UPDATED = "yorisoi.case.updated"
EVENT_RELAY = "prefect-events"


_case: Table = Case.__table__  # type: ignore[attr-defined]
_CASE_MAPPER = inspect(Case)


CASE_FACTS = "case"
"""The payload key holding the case columns an event set (JSON values: dates as YYYY-MM-DD)."""
CASE_COLUMNS = (
    "person_id",
    "opened_on",
    "coordinator_id",
    "desk_id",
    "episode",
    "lifecycle_version",
    "closed_on",
    "next_monitoring_on",
    "overdue",
)
"""The case columns the intake event records in full and later events record when they set them."""


def as_recorded(columns: dict[str, Any]) -> dict[str, Any]:
    """Case column values as the audit payload records them."""
    return {
        name: value.isoformat() if isinstance(value, dt.date) else value for name, value in columns.items()
    }


def head_query(*extra: Any, lock: bool = True) -> Select[Any]:
    """SELECT a case's head (the `CaseHead` columns, then `extra`) … FOR UPDATE.

    On PostgreSQL the row is locked, so concurrent actions on one case queue here and each sees
    the previous one's result (SQLite's BEGIN IMMEDIATE already serialises writers). Reading only
    (what a page may offer), `lock=False`: a page view never waits for someone's save.
    """
    c = _case.c
    query = select(
        c.id,
        c.number,
        c.stage,
        c.version,
        c.episode,
        c.audit_head,
        c.coordinator_id,
        c.desk_id,
        c.opened_on,
        c.closed_on,
        *extra,
    )
    return query.with_for_update() if lock else query


_LOAD_HEAD = head_query().where(_case.c.id == bindparam("case_id"))
_READ_HEAD = head_query(lock=False).where(_case.c.id == bindparam("case_id"))
_FIND_CASE_ID = select(_case.c.id).where(_case.c.number == bindparam("number"))
_INSERT_EVENT = insert(AuditEvent.__table__)  # type: ignore[attr-defined]
_INSERT_OUTBOX = insert(OutboxMessage.__table__)  # type: ignore[attr-defined]


@cache
def _update_case(columns: frozenset[str]) -> Update:
    """UPDATE case SET `columns` WHERE id AND version (the optimistic lock)."""
    return (
        update(_case)
        .where(_case.c.id == bindparam("w_id"), _case.c.version == bindparam("w_version"))
        .values({name: bindparam(f"v_{name}") for name in sorted(columns)})
    )


@dataclass(frozen=True, slots=True)
class CaseHead:
    """The few columns of a case an action needs, read at the start of its transaction."""

    id: int
    number: str
    stage: str
    version: int
    episode: int
    audit_head: str
    coordinator_id: int | None
    desk_id: int | None = None
    opened_on: dt.date | None = None
    closed_on: dt.date | None = None
    """The day the current episode was closed (None while it is open)."""


@dataclass(frozen=True, slots=True)
class AppendedEvent:
    case_id: int
    number: str
    seq: int
    action: str
    from_stage: str
    to_stage: str
    hash: str


def load_head(session: Session, case_id: int, *, lock: bool = True) -> CaseHead:
    """The case's head; locked for the transaction (PostgreSQL) unless `lock=False` (reading only)."""
    row = connection(session).execute(_LOAD_HEAD if lock else _READ_HEAD, {"case_id": case_id}).first()
    if row is None:
        raise NotFound(f"ケース {case_id} は存在しません。", f"There is no case with id {case_id}.")
    return CaseHead(*row)


def find_case_id(session: Session, number: str) -> int:
    """The id of case `number` (e.g. R7-0001)."""
    case_id = connection(session).execute(_FIND_CASE_ID, {"number": number}).scalar()
    if case_id is None:
        raise NotFound(f"ケース番号 {number} は存在しません。", f"There is no case numbered {number}.")
    return int(case_id)


@dataclass(frozen=True, slots=True)
class CaseChange:
    """One action to record on a case: the head read in this transaction and what the action did."""

    head: CaseHead
    action: str
    to_stage: str
    actor_id: int | None
    payload: dict[str, Any]
    case_updates: dict[str, Any] | None = None
    occurred_at: dt.datetime | None = None


def append_event(
    session: Session,
    head: CaseHead,
    *,
    action: str,
    to_stage: str,
    actor_id: int | None,
    payload: dict[str, Any],
    case_updates: dict[str, Any] | None = None,
    occurred_at: dt.datetime | None = None,
) -> AppendedEvent:
    """Write stage, audit event and outbox message for one action, in the open transaction."""
    change = CaseChange(head, action, to_stage, actor_id, payload, case_updates, occurred_at)
    return append_events(session, [change])[0]


def append_events(session: Session, changes: Sequence[CaseChange]) -> list[AppendedEvent]:
    """Record one action on each of several cases, in the open transaction.

    For a batch (the sweep's overdue marks): the case updates, the audit events and the outbox
    messages go to the database as one executemany each, not three statements per case. Each
    case at most once: its change is chained onto the head read before the batch. If any case
    has moved on since its head was read, `VersionConflict` and nothing of the batch is kept
    (the caller rolls back).
    """
    if len({change.head.id for change in changes}) != len(changes):
        raise ValueError("append_events records one change per case; chain a case's changes one by one")
    updates: dict[frozenset[str], list[dict[str, Any]]] = {}
    appended: list[AppendedEvent] = []
    events: list[EventRows] = []
    for change in changes:
        rows = _event_for(change)
        params = {f"v_{name}": value for name, value in rows.case_values.items()}
        params["w_id"], params["w_version"] = change.head.id, change.head.version
        updates.setdefault(frozenset(rows.case_values), []).append(params)
        events.append(rows)
        appended.append(rows.appended)
    conn = connection(session)
    for columns, params_list in updates.items():
        changed = conn.execute(_update_case(columns), params_list).rowcount
        if changed != len(params_list):
            raise _conflict(changes, params_list) from None
    for change, rows in zip(changes, events, strict=True):
        _sync_loaded_case(session, change.head, rows.case_values)
    insert_event_rows(conn, events)
    return appended


def _conflict(changes: Sequence[CaseChange], params_list: list[dict[str, Any]]) -> VersionConflict:
    number = changes[0].head.number if len(changes) == 1 else "（一括処理中のいずれか）"
    number_en = changes[0].head.number if len(changes) == 1 else f"(one of {len(params_list)})"
    return VersionConflict(
        f"ケース {number} は他の職員が先に更新しました。最新の状態を確認してやり直してください。",
        f"Case {number_en} was changed by someone else first; reload it and try again.",
    )


@dataclass(frozen=True, slots=True)
class EventRows:
    """An event's rows as inserted: the audit event, its outbox message, and the case's new columns."""

    event: dict[str, Any]
    message: dict[str, Any]
    case_values: dict[str, Any]
    appended: AppendedEvent


def _event_for(change: CaseChange) -> EventRows:
    head = change.head
    seq = head.version + 1
    moment = change.occurred_at or utcnow()
    payload = {**change.payload, CASE_FACTS: as_recorded(change.case_updates or {})}
    # The event that opens a new episode (reopen) belongs to that episode.
    episode = (change.case_updates or {}).get("episode", head.episode)
    digest = event_hash(
        prev_hash=head.audit_head,
        case_id=head.id,
        seq=seq,
        episode=episode,
        action=change.action,
        from_stage=head.stage,
        to_stage=change.to_stage,
        actor_id=change.actor_id,
        occurred_at=moment,
        payload=payload,
    )
    values = {"stage": change.to_stage, "version": seq, "audit_head": digest, "updated_at": moment}
    if change.case_updates:
        values.update(change.case_updates)
    return event_rows(
        case_id=head.id,
        number=head.number,
        seq=seq,
        episode=episode,
        action=change.action,
        from_stage=head.stage,
        to_stage=change.to_stage,
        actor_id=change.actor_id,
        occurred_at=moment,
        payload=payload,
        prev_hash=head.audit_head,
        digest=digest,
        case_values=values,
    )


def _sync_loaded_case(session: Session, head: CaseHead, values: dict[str, Any]) -> None:
    """Bring a `Case` this session already holds up to date with the UPDATE just made.

    What an ORM-enabled UPDATE's "evaluate" synchronisation does, for the one row it can
    touch, found by identity instead of by scanning every object in the session.
    """
    case = session.identity_map.get(_CASE_MAPPER.identity_key_from_primary_key((head.id,)))
    if case is None:
        return
    state = inspect(case)
    loaded = state.dict
    if state.expired or loaded.get("id") != head.id or loaded.get("version") != head.version:
        return
    unmodified = state.unmodified
    for name, value in values.items():
        if name not in loaded:
            continue
        if name in unmodified:
            attributes.set_committed_value(case, name, value)
        else:  # changed in memory and not flushed (autoflush off): reload it from the row
            session.expire(case, [name])


def event_rows(
    *,
    case_id: int,
    number: str,
    seq: int,
    episode: int,
    action: str,
    from_stage: str,
    to_stage: str,
    actor_id: int | None,
    occurred_at: dt.datetime,
    payload: dict[str, Any],
    prev_hash: str,
    digest: str,
    case_values: dict[str, Any] | None = None,
) -> EventRows:
    """The audit event row and its outbox message (the relay turns it into an event)."""
    event = {
        "case_id": case_id,
        "seq": seq,
        "episode": episode,
        "action": action,
        "from_stage": from_stage,
        "to_stage": to_stage,
        "actor_id": actor_id,
        "occurred_at": occurred_at,
        "payload": payload,
        "prev_hash": prev_hash,
        "hash": digest,
    }
    message = {
        "topic": STAGE_CHANGED if from_stage != to_stage else CASE_UPDATED,
        "case_id": case_id,
        "recipient": EVENT_RELAY,
        "idempotency_key": f"case:{case_id}:event:{seq}",
        "payload": {
            "case_number": number,
            "action": action,
            "from_stage": from_stage,
            "to_stage": to_stage,
            "seq": seq,
        },
        "status": OutboxStatus.PENDING,
        "attempts": 0,
        "available_at": occurred_at,
        "created_at": occurred_at,
        "last_error": "",
        "claim_token": "",
        "delivered_to": [],
    }
    appended = AppendedEvent(case_id, number, seq, action, from_stage, to_stage, digest)
    return EventRows(event, message, case_values or {}, appended)


def insert_event_rows(connection: Connection, rows: Sequence[EventRows]) -> None:
    """Insert the audit events and their outbox messages (one executemany each)."""
    if not rows:
        return
    connection.execute(_INSERT_EVENT, [r.event for r in rows])
    connection.execute(_INSERT_OUTBOX, [r.message for r in rows])
