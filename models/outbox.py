"""The outbox: messages written in the same transaction as the change that causes them.

Delivery happens later (at least once); `idempotency_key` is unique, so the same message for
the same recipient is never queued twice.

Two kinds of rows share the table. Case events (`yorisoi.case.*`, recipient `prefect-events`)
are relayed to Prefect. Reminders (topics in `ReminderTopic`, recipient `staff:<login>` or
`role:<role>`) are delivered through Apprise by `yorisoi.dispatch`: pending → sending (claimed
by one worker until `claimed_until`) → sent, back to pending with a later `available_at` after
a failed attempt, or failed after the last one.
"""

from __future__ import annotations

import datetime as dt
from enum import StrEnum
from typing import Any

import sqlalchemy as sa
from sqlmodel import JSON, Column, Field, SQLModel

from models.timestamps import utcnow


class OutboxStatus(StrEnum):
    PENDING = "pending"
    SENDING = "sending"
    SENT = "sent"
    FAILED = "failed"


class ReminderTopic(StrEnum):
    """Why a reminder is sent; each has a Japanese template in `notifications.templates`."""

    MONITORING_DUE = "reminder.monitoring_due"
    MONITORING_OVERDUE = "reminder.monitoring_overdue"
    MONITORING_ESCALATION = "escalation.monitoring_overdue"
    PLAN_REVIEW_DUE = "reminder.plan_review_due"
    CONSENT_REVIEW = "reminder.consent_review"
    SHORT_STAY_ENDING = "reminder.short_stay_ending"
    SHORT_STAY_OVERDUE = "reminder.short_stay_overdue"
    HALF_YEAR_PROGRESS = "report.half_year_progress"


RECIPIENT_PREFIXES = ("staff:", "role:")
"""Recipients delivered through Apprise; anything else (e.g. `prefect-events`) is not."""


class OutboxMessage(SQLModel, table=True):
    __tablename__ = "outbox_message"
    # The dispatcher's question: which pending rows are due now.
    __table_args__ = (sa.Index("ix_outbox_message_status_available_at", "status", "available_at"),)

    id: int | None = Field(default=None, primary_key=True)
    topic: str = Field(max_length=100)
    case_id: int | None = Field(default=None, foreign_key="case.id")
    recipient: str = Field(max_length=200)
    idempotency_key: str = Field(unique=True, max_length=300)
    payload: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    status: str = Field(default=OutboxStatus.PENDING, max_length=16)
    attempts: int = 0
    available_at: dt.datetime = Field(default_factory=utcnow)
    created_at: dt.datetime = Field(default_factory=utcnow)
    sent_at: dt.datetime | None = None
    last_error: str = ""
    # The lease of the worker delivering it: no other worker touches the row before this time.
    claimed_until: dt.datetime | None = None
    claim_token: str = Field(default="", max_length=32)
    # Fingerprints of the Apprise targets that already have it: a retry skips them.
    delivered_to: list[str] = Field(
        default_factory=list, sa_column=Column(JSON, nullable=False, default=lambda: [])
    )
