"""本人同意: consent, its scope (the agencies it covers) and its withdrawal."""

from __future__ import annotations

import datetime as dt
from enum import StrEnum

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from models.timestamps import utcnow


class ConsentMethod(StrEnum):
    WRITTEN = "written"
    ORAL = "oral"


CONSENT_METHOD_LABELS_JA: dict[str, str] = {ConsentMethod.WRITTEN: "書面", ConsentMethod.ORAL: "口頭"}


class Consent(SQLModel, table=True):
    # The audit's withdrawals of a period, paged in (withdrawal date, id) order.
    __table_args__ = (sa.Index("ix_consent_withdrawn_on_id", "withdrawn_on", "id"),)

    id: int | None = Field(default=None, primary_key=True)
    case_id: int = Field(foreign_key="case.id", index=True)
    given_on: dt.date
    method: str = Field(max_length=16)
    recorded_by: int = Field(foreign_key="staff.id")
    withdrawn_on: dt.date | None = None
    withdrawn_by: int | None = Field(default=None, foreign_key="staff.id")
    note: str = ""
    created_at: dt.datetime = Field(default_factory=utcnow)


class ConsentAgency(SQLModel, table=True):
    __tablename__ = "consent_agency"

    consent_id: int = Field(foreign_key="consent.id", primary_key=True)
    agency_id: int = Field(foreign_key="agency.id", primary_key=True)
