"""Case numbers per 年度 (R7-0001, R7-0002 …), safe under concurrent intakes."""

from __future__ import annotations

from sqlalchemy import Table, text
from sqlmodel import Session

from models import CaseNumberCounter
from models.db import connection

_counter: Table = CaseNumberCounter.__table__  # type: ignore[attr-defined]


# Written as text because SQLAlchemy 2.0 does not cache its dialects' INSERT … ON CONFLICT (it
# compiled this anew for every intake); the SQL is the same on SQLite and PostgreSQL.
_NEXT_SERIAL = text(
    f"INSERT INTO {_counter.name} (fiscal_year, last_serial) VALUES (:fiscal_year, 1)"
    f" ON CONFLICT (fiscal_year) DO UPDATE SET last_serial = {_counter.name}.last_serial + 1"
    " RETURNING last_serial"
)


def next_serial(session: Session, fiscal_year: int) -> int:
    """Hand out the next serial of `fiscal_year` in the caller's transaction."""
    return int(connection(session).execute(_NEXT_SERIAL, {"fiscal_year": fiscal_year}).scalar_one())
