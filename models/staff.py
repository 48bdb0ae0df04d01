"""Staff (with roles) and agencies (関係機関, each with its field 分野)."""

from __future__ import annotations

import datetime as dt
from enum import StrEnum

import sqlalchemy as sa
from sqlalchemy import JSON, Column
from sqlmodel import Field, SQLModel, col

from models.timestamps import utcnow


class AgencyField(StrEnum):
    """分野: the field an agency works in."""

    ELDERLY = "elderly"
    DISABILITY = "disability"
    CHILD = "child"
    POVERTY = "poverty"
    HEALTH = "health"
    EDUCATION = "education"
    HOUSING = "housing"
    COMMUNITY = "community"
    MUNICIPALITY = "municipality"
    OTHER = "other"


AGENCY_FIELD_LABELS_JA: dict[str, str] = {
    AgencyField.ELDERLY: "高齢",
    AgencyField.DISABILITY: "障がい",
    AgencyField.CHILD: "子ども",
    AgencyField.POVERTY: "生活困窮",
    AgencyField.HEALTH: "保健・医療",
    AgencyField.EDUCATION: "教育",
    AgencyField.HOUSING: "住まい",
    AgencyField.COMMUNITY: "地域",
    AgencyField.MUNICIPALITY: "市役所",
    AgencyField.OTHER: "その他",
}


class Agency(SQLModel, table=True):
    """A 関係機関; `is_desk` marks a 受付窓口 (e.g. a ふくまる相談室)."""

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(unique=True, max_length=200)
    field: str = Field(max_length=32)
    is_desk: bool = False
    created_at: dt.datetime = Field(default_factory=utcnow)


class Staff(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    login: str = Field(unique=True, max_length=64)
    name: str = Field(max_length=200)
    roles: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    agency_id: int | None = Field(default=None, foreign_key="agency.id")
    team: str | None = Field(default=None, max_length=100)
    active: bool = True
    # argon2 hash for signing in to the web app; None = no web sign-in (CLI-only staff).
    password_hash: str | None = Field(default=None, max_length=200)
    created_at: dt.datetime = Field(default_factory=utcnow)


def staff_label(alias: type[Staff]) -> sa.ColumnElement[str | None]:
    """`佐藤 一郎 (sato)` for a (possibly aliased) staff row in a query, or NULL when it is missing."""
    name = sa.func.coalesce(col(alias.name), "", type_=sa.String)
    return sa.case(
        (col(alias.id).is_(None), None),
        else_=name + sa.literal(" (", sa.String) + col(alias.login) + sa.literal(")", sa.String),
    )
