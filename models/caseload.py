"""Read queries for the web app: what a viewer may see, their caseload, the approvals inbox.

Nothing here writes and nothing here decides: `yorisoi.service.access` holds the rules,
these functions only fetch the facts it judges (`CaseAccessFacts`) and apply the filter it
returns (`ListScope`).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select as sa_select
from sqlalchemy.orm import aliased
from sqlmodel import Session, col, select

from models import (
    Agency,
    Case,
    Closure,
    Household,
    Meeting,
    MeetingAttendee,
    Person,
    Plan,
    Staff,
)
from models.closure import ClosureStatus
from models.plan import PlanStatus


@dataclass(frozen=True, slots=True)
class AttendedMeeting:
    meeting_id: int
    kind: str
    acknowledged_confidentiality: bool


@dataclass(frozen=True, slots=True)
class CaseAccessFacts:
    """What the access policy needs to know about one case, relative to one viewer."""

    case_id: int
    coordinator_id: int | None
    coordinator_team: str | None
    attended: tuple[AttendedMeeting, ...] = ()


@dataclass(frozen=True, slots=True)
class ListScope:
    """The cases a viewer's lists may show, as the policy decided it, in filterable terms.

    A case matches when any given criterion holds; `everything` matches all cases. Meetings
    of a kind in `confidential_kinds` count for `attendee_staff_id` only where the attendee
    acknowledged confidentiality.
    """

    everything: bool = False
    coordinator_id: int | None = None
    team: str | None = None
    attendee_staff_id: int | None = None
    confidential_kinds: tuple[str, ...] = ()


def access_facts(session: Session, case_id: int, viewer_id: int) -> CaseAccessFacts | None:
    """The facts `access_to` judges for one case and viewer; None for an unknown case."""
    coordinator = aliased(Staff)
    row = session.execute(
        sa_select(col(Case.id), col(Case.coordinator_id), col(coordinator.team))
        .outerjoin(coordinator, col(coordinator.id) == col(Case.coordinator_id))
        .where(col(Case.id) == case_id)
    ).first()
    if row is None:
        return None
    attended = session.exec(
        select(Meeting.id, Meeting.kind, MeetingAttendee.confidentiality_acknowledged)
        .join(MeetingAttendee, col(MeetingAttendee.meeting_id) == col(Meeting.id))
        .where(Meeting.case_id == case_id, MeetingAttendee.staff_id == viewer_id)
        .order_by(col(Meeting.id))
    ).all()
    return CaseAccessFacts(
        case_id=row[0],
        coordinator_id=row[1],
        coordinator_team=row[2],
        attended=tuple(AttendedMeeting(m_id or 0, kind, bool(ack)) for m_id, kind, ack in attended),
    )


def household_case_ids(session: Session, household_id: int) -> list[int]:
    """The cases of everyone in the household (none for an unknown household)."""
    rows = session.execute(
        sa_select(col(Case.id))
        .join(Person, col(Person.id) == col(Case.person_id))
        .where(col(Person.household_id) == household_id)
        .order_by(col(Case.id))
    ).scalars()
    return list(rows)


@dataclass(frozen=True, slots=True)
class AwaitingApproval:
    """A plan or closure proposal a supervisor may decide."""

    kind: str  # "plan" | "closure"
    case_id: int
    number: str
    stage: str
    person_name: str
    proposed_by: str | None
    proposed_on: dt.date
    detail: str  # plan version, or the closure reason code
    dv: bool = False
    """The household is under DV等支援措置 (the page shows the badge by the name)."""


def awaiting_approval(session: Session, *, excluding_staff_id: int) -> list[AwaitingApproval]:
    """Draft plans and proposed closures, except those `excluding_staff_id` wrote (二者確認)."""
    author = aliased(Staff)
    plans = session.execute(
        sa_select(
            col(Case.id),
            col(Case.number),
            col(Case.stage),
            col(Person.name),
            col(author.name),
            col(Plan.drafted_on),
            col(Plan.version),
            col(Household.dv_protected),
        )
        .join(Case, col(Case.id) == col(Plan.case_id))
        .join(Person, col(Person.id) == col(Case.person_id))
        .join(Household, col(Household.id) == col(Person.household_id))
        .outerjoin(author, col(author.id) == col(Plan.author_id))
        .where(
            col(Plan.status) == PlanStatus.DRAFT,
            col(Plan.episode) == col(Case.episode),
            col(Plan.author_id) != excluding_staff_id,
        )
        .order_by(col(Plan.drafted_on), col(Plan.id))
    ).all()
    closures = session.execute(
        sa_select(
            col(Case.id),
            col(Case.number),
            col(Case.stage),
            col(Person.name),
            col(author.name),
            col(Closure.proposed_on),
            col(Closure.reason),
            col(Household.dv_protected),
        )
        .join(Case, col(Case.id) == col(Closure.case_id))
        .join(Person, col(Person.id) == col(Case.person_id))
        .join(Household, col(Household.id) == col(Person.household_id))
        .outerjoin(author, col(author.id) == col(Closure.proposed_by))
        .where(
            col(Closure.status) == ClosureStatus.PROPOSED,
            col(Closure.episode) == col(Case.episode),
            col(Closure.proposed_by) != excluding_staff_id,
        )
        .order_by(col(Closure.proposed_on), col(Closure.id))
    ).all()

    def item(kind: str, row: Any, detail: str) -> AwaitingApproval:
        case_id, number, stage, person, by, on = row[:6]
        return AwaitingApproval(kind, case_id, number, stage, person, by, on, detail, bool(row[7]))

    return [item("plan", row, f"第{row[6]}版") for row in plans] + [
        item("closure", row, str(row[6])) for row in closures
    ]


@dataclass(frozen=True, slots=True)
class MeetingOption:
    id: int
    kind: str
    held_on: dt.date
    title: str


def meetings_of_kind(session: Session, case_id: int, kind: str) -> list[MeetingOption]:
    """The case's meetings of `kind`, newest first (a plan is approved at a 重層的支援会議)."""
    rows = session.exec(
        select(Meeting)
        .where(Meeting.case_id == case_id, Meeting.kind == kind)
        .order_by(col(Meeting.held_on).desc(), col(Meeting.id).desc())
    ).all()
    return [MeetingOption(m.id or 0, m.kind, m.held_on, m.title) for m in rows]


@dataclass(frozen=True, slots=True)
class StaffOption:
    id: int
    login: str
    name: str
    agency_id: int | None
    agency: str | None


def staff_options(session: Session) -> list[StaffOption]:
    """Active staff, for choosing meeting attendees."""
    rows = session.exec(
        select(Staff, Agency.name)
        .outerjoin(Agency, col(Agency.id) == col(Staff.agency_id))
        .where(col(Staff.active))
        .order_by(col(Staff.id))
    ).all()
    return [StaffOption(s.id or 0, s.login, s.name, s.agency_id, agency) for s, agency in rows]


def staff_by_id(session: Session, staff_id: int) -> Staff | None:
    return session.get(Staff, staff_id)


def staff_by_login(session: Session, login: str) -> Staff | None:
    return session.exec(select(Staff).where(Staff.login == login)).first()
