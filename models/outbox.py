"""The outbox: messages written in the same transaction as the change that causes them.

Delivery happens later (at least once); `idempotency_key` is unique, so the same message for
the same recipient is never queued twice.
"""

from __future__ import annotations

import datetime as dt
from enum import StrEnum
from typing import Any

from sqlmodel import JSON, Column, Field, SQLModel

from models.timestamps import utcnow


class OutboxStatus(StrEnum):
    PENDING = "pending"
    SENT = "sent"
    FAILED = "failed"


class OutboxMessage(SQLModel, table=True):
    __tablename__ = "outbox_message"

    id: int | None = Field(default=None, primary_key=True)
    topic: str = Field(max_length=100, index=True)
    case_id: int | None = Field(default=None, foreign_key="case.id", index=True)
    recipient: str = Field(max_length=200)
    idempotency_key: str = Field(unique=True, max_length=300)
    payload: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    status: str = Field(default=OutboxStatus.PENDING, max_length=16, index=True)
    attempts: int = 0
    available_at: dt.datetime = Field(default_factory=utcnow)
    created_at: dt.datetime = Field(default_factory=utcnow)
    sent_at: dt.datetime | None = None
    last_error: str = ""
