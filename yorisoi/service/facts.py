"""The database's answers to the guards' questions, loaded only when a guard asks."""

from __future__ import annotations

import datetime as dt
from functools import cached_property
from typing import Any

from sqlalchemy import Table, bindparam, select
from sqlmodel import Session

from models import Agency, Closure, Consent, ConsentAgency, Meeting, Plan, RoleAssignment
from models.closure import ClosureStatus
from models.plan import PlanStatus
from states.guards import Actor, AgencyRef, ClosureFacts, ConsentFacts, MeetingFacts, PlanFacts
from yorisoi.jpdates import today_tokyo
from yorisoi.service.prepared import Prepared


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
        row = _ACTIVE_CONSENT.first(self.session, {"case_id": self.case_id})
        if row is None:
            return None
        consent_id, given_on, withdrawn_on = row
        return ConsentFacts(
            id=consent_id,
            given_on=given_on,
            agencies=_agencies(_CONSENT_AGENCIES.rows(self.session, {"consent_id": consent_id})),
            withdrawn_on=withdrawn_on,
        )

    def plan_awaiting_approval(self) -> PlanFacts | None:
        return self._plan

    @cached_property
    def _plan(self) -> PlanFacts | None:
        row = _DRAFT_PLAN.first(
            self.session, {"case_id": self.case_id, "episode": self.episode, "status": PlanStatus.DRAFT.value}
        )
        if row is None:
            return None
        plan_id, version, author_id, drafted_on = row
        return PlanFacts(
            id=plan_id,
            version=version,
            author_id=author_id,
            drafted_on=drafted_on,
            agencies=_agencies(_PLAN_AGENCIES.rows(self.session, {"plan_id": plan_id})),
        )

    def meeting(self, meeting_id: int) -> MeetingFacts | None:
        row = _MEETING.first(self.session, {"meeting_id": meeting_id})
        return None if row is None else MeetingFacts(*row)

    def pending_closure(self) -> ClosureFacts | None:
        return self._closure

    @cached_property
    def _closure(self) -> ClosureFacts | None:
        row = _PENDING_CLOSURE.first(
            self.session,
            {"case_id": self.case_id, "episode": self.episode, "status": ClosureStatus.PROPOSED.value},
        )
        return None if row is None else ClosureFacts(*row)


def _agencies(rows: list[tuple[Any, ...]]) -> frozenset[AgencyRef]:
    return frozenset(AgencyRef(a_id, name) for a_id, name in rows if a_id)


# Guards run on every action, so their queries are `Prepared` (compiled once per dialect).
_consent: Table = Consent.__table__  # type: ignore[attr-defined]
_consent_agency: Table = ConsentAgency.__table__  # type: ignore[attr-defined]
_agency: Table = Agency.__table__  # type: ignore[attr-defined]
_plan: Table = Plan.__table__  # type: ignore[attr-defined]
_role: Table = RoleAssignment.__table__  # type: ignore[attr-defined]
_meeting: Table = Meeting.__table__  # type: ignore[attr-defined]
_closure: Table = Closure.__table__  # type: ignore[attr-defined]


def _param(table: Table, column: str, name: str | None = None) -> Any:
    return bindparam(name or column, type_=table.c[column].type)


_ACTIVE_CONSENT = Prepared(
    select(_consent.c.id, _consent.c.given_on, _consent.c.withdrawn_on)
    .where(_consent.c.case_id == _param(_consent, "case_id"), _consent.c.withdrawn_on.is_(None))
    .order_by(_consent.c.given_on.desc(), _consent.c.id.desc())
    .limit(1)
)
_CONSENT_AGENCIES = Prepared(
    select(_agency.c.id, _agency.c.name)
    .join(_consent_agency, _consent_agency.c.agency_id == _agency.c.id)
    .where(_consent_agency.c.consent_id == _param(_consent_agency, "consent_id"))
)
_DRAFT_PLAN = Prepared(
    select(_plan.c.id, _plan.c.version, _plan.c.author_id, _plan.c.drafted_on)
    .where(
        _plan.c.case_id == _param(_plan, "case_id"),
        _plan.c.episode == _param(_plan, "episode"),
        _plan.c.status == _param(_plan, "status"),
    )
    .order_by(_plan.c.version.desc())
    .limit(1)
)
_PLAN_AGENCIES = Prepared(
    select(_agency.c.id, _agency.c.name)
    .join(_role, _role.c.agency_id == _agency.c.id)
    .where(_role.c.plan_id == _param(_role, "plan_id"))
)
_MEETING = Prepared(
    select(_meeting.c.id, _meeting.c.case_id, _meeting.c.kind, _meeting.c.held_on).where(
        _meeting.c.id == _param(_meeting, "id", "meeting_id")
    )
)
_PENDING_CLOSURE = Prepared(
    select(_closure.c.id, _closure.c.proposed_by, _closure.c.proposed_on)
    .where(
        _closure.c.case_id == _param(_closure, "case_id"),
        _closure.c.episode == _param(_closure, "episode"),
        _closure.c.status == _param(_closure, "status"),
    )
    .limit(1)
)
