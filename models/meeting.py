"""支援会議 and 重層的支援会議: date, attendees (with 守秘義務 acknowledgement), decisions."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from models.timestamps import utcnow


class Meeting(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    case_id: int = Field(foreign_key="case.id", index=True)
    kind: str = Field(max_length=32, index=True)
    held_on: dt.date = Field(index=True)
    title: str = ""
    decisions: str = ""
    recorded_by: int = Field(foreign_key="staff.id")
    created_at: dt.datetime = Field(default_factory=utcnow)


class MeetingAttendee(SQLModel, table=True):
    __tablename__ = "meeting_attendee"
    # The meetings a staff member attended (what they may see of other teams' cases). Most
    # attendees are agencies, with no staff id: left out, the index is small, and SQLite's
    # statistics no longer count every agency row as one staff member's, which made it scan
    # every meeting instead (0.45 s for a coordinator's due list at a million cases).
    __table_args__ = (
        sa.Index(
            "ix_meeting_attendee_staff_id",
            "staff_id",
            sqlite_where=sa.text("staff_id IS NOT NULL"),
            postgresql_where=sa.text("staff_id IS NOT NULL"),
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    meeting_id: int = Field(foreign_key="meeting.id", index=True)
    name: str = Field(max_length=200)
    agency_id: int | None = Field(default=None, foreign_key="agency.id")
    staff_id: int | None = Field(default=None, foreign_key="staff.id")
    confidentiality_acknowledged: bool = False
