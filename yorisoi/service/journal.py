"""Append one event to a case: the stage/version update, the audit event and the outbox row.

This is the hot path of every action, so it uses three Core statements on the caller's
transaction rather than ORM objects. The version check in the UPDATE is the optimistic lock:
if another writer got there first, nothing is written and `VersionConflict` is raised.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import insert, select, update
from sqlmodel import Session

from models import AuditEvent, Case, OutboxMessage
from models.audit import event_hash
from models.timestamps import utcnow
from yorisoi.errors import NotFound, VersionConflict

STAGE_CHANGED = "yorisoi.case.stage-changed"
CASE_UPDATED = "yorisoi.case.updated"
EVENT_RELAY = "prefect-events"

_HEAD_COLUMNS = (
    Case.id,
    Case.number,
    Case.stage,
    Case.version,
    Case.episode,
    Case.audit_head,
    Case.coordinator_id,
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


def load_head(session: Session, case_id: int) -> CaseHead:
    row = session.execute(select(*_HEAD_COLUMNS).where(Case.id == case_id)).first()
    if row is None:
        raise NotFound(f"ケース {case_id} は存在しません。", f"There is no case with id {case_id}.")
    return CaseHead(*row)


def find_case_id(session: Session, number: str) -> int:
    """The id of case `number` (e.g. R7-0001)."""
    case_id = session.execute(select(Case.id).where(Case.number == number)).scalar()
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
    digest = event_hash(
        prev_hash=head.audit_head,
        case_id=head.id,
        seq=seq,
        episode=head.episode,
        action=action,
        from_stage=head.stage,
        to_stage=to_stage,
        actor_id=actor_id,
        occurred_at=moment,
        payload=payload,
    )
    changed = session.execute(
        update(Case)
        .where(Case.id == head.id, Case.version == head.version)  # type: ignore[arg-type]
        .values(stage=to_stage, version=seq, audit_head=digest, updated_at=moment, **(case_updates or {}))
    )
    if changed.rowcount != 1:  # type: ignore[attr-defined]
        raise VersionConflict(
            f"ケース {head.number} は他の職員が先に更新しました。最新の状態を確認してやり直してください。",
            f"Case {head.number} was changed by someone else first; reload it and try again.",
        )
    write_event_rows(
        session,
        case_id=head.id,
        number=head.number,
        seq=seq,
        episode=head.episode,
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


def write_event_rows(
    session: Session,
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
    session.execute(
        insert(AuditEvent).values(
            case_id=case_id,
            seq=seq,
            episode=episode,
            action=action,
            from_stage=from_stage,
            to_stage=to_stage,
            actor_id=actor_id,
            occurred_at=occurred_at,
            payload=payload,
            prev_hash=prev_hash,
            hash=digest,
        )
    )
    session.execute(
        insert(OutboxMessage).values(
            topic=STAGE_CHANGED if from_stage != to_stage else CASE_UPDATED,
            case_id=case_id,
            recipient=EVENT_RELAY,
            idempotency_key=f"case:{case_id}:event:{seq}",
            payload={
                "case_number": number,
                "action": action,
                "from_stage": from_stage,
                "to_stage": to_stage,
                "seq": seq,
            },
            status="pending",
            attempts=0,
            available_at=occurred_at,
            created_at=occurred_at,
            last_error="",
        )
    )
