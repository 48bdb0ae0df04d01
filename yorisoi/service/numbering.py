"""Case numbers per 年度 (R7-0001, R7-0002 …), safe under concurrent intakes."""

from __future__ import annotations

from sqlalchemy import Executable, Insert, Table
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session

from models import CaseNumberCounter

_counter: Table = CaseNumberCounter.__table__  # type: ignore[attr-defined]


def next_serial(session: Session, fiscal_year: int) -> int:
    """Hand out the next serial of `fiscal_year` in the caller's transaction."""
    dialect = session.get_bind().dialect.name
    insert: Insert
    if dialect == "postgresql":
        insert = postgresql.insert(CaseNumberCounter)
    else:
        insert = sqlite.insert(CaseNumberCounter)
    statement: Executable = (
        insert.values(fiscal_year=fiscal_year, last_serial=1)
        .on_conflict_do_update(
            index_elements=["fiscal_year"],
            set_={"last_serial": _counter.c.last_serial + 1},
        )
        .returning(_counter.c.last_serial)
    )
    return int(session.execute(statement).scalar_one())
