"""Guards: the rules a transition must satisfy, as pure functions.

A guard looks at `CaseFacts` (what the database knows about the case, loaded lazily by the
case service) and at the data of the action being taken, and returns `None` when the rule
holds or a `Refusal` saying, in Japanese and English, why it does not. Lifecycle files name
guards by their key in `GUARDS`; `@guard` declares each with what it requires, in Japanese.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from states.dates import western_date
from states.stages import ClosureReason, MeetingKind


@dataclass(frozen=True, slots=True)
class Refusal:
    guard: str
    ja: str
    en: str


@dataclass(frozen=True, slots=True)
class Actor:
    id: int
    roles: frozenset[str]


@dataclass(frozen=True, slots=True)
class AgencyRef:
    id: int
    name: str


@dataclass(frozen=True, slots=True)
class Attendee:
    """One person at a meeting, from an agency (or the municipality itself)."""

    name: str
    agency: AgencyRef | None = None
    acknowledged_confidentiality: bool = False


@dataclass(frozen=True, slots=True)
class ConsentFacts:
    id: int
    given_on: dt.date
    agencies: frozenset[AgencyRef]
    withdrawn_on: dt.date | None = None

    def is_active(self, on: dt.date) -> bool:
        return self.given_on <= on and (self.withdrawn_on is None or self.withdrawn_on > on)


@dataclass(frozen=True, slots=True)
class PlanFacts:
    id: int
    version: int
    author_id: int
    drafted_on: dt.date
    agencies: frozenset[AgencyRef] = field(default_factory=frozenset)


@dataclass(frozen=True, slots=True)
class MeetingFacts:
    id: int
    case_id: int
    kind: str
    held_on: dt.date


@dataclass(frozen=True, slots=True)
class ClosureFacts:
    id: int
    proposed_by: int
    proposed_on: dt.date


class CaseFacts(Protocol):
    """What guards may ask about a case; the case service answers from the database."""

    case_id: int
    actor: Actor
    today: dt.date

    def active_consent(self) -> ConsentFacts | None: ...
    def plan_awaiting_approval(self) -> PlanFacts | None: ...
    def meeting(self, meeting_id: int) -> MeetingFacts | None: ...
    def pending_closure(self) -> ClosureFacts | None: ...


Guard = Callable[[CaseFacts, Mapping[str, Any]], Refusal | None]


@dataclass(frozen=True, slots=True)
class GuardDef:
    """A guard as lifecycle files name it: the check and what it requires, in Japanese."""

    name: str
    check: Guard
    requirement_ja: str
    input_only: bool
    """It judges only what the person is about to type (attendees' 守秘義務, the closure
    reason), not the case: the preview of a case's actions leaves it to the form."""

    def __call__(self, facts: CaseFacts, data: Mapping[str, Any]) -> Refusal | None:
        return self.check(facts, data)


GUARDS: dict[str, GuardDef] = {}
"""Every guard by the name lifecycle files use, filled by `@guard` below."""


def guard(requirement_ja: str, *, input_only: bool = False) -> Callable[[Guard], Guard]:
    def register(check: Guard) -> Guard:
        name = check.__name__
        GUARDS[name] = GuardDef(name, check, requirement_ja, input_only)
        return check

    return register


def _names(agencies: Iterable[AgencyRef]) -> str:
    return "、".join(sorted(a.name for a in agencies))


def _uncovered(consent: ConsentFacts, agencies: Iterable[AgencyRef]) -> set[AgencyRef]:
    covered = {a.id for a in consent.agencies}
    return {a for a in agencies if a.id not in covered}


def _consent_on(facts: CaseFacts, on: dt.date) -> ConsentFacts | None:
    consent = facts.active_consent()
    return consent if consent is not None and consent.is_active(on) else None


def _no_consent(guard: str) -> Refusal:
    return Refusal(
        guard,
        "有効な本人同意がありません（重層的支援会議・支援プランには本人同意が必要です）。",
        "There is no valid consent from the person (required for a multi-layered support "
        "meeting and a plan).",
    )


def _scope_refusal(guard: str, missing: set[AgencyRef]) -> Refusal:
    return Refusal(
        guard,
        f"本人同意の範囲に含まれない機関があります: {_names(missing)}",
        f"The consent does not cover these agencies: {_names(missing)}",
    )


@guard("本人同意がないこと（あれば重層的支援会議へ）")
def no_valid_consent(facts: CaseFacts, data: Mapping[str, Any]) -> Refusal | None:
    held_on: dt.date = data.get("held_on", facts.today)
    if _consent_on(facts, held_on) is None:
        return None
    return Refusal(
        "no_valid_consent",
        "本人同意が得られています。支援会議ではなく重層的支援会議を開催してください。",
        "Consent is on record: hold a multi-layered support meeting instead.",
    )


@guard("出席者全員が守秘義務を確認していること", input_only=True)
def attendees_bound_to_confidentiality(facts: CaseFacts, data: Mapping[str, Any]) -> Refusal | None:
    attendees: list[Attendee] = list(data.get("attendees", []))
    if not attendees:
        return Refusal(
            "attendees_bound_to_confidentiality",
            "支援会議の出席者が登録されていません。",
            "A support meeting needs at least one attendee.",
        )
    missing = [a.name for a in attendees if not a.acknowledged_confidentiality]
    if not missing:
        return None
    who = "、".join(missing)
    return Refusal(
        "attendees_bound_to_confidentiality",
        f"守秘義務（法第106条の6）の確認が済んでいない出席者がいます: {who}",
        f"These attendees have not acknowledged the duty of confidentiality: {who}",
    )


@guard("出席する機関が本人同意の範囲内であること")
def consent_covers_attendees(facts: CaseFacts, data: Mapping[str, Any]) -> Refusal | None:
    held_on: dt.date = data.get("held_on", facts.today)
    consent = _consent_on(facts, held_on)
    if consent is None:
        return _no_consent("consent_covers_attendees")
    attendees: list[Attendee] = list(data.get("attendees", []))
    missing = _uncovered(consent, (a.agency for a in attendees if a.agency is not None))
    return _scope_refusal("consent_covers_attendees", missing) if missing else None


@guard("会議の出席者が記録されていること", input_only=True)
def meeting_has_attendees(facts: CaseFacts, data: Mapping[str, Any]) -> Refusal | None:
    """A meeting nobody attended decides nothing (and its consent scope check would be empty)."""
    if list(data.get("attendees", [])):
        return None
    return Refusal(
        "meeting_has_attendees",
        "会議の出席者が登録されていません。",
        "A meeting needs at least one attendee.",
    )


@guard("プランの機関が本人同意の範囲内であること")
def consent_covers_plan_agencies(facts: CaseFacts, data: Mapping[str, Any]) -> Refusal | None:
    consent = _consent_on(facts, facts.today)
    if consent is None:
        return _no_consent("consent_covers_plan_agencies")
    agencies: list[AgencyRef] = list(data.get("agencies", []))
    missing = _uncovered(consent, agencies)
    return _scope_refusal("consent_covers_plan_agencies", missing) if missing else None


@guard("承認するプランの機関が本人同意の範囲内であること")
def consent_covers_current_plan(facts: CaseFacts, data: Mapping[str, Any]) -> Refusal | None:
    consent = _consent_on(facts, facts.today)
    if consent is None:
        return _no_consent("consent_covers_current_plan")
    plan = facts.plan_awaiting_approval()
    missing = _uncovered(consent, plan.agencies) if plan else set()
    return _scope_refusal("consent_covers_current_plan", missing) if missing else None


@guard("有効な本人同意があること")
def has_active_consent(facts: CaseFacts, data: Mapping[str, Any]) -> Refusal | None:
    if facts.active_consent() is not None:
        return None
    return Refusal(
        "has_active_consent",
        "撤回できる本人同意がありません。",
        "There is no active consent to withdraw.",
    )


@guard("承認待ちのプランがあること")
def plan_drafted(facts: CaseFacts, data: Mapping[str, Any]) -> Refusal | None:
    if facts.plan_awaiting_approval() is not None:
        return None
    return Refusal(
        "plan_drafted",
        "承認待ちの支援プランがありません。",
        "There is no plan awaiting approval.",
    )


@guard("承認者がプランの作成者でないこと（二者確認）")
def approver_is_not_plan_author(facts: CaseFacts, data: Mapping[str, Any]) -> Refusal | None:
    plan = facts.plan_awaiting_approval()
    if plan is None or plan.author_id != facts.actor.id:
        return None
    return Refusal(
        "approver_is_not_plan_author",
        "支援プランの作成者は自分のプランを承認できません（二者確認）。",
        "The author of a plan cannot approve it (four-eyes rule).",
    )


@guard("プランを決定した重層的支援会議が記録されていること")
def plan_decided_at_meeting(facts: CaseFacts, data: Mapping[str, Any]) -> Refusal | None:
    meeting_id: int | None = data.get("meeting_id")
    meeting = facts.meeting(meeting_id) if meeting_id is not None else None
    plan = facts.plan_awaiting_approval()
    if meeting_id is None:
        return Refusal(
            "plan_decided_at_meeting",
            "支援プランを決定した重層的支援会議を指定してください。",
            "Name the multi-layered support meeting that decided the plan.",
        )
    if meeting is None or meeting.case_id != facts.case_id:
        return Refusal(
            "plan_decided_at_meeting",
            f"会議 {meeting_id} はこのケースの会議ではありません。",
            f"Meeting {meeting_id} is not a meeting of this case.",
        )
    if meeting.kind != MeetingKind.MULTILAYER:
        return Refusal(
            "plan_decided_at_meeting",
            "支援プランは重層的支援会議で決定する必要があります（支援会議では決定できません）。",
            "A plan must be decided at a multi-layered support meeting, not a support meeting.",
        )
    if plan is not None and meeting.held_on < plan.drafted_on:
        return Refusal(
            "plan_decided_at_meeting",
            f"会議（{western_date(meeting.held_on)}）はプラン第{plan.version}版の作成"
            f"（{western_date(plan.drafted_on)}）より前です。",
            f"The meeting ({meeting.held_on}) was held before plan version {plan.version} "
            f"was drafted ({plan.drafted_on}).",
        )
    approved_on: dt.date | None = data.get("approved_on")
    if approved_on is not None and approved_on < meeting.held_on:
        return Refusal(
            "plan_decided_at_meeting",
            f"承認日（{western_date(approved_on)}）が、プランを決定した会議の開催日"
            f"（{western_date(meeting.held_on)}）より前です。",
            f"The approval date ({approved_on}) is before the meeting that decided the plan "
            f"({meeting.held_on}).",
        )
    return None


@guard("承認待ちの終結提案がないこと")
def no_pending_closure(facts: CaseFacts, data: Mapping[str, Any]) -> Refusal | None:
    if facts.pending_closure() is None:
        return None
    return Refusal(
        "no_pending_closure",
        "承認待ちの終結提案がすでにあります。",
        "A closure proposal is already awaiting approval.",
    )


@guard("終結理由と支援の評価が記載されていること", input_only=True)
def closure_reason_complete(facts: CaseFacts, data: Mapping[str, Any]) -> Refusal | None:
    reason = data.get("reason")
    valid = {r.value for r in ClosureReason}
    if reason not in valid:
        return Refusal(
            "closure_reason_complete",
            f"終結理由が正しくありません: {reason!r}（{', '.join(sorted(valid))} のいずれか）",
            f"Unknown closure reason {reason!r}; use one of {', '.join(sorted(valid))}.",
        )
    if reason == ClosureReason.OTHER and not str(data.get("reason_text") or "").strip():
        return Refusal(
            "closure_reason_complete",
            "終結理由が「その他」の場合は理由の記載が必要です。",
            "A closure for 'other' reasons needs the reason written out.",
        )
    if not str(data.get("evaluation") or "").strip():
        return Refusal(
            "closure_reason_complete",
            "終結には支援の評価（記述）が必要です。",
            "A closure needs an evaluation of the support given.",
        )
    return None


@guard("終結の提案があること")
def closure_pending(facts: CaseFacts, data: Mapping[str, Any]) -> Refusal | None:
    if facts.pending_closure() is not None:
        return None
    return Refusal(
        "closure_pending",
        "承認待ちの終結提案がありません。先に終結を提案してください。",
        "There is no closure proposal awaiting a decision; propose closure first.",
    )


@guard("承認者が終結の提案者でないこと（二者確認）")
def approver_is_not_closure_proposer(facts: CaseFacts, data: Mapping[str, Any]) -> Refusal | None:
    closure = facts.pending_closure()
    if closure is None or closure.proposed_by != facts.actor.id:
        return None
    return Refusal(
        "approver_is_not_closure_proposer",
        "終結を提案した職員は自分の提案を承認できません（二者確認）。",
        "The person who proposed the closure cannot approve it (four-eyes rule).",
    )


@guard("決定日が終結の提案日以降であること")
def closure_decided_after_proposal(facts: CaseFacts, data: Mapping[str, Any]) -> Refusal | None:
    closure = facts.pending_closure()
    if closure is None or facts.today >= closure.proposed_on:
        return None
    return Refusal(
        "closure_decided_after_proposal",
        f"決定日（{western_date(facts.today)}）が終結の提案日（{western_date(closure.proposed_on)}）より前です。",
        f"The decision date ({facts.today}) is before the closure was proposed ({closure.proposed_on}).",
    )
