"""Append one event to a case: the stage/version update, the audit event and the outbox row.

This is the hot path of every action, so its four statements (read the head, update the case,
insert the audit event, insert the outbox message) are `Prepared`: built once, compiled once per
database dialect, run on the DBAPI cursor of the caller's transaction. The version check in the
UPDATE is the optimistic lock: if another writer got there first, nothing is written and
`VersionConflict` is raised.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from functools import cache
from typing import Any

from sqlalchemy import Connection, Table, bindparam, inspect, select, update
from sqlalchemy.orm import attributes
from sqlmodel import Session

from models import AuditEvent, Case, OutboxMessage
from models.audit import event_hash
from models.timestamps import utcnow
from yorisoi.errors import NotFound, VersionConflict
from yorisoi.service.prepared import Prepared, connection, insert_all_columns

STAGE_CHANGED = "yorisoi.case.stage-changed"
CASE_UPDATED = "yorisoi.case.updated"
EVENT_RELAY = "prefect-events"


_case: Table = Case.__table__  # type: ignore[attr-defined]
_CASE_MAPPER = inspect(Case)

_HEAD = select(
    _case.c.id,
    _case.c.number,
    _case.c.stage,
    _case.c.version,
    _case.c.episode,
    _case.c.audit_head,
    _case.c.coordinator_id,
).where(_case.c.id == bindparam("case_id", type_=_case.c.id.type))
# PostgreSQL: lock the row, so concurrent actions on one case queue here and each sees
# the previous one's result (SQLite's BEGIN IMMEDIATE already serialises writers).
_LOAD_HEAD = Prepared(_HEAD.with_for_update())
# Reading only (what a page may offer): no lock, so a page view never waits for a save.
_READ_HEAD = Prepared(_HEAD)
_FIND_CASE_ID = Prepared(
    select(_case.c.id).where(_case.c.number == bindparam("number", type_=_case.c.number.type))
)
_INSERT_EVENT, _event_row = insert_all_columns(AuditEvent.__table__)  # type: ignore[attr-defined]
_INSERT_OUTBOX, _outbox_row = insert_all_columns(OutboxMessage.__table__)  # type: ignore[attr-defined]


@cache
def _update_case(extra: frozenset[str]) -> Prepared:
    """UPDATE case SET stage, version, audit_head, updated_at (+ `extra`) WHERE id AND version."""
    columns = {"stage", "version", "audit_head", "updated_at", *extra}
    return Prepared(
        update(_case)
        .where(
            _case.c.id == bindparam("w_id", type_=_case.c.id.type),
            _case.c.version == bindparam("w_version", type_=_case.c.version.type),
        )
        .values({name: bindparam(f"v_{name}", type_=_case.c[name].type) for name in sorted(columns)})
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
    row = (_LOAD_HEAD if lock else _READ_HEAD).first(session, {"case_id": case_id})
    if row is None:
        raise NotFound(f"ケース {case_id} は存在しません。", f"There is no case with id {case_id}.")
    return CaseHead(*row)


def find_case_id(session: Session, number: str) -> int:
    """The id of case `number` (e.g. R7-0001)."""
    row = _FIND_CASE_ID.first(session, {"number": number})
    case_id = row[0] if row else None
    if case_id is None:
        raise NotFound(f"ケース番号 {number} は存在しません。", f"There is no case numbered {number}.")
    return int(case_id)


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
    seq = head.version + 1
    moment = occurred_at or utcnow()
    # The event that opens a new episode (reopen) belongs to that episode.
    episode = (case_updates or {}).get("episode", head.episode)
    digest = event_hash(
        prev_hash=head.audit_head,
        case_id=head.id,
        seq=seq,
        episode=episode,
        action=action,
        from_stage=head.stage,
        to_stage=to_stage,
        actor_id=actor_id,
        occurred_at=moment,
        payload=payload,
    )
    values = {"stage": to_stage, "version": seq, "audit_head": digest, "updated_at": moment}
    if case_updates:
        values.update(case_updates)
    conn = connection(session)
    params = {f"v_{name}": value for name, value in values.items()}
    params["w_id"], params["w_version"] = head.id, head.version
    cursor = _update_case(frozenset(case_updates or ())).execute(conn, params)
    changed = cursor.rowcount
    cursor.close()
    if changed != 1:
        raise VersionConflict(
            f"ケース {head.number} は他の職員が先に更新しました。最新の状態を確認してやり直してください。",
            f"Case {head.number} was changed by someone else first; reload it and try again.",
        )
    _sync_loaded_case(session, head, values)
    insert_event_rows(
        conn,
        case_id=head.id,
        number=head.number,
        seq=seq,
        episode=episode,
        action=action,
        from_stage=head.stage,
        to_stage=to_stage,
        actor_id=actor_id,
        occurred_at=moment,
        payload=payload,
        prev_hash=head.audit_head,
        digest=digest,
    )
    return AppendedEvent(head.id, head.number, seq, action, head.stage, to_stage, digest)


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


def insert_event_rows(
    connection: Connection,
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
) -> None:
    """Insert the audit event and its outbox message (the relay turns it into an event)."""
    _INSERT_EVENT.execute(
        connection,
        _event_row(
            {
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
        ),
    ).close()
    _INSERT_OUTBOX.execute(
        connection,
        _outbox_row(
            {
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
                "status": "pending",
                "attempts": 0,
                "available_at": occurred_at,
                "created_at": occurred_at,
                "last_error": "",
            }
        ),
    ).close()
