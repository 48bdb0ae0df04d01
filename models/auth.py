"""Signing in: server-side sessions, the sign-in log, and the directory's change log.

- `AuthSession`: one row per sign-in (a browser's cookie or a CLI token). Only a hash of the
  token is stored; the row is what makes the token valid, so signing out, a password change
  or a deactivation ends it at once (`revoked_at`), whatever copy of the token is around.
- `SignInAttempt`: every attempt to sign in (the access log's sign-in half: `RecordView` is the
  other), failed or not, and every unlock by a supervisor. Throttling and temporary locks are
  derived from it (`yorisoi.service.throttle`), so they hold across worker processes and
  restarts, and an unlock is one more row.
- `DirectoryEvent`: who added, changed or deactivated staff, agencies and providers. Rows are
  only ever inserted.
"""

from __future__ import annotations

import datetime as dt
from enum import StrEnum
from typing import Any

import sqlalchemy as sa
from sqlalchemy import JSON, Column
from sqlmodel import Field, SQLModel

from models.timestamps import utcnow


class Channel(StrEnum):
    WEB = "web"  # the pages
    API = "api"
    CLI = "cli"


class Outcome(StrEnum):
    """What became of one sign-in attempt (or the row's other meaning: an unlock, a sign-out)."""

    OK = "ok"
    FAILED = "failed"  # wrong login or password: counts towards throttling
    THROTTLED = "throttled"  # refused unchecked: too soon after the last failures
    LOCKED = "locked"  # refused unchecked: the login or the client address is locked
    UNLOCKED = "unlocked"  # a supervisor lifted a lock (by_staff_id)
    SIGNED_OUT = "signed_out"


OUTCOME_LABELS_JA: dict[str, str] = {
    Outcome.OK: "ログイン",
    Outcome.FAILED: "失敗",
    Outcome.THROTTLED: "待機中のため拒否",
    Outcome.LOCKED: "ロック中のため拒否",
    Outcome.UNLOCKED: "ロック解除",
    Outcome.SIGNED_OUT: "ログアウト",
}


class AuthSession(SQLModel, table=True):
    __tablename__ = "auth_session"

    id: int | None = Field(default=None, primary_key=True)
    # sha256 (hex) of the bearer token; the token itself is only ever in the cookie or the file.
    token_hash: str = Field(max_length=64, unique=True)
    staff_id: int = Field(foreign_key="staff.id", index=True)
    channel: str = Field(max_length=8)
    client: str = Field(default="", max_length=64)
    created_at: dt.datetime = Field(default_factory=utcnow)
    expires_at: dt.datetime
    revoked_at: dt.datetime | None = None
    # sign_out, password, deactivated, restore
    revoked_why: str = Field(default="", max_length=16)


class SignInAttempt(SQLModel, table=True):
    __tablename__ = "sign_in_attempt"
    __table_args__ = (
        sa.Index("ix_sign_in_attempt_login_at", "login", "at"),
        sa.Index("ix_sign_in_attempt_client_at", "client", "at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    at: dt.datetime = Field(default_factory=utcnow)
    # The login as typed (stripped, at most 64 characters), whether or not such staff exists:
    # throttling by the typed name never tells which logins are real.
    login: str = Field(max_length=64)
    staff_id: int | None = Field(default=None, foreign_key="staff.id")
    client: str = Field(default="", max_length=64)
    channel: str = Field(max_length=8)
    outcome: str = Field(max_length=16)
    by_staff_id: int | None = Field(default=None, foreign_key="staff.id")


class DirectoryEvent(SQLModel, table=True):
    __tablename__ = "directory_event"

    id: int | None = Field(default=None, primary_key=True)
    at: dt.datetime = Field(default_factory=utcnow)
    # None only for the first administrator (`yorisoi init --admin`) and the demo's own set-up.
    actor_id: int | None = Field(default=None, foreign_key="staff.id")
    # staff_add, staff_activate, staff_deactivate, password_set, agency_add, provider_add
    action: str = Field(max_length=32)
    subject: str = Field(max_length=200)
    payload: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
