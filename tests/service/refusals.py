"""Helpers for rule tests: a refused action must raise the right error and write nothing."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import pytest
from sqlalchemy import func, select
from sqlmodel import Session, SQLModel

from models import AuditEvent, OutboxMessage

_E = TypeVar("_E", bound=BaseException)

Snapshot = dict[str, list[tuple[Any, ...]]]


def snapshot(session: Session) -> Snapshot:
    """Every row of every table, in primary-key order: any write shows up as a difference.

    Plain SQL on the session's connection: the values only need comparing, and ORM result
    processing made this the slowest part of the rule tests.
    """
    connection = session.connection()
    rows: Snapshot = {}
    for table in SQLModel.metadata.sorted_tables:
        order = ", ".join(f'"{name}"' for name in table.primary_key.columns.keys())
        result = connection.exec_driver_sql(f'SELECT * FROM "{table.name}" ORDER BY {order}')
        rows[table.name] = [tuple(row) for row in result]
    return rows


def assert_refused(session: Session, error: type[_E], action: Callable[[], object]) -> _E:
    """Run `action`, expect `error`, and check that no row anywhere changed."""
    before = snapshot(session)
    with pytest.raises(error) as caught:
        action()
    after = snapshot(session)
    changed = [name for name in before if before[name] != after[name]]
    assert not changed, f"a refused action changed {changed}"
    return caught.value


def count(session: Session, model: type[SQLModel], **where: Any) -> int:
    query = select(func.count()).select_from(model)
    for name, value in where.items():
        query = query.where(getattr(model, name) == value)
    return int(session.execute(query).scalar_one())


def journal_counts(session: Session, case_id: int) -> tuple[int, int]:
    """(audit events, outbox messages) of a case."""
    return count(session, AuditEvent, case_id=case_id), count(session, OutboxMessage, case_id=case_id)
