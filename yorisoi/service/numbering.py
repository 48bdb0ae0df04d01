"""Case numbers per 年度 (R7-0001, R7-0002 …), safe under concurrent intakes."""

from __future__ import annotations

from functools import cache
from typing import Any

from sqlalchemy import Executable, Table, bindparam
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session

from models import CaseNumberCounter
from models.db import connection

_counter: Table = CaseNumberCounter.__table__  # type: ignore[attr-defined]


@cache
def _statement(dialect: str) -> Executable:
    """INSERT … ON CONFLICT DO UPDATE … RETURNING, built once per dialect (so compiled once)."""
    insert: Any = postgresql.insert(_counter) if dialect == "postgresql" else sqlite.insert(_counter)
    statement: Executable = (
        insert.values(fiscal_year=bindparam("fiscal_year"), last_serial=1)
        .on_conflict_do_update(
            index_elements=["fiscal_year"],
            set_={"last_serial": _counter.c.last_serial + 1},
        )
        .returning(_counter.c.last_serial)
    )
    return statement


def next_serial(session: Session, fiscal_year: int) -> int:
    """Hand out the next serial of `fiscal_year` in the caller's transaction."""
    conn = connection(session)
    return int(conn.execute(_statement(conn.dialect.name), {"fiscal_year": fiscal_year}).scalar_one())
