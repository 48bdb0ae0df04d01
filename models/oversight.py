"""Queries for the supervisor's audit: the approvals, closures and consents of a period as stored.

These read the tables directly, not through the case service, on purpose: the audit exists
to catch rows the service would never have written (a forged approval, an edited meeting).
Each query returns plain rows; judging them is `yorisoi.reports.audit`'s job.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any, NamedTuple

import sqlalchemy as sa
from sqlalchemy.orm import aliased
from sqlmodel import Session, col

from models.case import Case
from models.closure import Closure, ClosureStatus
from models.consent import Consent
from models.keyset import keyset
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


def plan_approvals(
    session: Session,
    start: dt.date,
    end: dt.date,
    *,
    case_id: int | None = None,
    violations: bool = False,
    after: Sequence[Any] | None = None,
    limit: int | None = None,
) -> list[PlanApproval]:
    """Every plan version approved in [start, end], with its author, approver and meeting, in
    (approved_on, id) order: all of them, or a page (`after` the key of the previous page's last
    row, `limit` rows), of one case, or (`violations`) only those the audit has findings on —
    the same conditions `yorisoi.reports.audit.plan_findings` words, so a page of findings
    reads only the rows it shows."""
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
    )
    if case_id is not None:
        query = query.where(col(Plan.case_id) == case_id)
    if violations:
        query = query.where(
            sa.or_(
                col(Plan.approved_by).is_(None),
                col(Plan.approved_by) == col(Plan.author_id),
                col(Plan.meeting_id).is_(None),
                col(Meeting.id).is_(None),
                col(Meeting.kind) != MULTILAYER,
                col(Meeting.case_id) != col(Plan.case_id),
                col(Meeting.held_on) < col(Plan.drafted_on),
                col(Meeting.held_on) > col(Plan.approved_on),
            )
        )
    query = keyset(query, (col(Plan.approved_on), col(Plan.id)), after, limit, low=start, high=end)
    return [PlanApproval(*row) for row in session.execute(query)]


def closure_decisions(
    session: Session,
    start: dt.date,
    end: dt.date,
    *,
    case_id: int | None = None,
    violations: bool = False,
    after: Sequence[Any] | None = None,
    limit: int | None = None,
) -> list[ClosureDecision]:
    """Every approved closure decided in [start, end], with the case's last 重層的支援会議 by then,
    in (decided_on, id) order; paged, of one case, or only those with findings as
    `plan_approvals` (the conditions of `yorisoi.reports.audit.closure_findings`)."""
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
        )
    )
    if case_id is not None:
        query = query.where(col(Closure.case_id) == case_id)
    if violations:
        query = query.where(
            sa.or_(
                col(Closure.decided_by).is_(None),
                col(Closure.decided_by) == col(Closure.proposed_by),
                col(Closure.decided_on) < col(Closure.proposed_on),
            )
        )
    query = keyset(query, (col(Closure.decided_on), col(Closure.id)), after, limit, low=start, high=end)
    return [ClosureDecision(*row) for row in session.execute(query)]


def consents_withdrawn(
    session: Session,
    start: dt.date,
    end: dt.date,
    *,
    case_id: int | None = None,
    after: Sequence[Any] | None = None,
    limit: int | None = None,
) -> list[WithdrawnConsent]:
    """Consents withdrawn in [start, end], in (withdrawn_on, id) order, all or paged as
    `plan_approvals`; one replaced by a newer consent that day is not a withdrawal."""
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
        .where(~replaced)
    )
    if case_id is not None:
        query = query.where(col(Consent.case_id) == case_id)
    query = keyset(query, (col(Consent.withdrawn_on), col(Consent.id)), after, limit, low=start, high=end)
    return [WithdrawnConsent(*row) for row in session.execute(query)]
