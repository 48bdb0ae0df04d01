"""Queries for the supervisor's audit: the approvals, closures and consents of a period as stored.

These read the tables directly, not through the case service, on purpose: the audit exists
to catch rows the service would never have written (a forged approval, an edited meeting).
Each query returns plain rows; judging them is `yorisoi.reports.audit`'s job.
"""

from __future__ import annotations

import datetime as dt
from typing import NamedTuple

import sqlalchemy as sa
from sqlalchemy.orm import aliased
from sqlmodel import Session, col

from models.case import Case
from models.closure import Closure, ClosureStatus
from models.consent import Consent
from models.meeting import Meeting
from models.plan import Plan
from models.staff import Staff, staff_label

MULTILAYER = "multilayer_meeting"  # states.stages.MeetingKind.MULTILAYER (models does not import states)


class PlanApproval(NamedTuple):
    plan_id: int
    case_number: str
    episode: int
    version: int
    drafted_on: dt.date
    author_id: int
    author: str | None
    approved_on: dt.date
    approver_id: int | None
    approver: str | None
    meeting_id: int | None
    meeting_case_number: str | None
    meeting_kind: str | None
    meeting_held_on: dt.date | None


class ClosureDecision(NamedTuple):
    closure_id: int
    case_number: str
    episode: int
    reason: str
    proposed_on: dt.date
    proposer_id: int
    proposer: str | None
    decided_on: dt.date
    decider_id: int | None
    decider: str | None
    last_meeting_id: int | None
    last_meeting_held_on: dt.date | None


class WithdrawnConsent(NamedTuple):
    consent_id: int
    case_number: str
    given_on: dt.date
    withdrawn_on: dt.date
    withdrawn_by: str | None


def plan_approvals(session: Session, start: dt.date, end: dt.date) -> list[PlanApproval]:
    """Every plan version approved in [start, end], with its author, approver and meeting."""
    author, approver = aliased(Staff), aliased(Staff)
    meeting_case = aliased(Case)
    query = (
        sa.select(
            col(Plan.id),
            col(Case.number),
            col(Plan.episode),
            col(Plan.version),
            col(Plan.drafted_on),
            col(Plan.author_id),
            staff_label(author),
            col(Plan.approved_on),
            col(Plan.approved_by),
            staff_label(approver),
            col(Plan.meeting_id),
            col(meeting_case.number),
            col(Meeting.kind),
            col(Meeting.held_on),
        )
        .join(Case, col(Case.id) == col(Plan.case_id))
        .outerjoin(author, col(author.id) == col(Plan.author_id))
        .outerjoin(approver, col(approver.id) == col(Plan.approved_by))
        .outerjoin(Meeting, col(Meeting.id) == col(Plan.meeting_id))
        .outerjoin(meeting_case, col(meeting_case.id) == col(Meeting.case_id))
        .where(col(Plan.approved_on) >= start, col(Plan.approved_on) <= end)
        .order_by(col(Plan.approved_on), col(Plan.id))
    )
    return [PlanApproval(*row) for row in session.execute(query)]


def closure_decisions(session: Session, start: dt.date, end: dt.date) -> list[ClosureDecision]:
    """Every approved closure decided in [start, end], with the case's last 重層的支援会議 by then."""
    proposer, decider = aliased(Staff), aliased(Staff)
    last_meeting = (
        sa.select(col(Meeting.id))
        .where(
            col(Meeting.case_id) == col(Closure.case_id),
            col(Meeting.kind) == MULTILAYER,
            col(Meeting.held_on) <= col(Closure.decided_on),
        )
        .order_by(col(Meeting.held_on).desc(), col(Meeting.id).desc())
        .limit(1)
        .correlate(Closure)
        .scalar_subquery()
    )
    held = aliased(Meeting)
    query = (
        sa.select(
            col(Closure.id),
            col(Case.number),
            col(Closure.episode),
            col(Closure.reason),
            col(Closure.proposed_on),
            col(Closure.proposed_by),
            staff_label(proposer),
            col(Closure.decided_on),
            col(Closure.decided_by),
            staff_label(decider),
            col(held.id),
            col(held.held_on),
        )
        .join(Case, col(Case.id) == col(Closure.case_id))
        .outerjoin(proposer, col(proposer.id) == col(Closure.proposed_by))
        .outerjoin(decider, col(decider.id) == col(Closure.decided_by))
        .outerjoin(held, col(held.id) == last_meeting)
        .where(
            col(Closure.status) == ClosureStatus.APPROVED,
            col(Closure.decided_on) >= start,
            col(Closure.decided_on) <= end,
        )
        .order_by(col(Closure.decided_on), col(Closure.id))
    )
    return [ClosureDecision(*row) for row in session.execute(query)]


def consents_withdrawn(session: Session, start: dt.date, end: dt.date) -> list[WithdrawnConsent]:
    """Consents withdrawn in [start, end]; one replaced by a newer consent that day is not a withdrawal."""
    newer = aliased(Consent)
    replaced = sa.exists().where(
        col(newer.case_id) == col(Consent.case_id),
        col(newer.id) > col(Consent.id),
        col(newer.given_on) == col(Consent.withdrawn_on),
    )
    by = aliased(Staff)
    query = (
        sa.select(
            col(Consent.id),
            col(Case.number),
            col(Consent.given_on),
            col(Consent.withdrawn_on),
            staff_label(by),
        )
        .join(Case, col(Case.id) == col(Consent.case_id))
        .outerjoin(by, col(by.id) == col(Consent.withdrawn_by))
        .where(col(Consent.withdrawn_on) >= start, col(Consent.withdrawn_on) <= end, ~replaced)
        .order_by(col(Consent.withdrawn_on), col(Consent.id))
    )
    return [WithdrawnConsent(*row) for row in session.execute(query)]
