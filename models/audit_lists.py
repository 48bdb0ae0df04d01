"""The audit page's lists that are not the period's approvals (`models.oversight`): the cases
期限超過 today and the access log (閲覧記録), each read one keyset page at a time.

Both can be huge — hundreds of thousands of overdue cases, millions of logged views — so
every query here is bounded by a `limit` and walks an index from a cursor
(`models.keyset`); the composite indexes are declared on the tables and built by migration
0005.
"""

from __future__ import annotations

import datetime as dt
import heapq
import itertools
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import aliased
from sqlmodel import Session, col

from models.access_log import RecordView
from models.case import Case, monitoring_overdue
from models.due import OverdueCase
from models.keyset import keyset
from models.staff import Staff, staff_label


def overdue_cases(
    session: Session,
    *,
    stages: Collection[str],
    on: dt.date,
    case_id: int | None = None,
    after: Sequence[Any] | None = None,
    limit: int | None = None,
) -> list[OverdueCase]:
    """The cases 期限超過 on `on` (`monitoring_overdue`, the one definition) in (next monitoring
    date, number) order — longest overdue first.

    One query per monitoring stage, each walking ix_case_stage_monitoring_on_number from the
    cursor (`stage = ?` and then the order the index keeps), merged here: `stage IN (…)` over
    two stages would make the database sort every overdue case before the LIMIT. A case in a
    monitoring stage always has its next monitoring date (the plan approval sets it, leaving
    the stage clears it), so requiring one drops nothing."""
    coordinator = aliased(Staff)
    per_stage = []
    for stage in sorted(set(stages)):
        query = (
            sa.select(
                col(Case.number), col(Case.stage), col(Case.next_monitoring_on), staff_label(coordinator)
            )
            .outerjoin(coordinator, col(coordinator.id) == col(Case.coordinator_id))
            .where(
                col(Case.stage) == stage,
                monitoring_overdue(on, [stage]),
                col(Case.next_monitoring_on).is_not(None),
            )
        )
        if case_id is not None:
            query = query.where(col(Case.id) == case_id)
        query = keyset(query, (col(Case.next_monitoring_on), col(Case.number)), after, limit)
        per_stage.append([OverdueCase(*row) for row in session.execute(query)])
    merged = heapq.merge(*per_stage, key=lambda row: (row.due_on, row.number))
    return list(merged if limit is None else itertools.islice(merged, limit))


@dataclass(frozen=True, slots=True)
class AccessLogFilter:
    """Which views to list: a period of days (`since`, `until`: UTC instants, `until`
    excluded), one case, one staff member, granted or refused (None: both)."""

    since: dt.datetime | None = None
    until: dt.datetime | None = None
    case_id: int | None = None
    staff_id: int | None = None
    granted: bool | None = None


@dataclass(frozen=True, slots=True)
class AccessLogRow:
    id: int
    viewed_at: dt.datetime
    case_number: str
    staff_login: str
    staff_name: str
    what: str
    channel: str
    granted: bool


def access_log(
    session: Session,
    where: AccessLogFilter,
    *,
    after: Sequence[Any] | None = None,
    limit: int | None = None,
) -> list[AccessLogRow]:
    """The access log newest first, in (viewed_at, id) order descending, filtered by `where`:
    the index that leads with the filter's equality column (case, staff or outcome) then
    gives the rows in order, so a page reads only its rows."""
    query = (
        sa.select(
            col(RecordView.id),
            col(RecordView.viewed_at),
            col(Case.number),
            col(Staff.login),
            col(Staff.name),
            col(RecordView.what),
            col(RecordView.channel),
            col(RecordView.granted),
        )
        .join(Case, col(Case.id) == col(RecordView.case_id))
        .join(Staff, col(Staff.id) == col(RecordView.staff_id))
    )
    if where.case_id is not None:
        query = query.where(col(RecordView.case_id) == where.case_id)
    if where.staff_id is not None:
        query = query.where(col(RecordView.staff_id) == where.staff_id)
    if where.granted is not None:
        query = query.where(col(RecordView.granted) == where.granted)  # "=": PostgreSQL indexes no IS
    query = keyset(
        query,
        (col(RecordView.viewed_at), col(RecordView.id)),
        after,
        limit,
        descending=True,
        low=where.since,
        high=where.until,
        high_open=True,
    )
    return [AccessLogRow(*row) for row in session.execute(query)]
