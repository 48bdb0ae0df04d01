"""年度 statistics, aggregated in SQL: each query returns a few grouped rows, never the records.

Every figure belongs to a `Period`: a 年度 (April 1 – March 31) cut at its 基準日 (as-of
date). A record counts when its own business date — not the time it was typed in — falls in
the period: `contact.contacted_on`, `meeting.held_on`, `plan.approved_on`,
`closure.decided_on`, `outreach_activity.done_on` (and `contact.contacted_on` for a 訪問
contact that is also the home visit), `program_enrolment.start_on`,
`program_provider.registered_on`. Periods are plain date ranges (`BETWEEN`), so the same SQL
runs on SQLite and PostgreSQL with no date functions of either dialect.

Desks: consultation figures follow the desk that took each contact (`contact.desk_id`);
everything recorded on the case (meetings, plans, closures, outreach, enrolments) follows the
case's intake desk (`case.desk_id`). Provider registrations belong to no desk.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any, NamedTuple

import sqlalchemy as sa
from sqlalchemy.orm import aliased
from sqlmodel import Session, col

from models.audit import AuditEvent
from models.auth import DirectoryEvent
from models.case import Case, Contact, ContactTopic
from models.closure import Closure, ClosureStatus
from models.meeting import Meeting
from models.outreach import OutreachActivity, ProgramEnrolment, ProgramProvider
from models.plan import MonitoringRecord, Plan
from models.staff import Agency


@dataclass(frozen=True, slots=True)
class Period:
    """The days a statistic counts, both ends included; empty when `end < start`."""

    start: dt.date
    end: dt.date

    @classmethod
    def fiscal_year(cls, fy: int, as_of: dt.date | None = None) -> Period:
        """年度 `fy` (the Western year it starts in), cut at the 基準日 `as_of` if earlier."""
        end = dt.date(fy + 1, 3, 31)
        return cls(dt.date(fy, 4, 1), end if as_of is None else min(end, as_of))

    def holds(self, column: Any) -> sa.ColumnElement[bool]:
        return sa.and_(column >= self.start, column <= self.end)


class ContactGroup(NamedTuple):
    """Contacts of one desk with one 相談者区分 and one 相談方法."""

    desk_id: int | None
    referrer: str
    method: str
    contacts: int


class DeskCases(NamedTuple):
    """相談実件数 of a desk: cases with at least one contact there in the period."""

    desk_id: int | None
    cases: int


class TopicGroup(NamedTuple):
    desk_id: int | None
    topic: str
    mentions: int


class KindCount(NamedTuple):
    """A count per kind (meeting kind, closure reason, outreach kind …)."""

    kind: str
    total: int


class PlanCounts(NamedTuple):
    approved: int
    new: int


class ProgramCounts(NamedTuple):
    """参加支援 per programme: 延人数 (enrolments) and 実人数 (distinct cases)."""

    program: str
    enrolments: int
    persons: int


def _contact_filter(period: Period, desk_id: int | None) -> list[sa.ColumnElement[bool]]:
    where = [period.holds(col(Contact.contacted_on))]
    if desk_id is not None:
        where.append(col(Contact.desk_id) == desk_id)
    return where


def _case_desk(query: sa.Select[Any], case_id: Any, desk_id: int | None) -> sa.Select[Any]:
    """Restrict a query over a case-linked table to cases taken in at `desk_id`."""
    if desk_id is None:
        return query
    return query.join(Case, col(Case.id) == case_id).where(col(Case.desk_id) == desk_id)


def contact_groups(session: Session, period: Period, desk_id: int | None = None) -> list[ContactGroup]:
    """相談延件数 by desk × 相談者区分 × 相談方法 (the caller sums the margins).

    Grouped by day first: the day-by-day groups come straight out of the date-leading
    covering index in order (no sort), so only their far fewer rows are sorted for the
    final grouping — about twice as fast on SQLite for a large 年度.
    """
    by_day = (
        sa.select(
            col(Contact.desk_id).label("desk_id"),
            col(Contact.referrer).label("referrer"),
            col(Contact.method).label("method"),
            sa.func.count().label("n"),
        )
        .where(*_contact_filter(period, desk_id))
        .group_by(col(Contact.contacted_on), col(Contact.desk_id), col(Contact.referrer), col(Contact.method))
        .subquery()
    )
    query = sa.select(by_day.c.desk_id, by_day.c.referrer, by_day.c.method, sa.func.sum(by_day.c.n)).group_by(
        by_day.c.desk_id, by_day.c.referrer, by_day.c.method
    )
    return [ContactGroup(row[0], row[1], row[2], int(row[3])) for row in session.execute(query)]


def desk_cases(session: Session, period: Period, desk_id: int | None = None) -> list[DeskCases]:
    """相談実件数 per desk (a case seen at two desks counts at both)."""
    query = (
        sa.select(col(Contact.desk_id), sa.func.count(sa.distinct(col(Contact.case_id))))
        .where(*_contact_filter(period, desk_id))
        .group_by(col(Contact.desk_id))
    )
    return [DeskCases(*row) for row in session.execute(query)]


def total_cases(session: Session, period: Period, desk_id: int | None = None) -> int:
    """相談実件数: distinct cases with a contact in the period."""
    query = sa.select(sa.func.count(sa.distinct(col(Contact.case_id)))).where(
        *_contact_filter(period, desk_id)
    )
    return int(session.execute(query).scalar_one())


def topic_groups(session: Session, period: Period, desk_id: int | None = None) -> list[TopicGroup]:
    """相談内容 mentions by desk × topic; a contact with three topics counts three times.

    Grouped by day first, for the reason given in `contact_groups`.
    """
    by_day = (
        sa.select(
            col(Contact.desk_id).label("desk_id"),
            col(ContactTopic.topic).label("topic"),
            sa.func.count().label("n"),
        )
        .join(ContactTopic, col(ContactTopic.contact_id) == col(Contact.id))
        .where(*_contact_filter(period, desk_id))
        .group_by(col(Contact.contacted_on), col(Contact.desk_id), col(ContactTopic.topic))
        .subquery()
    )
    query = sa.select(by_day.c.desk_id, by_day.c.topic, sa.func.sum(by_day.c.n)).group_by(
        by_day.c.desk_id, by_day.c.topic
    )
    return [TopicGroup(row[0], row[1], int(row[2])) for row in session.execute(query)]


def meetings_held(session: Session, period: Period, desk_id: int | None = None) -> list[KindCount]:
    """支援会議 and 重層的支援会議 held (`meeting.held_on`), per kind."""
    query = (
        sa.select(col(Meeting.kind), sa.func.count())
        .select_from(Meeting)
        .where(period.holds(col(Meeting.held_on)))
    )
    query = _case_desk(query, col(Meeting.case_id), desk_id).group_by(col(Meeting.kind))
    return [KindCount(*row) for row in session.execute(query)]


def plans_approved(session: Session, period: Period, desk_id: int | None = None) -> PlanCounts:
    """Plan approvals (`plan.approved_on`): all of them, and those that were a case's first.

    A plan is new when no earlier version of the same case and episode was ever approved;
    the others are revisions (見直し). Superseded versions keep their approval date, so a
    revised plan still counts in the 年度 it was approved.
    """
    earlier = aliased(Plan)
    first = ~sa.exists().where(
        col(earlier.case_id) == col(Plan.case_id),
        col(earlier.episode) == col(Plan.episode),
        col(earlier.version) < col(Plan.version),
        col(earlier.approved_on).is_not(None),
    )
    query = (
        sa.select(sa.func.count(), sa.func.coalesce(sa.func.sum(sa.case((first, 1), else_=0)), 0))
        .select_from(Plan)
        .where(period.holds(col(Plan.approved_on)))
    )
    row = session.execute(_case_desk(query, col(Plan.case_id), desk_id)).one()
    return PlanCounts(int(row[0]), int(row[1]))


def closures_approved(session: Session, period: Period, desk_id: int | None = None) -> list[KindCount]:
    """終結 approved (`closure.decided_on`), per reason."""
    query = (
        sa.select(col(Closure.reason), sa.func.count())
        .select_from(Closure)
        .where(col(Closure.status) == ClosureStatus.APPROVED, period.holds(col(Closure.decided_on)))
    )
    query = _case_desk(query, col(Closure.case_id), desk_id).group_by(col(Closure.reason))
    return [KindCount(*row) for row in session.execute(query)]


def multi_agency_cases(session: Session, period: Period, desk_id: int | None = None) -> int:
    """多機関協働（調整）: cases the agencies worked on together in the period.

    A case counts once when, within the period, it had a 支援会議 or 重層的支援会議
    (`meeting.held_on`), a support plan drafted or approved (`plan.drafted_on`,
    `plan.approved_on`), or a monitoring review (`monitoring_record.held_on`). These are the
    records of coordination that carry a business date; the start of an assessment is
    recorded only with the moment it was typed in, so it cannot be placed in a 年度.
    """
    parts: list[sa.Select[Any]] = [
        sa.select(col(Meeting.case_id).label("case_id")).where(period.holds(col(Meeting.held_on))),
        sa.select(col(Plan.case_id).label("case_id")).where(period.holds(col(Plan.drafted_on))),
        sa.select(col(Plan.case_id).label("case_id")).where(period.holds(col(Plan.approved_on))),
        sa.select(col(MonitoringRecord.case_id).label("case_id")).where(
            period.holds(col(MonitoringRecord.held_on))
        ),
    ]
    coordinated = sa.union(*parts).subquery()
    query = sa.select(sa.func.count()).select_from(coordinated)
    if desk_id is not None:
        query = query.join(Case, col(Case.id) == coordinated.c.case_id).where(col(Case.desk_id) == desk_id)
    return int(session.execute(query).scalar_one())


def outreach_done(session: Session, period: Period, desk_id: int | None = None) -> list[KindCount]:
    """アウトリーチ: home visits and attendance at local meetings (`outreach_activity.done_on`)."""
    query = (
        sa.select(col(OutreachActivity.kind), sa.func.count())
        .select_from(OutreachActivity)
        .where(period.holds(col(OutreachActivity.done_on)))
    )
    query = _case_desk(query, col(OutreachActivity.case_id), desk_id).group_by(col(OutreachActivity.kind))
    return [KindCount(*row) for row in session.execute(query)]


def outreach_visit_contacts(session: Session, period: Period, desk_id: int | None = None) -> int:
    """訪問 contacts recorded as the アウトリーチ home visit too (`contact.outreach_visit`): they
    count among the home visits, following the case's intake desk like the rest of outreach."""
    query = (
        sa.select(sa.func.count())
        .select_from(Contact)
        .where(col(Contact.outreach_visit) == sa.true(), period.holds(col(Contact.contacted_on)))
    )
    return int(session.execute(_case_desk(query, col(Contact.case_id), desk_id)).scalar_one())


def program_enrolments(session: Session, period: Period, desk_id: int | None = None) -> list[ProgramCounts]:
    """参加支援 延人数: enrolments that started in the period; 実人数: the distinct cases."""
    query = (
        sa.select(
            col(ProgramEnrolment.program),
            sa.func.count(),
            sa.func.count(sa.distinct(col(ProgramEnrolment.case_id))),
        )
        .select_from(ProgramEnrolment)
        .where(period.holds(col(ProgramEnrolment.start_on)))
    )
    query = _case_desk(query, col(ProgramEnrolment.case_id), desk_id).group_by(col(ProgramEnrolment.program))
    return [ProgramCounts(*row) for row in session.execute(query)]


def desks(session: Session) -> list[tuple[int, str]]:
    """The 受付窓口 (id, name), in the order they were registered."""
    query = sa.select(col(Agency.id), col(Agency.name)).where(col(Agency.is_desk)).order_by(col(Agency.id))
    return [(int(row[0]), str(row[1])) for row in session.execute(query)]


def provider_registrations(session: Session, period: Period) -> list[KindCount]:
    """New registered providers (`program_provider.registered_on`), per programme."""
    query = (
        sa.select(col(ProgramProvider.program), sa.func.count())
        .where(period.holds(col(ProgramProvider.registered_on)))
        .group_by(col(ProgramProvider.program))
    )
    return [KindCount(*row) for row in session.execute(query)]


def figures_version(session: Session) -> tuple[object, ...]:
    """What every figure here was computed from, in two index lookups: the newest audit event
    (every case write leaves one — intake, actions, corrections, late entries, imports — and its
    hash differs even where a restored database reuses an id) and the newest directory change
    (desks, providers). Equal versions mean equal figures, so a cache may answer for them."""
    newest_event = session.execute(
        sa.select(col(AuditEvent.id), col(AuditEvent.hash)).order_by(col(AuditEvent.id).desc()).limit(1)
    ).first()
    newest_change = session.execute(sa.select(sa.func.max(DirectoryEvent.id))).scalar_one()
    return (tuple(newest_event) if newest_event else None, newest_change)
