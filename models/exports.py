"""Read-only queries for `yorisoi export`: the records of a period, sheet by sheet, as plain rows.

Each function yields one tuple per record, oldest first, with names instead of ids (a desk's
name, a staff member's login) so the workbook can be imported into another database. A
DV-protected household's address never leaves this module: it is given as "" (the flag says
why). `Period(None, None)` is every record.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Collection, Iterator
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, col

from models import (
    Agency,
    AuditEvent,
    Case,
    Closure,
    Consent,
    ConsentAgency,
    Contact,
    ContactTopic,
    Household,
    Meeting,
    MeetingAttendee,
    MonitoringRecord,
    OutreachActivity,
    Person,
    Plan,
    PlanGoal,
    ProgramEnrolment,
    ProgramProvider,
    RoleAssignment,
    Staff,
)
from models.closure import ClosureStatus


@dataclass(frozen=True, slots=True)
class Window:
    """The days whose records are exported, both ends included; None: no bound."""

    start: dt.date | None = None
    end: dt.date | None = None

    def holds(self, column: Any) -> sa.ColumnElement[bool]:
        parts = [sa.true()]
        if self.start is not None:
            parts.append(column >= self.start)
        if self.end is not None:
            parts.append(column <= self.end)
        return sa.and_(*parts)


def _names(session: Session, model: Any) -> dict[int, str]:
    return {int(i): str(n) for i, n in session.execute(sa.select(col(model.id), col(model.name)))}


def _logins(session: Session) -> dict[int, str]:
    return {int(i): str(n) for i, n in session.execute(sa.select(col(Staff.id), col(Staff.login)))}


def _ref(case_id: int, refs: dict[int, str]) -> str:
    return refs[case_id]


def case_refs(session: Session) -> dict[int, str]:
    """Every case's 台帳番号: its own, or its case number where it has none."""
    rows = session.execute(sa.select(col(Case.id), col(Case.external_ref), col(Case.number)))
    return {int(case_id): str(ref or number) for case_id, ref, number in rows}


def agencies(session: Session) -> Iterator[tuple[Any, ...]]:
    query = sa.select(col(Agency.name), col(Agency.field), col(Agency.is_desk)).order_by(col(Agency.id))
    yield from (tuple(r) for r in session.execute(query))


def providers(session: Session) -> Iterator[tuple[Any, ...]]:
    query = sa.select(
        col(ProgramProvider.name), col(ProgramProvider.program), col(ProgramProvider.registered_on)
    ).order_by(col(ProgramProvider.id))
    yield from (tuple(r) for r in session.execute(query))


def staff(session: Session) -> Iterator[tuple[Any, ...]]:
    query = sa.select(col(Staff.login), col(Staff.name), col(Staff.roles)).order_by(col(Staff.id))
    yield from (tuple(r) for r in session.execute(query))


def cases(session: Session, case_ids: Collection[int], refs: dict[int, str]) -> Iterator[tuple[Any, ...]]:
    """(ref, name, kana, birth date, address or "" if DV-protected, DV flag, household or None,
    desk name, coordinator login) of each case in `case_ids`."""
    per_household = sa.select(col(Person.household_id), sa.func.count()).group_by(col(Person.household_id))
    members: dict[int, int] = {int(household): int(n) for household, n in session.execute(per_household)}
    desks, logins = _names(session, Agency), _logins(session)
    query = (
        sa.select(
            col(Case.id),
            col(Person.name),
            col(Person.kana),
            col(Person.birth_date),
            col(Household.id),
            col(Household.address),
            col(Household.dv_protected),
            col(Case.desk_id),
            col(Case.coordinator_id),
        )
        .join(Person, col(Person.id) == col(Case.person_id))
        .join(Household, col(Household.id) == col(Person.household_id))
        .order_by(col(Case.opened_on), col(Case.id))
    )
    wanted = set(case_ids)
    for case_id, name, kana, born, household, address, dv, desk, coordinator in session.execute(query):
        if case_id not in wanted:
            continue
        yield (
            refs[case_id],
            name,
            kana,
            born,
            "" if dv else address,
            bool(dv),
            f"世帯{household}" if members.get(household, 0) > 1 else None,
            desks.get(desk) if desk else None,
            logins.get(coordinator) if coordinator else None,
        )


def contacts(
    session: Session, window: Window, refs: dict[int, str], reopen_actions: Collection[str]
) -> Iterator[tuple[Any, ...]]:
    """(case id, ref, day, desk, referrer, method, topics, outreach visit, reopening, recorded by, note)."""
    reopened = set()
    if reopen_actions:
        query = sa.select(col(AuditEvent.payload)).where(col(AuditEvent.action).in_(list(reopen_actions)))
        reopened = {p.get("contact_id") for (p,) in session.execute(query) if isinstance(p, dict)}
    topics: dict[int, list[str]] = defaultdict(list)
    topic_query = (
        sa.select(col(ContactTopic.contact_id), col(ContactTopic.topic))
        .join(Contact, col(Contact.id) == col(ContactTopic.contact_id))
        .where(window.holds(col(Contact.contacted_on)))
    )
    for contact_id, topic in session.execute(topic_query):
        topics[contact_id].append(topic)
    desks, logins = _names(session, Agency), _logins(session)
    query = (
        sa.select(Contact)
        .where(window.holds(col(Contact.contacted_on)))
        .order_by(col(Contact.contacted_on), col(Contact.id))
    )
    for (c,) in session.execute(query):
        yield (
            c.case_id,
            refs[c.case_id],
            c.contacted_on,
            desks.get(c.desk_id) if c.desk_id else None,
            c.referrer,
            c.method,
            topics.get(c.id, []),
            c.outreach_visit,
            c.id in reopened,
            logins.get(c.staff_id) if c.staff_id else None,
            c.note,
        )


def consents(session: Session, window: Window, refs: dict[int, str]) -> Iterator[tuple[Any, ...]]:
    """(case id, ref, day, method, agency names, recorded by, note)."""
    scope: dict[int, list[str]] = defaultdict(list)
    names = _names(session, Agency)
    for consent_id, agency_id in session.execute(
        sa.select(col(ConsentAgency.consent_id), col(ConsentAgency.agency_id)).order_by(
            col(ConsentAgency.agency_id)
        )
    ):
        scope[consent_id].append(names[agency_id])
    logins = _logins(session)
    query = (
        sa.select(Consent)
        .where(window.holds(col(Consent.given_on)))
        .order_by(col(Consent.given_on), col(Consent.id))
    )
    for (c,) in session.execute(query):
        yield (
            c.case_id,
            refs[c.case_id],
            c.given_on,
            c.method,
            scope.get(c.id, []),
            logins.get(c.recorded_by),
            c.note,
        )


def meetings(session: Session, window: Window, refs: dict[int, str]) -> Iterator[tuple[Any, ...]]:
    """(case id, ref, day, kind, title, attending agencies, all acknowledged 守秘義務, decisions,
    recorded by)."""
    names = _names(session, Agency)
    attending: dict[int, list[str]] = defaultdict(list)
    acknowledged: dict[int, bool] = {}
    for meeting_id, agency_id, ack in session.execute(
        sa.select(
            col(MeetingAttendee.meeting_id),
            col(MeetingAttendee.agency_id),
            col(MeetingAttendee.confidentiality_acknowledged),
        ).order_by(col(MeetingAttendee.id))
    ):
        if agency_id is not None and names[agency_id] not in attending[meeting_id]:
            attending[meeting_id].append(names[agency_id])
        acknowledged[meeting_id] = acknowledged.get(meeting_id, True) and bool(ack)
    logins = _logins(session)
    query = (
        sa.select(Meeting)
        .where(window.holds(col(Meeting.held_on)))
        .order_by(col(Meeting.held_on), col(Meeting.id))
    )
    for (m,) in session.execute(query):
        yield (
            m.case_id,
            refs[m.case_id],
            m.held_on,
            m.kind,
            m.title,
            attending.get(m.id, []),
            acknowledged.get(m.id, False),
            m.decisions,
            logins.get(m.recorded_by),
        )


def plans(session: Session, window: Window, refs: dict[int, str]) -> Iterator[tuple[Any, ...]]:
    """Approved plans: (case id, ref, drafted, approved, deciding meeting's day, household goal,
    (problem, goal) pairs, (agency, role) pairs, lead agency, interval, author, approver)."""
    names, logins = _names(session, Agency), _logins(session)
    held: dict[int, dt.date] = {
        int(i): d for i, d in session.execute(sa.select(col(Meeting.id), col(Meeting.held_on)))
    }
    query = (
        sa.select(Plan)
        .where(col(Plan.approved_on).is_not(None), window.holds(col(Plan.approved_on)))
        .order_by(col(Plan.approved_on), col(Plan.id))
    )
    found = [p for (p,) in session.execute(query)]
    ids = [p.id for p in found]
    goals: dict[int, list[tuple[str, str]]] = defaultdict(list)
    for g in session.execute(
        sa.select(PlanGoal).where(col(PlanGoal.plan_id).in_(ids)).order_by(col(PlanGoal.id))
    ).scalars():
        goals[g.plan_id].append((g.problem, g.goal))
    roles: dict[int, list[tuple[str, str]]] = defaultdict(list)
    leads: dict[int, str] = {}
    for r in session.execute(
        sa.select(RoleAssignment).where(col(RoleAssignment.plan_id).in_(ids)).order_by(col(RoleAssignment.id))
    ).scalars():
        roles[r.plan_id].append((names[r.agency_id], r.role))
        if r.is_lead:
            leads[r.plan_id] = names[r.agency_id]
    for p in found:
        yield (
            p.case_id,
            refs[p.case_id],
            p.drafted_on,
            p.approved_on,
            held.get(p.meeting_id) if p.meeting_id else None,
            p.household_goal,
            goals.get(p.id or 0, []),
            roles.get(p.id or 0, []),
            leads.get(p.id or 0),
            p.monitoring_interval_days,
            logins.get(p.author_id),
            logins.get(p.approved_by) if p.approved_by else None,
        )


def monitoring(session: Session, window: Window, refs: dict[int, str]) -> Iterator[tuple[Any, ...]]:
    logins = _logins(session)
    query = (
        sa.select(MonitoringRecord)
        .where(window.holds(col(MonitoringRecord.held_on)))
        .order_by(col(MonitoringRecord.held_on), col(MonitoringRecord.id))
    )
    for (m,) in session.execute(query):
        yield (m.case_id, refs[m.case_id], m.held_on, m.summary, m.next_on, logins.get(m.recorded_by))


def outreach(session: Session, window: Window, refs: dict[int, str]) -> Iterator[tuple[Any, ...]]:
    logins = _logins(session)
    query = (
        sa.select(OutreachActivity)
        .where(col(OutreachActivity.case_id).is_not(None), window.holds(col(OutreachActivity.done_on)))
        .order_by(col(OutreachActivity.done_on), col(OutreachActivity.id))
    )
    for (o,) in session.execute(query):
        assert o.case_id is not None
        yield (o.case_id, refs[o.case_id], o.done_on, o.kind, logins.get(o.staff_id), o.note)


def enrolments(session: Session, window: Window, refs: dict[int, str]) -> Iterator[tuple[Any, ...]]:
    names = _names(session, ProgramProvider)
    query = (
        sa.select(ProgramEnrolment)
        .where(window.holds(col(ProgramEnrolment.start_on)))
        .order_by(col(ProgramEnrolment.start_on), col(ProgramEnrolment.id))
    )
    for (e,) in session.execute(query):
        yield (e.case_id, refs[e.case_id], names[e.provider_id], e.start_on, e.end_on, e.exited_on)


def closures(session: Session, window: Window, refs: dict[int, str]) -> Iterator[tuple[Any, ...]]:
    logins = _logins(session)
    query = (
        sa.select(Closure)
        .where(col(Closure.status) == ClosureStatus.APPROVED, window.holds(col(Closure.decided_on)))
        .order_by(col(Closure.decided_on), col(Closure.id))
    )
    for (c,) in session.execute(query):
        yield (
            c.case_id,
            refs[c.case_id],
            c.decided_on,
            c.proposed_on,
            c.reason,
            c.reason_text,
            c.evaluation,
            logins.get(c.proposed_by),
            logins.get(c.decided_by) if c.decided_by else None,
        )
