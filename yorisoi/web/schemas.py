"""The API's request and response bodies.

Request bodies are the case service's own input models, with ids and dates bounded to
values a database column can hold (an id past 2**31, or a date in year 9999 plus a
monitoring interval, would otherwise fail deep inside instead of as bad input). The
service validates them again; nothing here is a second set of rules.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from models.queries import CaseDetail
from yorisoi.service import inputs as i

Id = Annotated[int, Field(ge=1, le=2**31 - 1)]
Day = Annotated[dt.date, Field(ge=dt.date(1900, 1, 1), le=dt.date(2200, 12, 31))]
Version = Annotated[int, Field(ge=1, le=2**31 - 1, description="The case version the page showed.")]


def _today() -> dt.date:
    from yorisoi.jpdates import today_tokyo

    return today_tokyo()


class LoginIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    login: str = Field(min_length=1, max_length=64)
    password: str = Field(min_length=1, max_length=1024)


class Me(BaseModel):
    login: str
    name: str
    roles: list[str]
    team: str | None
    csrf_token: str = Field(description="Send it back as the X-CSRF-Token header on every change.")


class ContactIn(i.ContactInput):
    contacted_on: Day = Field(default_factory=_today)
    desk_id: Id | None = None


class PersonIn(i.PersonInput):
    birth_date: Day | None = None
    household_id: Id | None = None


class IntakeIn(i.OpenCaseInput):
    person: PersonIn
    contact: ContactIn
    coordinator_id: Id | None = None


class ConsentIn(i.ConsentInput):
    given_on: Day = Field(default_factory=_today)
    agency_ids: list[Id] = Field(min_length=1, max_length=100)


class AttendeeIn(i.AttendeeInput):
    agency_id: Id | None = None
    staff_id: Id | None = None


class MeetingData(i.MeetingInput):
    held_on: Day = Field(default_factory=_today)
    # Narrowing the item type of an inherited list field: sound for input models (never mutated).
    attendees: list[AttendeeIn] = Field(default_factory=list, max_length=100)  # type: ignore[assignment]


class MeetingIn(MeetingData):
    kind: Literal["support", "multilayer"]
    expected_version: Version | None = None


class RoleIn(i.RoleInput):
    agency_id: Id


class ExternalPlanIn(i.ExternalPlanInput):
    agency_id: Id | None = None


class PlanData(i.PlanInput):
    drafted_on: Day = Field(default_factory=_today)
    goals: list[i.GoalInput] = Field(default_factory=list, max_length=100)
    roles: list[RoleIn] = Field(default_factory=list, max_length=100)  # type: ignore[assignment]
    external_plans: list[ExternalPlanIn] = Field(default_factory=list, max_length=100)  # type: ignore[assignment]


class PlanIn(PlanData):
    expected_version: Version | None = None


class ApprovePlanData(i.ApprovePlanInput):
    meeting_id: Id | None = None
    approved_on: Day = Field(default_factory=_today)


class ApprovePlanIn(ApprovePlanData):
    expected_version: Version | None = None


class MonitoringData(i.MonitoringInput):
    held_on: Day = Field(default_factory=_today)
    next_on: Day | None = None


class MonitoringIn(MonitoringData):
    expected_version: Version | None = None


class WithdrawConsentData(i.WithdrawConsentInput):
    withdrawn_on: Day = Field(default_factory=_today)


class ClosureProposalData(i.ProposeClosureInput):
    proposed_on: Day = Field(default_factory=_today)


class ClosureProposalIn(ClosureProposalData):
    expected_version: Version | None = None


class ClosureDecisionData(i.DecideClosureInput):
    decided_on: Day = Field(default_factory=_today)


class ClosureDecisionIn(ClosureDecisionData):
    expected_version: Version | None = None


class ReopenData(i.ReopenInput):
    contact: ContactIn


# The bounded input of each trigger, for the generic action endpoint.
TRIGGER_DATA: dict[str, type[BaseModel]] = {
    **i.TRIGGER_INPUTS,
    "hold_support_meeting": MeetingData,
    "hold_multilayer_meeting": MeetingData,
    "draft_plan": PlanData,
    "revise_plan": PlanData,
    "approve_plan": ApprovePlanData,
    "record_monitoring": MonitoringData,
    "withdraw_consent": WithdrawConsentData,
    "propose_closure": ClosureProposalData,
    "reject_closure": ClosureDecisionData,
    "approve_closure": ClosureDecisionData,
    "reopen": ReopenData,
}


class ActionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    expected_version: Version | None = None
    data: dict[str, Any] = Field(default_factory=dict, description="The action's input, as for its form.")


class CaseOut(BaseModel):
    access: Literal["full", "meeting"] = Field(
        description="full: the whole record; meeting: the material of the meetings the viewer attended."
    )
    case: CaseDetail


class ReasonOut(BaseModel):
    guard: str
    message_ja: str
    message_en: str


class ActionOut(BaseModel):
    trigger: str
    ja: str
    en: str
    allowed: bool
    to_stage: str | None
    reasons: list[ReasonOut]


class ErrorOut(BaseModel):
    code: str
    message_ja: str
    message_en: str


ERRORS: dict[int | str, dict[str, Any]] = {
    status: {"model": ErrorOut, "description": text}
    for status, text in (
        (401, "Not signed in"),
        (403, "Permission, access or CSRF refusal"),
        (404, "Unknown case"),
        (409, "Version conflict"),
        (422, "Invalid input, action not allowed now, or a rule does not hold"),
    )
}
