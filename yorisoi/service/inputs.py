"""What each action takes, validated before anything is written.

One Pydantic model per action; unknown fields are refused, so a typo never silently drops
data. `parse_input` turns a validation failure into an `InvalidInput` naming each field.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from models.case import ContactMethod, Referrer
from models.consent import ConsentMethod
from models.outreach import OutreachKind, Program
from yorisoi.errors import InvalidInput
from yorisoi.jpdates import today_tokyo


class _Input(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, frozen=True)


class ContactInput(_Input):
    """One consultation contact: 相談者区分, 相談方法, 相談内容 (several), 受付窓口."""

    contacted_on: dt.date = Field(default_factory=today_tokyo)
    referrer: Referrer
    method: ContactMethod
    topics: list[str] = Field(min_length=1)
    desk_id: int | None = None
    note: str = ""

    @field_validator("topics")
    @classmethod
    def _distinct(cls, topics: list[str]) -> list[str]:
        return list(dict.fromkeys(t.strip() for t in topics if t.strip()))


class PersonInput(_Input):
    name: str = Field(min_length=1, max_length=200)
    kana: str = ""
    birth_date: dt.date | None = None
    address: str = ""
    dv_protected: bool = False
    household_id: int | None = Field(
        default=None, description="Join an existing household instead of creating one."
    )


class OpenCaseInput(_Input):
    person: PersonInput
    contact: ContactInput
    coordinator_id: int | None = None


class AttendeeInput(_Input):
    name: str = Field(min_length=1, max_length=200)
    agency_id: int | None = None
    staff_id: int | None = None
    acknowledged_confidentiality: bool = False


class MeetingInput(_Input):
    held_on: dt.date = Field(default_factory=today_tokyo)
    title: str = ""
    decisions: str = ""
    attendees: list[AttendeeInput] = Field(default_factory=list)


class GoalInput(_Input):
    problem: str = ""
    goal: str = Field(min_length=1)


class RoleInput(_Input):
    agency_id: int
    role: str = Field(min_length=1)
    is_lead: bool = False


class ExternalPlanInput(_Input):
    kind: str = Field(min_length=1, description="ケアプラン, サービス等利用計画 …")
    agency_id: int | None = None
    note: str = ""


class PlanInput(_Input):
    drafted_on: dt.date = Field(default_factory=today_tokyo)
    household_goal: str = ""
    goals: list[GoalInput] = Field(default_factory=list)
    roles: list[RoleInput] = Field(default_factory=list)
    external_plans: list[ExternalPlanInput] = Field(default_factory=list)
    monitoring_interval_days: int | None = Field(default=None, ge=1, le=366)


class ApprovePlanInput(_Input):
    meeting_id: int | None = None
    approved_on: dt.date = Field(default_factory=today_tokyo)


class MonitoringInput(_Input):
    held_on: dt.date = Field(default_factory=today_tokyo)
    summary: str = Field(min_length=1)
    next_on: dt.date | None = None


class WithdrawConsentInput(_Input):
    withdrawn_on: dt.date = Field(default_factory=today_tokyo)


class ProposeClosureInput(_Input):
    proposed_on: dt.date = Field(default_factory=today_tokyo)
    reason: str = ""
    reason_text: str = ""
    evaluation: str = ""


class DecideClosureInput(_Input):
    decided_on: dt.date = Field(default_factory=today_tokyo)
    note: str = ""


class ReopenInput(_Input):
    contact: ContactInput


class NoteInput(_Input):
    note: str = ""


class ConsentInput(_Input):
    given_on: dt.date = Field(default_factory=today_tokyo)
    method: ConsentMethod = ConsentMethod.WRITTEN
    agency_ids: list[int] = Field(min_length=1)
    note: str = ""


class OutreachInput(_Input):
    kind: OutreachKind
    done_on: dt.date = Field(default_factory=today_tokyo)
    note: str = ""


class EnrolmentInput(_Input):
    provider_id: int
    start_on: dt.date
    end_on: dt.date


TRIGGER_INPUTS: dict[str, type[_Input]] = {
    "start_assessment": NoteInput,
    "hold_support_meeting": MeetingInput,
    "hold_multilayer_meeting": MeetingInput,
    "draft_plan": PlanInput,
    "revise_plan": PlanInput,
    "approve_plan": ApprovePlanInput,
    "record_monitoring": MonitoringInput,
    "withdraw_consent": WithdrawConsentInput,
    "propose_closure": ProposeClosureInput,
    "reject_closure": DecideClosureInput,
    "approve_closure": DecideClosureInput,
    "reopen": ReopenInput,
}

_T = TypeVar("_T", bound=_Input)

_FIELD_ERRORS_JA = {
    "missing": "必須です",
    "extra_forbidden": "不明な項目です",
    "enum": "選択肢にない値です",
    "too_short": "1件以上必要です",
    "string_too_short": "空にできません",
    "date_from_datetime_parsing": "日付（YYYY-MM-DD）で指定してください",
    "date_parsing": "日付（YYYY-MM-DD）で指定してください",
    "int_parsing": "整数で指定してください",
    "greater_than_equal": "小さすぎます",
    "less_than_equal": "大きすぎます",
}


def parse_input(model: type[_T], data: dict[str, Any], what: str) -> _T:
    """Validate `data` for action `what`; raise `InvalidInput` naming every bad field."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        ja, en = [], []
        for error in exc.errors():
            where = ".".join(str(part) for part in error["loc"]) or what
            ja.append(f"{where}: {_FIELD_ERRORS_JA.get(error['type'], error['msg'])}")
            en.append(f"{where}: {error['msg']}")
        raise InvalidInput(
            f"{what} の入力に誤りがあります — " + "; ".join(ja),
            f"invalid input for {what} — " + "; ".join(en),
        ) from None


__all__ = [
    "ApprovePlanInput",
    "AttendeeInput",
    "ConsentInput",
    "ContactInput",
    "DecideClosureInput",
    "EnrolmentInput",
    "ExternalPlanInput",
    "GoalInput",
    "MeetingInput",
    "MonitoringInput",
    "NoteInput",
    "OpenCaseInput",
    "OutreachInput",
    "PersonInput",
    "PlanInput",
    "Program",
    "ProposeClosureInput",
    "ReopenInput",
    "RoleInput",
    "TRIGGER_INPUTS",
    "WithdrawConsentInput",
    "parse_input",
]
