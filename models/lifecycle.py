"""The lifecycle in force, version by version (Camunda calls moving cases across them
process-instance migration).

A municipality changes its lifecycle with `yorisoi lifecycle apply FILE`: the file's text is
kept here with its hash, who applied it and how stages of cases in flight were mapped, and
every case records the version it runs on (`case.lifecycle_version`). The audit replay checks
each case's events against the version they ran under.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from typing import Any

from sqlmodel import JSON, Column, Field, Session, SQLModel, col, func, select

from models.timestamps import utcnow


class LifecycleVersion(SQLModel, table=True):
    __tablename__ = "lifecycle_version"

    id: int | None = Field(default=None, primary_key=True, sa_column_kwargs={"autoincrement": False})
    """The version number: 1, 2, … (the newest is in force), given by the applier."""
    name: str = Field(max_length=64)
    content: str
    """The lifecycle file's text, exactly as applied."""
    content_hash: str = Field(max_length=64)
    applied_at: dt.datetime = Field(default_factory=utcnow)
    applied_by: int | None = Field(default=None, foreign_key="staff.id")
    """None: recorded by `yorisoi init` from the configured file."""
    stage_map: dict[str, str] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    """Old stage → new stage for the cases moved when it was applied."""


def content_hash(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def current_version(session: Session) -> LifecycleVersion | None:
    """The version in force (the newest), if any was recorded."""
    return session.exec(select(LifecycleVersion).order_by(col(LifecycleVersion.id).desc()).limit(1)).first()


def all_versions(session: Session) -> list[LifecycleVersion]:
    return list(session.exec(select(LifecycleVersion).order_by(col(LifecycleVersion.id))))


def current_version_id(session: Session) -> int | None:
    value: Any = session.exec(select(func.max(LifecycleVersion.id))).one()
    return int(value) if value is not None else None
