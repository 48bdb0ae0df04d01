"""アウトリーチ (visits, attendance at local meetings) and 参加支援 programmes."""

from __future__ import annotations

import datetime as dt
from enum import StrEnum

from sqlmodel import Field, SQLModel

from models.timestamps import utcnow


class OutreachKind(StrEnum):
    HOME_VISIT = "home_visit"
    MEETING_ATTENDANCE = "meeting_attendance"


OUTREACH_KIND_LABELS_JA: dict[str, str] = {
    OutreachKind.HOME_VISIT: "訪問",
    OutreachKind.MEETING_ATTENDANCE: "会議等出席",
}


class Program(StrEnum):
    TYPE_B = "program_type_b"
    SHORT_STAY = "program_short_stay"


PROGRAM_LABELS_JA: dict[str, str] = {
    Program.TYPE_B: "就労継続支援B型事業所活用事業",
    Program.SHORT_STAY: "短期宿泊場所提供事業",
}


class OutreachActivity(SQLModel, table=True):
    __tablename__ = "outreach_activity"

    id: int | None = Field(default=None, primary_key=True)
    case_id: int | None = Field(default=None, foreign_key="case.id", index=True)
    kind: str = Field(max_length=32)
    done_on: dt.date = Field(index=True)
    staff_id: int = Field(foreign_key="staff.id")
    note: str = ""
    created_at: dt.datetime = Field(default_factory=utcnow)


class ProgramProvider(SQLModel, table=True):
    """A registered provider (就B事業所, 短期宿泊 facility)."""

    __tablename__ = "program_provider"

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=200)
    program: str = Field(max_length=32)
    registered_on: dt.date
    created_at: dt.datetime = Field(default_factory=utcnow)


class ProgramEnrolment(SQLModel, table=True):
    __tablename__ = "program_enrolment"

    id: int | None = Field(default=None, primary_key=True)
    case_id: int = Field(foreign_key="case.id", index=True)
    provider_id: int = Field(foreign_key="program_provider.id")
    program: str = Field(max_length=32)
    start_on: dt.date
    end_on: dt.date
    exited_on: dt.date | None = None
    created_at: dt.datetime = Field(default_factory=utcnow)
