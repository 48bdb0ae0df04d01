"""Access log: who looked at which case record, when, through which screen (閲覧記録).

Kept apart from the case's audit chain on purpose: a view changes nothing, so it must not
bump the case's version (that would turn every page view into a VersionConflict for whoever
is editing). Rows are only ever inserted.
"""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from models.timestamps import utcnow


class RecordView(SQLModel, table=True):
    __tablename__ = "record_view"
    # The audit page pages the log newest first, by (viewed_at, id): all of it, one staff
    # member's, or the refused attempts (one case's: ix_record_view_case_viewed).
    __table_args__ = (
        sa.Index("ix_record_view_case_viewed", "case_id", "viewed_at"),
        sa.Index("ix_record_view_viewed_id", "viewed_at", "id"),
        sa.Index("ix_record_view_staff_viewed", "staff_id", "viewed_at", "id"),
        sa.Index("ix_record_view_granted_viewed", "granted", "viewed_at", "id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    case_id: int = Field(foreign_key="case.id")
    staff_id: int = Field(foreign_key="staff.id", index=True)
    viewed_at: dt.datetime = Field(default_factory=utcnow)
    # What was shown: case_detail, timeline, meeting_material, actions …
    what: str = Field(max_length=32)
    # web (a page) or api
    channel: str = Field(max_length=8)
    # False: the viewer was refused; attempts are worth auditing too.
    granted: bool = True
