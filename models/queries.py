"""Read-only queries for the entry points: case lists, one case's record, its timeline.

Nothing here writes. Commands, routes and reports read through these functions instead of
holding queries of their own. An address leaves this module only as
`Household.shown_address()`, so a DV-protected household's address cannot reach any screen.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func
from sqlalchemy import select as sa_select
from sqlalchemy.orm import aliased
from sqlmodel import Session, col, select

from models import (
    Agency,
    AuditEvent,
    Case,
    Closure,
    Consent,
    ConsentAgency,
    Contact,
    ContactTopic,
    ExternalPlanRef,
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
from models.case import monitoring_overdue
from models.person import MASKED_ADDRESS
from models.plan import PlanStatus, current_plan


@dataclass(frozen=True, slots=True)
class CaseRow:
    number: str
    stage: str
    episode: int
    coordinator_login: str | None
    coordinator_name: str | None
    desk: str | None
    opened_on: dt.date
    closed_on: dt.date | None
    next_monitoring_on: dt.date | None
    overdue: bool


def list_cases(
    session: Session,
    *,
    today: dt.date,
    monitoring_stages: Collection[str],
    stage: str | None = None,
    coordinator_id: int | None = None,
    fiscal_year: int | None = None,
    overdue_only: bool = False,
    limit: int | None = None,
) -> list[CaseRow]:
    """Cases in number order, each with whether it is 期限超過 (`models.case.monitoring_overdue`)."""
    late = monitoring_overdue(today, monitoring_stages)
    # Plain SQLAlchemy select: SQLModel's typed `select` stops at four columns.
    query = (
        sa_select(
            col(Case.number),
            col(Case.stage),
            col(Case.episode),
            col(Staff.login),
            col(Staff.name),
            col(Agency.name),
            col(Case.opened_on),
            col(Case.closed_on),
            col(Case.next_monitoring_on),
            late,
        )
        .outerjoin(Staff, col(Staff.id) == col(Case.coordinator_id))
        .outerjoin(Agency, col(Agency.id) == col(Case.desk_id))
        .order_by(col(Case.fiscal_year), col(Case.serial))
    )
    if stage is not None:
        query = query.where(col(Case.stage) == stage)
    if coordinator_id is not None:
        query = query.where(col(Case.coordinator_id) == coordinator_id)
    if fiscal_year is not None:
        query = query.where(col(Case.fiscal_year) == fiscal_year)
    if overdue_only:
        query = query.where(late)
    if limit is not None:
        query = query.limit(limit)
    return [
        CaseRow(number, stage_, episode, login, name, desk, opened, closed, next_on, bool(is_late))
        for number, stage_, episode, login, name, desk, opened, closed, next_on, is_late in session.execute(
            query
        )
    ]


@dataclass(frozen=True, slots=True)
class ContactView:
    contacted_on: dt.date
    desk: str | None
    referrer: str
    method: str
    topics: tuple[str, ...]
    staff: str | None
    note: str
    outreach_visit: bool = False
    """A 訪問 contact counted as the アウトリーチ home visit too."""


@dataclass(frozen=True, slots=True)
class ConsentView:
    given_on: dt.date
    method: str
    agencies: tuple[str, ...]
    withdrawn_on: dt.date | None
    note: str


@dataclass(frozen=True, slots=True)
class AttendeeView:
    name: str
    agency: str | None
    acknowledged_confidentiality: bool


@dataclass(frozen=True, slots=True)
class MeetingView:
    id: int
    kind: str
    held_on: dt.date
    title: str
    decisions: str
    attendees: tuple[AttendeeView, ...]


@dataclass(frozen=True, slots=True)
class RoleView:
    agency: str
    role: str
    is_lead: bool


@dataclass(frozen=True, slots=True)
class PlanView:
    episode: int
    version: int
    status: str
    author: str | None
    drafted_on: dt.date
    household_goal: str
    monitoring_interval_days: int
    approved_by: str | None
    approved_on: dt.date | None
    meeting_id: int | None
    goals: tuple[tuple[str, str], ...]
    roles: tuple[RoleView, ...]
    external_plans: tuple[tuple[str, str | None, str], ...]
    returned_by: str | None = None
    returned_on: dt.date | None = None
    return_reason: str = ""


@dataclass(frozen=True, slots=True)
class MonitoringView:
    held_on: dt.date
    summary: str
    next_on: dt.date
    by: str | None


@dataclass(frozen=True, slots=True)
class ClosureView:
    episode: int
    reason: str
    reason_text: str
    evaluation: str
    status: str
    proposed_by: str | None
    proposed_on: dt.date
    decided_by: str | None
    decided_on: dt.date | None
    decision_note: str


@dataclass(frozen=True, slots=True)
class OutreachView:
    kind: str
    done_on: dt.date
    staff: str | None
    note: str


@dataclass(frozen=True, slots=True)
class EnrolmentView:
    program: str
    provider: str
    start_on: dt.date
    end_on: dt.date
    id: int = 0
    exited_on: dt.date | None = None


@dataclass(frozen=True, slots=True)
class CaseDetail:
    id: int
    number: str
    stage: str
    episode: int
    version: int
    opened_on: dt.date
    closed_on: dt.date | None
    next_monitoring_on: dt.date | None
    overdue: bool
    coordinator: str | None
    desk: str | None
    person_name: str
    person_kana: str
    birth_date: dt.date | None
    address: str
    dv_protected: bool
    contacts: tuple[ContactView, ...]
    consents: tuple[ConsentView, ...]
    meetings: tuple[MeetingView, ...]
    plans: tuple[PlanView, ...]
    monitoring: tuple[MonitoringView, ...]
    closures: tuple[ClosureView, ...]
    outreach: tuple[OutreachView, ...]
    enrolments: tuple[EnrolmentView, ...]
    current_plans: dict[str, int] = field(default_factory=dict)
    """Status → version of the current plan with that status (`models.plan.current_plan`)."""
    lifecycle_version: int = 1
    external_ref: str | None = None
    """台帳番号: the municipality's own number for the case."""

    def current_plan(self, status: str) -> PlanView | None:
        """The plan awaiting approval (`draft`) or in force (`approved`) in this episode."""
        version = self.current_plans.get(status)
        return next((p for p in self.plans if p.version == version), None) if version else None


def case_detail(session: Session, case_id: int) -> CaseDetail | None:
    """Everything recorded about one case, oldest first; the address masked when DV-protected."""
    found = session.exec(
        select(Case, Person, Household)
        .join(Person, col(Person.id) == col(Case.person_id))
        .join(Household, col(Household.id) == col(Person.household_id))
        .where(Case.id == case_id)
    ).first()
    if found is None:
        return None
    case, person, household = found
    staff = _staff_names(session)
    agencies = _agency_names(session)
    return CaseDetail(
        id=case_id,
        number=case.number,
        stage=case.stage,
        episode=case.episode,
        version=case.version,
        opened_on=case.opened_on,
        closed_on=case.closed_on,
        next_monitoring_on=case.next_monitoring_on,
        overdue=case.overdue,
        coordinator=staff.get(case.coordinator_id) if case.coordinator_id else None,
        desk=agencies.get(case.desk_id) if case.desk_id else None,
        person_name=person.name,
        person_kana=person.kana,
        birth_date=person.birth_date,
        address=household.shown_address(),
        dv_protected=household.dv_protected,
        contacts=_contacts(session, case_id, staff, agencies),
        consents=_consents(session, case_id, agencies),
        meetings=_meetings(session, case_id, agencies),
        plans=_plans(session, case_id, staff, agencies),
        monitoring=tuple(
            MonitoringView(m.held_on, m.summary, m.next_on, staff.get(m.recorded_by))
            for m in session.exec(
                select(MonitoringRecord)
                .where(MonitoringRecord.case_id == case_id)
                .order_by(col(MonitoringRecord.held_on), col(MonitoringRecord.id))
            ).all()
        ),
        closures=tuple(
            ClosureView(
                c.episode,
                c.reason,
                c.reason_text,
                c.evaluation,
                c.status,
                staff.get(c.proposed_by),
                c.proposed_on,
                staff.get(c.decided_by) if c.decided_by else None,
                c.decided_on,
                c.decision_note,
            )
            for c in session.exec(select(Closure).where(Closure.case_id == case_id).order_by(col(Closure.id)))
        ),
        outreach=tuple(
            OutreachView(o.kind, o.done_on, staff.get(o.staff_id), o.note)
            for o in session.exec(
                select(OutreachActivity)
                .where(OutreachActivity.case_id == case_id)
                .order_by(col(OutreachActivity.done_on), col(OutreachActivity.id))
            )
        ),
        lifecycle_version=case.lifecycle_version,
        external_ref=case.external_ref,
        current_plans={
            status: plan.version
            for status in (PlanStatus.DRAFT, PlanStatus.APPROVED)
            if (plan := session.exec(current_plan(case_id, case.episode, status)).first()) is not None
        },
        enrolments=tuple(
            EnrolmentView(e.program, p.name, e.start_on, e.end_on, e.id or 0, e.exited_on)
            for e, p in session.exec(
                select(ProgramEnrolment, ProgramProvider)
                .join(ProgramProvider, col(ProgramProvider.id) == col(ProgramEnrolment.provider_id))
                .where(ProgramEnrolment.case_id == case_id)
                .order_by(col(ProgramEnrolment.start_on))
            )
        ),
    )


def _staff_names(session: Session) -> dict[int | None, str]:
    return dict(session.exec(select(Staff.id, Staff.name)).all())


def _agency_names(session: Session) -> dict[int | None, str]:
    return dict(session.exec(select(Agency.id, Agency.name)).all())


def _contacts(
    session: Session, case_id: int, staff: dict[int | None, str], agencies: dict[int | None, str]
) -> tuple[ContactView, ...]:
    rows = session.exec(
        select(Contact).where(Contact.case_id == case_id).order_by(col(Contact.contacted_on), col(Contact.id))
    ).all()
    topics: dict[int, list[str]] = {}
    for contact_id, topic in session.exec(
        select(ContactTopic.contact_id, ContactTopic.topic)
        .join(Contact, col(Contact.id) == col(ContactTopic.contact_id))
        .where(Contact.case_id == case_id)
    ):
        topics.setdefault(contact_id, []).append(topic)
    return tuple(
        ContactView(
            c.contacted_on,
            agencies.get(c.desk_id) if c.desk_id else None,
            c.referrer,
            c.method,
            tuple(sorted(topics.get(c.id or 0, []))),
            staff.get(c.staff_id) if c.staff_id else None,
            c.note,
            c.outreach_visit,
        )
        for c in rows
    )


def _consents(session: Session, case_id: int, agencies: dict[int | None, str]) -> tuple[ConsentView, ...]:
    consents = session.exec(
        select(Consent).where(Consent.case_id == case_id).order_by(col(Consent.given_on), col(Consent.id))
    ).all()
    scope: dict[int, list[str]] = {}
    for consent_id, agency_id in session.exec(
        select(ConsentAgency.consent_id, ConsentAgency.agency_id).where(
            col(ConsentAgency.consent_id).in_([c.id for c in consents])
        )
    ):
        scope.setdefault(consent_id, []).append(agencies.get(agency_id, str(agency_id)))
    return tuple(
        ConsentView(c.given_on, c.method, tuple(sorted(scope.get(c.id or 0, []))), c.withdrawn_on, c.note)
        for c in consents
    )


def _meetings(session: Session, case_id: int, agencies: dict[int | None, str]) -> tuple[MeetingView, ...]:
    meetings = session.exec(
        select(Meeting).where(Meeting.case_id == case_id).order_by(col(Meeting.held_on), col(Meeting.id))
    ).all()
    attendees: dict[int, list[AttendeeView]] = {}
    for a in session.exec(
        select(MeetingAttendee)
        .where(col(MeetingAttendee.meeting_id).in_([m.id for m in meetings]))
        .order_by(col(MeetingAttendee.id))
    ):
        attendees.setdefault(a.meeting_id, []).append(
            AttendeeView(
                a.name, agencies.get(a.agency_id) if a.agency_id else None, a.confidentiality_acknowledged
            )
        )
    return tuple(
        MeetingView(m.id or 0, m.kind, m.held_on, m.title, m.decisions, tuple(attendees.get(m.id or 0, [])))
        for m in meetings
    )


def _plans(
    session: Session, case_id: int, staff: dict[int | None, str], agencies: dict[int | None, str]
) -> tuple[PlanView, ...]:
    plans = session.exec(
        select(Plan).where(Plan.case_id == case_id).order_by(col(Plan.episode), col(Plan.version))
    ).all()
    ids = [p.id for p in plans]
    goals: dict[int, list[tuple[str, str]]] = {}
    for g in session.exec(select(PlanGoal).where(col(PlanGoal.plan_id).in_(ids)).order_by(col(PlanGoal.id))):
        goals.setdefault(g.plan_id, []).append((g.problem, g.goal))
    roles: dict[int, list[RoleView]] = {}
    for r in session.exec(
        select(RoleAssignment).where(col(RoleAssignment.plan_id).in_(ids)).order_by(col(RoleAssignment.id))
    ):
        roles.setdefault(r.plan_id, []).append(RoleView(agencies.get(r.agency_id, "?"), r.role, r.is_lead))
    refs: dict[int, list[tuple[str, str | None, str]]] = {}
    for e in session.exec(
        select(ExternalPlanRef).where(col(ExternalPlanRef.plan_id).in_(ids)).order_by(col(ExternalPlanRef.id))
    ):
        refs.setdefault(e.plan_id, []).append(
            (e.kind, agencies.get(e.agency_id) if e.agency_id else None, e.note)
        )
    return tuple(
        PlanView(
            p.episode,
            p.version,
            p.status,
            staff.get(p.author_id),
            p.drafted_on,
            p.household_goal,
            p.monitoring_interval_days,
            staff.get(p.approved_by) if p.approved_by else None,
            p.approved_on,
            p.meeting_id,
            tuple(goals.get(p.id or 0, [])),
            tuple(roles.get(p.id or 0, [])),
            tuple(refs.get(p.id or 0, [])),
            staff.get(p.returned_by) if p.returned_by else None,
            p.returned_on,
            p.return_reason,
        )
        for p in plans
    )


@dataclass(frozen=True, slots=True)
class TimelineEntry:
    seq: int
    episode: int
    action: str
    from_stage: str
    to_stage: str
    actor_login: str | None
    actor_name: str | None
    occurred_at: dt.datetime
    payload: dict[str, Any]
    business_date: dt.date | None = None
    """When what was recorded happened (the payload's `on`); `occurred_at` is when it was typed in."""
    note: str = ""
    """The memo typed with the action."""

    @property
    def late_entry(self) -> bool:
        """Added to a closed case without reopening it (後日入力)."""
        return self.payload.get("late_entry") is True

    @property
    def marks_ja(self) -> str:
        """`（後日入力・取込: 相談 12行目）`: how the record came in, when not typed at the time."""
        marks = ["後日入力"] if self.late_entry else []
        source = self.payload.get("import")
        if isinstance(source, dict):
            marks.append(f"取込: {source.get('sheet', '')} {source.get('row', '')}行目")
        return f"（{'・'.join(marks)}）" if marks else ""


def _business_date(payload: dict[str, Any]) -> dt.date | None:
    try:
        return dt.date.fromisoformat(str(payload["on"]))
    except (KeyError, ValueError):
        return None


def _masked(payload: dict[str, Any]) -> dict[str, Any]:
    """A correction's address change with both values masked (`models.person.MASKED_ADDRESS`)."""
    changes = payload.get("changes")
    if not isinstance(changes, dict) or "address" not in changes:
        return payload
    masked = {"before": MASKED_ADDRESS, "after": MASKED_ADDRESS}
    return {**payload, "changes": {**changes, "address": masked}}


def timeline(session: Session, case_id: int) -> list[TimelineEntry]:
    """The case's audit events in order, with who acted. Where the household is DV-protected
    now, addresses recorded in clear by corrections made before it was are masked too."""
    protected = bool(
        session.exec(
            select(Household.dv_protected)
            .join(Person, col(Person.household_id) == col(Household.id))
            .join(Case, col(Case.person_id) == col(Person.id))
            .where(Case.id == case_id)
        ).first()
    )
    actor = aliased(Staff)
    rows = session.exec(
        select(AuditEvent, actor.login, actor.name)
        .outerjoin(actor, col(actor.id) == col(AuditEvent.actor_id))
        .where(AuditEvent.case_id == case_id)
        .order_by(col(AuditEvent.seq))
    ).all()
    return [
        TimelineEntry(
            e.seq,
            e.episode,
            e.action,
            e.from_stage,
            e.to_stage,
            login,
            name,
            e.occurred_at,
            _masked(dict(e.payload)) if protected else dict(e.payload),
            _business_date(e.payload),
            str(e.payload.get("note", "")),
        )
        for e, login, name in rows
    ]


def event_payload(session: Session, case_id: int, seq: int) -> dict[str, Any]:
    """What one audit event recorded (e.g. the meeting or plan an action created)."""
    payload = session.exec(
        select(AuditEvent.payload).where(AuditEvent.case_id == case_id, AuditEvent.seq == seq)
    ).first()
    return dict(payload or {})


def household_id_of_case(session: Session, case_id: int) -> int | None:
    return session.exec(
        select(Person.household_id)
        .join(Case, col(Case.person_id) == col(Person.id))
        .where(Case.id == case_id)
    ).first()


@dataclass(frozen=True, slots=True)
class StaffRow:
    login: str
    name: str
    roles: tuple[str, ...]
    agency: str | None
    team: str | None
    active: bool


def staff_logins(session: Session) -> dict[int | None, str]:
    return dict(session.exec(select(Staff.id, Staff.login)).all())


def list_staff(session: Session) -> list[StaffRow]:
    rows = session.exec(
        select(Staff, Agency.name)
        .outerjoin(Agency, col(Agency.id) == col(Staff.agency_id))
        .order_by(col(Staff.login))
    ).all()
    return [StaffRow(s.login, s.name, tuple(s.roles), agency, s.team, s.active) for s, agency in rows]


@dataclass(frozen=True, slots=True)
class AgencyRow:
    id: int
    name: str
    field: str
    is_desk: bool


def list_agencies(session: Session) -> list[AgencyRow]:
    rows = session.exec(select(Agency).order_by(col(Agency.is_desk).desc(), col(Agency.id))).all()
    return [AgencyRow(a.id or 0, a.name, a.field, a.is_desk) for a in rows]


@dataclass(frozen=True, slots=True)
class ProviderRow:
    id: int
    name: str
    program: str
    registered_on: dt.date


def list_providers(session: Session, *, name: str | None = None) -> list[ProviderRow]:
    query = select(ProgramProvider).order_by(col(ProgramProvider.id))
    if name is not None:
        query = query.where(ProgramProvider.name == name)
    return [ProviderRow(p.id or 0, p.name, p.program, p.registered_on) for p in session.exec(query)]


def count_cases(session: Session) -> int:
    return int(session.exec(select(func.count()).select_from(Case)).one())


def stage_counts(session: Session) -> dict[str, int]:
    """How many cases are in each stage (stages with no case are absent)."""
    rows = session.exec(select(Case.stage, func.count()).group_by(col(Case.stage))).all()
    return {stage: int(n) for stage, n in rows}


def action_counts(session: Session) -> dict[str, int]:
    """How often each action was taken, from the audit trail (e.g. `hold_support_meeting`)."""
    rows = session.exec(select(AuditEvent.action, func.count()).group_by(col(AuditEvent.action))).all()
    return {action: int(n) for action, n in rows}


@dataclass(frozen=True, slots=True)
class RecordCounts:
    cases: int
    contacts: int
    contact_topics: int
    cases_with_approved_plan: int
    dv_protected_households: int


def record_counts(session: Session) -> RecordCounts:
    """相談実件数 (cases), 相談延件数 (contacts), 相談内容 total, plans, DV-protected households."""

    def count(query: Any) -> int:
        return int(session.exec(query).one())

    return RecordCounts(
        cases=count_cases(session),
        contacts=count(select(func.count()).select_from(Contact)),
        contact_topics=count(select(func.count()).select_from(ContactTopic)),
        cases_with_approved_plan=count(
            select(func.count(func.distinct(Plan.case_id))).where(col(Plan.approved_on).is_not(None))
        ),
        dv_protected_households=count(
            select(func.count()).select_from(Household).where(col(Household.dv_protected))
        ),
    )
