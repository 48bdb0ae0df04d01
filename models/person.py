"""Persons and households. A household under DV 支援措置 has its address masked everywhere."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from models.timestamps import utcnow

MASKED_ADDRESS = "＊＊＊（DV等支援措置により非表示）"


class Household(SQLModel, table=True):
    __table_args__ = (
        # The few DV-protected households (the DV filter of the board and the lists).
        sa.Index(
            "ix_household_dv_protected",
            "id",
            sqlite_where=sa.text("dv_protected = 1"),
            postgresql_where=sa.text("dv_protected"),
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    address: str = Field(default="", max_length=300)
    dv_protected: bool = False
    created_at: dt.datetime = Field(default_factory=utcnow)

    def shown_address(self) -> str:
        """The address as any screen, export, message or log may show it."""
        return MASKED_ADDRESS if self.dv_protected else self.address


class Person(SQLModel, table=True):
    id: int | None = Field(default=None, primary_key=True)
    household_id: int = Field(foreign_key="household.id", index=True)
    name: str = Field(max_length=200, index=True)  # a 1–2 character search is a prefix of these
    kana: str = Field(default="", max_length=200, index=True)
    birth_date: dt.date | None = None
    created_at: dt.datetime = Field(default_factory=utcnow)
