"""Each guard on its own, over small in-memory facts: when it lets an action pass, when it refuses."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import pytest

from states import GUARDS, MeetingKind, Refusal
from states.guards import (
    Actor,
    AgencyRef,
    Attendee,
    ClosureFacts,
    ConsentFacts,
    MeetingFacts,
    PlanFacts,
)

ELDERLY = AgencyRef(1, "地域包括支援センター")
DISABILITY = AgencyRef(2, "障がい者相談支援センター")
POVERTY = AgencyRef(3, "自立相談支援機関")
JUNE_10, JUNE_20 = dt.date(2025, 6, 10), dt.date(2025, 6, 20)
SUPERVISOR = Actor(7, frozenset({"supervisor"}))
AUTHOR = Actor(8, frozenset({"coordinator", "supervisor"}))
_JAPANESE = re.compile(r"[\u3040-\u30ff\u4e00-\u9fff]")


@dataclass
class FakeFacts:
    """`CaseFacts` held in memory."""

    case_id: int = 1
    actor: Actor = SUPERVISOR
    today: dt.date = JUNE_20
    consent: ConsentFacts | None = None
    plan: PlanFacts | None = None
    meetings: dict[int, MeetingFacts] = field(default_factory=dict)
    closure: ClosureFacts | None = None

    def active_consent(self) -> ConsentFacts | None:
        return self.consent

    def plan_awaiting_approval(self) -> PlanFacts | None:
        return self.plan

    def meeting(self, meeting_id: int) -> MeetingFacts | None:
        return self.meetings.get(meeting_id)

    def pending_closure(self) -> ClosureFacts | None:
        return self.closure


def consent(
    *agencies: AgencyRef, given_on: dt.date = JUNE_10, withdrawn_on: dt.date | None = None
) -> ConsentFacts:
    return ConsentFacts(1, given_on, frozenset(agencies or (ELDERLY, DISABILITY, POVERTY)), withdrawn_on)


def plan(*agencies: AgencyRef, author: Actor = AUTHOR, drafted_on: dt.date = JUNE_20) -> PlanFacts:
    return PlanFacts(5, 2, author.id, drafted_on, frozenset(agencies))


def at(*agencies: AgencyRef | None, acknowledged: bool = True) -> list[Attendee]:
    return [Attendee(f"{a.name if a else '市職員'} 担当", a, acknowledged) for a in agencies]


def check(guard: str, facts: FakeFacts, data: Mapping[str, Any] | None = None) -> Refusal | None:
    return GUARDS[guard](facts, data or {})


def refused(guard: str, facts: FakeFacts, data: Mapping[str, Any] | None = None) -> Refusal:
    refusal = check(guard, facts, data)
    assert refusal is not None, f"{guard} should refuse"
    assert refusal.guard == guard
    assert _JAPANESE.search(refusal.ja), refusal.ja
    # English first; only the names it quotes (attendees, agencies) may be Japanese.
    assert refusal.en[0].isascii() and refusal.en[0].isupper(), refusal.en
    assert not _JAPANESE.search(refusal.en.split(":")[0]), refusal.en
    return refusal


# One refusing case per guard; a meta test below checks every guard in GUARDS is covered.
REFUSING: dict[str, tuple[FakeFacts, dict[str, Any]]] = {
    "no_valid_consent": (FakeFacts(consent=consent()), {"held_on": JUNE_20}),
    "attendees_bound_to_confidentiality": (FakeFacts(), {"attendees": at(ELDERLY, acknowledged=False)}),
    "consent_covers_attendees": (FakeFacts(), {"held_on": JUNE_20, "attendees": at(ELDERLY)}),
    "meeting_has_attendees": (FakeFacts(), {"attendees": []}),
    "consent_covers_plan_agencies": (FakeFacts(), {"agencies": [ELDERLY]}),
    "consent_covers_current_plan": (FakeFacts(plan=plan(ELDERLY)), {}),
    "has_active_consent": (FakeFacts(), {}),
    "plan_drafted": (FakeFacts(), {}),
    "approver_is_not_plan_author": (FakeFacts(actor=AUTHOR, plan=plan()), {}),
    "plan_decided_at_meeting": (FakeFacts(plan=plan()), {}),
    "no_pending_closure": (FakeFacts(closure=ClosureFacts(3, 8, JUNE_10)), {}),
    "closure_reason_complete": (FakeFacts(), {"reason": "bored", "evaluation": "x"}),
    "closure_pending": (FakeFacts(), {}),
    "approver_is_not_closure_proposer": (FakeFacts(closure=ClosureFacts(3, SUPERVISOR.id, JUNE_10)), {}),
    "closure_decided_after_proposal": (FakeFacts(today=JUNE_10, closure=ClosureFacts(3, 8, JUNE_20)), {}),
}


def test_every_guard_has_a_refusing_case() -> None:
    assert set(REFUSING) == set(GUARDS)


@pytest.mark.parametrize("guard", sorted(REFUSING))
def test_guard_refuses_in_japanese_and_english(guard: str) -> None:
    facts, data = REFUSING[guard]
    refused(guard, facts, data)


# --- consent fork --------------------------------------------------------------------------


def test_no_valid_consent_passes_without_consent() -> None:
    assert check("no_valid_consent", FakeFacts(), {"held_on": JUNE_20}) is None


def test_no_valid_consent_passes_when_consent_comes_after_the_meeting() -> None:
    facts = FakeFacts(consent=consent(given_on=dt.date(2025, 6, 21)))
    assert check("no_valid_consent", facts, {"held_on": JUNE_20}) is None


def test_no_valid_consent_passes_when_consent_withdrawn_before_the_meeting() -> None:
    facts = FakeFacts(consent=consent(withdrawn_on=dt.date(2025, 6, 15)))
    assert check("no_valid_consent", facts, {"held_on": JUNE_20}) is None


def test_no_valid_consent_defaults_to_today() -> None:
    assert refused("no_valid_consent", FakeFacts(consent=consent(), today=JUNE_20)).ja.startswith("本人同意")


def test_attendees_bound_to_confidentiality_passes_when_all_acknowledged() -> None:
    data = {"attendees": at(ELDERLY, None, POVERTY)}
    assert check("attendees_bound_to_confidentiality", FakeFacts(), data) is None


def test_attendees_bound_to_confidentiality_refuses_without_attendees() -> None:
    refusal = refused("attendees_bound_to_confidentiality", FakeFacts(), {"attendees": []})
    assert "出席者" in refusal.ja and "at least one attendee" in refusal.en


def test_attendees_bound_to_confidentiality_names_who_did_not_acknowledge() -> None:
    attendees = [*at(ELDERLY), *at(POVERTY, acknowledged=False)]
    refusal = refused("attendees_bound_to_confidentiality", FakeFacts(), {"attendees": attendees})
    assert "自立相談支援機関 担当" in refusal.ja and "自立相談支援機関 担当" in refusal.en
    assert "地域包括支援センター" not in refusal.ja
    assert "守秘義務" in refusal.ja


def test_consent_covers_attendees_passes_with_covering_consent() -> None:
    facts = FakeFacts(consent=consent(ELDERLY, POVERTY))
    data = {"held_on": JUNE_20, "attendees": at(ELDERLY, POVERTY, None)}  # municipal staff need no scope
    assert check("consent_covers_attendees", facts, data) is None


def test_meeting_has_attendees() -> None:
    refusal = refused("meeting_has_attendees", FakeFacts(consent=consent(ELDERLY)), {"held_on": JUNE_20})
    assert "出席者が登録されていません" in refusal.ja
    assert check("meeting_has_attendees", FakeFacts(), {"attendees": at(ELDERLY)}) is None


def test_consent_covers_attendees_refuses_without_consent() -> None:
    refusal = refused("consent_covers_attendees", FakeFacts(), {"held_on": JUNE_20, "attendees": at(ELDERLY)})
    assert "本人同意がありません" in refusal.ja


def test_consent_covers_attendees_refuses_consent_given_after_the_meeting() -> None:
    facts = FakeFacts(consent=consent(given_on=dt.date(2025, 6, 21)))
    refused("consent_covers_attendees", facts, {"held_on": JUNE_20, "attendees": at(ELDERLY)})


def test_consent_covers_attendees_accepts_consent_given_on_the_meeting_day() -> None:
    facts = FakeFacts(consent=consent(given_on=JUNE_20))
    assert check("consent_covers_attendees", facts, {"held_on": JUNE_20, "attendees": at(ELDERLY)}) is None


def test_consent_covers_attendees_refuses_consent_withdrawn_by_the_meeting_day() -> None:
    facts = FakeFacts(consent=consent(withdrawn_on=JUNE_20))
    refused("consent_covers_attendees", facts, {"held_on": JUNE_20, "attendees": at(ELDERLY)})


def test_consent_covers_attendees_names_the_uncovered_agency() -> None:
    facts = FakeFacts(consent=consent(ELDERLY))
    data = {"held_on": JUNE_20, "attendees": at(ELDERLY, DISABILITY)}
    refusal = refused("consent_covers_attendees", facts, data)
    assert DISABILITY.name in refusal.ja and DISABILITY.name in refusal.en
    assert ELDERLY.name not in refusal.ja


# --- plans -----------------------------------------------------------------------------------


def test_consent_covers_plan_agencies_checks_scope_on_the_draft_day() -> None:
    data = {"agencies": [ELDERLY, POVERTY]}
    assert check("consent_covers_plan_agencies", FakeFacts(consent=consent(ELDERLY, POVERTY)), data) is None
    refusal = refused("consent_covers_plan_agencies", FakeFacts(consent=consent(ELDERLY)), data)
    assert POVERTY.name in refusal.en
    later = FakeFacts(consent=consent(given_on=dt.date(2025, 7, 1)), today=JUNE_20)
    refused("consent_covers_plan_agencies", later, data)


def test_consent_covers_current_plan_checks_the_draft_agencies() -> None:
    assert check("consent_covers_current_plan", FakeFacts(consent=consent(), plan=plan(ELDERLY))) is None
    refusal = refused("consent_covers_current_plan", FakeFacts(consent=consent(POVERTY), plan=plan(ELDERLY)))
    assert ELDERLY.name in refusal.ja


def test_has_active_consent_passes_with_consent() -> None:
    assert check("has_active_consent", FakeFacts(consent=consent())) is None


def test_plan_drafted_passes_with_a_draft() -> None:
    assert check("plan_drafted", FakeFacts(plan=plan())) is None


def test_approver_is_not_plan_author_passes_for_another_supervisor() -> None:
    assert check("approver_is_not_plan_author", FakeFacts(actor=SUPERVISOR, plan=plan())) is None


def test_approver_is_not_plan_author_refuses_a_supervisor_who_wrote_the_plan() -> None:
    facts = FakeFacts(actor=SUPERVISOR, plan=plan(author=SUPERVISOR))
    assert "二者確認" in refused("approver_is_not_plan_author", facts).ja


def _meeting_facts(**meetings: MeetingFacts) -> FakeFacts:
    return FakeFacts(plan=plan(drafted_on=JUNE_20), meetings={m.id: m for m in meetings.values()})


MULTILAYER_SAME_DAY = MeetingFacts(10, 1, MeetingKind.MULTILAYER, JUNE_20)
MULTILAYER_LATER = MeetingFacts(11, 1, MeetingKind.MULTILAYER, dt.date(2025, 6, 25))
MULTILAYER_EARLIER = MeetingFacts(12, 1, MeetingKind.MULTILAYER, dt.date(2025, 6, 19))
SUPPORT = MeetingFacts(13, 1, MeetingKind.SUPPORT, dt.date(2025, 6, 25))
OTHER_CASE = MeetingFacts(14, 2, MeetingKind.MULTILAYER, dt.date(2025, 6, 25))


@pytest.mark.parametrize("meeting", [MULTILAYER_SAME_DAY, MULTILAYER_LATER], ids=["same-day", "later"])
def test_plan_decided_at_meeting_passes_for_a_multilayer_meeting_on_or_after_the_draft(
    meeting: MeetingFacts,
) -> None:
    assert check("plan_decided_at_meeting", _meeting_facts(m=meeting), {"meeting_id": meeting.id}) is None


@pytest.mark.parametrize(
    ("meeting_id", "ja", "en"),
    [
        (None, "指定してください", "Name the multi-layered support meeting"),
        (99, "会議 99 はこのケースの会議ではありません", "Meeting 99 is not a meeting of this case"),
        (OTHER_CASE.id, "このケースの会議ではありません", "not a meeting of this case"),
        (SUPPORT.id, "支援会議では決定できません", "not a support meeting"),
        (MULTILAYER_EARLIER.id, "作成（2025年6月20日）より前", "before plan version 2 was drafted"),
    ],
    ids=["no-meeting", "unknown-meeting", "other-case", "support-meeting", "before-draft"],
)
def test_plan_decided_at_meeting_refuses(meeting_id: int | None, ja: str, en: str) -> None:
    facts = _meeting_facts(a=OTHER_CASE, b=SUPPORT, c=MULTILAYER_EARLIER)
    refusal = refused("plan_decided_at_meeting", facts, {"meeting_id": meeting_id})
    assert ja in refusal.ja and en in refusal.en


def test_plan_decided_at_meeting_refuses_approval_dated_before_the_meeting() -> None:
    facts = _meeting_facts(m=MULTILAYER_LATER)  # held 2025-06-25
    data = {"meeting_id": MULTILAYER_LATER.id, "approved_on": dt.date(2025, 6, 24)}
    refusal = refused("plan_decided_at_meeting", facts, data)
    assert "2025-06-24" in refusal.en and "2025年6月25日" in refusal.ja
    on_the_day = {"meeting_id": MULTILAYER_LATER.id, "approved_on": dt.date(2025, 6, 25)}
    assert check("plan_decided_at_meeting", facts, on_the_day) is None


# --- closure ---------------------------------------------------------------------------------


def test_no_pending_closure_passes_without_a_proposal() -> None:
    assert check("no_pending_closure", FakeFacts()) is None


@pytest.mark.parametrize(
    "data",
    [
        {"reason": "goals_met", "evaluation": "週1回外出できた"},
        {"reason": "referred_single_agency", "evaluation": "包括で継続"},
        {"reason": "moved_away", "evaluation": "転出"},
        {"reason": "died", "evaluation": "—"},
        {"reason": "declined", "evaluation": "本人の意思"},
        {"reason": "other", "reason_text": "入院", "evaluation": "長期入院"},
    ],
    ids=lambda d: d["reason"],
)
def test_closure_reason_complete_passes(data: dict[str, str]) -> None:
    assert check("closure_reason_complete", FakeFacts(), data) is None


@pytest.mark.parametrize(
    ("data", "en"),
    [
        ({"reason": "", "evaluation": "x"}, "Unknown closure reason ''"),
        ({"reason": "bored", "evaluation": "x"}, "Unknown closure reason 'bored'"),
        ({"reason": "other", "evaluation": "x"}, "needs the reason written out"),
        ({"reason": "other", "reason_text": "   ", "evaluation": "x"}, "needs the reason written out"),
        ({"reason": "goals_met"}, "needs an evaluation"),
        ({"reason": "goals_met", "evaluation": " \n"}, "needs an evaluation"),
    ],
    ids=["empty", "unknown", "other-no-text", "other-blank-text", "no-evaluation", "blank-evaluation"],
)
def test_closure_reason_complete_refuses(data: dict[str, str], en: str) -> None:
    assert en in refused("closure_reason_complete", FakeFacts(), data).en


def test_closure_pending_passes_with_a_proposal() -> None:
    assert check("closure_pending", FakeFacts(closure=ClosureFacts(3, AUTHOR.id, JUNE_10))) is None


def test_approver_is_not_closure_proposer_passes_for_another_supervisor() -> None:
    assert (
        check("approver_is_not_closure_proposer", FakeFacts(closure=ClosureFacts(3, AUTHOR.id, JUNE_10)))
        is None
    )
    assert check("approver_is_not_closure_proposer", FakeFacts()) is None


def test_closure_decided_after_proposal_allows_the_same_day_and_later() -> None:
    proposed = ClosureFacts(3, AUTHOR.id, JUNE_10)
    assert check("closure_decided_after_proposal", FakeFacts(today=JUNE_10, closure=proposed)) is None
    assert check("closure_decided_after_proposal", FakeFacts(today=JUNE_20, closure=proposed)) is None
