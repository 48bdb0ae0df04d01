"""Audit events: append-only, hash-chained per case.

Each event stores the hash of the case's previous event, so any edited, reordered or deleted
event breaks the chain, and writers on different cases never wait for each other.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from typing import Any

import sqlalchemy as sa
from sqlmodel import JSON, Column, Field, SQLModel

from models.timestamps import utcnow


class AuditEvent(SQLModel, table=True):
    __tablename__ = "audit_event"
    __table_args__ = (sa.UniqueConstraint("case_id", "seq", name="uq_audit_event_case_seq"),)

    id: int | None = Field(default=None, primary_key=True)
    case_id: int = Field(foreign_key="case.id")
    seq: int
    episode: int
    action: str = Field(max_length=64)
    from_stage: str = Field(max_length=64)
    to_stage: str = Field(max_length=64)
    actor_id: int | None = Field(default=None, foreign_key="staff.id")
    occurred_at: dt.datetime = Field(default_factory=utcnow)
    payload: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    prev_hash: str = Field(max_length=64)
    hash: str = Field(max_length=64)


# One encoder for every hash: json.dumps with options builds a new one per call.
_CANONICAL_JSON = json.JSONEncoder(ensure_ascii=False, sort_keys=True, separators=(",", ":"))


def canonical_time(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).isoformat(timespec="microseconds")


def event_hash(
    *,
    prev_hash: str,
    case_id: int,
    seq: int,
    episode: int,
    action: str,
    from_stage: str,
    to_stage: str,
    actor_id: int | None,
    occurred_at: dt.datetime,
    payload: dict[str, Any],
) -> str:
    """SHA-256 over the previous hash and a canonical JSON of the event's content."""
    body = _CANONICAL_JSON.encode(
        [case_id, seq, episode, action, from_stage, to_stage, actor_id, canonical_time(occurred_at), payload]
    )
    return hashlib.sha256((prev_hash + body).encode("utf-8")).hexdigest()
