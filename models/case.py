"""Cases and their consultation contacts (相談: 相談者区分, 相談方法, 相談内容)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection
from enum import StrEnum

import sqlalchemy as sa
from sqlmodel import Field, SQLModel, col

from models.timestamps import utcnow

GENESIS_HASH = "0" * 64


class Referrer(StrEnum):
    """相談者区分."""

    SELF = "self"
    FAMILY = "family"
    COMMUNITY = "community"
    AGENCY = "agency"


class ContactMethod(StrEnum):
    """相談方法. `unrecorded`: the method was not noted (e.g. records carried over from a
    spreadsheet); published tables leave these out of the 相談方法 columns (山口市 R6: 44)."""

    OFFICE_VISIT = "office_visit"
    PHONE = "phone"
    HOME_VISIT = "home_visit"
    OTHER = "other"
    UNRECORDED = "unrecorded"


REFERRER_LABELS_JA: dict[str, str] = {
    Referrer.SELF: "本人",
    Referrer.FAMILY: "家族・親族",
    Referrer.COMMUNITY: "地域",
    Referrer.AGENCY: "関係機関等",
}
CONTACT_METHOD_LABELS_JA: dict[str, str] = {
    ContactMethod.OFFICE_VISIT: "来所",
    ContactMethod.PHONE: "電話",
    ContactMethod.HOME_VISIT: "訪問",
    ContactMethod.OTHER: "その他",
    ContactMethod.UNRECORDED: "未記録",
}


class Case(SQLModel, table=True):
    """One person's case. `version` counts the case's audit events; the case service's UPDATE
    checks it (optimistic locking) and nothing else writes it."""

    __table_args__ = (
        sa.UniqueConstraint("fiscal_year", "serial", name="uq_case_fiscal_year_serial"),
        sa.UniqueConstraint("external_ref", name="uq_case_external_ref"),
        sa.Index("ix_case_stage_coordinator", "stage", "coordinator_id"),
        # The audit's overdue list, paged per monitoring stage in (next monitoring date, number) order.
        sa.Index("ix_case_stage_monitoring_on_number", "stage", "next_monitoring_on", "number"),
        # The board's grouped count, one coordinator's columns, due dates and overdue (at 1M cases);
        # with the mark, so that `monitoring_overdue` is answered from the index alone.
        sa.Index(
            "ix_case_coordinator_stage_monitoring", "coordinator_id", "stage", "next_monitoring_on", "overdue"
        ),
        # A board column of everything in view, a coordinator's case list: in id order (an index
        # on one column ends in the id, so the first page needs no sort).
        sa.Index("ix_case_stage", "stage"),
        sa.Index("ix_case_coordinator_id", "coordinator_id"),
        # The due list and overdue filter of everything in view: a stage's monitoring dates in order.
        sa.Index("ix_case_stage_monitoring", "stage", "next_monitoring_on", "overdue"),
        # The few cases the sweep marked 期限超過, the mark first: with one more equal column than
        # the indexes above, SQLite picks these for the marked-cases part of the due list.
        sa.Index(
            "ix_case_overdue_mark",
            "overdue",
            "stage",
            "next_monitoring_on",
            sqlite_where=sa.text("overdue = 1"),
            postgresql_where=sa.text("overdue"),
        ),
        sa.Index(
            "ix_case_overdue_mark_coordinator",
            "overdue",
            "coordinator_id",
            "stage",
            "next_monitoring_on",
            sqlite_where=sa.text("overdue = 1"),
            postgresql_where=sa.text("overdue"),
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    number: str = Field(unique=True, max_length=20)
    fiscal_year: int
    serial: int
    person_id: int = Field(foreign_key="person.id", index=True)
    stage: str = Field(max_length=64)  # indexed with coordinator_id (ix_case_stage_coordinator)
    episode: int = 1
    version: int = 1
    audit_head: str = Field(default=GENESIS_HASH, max_length=64)
    coordinator_id: int | None = Field(default=None, foreign_key="staff.id")
    desk_id: int | None = Field(default=None, foreign_key="agency.id")
    opened_on: dt.date
    closed_on: dt.date | None = None
    next_monitoring_on: dt.date | None = Field(default=None, index=True)
    overdue: bool = False
    lifecycle_version: int = Field(default=1, sa_column_kwargs={"server_default": "1"})
    """The version of the lifecycle the case runs on (`models.lifecycle`)."""
    external_ref: str | None = Field(default=None, max_length=64)
    """台帳番号: the municipality's own number for the case (its ledger, its spreadsheets); an
    import links rows to the case by it."""
    created_at: dt.datetime = Field(default_factory=utcnow)
    updated_at: dt.datetime = Field(default_factory=utcnow)


class CaseNumberCounter(SQLModel, table=True):
    """The last serial handed out per 年度, so numbers like R7-0001 never repeat."""

    __tablename__ = "case_number_counter"

    fiscal_year: int = Field(primary_key=True)
    last_serial: int = 0


class Contact(SQLModel, table=True):
    """One consultation contact (相談延件数 counts these); the first one is the intake."""

    __table_args__ = (
        # 年度 statistics (models/stats.py) read a date range of contacts by desk, 相談者区分,
        # 相談方法 and case: with all of them in the index, they never touch the table.
        sa.Index("ix_contact_stats", "contacted_on", "desk_id", "referrer", "method", "case_id"),
        # The few 訪問 contacts that also count as アウトリーチ home visits (`outreach_visit`).
        sa.Index(
            "ix_contact_outreach_visit",
            "contacted_on",
            sqlite_where=sa.text("outreach_visit = 1"),
            postgresql_where=sa.text("outreach_visit"),
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    case_id: int = Field(foreign_key="case.id", index=True)
    contacted_on: dt.date
    desk_id: int | None = Field(default=None, foreign_key="agency.id")
    referrer: str = Field(max_length=32)
    method: str = Field(max_length=32)
    staff_id: int | None = Field(default=None, foreign_key="staff.id")
    note: str = ""
    outreach_visit: bool = Field(default=False, sa_column_kwargs={"server_default": sa.false()})
    """A 訪問 contact that is also the アウトリーチ home visit: one record, counted in both tables."""
    created_at: dt.datetime = Field(default_factory=utcnow)


class ContactTopic(SQLModel, table=True):
    """相談内容: several per contact."""

    __tablename__ = "contact_topic"

    contact_id: int = Field(foreign_key="contact.id", primary_key=True)
    topic: str = Field(max_length=64, primary_key=True)


def monitoring_overdue(on: dt.date, monitoring_stages: Collection[str]) -> sa.ColumnElement[bool]:
    """What 期限超過 means everywhere (lists, the board, the audit, the half-year list): a case in
    a stage where monitoring runs whose monitoring date is before `on`, or that the sweep marked
    overdue. A case taken out of monitoring (a plan under revision, consent withdrawn, closed)
    is not overdue."""
    return sa.and_(
        col(Case.stage).in_(monitoring_stages),
        sa.or_(col(Case.overdue), col(Case.next_monitoring_on) < on),
    )
