"""本人同意 and the consent fork: 支援会議 (守秘義務) or 重層的支援会議 (consent)."""

from __future__ import annotations

from tests.cli.conftest import DISABILITY, ELDERLY, POVERTY, Cli, open_case, to_multilayer


def test_give_consent_records_its_scope(town: Cli) -> None:
    number = open_case(town)
    result = town("consent", "give", number, "--agency", ELDERLY, "--agency", POVERTY, "--method", "口頭",
                  "--on", "2025-06-10", actor="tanaka")  # fmt: skip
    assert result.stdout.splitlines() == [
        f"{number}: 本人同意の記録（段階: 受付）",
        f"  同意の範囲: {ELDERLY}、{POVERTY}",
    ]
    [consent] = town.json("case", "show", number)["case"]["consents"]
    assert consent["method"] == "oral" and consent["agencies"] == sorted([ELDERLY, POVERTY])


def test_give_consent_for_unknown_agency_changes_nothing(town: Cli) -> None:
    number = open_case(town)
    before = town.state(number)
    failed = town.json("consent", "give", number, "--agency", "どこか", actor="tanaka", ok=False)
    assert failed["code"] == "not_found" and "どこか" in failed["message_ja"]
    assert town.state(number) == before


def test_withdraw_consent_returns_to_support_meeting_track(town: Cli) -> None:
    number = open_case(town)
    to_multilayer(town, number)
    result = town("consent", "withdraw", number, "--on", "2025-07-01", actor="tanaka")
    assert result.stdout.strip() == f"{number}: 重層的支援会議 → 支援会議（本人同意の撤回）"
    assert town.json("case", "show", number)["case"]["consents"][0]["withdrawn_on"] == "2025-07-01"


def test_withdraw_consent_without_consent_is_refused(town: Cli) -> None:
    number = open_case(town)
    before = town.state(number)
    failed = town.json("consent", "withdraw", number, actor="tanaka", ok=False)
    assert failed["code"] == "guard_failed" and failed["guards"] == ["has_active_consent"]
    assert town.state(number) == before


def test_hold_support_meeting_with_acknowledgement_marks(town: Cli) -> None:
    number = open_case(town)
    town("case", "assess", number, actor="tanaka")
    held = town.json(
        "meeting", "hold", number, "--kind", "support", "--on", "2025-06-15", "--title", "支援庁内連携会議",
        "--attendee", f"高橋@{ELDERLY}!", "--attendee", "田中！", actor="tanaka",
    )  # fmt: skip
    assert (held["from_stage_ja"], held["to_stage_ja"], held["attendees"]) == ("アセスメント", "支援会議", 2)
    [meeting] = town.json("case", "show", number)["case"]["meetings"]
    assert meeting["id"] == held["meeting_id"] and meeting["title"] == "支援庁内連携会議"
    assert [(a["name"], a["agency"], a["acknowledged_confidentiality"]) for a in meeting["attendees"]] == [
        ("高橋", ELDERLY, True),
        ("田中", None, True),
    ]


def test_hold_support_meeting_without_acknowledgement_is_refused(town: Cli) -> None:
    number = open_case(town)
    town("case", "assess", number, actor="tanaka")
    before = town.state(number)
    result = town("meeting", "hold", number, "--kind", "support", "--attendee", f"高橋@{ELDERLY}!",
                  "--attendee", f"渡辺@{POVERTY}", actor="tanaka", ok=False)  # fmt: skip
    assert result.exit_code == 1
    assert "守秘義務（法第106条の6）の確認が済んでいない出席者がいます: 渡辺" in result.stderr
    assert town.state(number) == before


def test_hold_support_meeting_with_acknowledged_flag_covers_everyone(town: Cli) -> None:
    number = open_case(town)
    town("case", "assess", number, actor="tanaka")
    town("meeting", "hold", number, "--kind", "support", "--acknowledged", "--attendee", f"渡辺@{POVERTY}",
         actor="tanaka")  # fmt: skip
    assert town.state(number)[0] == "support_meeting"


def test_hold_multilayer_meeting_needs_consent_covering_attendees(town: Cli) -> None:
    number = open_case(town)
    town("case", "assess", number, actor="tanaka")
    town("consent", "give", number, "--agency", ELDERLY, "--on", "2025-06-10", actor="tanaka")
    before = town.state(number)
    failed = town.json("meeting", "hold", number, "--kind", "multilayer", "--on", "2025-06-20",
                       "--attendee", f"高橋@{DISABILITY}", actor="tanaka", ok=False)  # fmt: skip
    assert failed["code"] == "guard_failed" and DISABILITY in failed["message_ja"]
    assert town.state(number) == before
    town("consent", "give", number, "--agency", ELDERLY, "--agency", DISABILITY, "--on", "2025-06-15",
         actor="tanaka")  # fmt: skip
    town("meeting", "hold", number, "--kind", "multilayer", "--on", "2025-06-20",
         "--attendee", f"高橋@{DISABILITY}", actor="tanaka")  # fmt: skip
    assert town.state(number)[0] == "multilayer_meeting"


def test_hold_meeting_of_unknown_kind_is_refused(town: Cli) -> None:
    number = open_case(town)
    result = town("meeting", "hold", number, "--kind", "party", "--attendee", "x", actor="tanaka", ok=False)
    assert "会議の種別「party」は選べません" in result.stderr
