"""支援プラン: versions, goals, 役割分担, links to other fields' plans; monitoring records."""

from __future__ import annotations

import datetime as dt
from enum import StrEnum

import sqlalchemy as sa
from sqlmodel import Field, SQLModel, col, select
from sqlmodel.sql.expression import SelectOfScalar

from models.timestamps import utcnow


class PlanStatus(StrEnum):
    DRAFT = "draft"
    APPROVED = "approved"
    RETURNED = "returned"
    SUPERSEDED = "superseded"


PLAN_STATUS_LABELS_JA: dict[str, str] = {
    PlanStatus.DRAFT: "承認待ち",
    PlanStatus.APPROVED: "承認済み",
    PlanStatus.RETURNED: "差戻し",
    PlanStatus.SUPERSEDED: "改訂済み",
}


class Plan(SQLModel, table=True):
    # The audit's approvals of a period, paged in (approval date, id) order.
    __table_args__ = (sa.Index("ix_plan_approved_on_id", "approved_on", "id"),)

    id: int | None = Field(default=None, primary_key=True)
    case_id: int = Field(foreign_key="case.id", index=True)
    episode: int = 1
    version: int
    status: str = Field(max_length=16, index=True)
    author_id: int = Field(foreign_key="staff.id")
    drafted_on: dt.date
    household_goal: str = ""
    monitoring_interval_days: int
    approved_by: int | None = Field(default=None, foreign_key="staff.id")
    approved_on: dt.date | None = Field(default=None, index=True)
    meeting_id: int | None = Field(default=None, foreign_key="meeting.id")
    returned_by: int | None = Field(default=None, foreign_key="staff.id")
    returned_on: dt.date | None = None
    return_reason: str = ""
    created_at: dt.datetime = Field(default_factory=utcnow)


def current_plan(case_id: int, episode: int, status: str) -> SelectOfScalar[Plan]:
    """What "the current plan" means everywhere: the newest version with `status` in the
    case's current episode (the draft awaiting approval, or the plan in force)."""
    return (
        select(Plan)
        .where(col(Plan.case_id) == case_id, col(Plan.episode) == episode, col(Plan.status) == status)
        .order_by(col(Plan.version).desc())
        .limit(1)
    )


class PlanGoal(SQLModel, table=True):
    __tablename__ = "plan_goal"

    id: int | None = Field(default=None, primary_key=True)
    plan_id: int = Field(foreign_key="plan.id", index=True)
    problem: str = ""
    goal: str


class RoleAssignment(SQLModel, table=True):
    """役割分担: what each agency does; one of them is the lead (主担当)."""

    __tablename__ = "role_assignment"

    id: int | None = Field(default=None, primary_key=True)
    plan_id: int = Field(foreign_key="plan.id", index=True)
    agency_id: int = Field(foreign_key="agency.id")
    role: str
    is_lead: bool = False


class ExternalPlanRef(SQLModel, table=True):
    """既存プラン: a plan another field already holds (ケアプラン, サービス等利用計画 …)."""

    __tablename__ = "external_plan_ref"

    id: int | None = Field(default=None, primary_key=True)
    plan_id: int = Field(foreign_key="plan.id", index=True)
    kind: str = Field(max_length=100)
    agency_id: int | None = Field(default=None, foreign_key="agency.id")
    note: str = ""


class MonitoringRecord(SQLModel, table=True):
    __tablename__ = "monitoring_record"

    id: int | None = Field(default=None, primary_key=True)
    case_id: int = Field(foreign_key="case.id", index=True)
    plan_id: int = Field(foreign_key="plan.id")
    held_on: dt.date
    summary: str
    next_on: dt.date
    recorded_by: int = Field(foreign_key="staff.id")
    created_at: dt.datetime = Field(default_factory=utcnow)
