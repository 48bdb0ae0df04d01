"""What is coming due: set-based queries for the sweeps, one batch of plain tuples at a time.

Each query walks an index in (date, id) order and resumes after the last row of the previous
batch (keyset paging), so a batch costs the same whether it is the first or the hundredth,
and a sweep that stopped halfway picks up where it can without re-reading everything.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection
from typing import Any, NamedTuple

from sqlalchemy import ColumnElement, Select, Table, and_, func, or_, select
from sqlalchemy.orm import aliased
from sqlmodel import Session, col

from models.case import Case, monitoring_overdue
from models.consent import Consent
from models.outbox import OutboxMessage
from models.outreach import Program, ProgramEnrolment
from models.plan import Plan
from models.staff import Staff, staff_label

Cursor = tuple[dt.date, int]
"""Where a batch ended: the last row's date and id."""


class Coordinator(NamedTuple):
    login: str | None
    active: bool | None
    team: str | None


class MonitoringDue(NamedTuple):
    case_id: int
    number: str
    stage: str
    due_on: dt.date
    overdue: bool
    coordinator: Coordinator


class PlanReviewDue(NamedTuple):
    plan_id: int
    case_id: int
    number: str
    stage: str
    approved_on: dt.date
    version: int
    coordinator: Coordinator


class ConsentReviewDue(NamedTuple):
    consent_id: int
    case_id: int
    number: str
    stage: str
    given_on: dt.date
    coordinator: Coordinator


class ShortStayDue(NamedTuple):
    enrolment_id: int
    case_id: int
    number: str
    stage: str
    end_on: dt.date
    coordinator: Coordinator


class SupervisorRow(NamedTuple):
    login: str
    team: str | None


# Core tables: the sweeps read plain tuples, so there are no ORM entities to build.
_case: Table = Case.__table__  # type: ignore[attr-defined]
_plan: Table = Plan.__table__  # type: ignore[attr-defined]
_consent: Table = Consent.__table__  # type: ignore[attr-defined]
_enrolment: Table = ProgramEnrolment.__table__  # type: ignore[attr-defined]
_staff: Table = Staff.__table__  # type: ignore[attr-defined]
_outbox: Table = OutboxMessage.__table__  # type: ignore[attr-defined]
_coordinator = _staff.alias("coordinator")
_COORDINATOR_COLUMNS = (_coordinator.c.login, _coordinator.c.active, _coordinator.c.team)


def _page(
    query: Select[Any],
    date_column: ColumnElement[Any],
    id_column: ColumnElement[Any],
    after: Cursor | None,
    limit: int,
) -> Select[Any]:
    if after is not None:
        # The plain `>=` gives the index a lower bound; the OR only breaks ties within a date.
        query = query.where(
            date_column >= after[0],
            or_(date_column > after[0], and_(date_column == after[0], id_column > after[1])),
        )
    return query.order_by(date_column, id_column).limit(limit)


def _with_coordinator(query: Select[Any]) -> Select[Any]:
    return query.outerjoin(_coordinator, _coordinator.c.id == _case.c.coordinator_id)


def monitoring_due(
    session: Session, *, stages: Collection[str], until: dt.date, after: Cursor | None, limit: int
) -> list[MonitoringDue]:
    """Cases in `stages` whose next monitoring date is on or before `until` (overdue ones too)."""
    c = _case.c
    query = _with_coordinator(
        select(c.id, c.number, c.stage, c.next_monitoring_on, c.overdue, *_COORDINATOR_COLUMNS).where(
            c.next_monitoring_on <= until, c.stage.in_(stages)
        )
    )
    rows = session.execute(_page(query, c.next_monitoring_on, c.id, after, limit)).tuples()
    return [
        MonitoringDue(case_id, number, stage, due_on, bool(overdue), Coordinator(login, active, team))
        for case_id, number, stage, due_on, overdue, login, active, team in rows
    ]


def plans_for_review(
    session: Session, *, stages: Collection[str], approved_until: dt.date, after: Cursor | None, limit: int
) -> list[PlanReviewDue]:
    """Current approved plans of cases in `stages`, approved on or before `approved_until`."""
    p, c = _plan.c, _case.c
    query = _with_coordinator(
        select(p.id, p.case_id, c.number, c.stage, p.approved_on, p.version, *_COORDINATOR_COLUMNS)
        .join(_case, c.id == p.case_id)
        .where(
            p.status == "approved",
            p.approved_on <= approved_until,
            p.episode == c.episode,
            c.stage.in_(stages),
        )
    )
    rows = session.execute(_page(query, p.approved_on, p.id, after, limit)).tuples()
    return [
        PlanReviewDue(plan_id, case_id, number, stage, approved_on, version, Coordinator(*coordinator))
        for plan_id, case_id, number, stage, approved_on, version, *coordinator in rows
    ]


def consents_for_review(
    session: Session,
    *,
    final_stages: Collection[str],
    given_until: dt.date,
    after: Cursor | None,
    limit: int,
) -> list[ConsentReviewDue]:
    """Consents still in force, given on or before `given_until`, of cases not closed."""
    k, c = _consent.c, _case.c
    query = _with_coordinator(
        select(k.id, k.case_id, c.number, c.stage, k.given_on, *_COORDINATOR_COLUMNS)
        .join(_case, c.id == k.case_id)
        .where(k.withdrawn_on.is_(None), k.given_on <= given_until, c.stage.not_in(final_stages))
    )
    rows = session.execute(_page(query, k.given_on, k.id, after, limit)).tuples()
    return [
        ConsentReviewDue(consent_id, case_id, number, stage, given_on, Coordinator(*coordinator))
        for consent_id, case_id, number, stage, given_on, *coordinator in rows
    ]


def short_stays_ending(
    session: Session, *, end_until: dt.date, after: Cursor | None, limit: int
) -> list[ShortStayDue]:
    """短期宿泊 enrolments with no recorded exit that end on or before `end_until`."""
    e, c = _enrolment.c, _case.c
    query = _with_coordinator(
        select(e.id, e.case_id, c.number, c.stage, e.end_on, *_COORDINATOR_COLUMNS)
        .join(_case, c.id == e.case_id)
        .where(e.program == Program.SHORT_STAY.value, e.exited_on.is_(None), e.end_on <= end_until)
    )
    rows = session.execute(_page(query, e.end_on, e.id, after, limit)).tuples()
    return [
        ShortStayDue(enrolment_id, case_id, number, stage, end_on, Coordinator(*coordinator))
        for enrolment_id, case_id, number, stage, end_on, *coordinator in rows
    ]


def active_cases_by_stage(session: Session, *, final_stages: Collection[str]) -> dict[str, int]:
    """How many open cases each stage holds."""
    c = _case.c
    rows = session.execute(
        select(c.stage, func.count()).where(c.stage.not_in(final_stages)).group_by(c.stage)
    ).all()
    return {stage: int(count) for stage, count in rows}


class OverdueCase(NamedTuple):
    """A case 期限超過 (`models.case.monitoring_overdue`): its number, stage, monitoring date and
    coordinator — no name, no story."""

    number: str
    stage: str
    due_on: dt.date | None
    coordinator: str | None


def overdue_cases(session: Session, *, stages: Collection[str], on: dt.date) -> list[OverdueCase]:
    """The cases 期限超過 on `on`, longest overdue first."""
    c = _case.c
    coordinator = aliased(Staff)
    rows = session.execute(
        select(c.number, c.stage, c.next_monitoring_on, staff_label(coordinator))
        .outerjoin(coordinator, col(coordinator.id) == c.coordinator_id)
        .where(monitoring_overdue(on, stages))
        .order_by(c.next_monitoring_on, c.number)
    ).all()
    return [OverdueCase(*row) for row in rows]


def active_supervisors(session: Session) -> list[SupervisorRow]:
    """Active staff with the supervisor role (roles is a JSON list, and the table is small)."""
    s = _staff.c
    rows = session.execute(select(s.login, s.team, s.roles).where(s.active.is_(True)).order_by(s.login)).all()
    return [SupervisorRow(login, team) for login, team, roles in rows if "supervisor" in (roles or [])]


def existing_keys(session: Session, keys: Collection[str]) -> set[str]:
    """Which of `keys` are already in the outbox (a re-run queues only the others)."""
    if not keys:
        return set()
    key = _outbox.c.idempotency_key
    return set(session.execute(select(key).where(key.in_(list(keys)))).scalars())


__all__ = [
    "ConsentReviewDue",
    "Coordinator",
    "Cursor",
    "MonitoringDue",
    "OverdueCase",
    "PlanReviewDue",
    "ShortStayDue",
    "SupervisorRow",
    "active_cases_by_stage",
    "active_supervisors",
    "consents_for_review",
    "existing_keys",
    "monitoring_due",
    "overdue_cases",
    "plans_for_review",
    "short_stays_ending",
]
