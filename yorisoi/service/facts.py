"""The database's answers to the guards' questions, loaded only when a guard asks."""

from __future__ import annotations

import datetime as dt
from functools import cached_property
from typing import Any

from sqlalchemy import Table, bindparam, select
from sqlmodel import Session, col

from models import Agency, Closure, Consent, ConsentAgency, Meeting, Plan, RoleAssignment
from models.closure import ClosureStatus
from models.db import connection
from models.plan import PlanStatus, current_plan
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

    @today.setter
    def today(self, day: dt.date) -> None:
        self._today = day

    def active_consent(self) -> ConsentFacts | None:
        return self._active_consent

    @cached_property
    def _active_consent(self) -> ConsentFacts | None:
        row = connection(self.session).execute(_ACTIVE_CONSENT, {"case_id": self.case_id}).first()
        if row is None:
            return None
        consent_id, given_on, withdrawn_on = row
        return ConsentFacts(
            id=consent_id,
            given_on=given_on,
            agencies=_agencies(self._rows(_CONSENT_AGENCIES, consent_id=consent_id)),
            withdrawn_on=withdrawn_on,
        )

    def plan_awaiting_approval(self) -> PlanFacts | None:
        return self._plan

    @cached_property
    def _plan(self) -> PlanFacts | None:
        draft = current_plan(self.case_id, self.episode, PlanStatus.DRAFT)
        row = self.session.execute(
            draft.with_only_columns(
                col(Plan.id), col(Plan.version), col(Plan.author_id), col(Plan.drafted_on)
            )
        ).first()
        if row is None:
            return None
        plan_id, version, author_id, drafted_on = row
        return PlanFacts(
            id=plan_id,
            version=version,
            author_id=author_id,
            drafted_on=drafted_on,
            agencies=_agencies(self._rows(_PLAN_AGENCIES, plan_id=plan_id)),
        )

    def meeting(self, meeting_id: int) -> MeetingFacts | None:
        row = connection(self.session).execute(_MEETING, {"meeting_id": meeting_id}).first()
        return None if row is None else MeetingFacts(*row)

    def pending_closure(self) -> ClosureFacts | None:
        return self._closure

    @cached_property
    def _closure(self) -> ClosureFacts | None:
        row = (
            connection(self.session)
            .execute(
                _PENDING_CLOSURE,
                {"case_id": self.case_id, "episode": self.episode, "status": ClosureStatus.PROPOSED.value},
            )
            .first()
        )
        return None if row is None else ClosureFacts(*row)

    def _rows(self, statement: Any, **params: Any) -> list[tuple[Any, ...]]:
        return [tuple(row) for row in connection(self.session).execute(statement, params)]


def _agencies(rows: list[tuple[Any, ...]]) -> frozenset[AgencyRef]:
    return frozenset(AgencyRef(a_id, name) for a_id, name in rows if a_id)


# Guards run on every action: their statements are built once, with named parameters, so
# SQLAlchemy compiles each once and reuses it.
_consent: Table = Consent.__table__  # type: ignore[attr-defined]
_consent_agency: Table = ConsentAgency.__table__  # type: ignore[attr-defined]
_agency: Table = Agency.__table__  # type: ignore[attr-defined]
_role: Table = RoleAssignment.__table__  # type: ignore[attr-defined]
_meeting: Table = Meeting.__table__  # type: ignore[attr-defined]
_closure: Table = Closure.__table__  # type: ignore[attr-defined]

_ACTIVE_CONSENT = (
    select(_consent.c.id, _consent.c.given_on, _consent.c.withdrawn_on)
    .where(_consent.c.case_id == bindparam("case_id"), _consent.c.withdrawn_on.is_(None))
    .order_by(_consent.c.given_on.desc(), _consent.c.id.desc())
    .limit(1)
)
_CONSENT_AGENCIES = (
    select(_agency.c.id, _agency.c.name)
    .join(_consent_agency, _consent_agency.c.agency_id == _agency.c.id)
    .where(_consent_agency.c.consent_id == bindparam("consent_id"))
)
_PLAN_AGENCIES = (
    select(_agency.c.id, _agency.c.name)
    .join(_role, _role.c.agency_id == _agency.c.id)
    .where(_role.c.plan_id == bindparam("plan_id"))
)
_MEETING = select(_meeting.c.id, _meeting.c.case_id, _meeting.c.kind, _meeting.c.held_on).where(
    _meeting.c.id == bindparam("meeting_id")
)
_PENDING_CLOSURE = (
    select(_closure.c.id, _closure.c.proposed_by, _closure.c.proposed_on)
    .where(
        _closure.c.case_id == bindparam("case_id"),
        _closure.c.episode == bindparam("episode"),
        _closure.c.status == bindparam("status"),
    )
    .limit(1)
)
