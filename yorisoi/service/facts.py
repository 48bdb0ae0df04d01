"""The database's answers to the guards' questions, loaded only when a guard asks."""

from __future__ import annotations

import datetime as dt
from functools import cached_property

from sqlmodel import Session, col, select

from models import Agency, Closure, Consent, ConsentAgency, Meeting, Plan, RoleAssignment
from models.closure import ClosureStatus
from models.plan import PlanStatus
from states.guards import Actor, AgencyRef, ClosureFacts, ConsentFacts, MeetingFacts, PlanFacts
from yorisoi.jpdates import today_tokyo


class DbCaseFacts:
    """`states.guards.CaseFacts` answered from the open session, each query at most once."""

    def __init__(
        self, session: Session, *, case_id: int, episode: int, actor: Actor, today: dt.date | None
    ) -> None:
        self.session = session
        self.case_id = case_id
        self.episode = episode
        self.actor = actor
        self._today = today

    @property
    def today(self) -> dt.date:
        """The action's date; for an action without one, today in Tokyo, looked up on first use."""
        if self._today is None:
            self._today = today_tokyo()
        return self._today

    def active_consent(self) -> ConsentFacts | None:
        return self._active_consent

    @cached_property
    def _active_consent(self) -> ConsentFacts | None:
        consent = self.session.exec(
            select(Consent)
            .where(Consent.case_id == self.case_id, col(Consent.withdrawn_on).is_(None))
            .order_by(col(Consent.given_on).desc(), col(Consent.id).desc())
        ).first()
        if consent is None or consent.id is None:
            return None
        agencies = self.session.exec(
            select(Agency.id, Agency.name)
            .join(ConsentAgency, col(ConsentAgency.agency_id) == col(Agency.id))
            .where(ConsentAgency.consent_id == consent.id)
        ).all()
        return ConsentFacts(
            id=consent.id,
            given_on=consent.given_on,
            agencies=frozenset(AgencyRef(a_id, name) for a_id, name in agencies if a_id),
            withdrawn_on=consent.withdrawn_on,
        )

    def plan_awaiting_approval(self) -> PlanFacts | None:
        return self._plan

    @cached_property
    def _plan(self) -> PlanFacts | None:
        plan = self.session.exec(
            select(Plan)
            .where(
                Plan.case_id == self.case_id,
                Plan.episode == self.episode,
                Plan.status == PlanStatus.DRAFT,
            )
            .order_by(col(Plan.version).desc())
        ).first()
        if plan is None or plan.id is None:
            return None
        agencies = self.session.exec(
            select(Agency.id, Agency.name)
            .join(RoleAssignment, col(RoleAssignment.agency_id) == col(Agency.id))
            .where(RoleAssignment.plan_id == plan.id)
        ).all()
        return PlanFacts(
            id=plan.id,
            version=plan.version,
            author_id=plan.author_id,
            drafted_on=plan.drafted_on,
            agencies=frozenset(AgencyRef(a_id, name) for a_id, name in agencies if a_id),
        )

    def meeting(self, meeting_id: int) -> MeetingFacts | None:
        meeting = self.session.get(Meeting, meeting_id)
        if meeting is None or meeting.id is None:
            return None
        return MeetingFacts(meeting.id, meeting.case_id, meeting.kind, meeting.held_on)

    def pending_closure(self) -> ClosureFacts | None:
        return self._closure

    @cached_property
    def _closure(self) -> ClosureFacts | None:
        closure = self.session.exec(
            select(Closure).where(
                Closure.case_id == self.case_id,
                Closure.episode == self.episode,
                Closure.status == ClosureStatus.PROPOSED,
            )
        ).first()
        if closure is None or closure.id is None:
            return None
        return ClosureFacts(closure.id, closure.proposed_by)
