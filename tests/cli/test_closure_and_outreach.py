"""終結 (propose, approve, reject), reopening, アウトリーチ and 参加支援."""

from __future__ import annotations

from tests.cli.conftest import ELDERLY, Cli, open_case, to_monitoring


def propose(town: Cli, number: str, *extra: str, actor: str = "tanaka") -> None:
    town("closure", "propose", number, "--reason", "goals_met", "--evaluation", "週1回の外出が定着",
         "--on", "2025-09-01", *extra, actor=actor)  # fmt: skip


def test_propose_and_approve_closure_closes_the_case(town: Cli) -> None:
    number = open_case(town)
    to_monitoring(town, number)
    propose(town, number)
    result = town("closure", "approve", number, "--on", "2025-09-05", actor="sato")
    assert result.stdout.strip() == f"{number}: 支援・モニタリング → 終結（終結の承認）"
    shown = town.json("case", "show", number)["case"]
    assert (shown["stage"], shown["closed_on"]) == ("closed", "2025-09-05")
    assert shown["closures"][0]["status"] == "approved"
    assert "目標達成" in town("case", "show", number).stdout


def test_approve_closure_by_its_proposer_is_refused(town: Cli) -> None:
    number = open_case(town)
    propose(town, number, actor="suzuki")
    before = town.state(number)
    failed = town.json("closure", "approve", number, actor="suzuki", ok=False)
    assert failed["guards"] == ["approver_is_not_closure_proposer"]
    assert town.state(number) == before


def test_propose_closure_for_other_reason_needs_text(town: Cli) -> None:
    number = open_case(town)
    before = town.state(number)
    result = town(
        "closure", "propose", number, "--reason", "other", "--evaluation", "x", actor="tanaka", ok=False
    )
    assert "「その他」の場合は理由の記載が必要です" in result.stderr
    assert town.state(number) == before
    unknown = town(
        "closure", "propose", number, "--reason", "bored", "--evaluation", "x", actor="tanaka", ok=False
    )
    assert "終結理由「bored」は選べません" in unknown.stderr


def test_reject_closure_keeps_the_stage(town: Cli) -> None:
    number = open_case(town)
    propose(town, number)
    result = town("closure", "reject", number, "--note", "もう少し様子を見る", actor="sato")
    assert result.stdout.strip() == f"{number}: 終結の差戻し（段階: 受付）"
    [closure] = town.json("case", "show", number)["case"]["closures"]
    assert (closure["status"], closure["decision_note"]) == ("rejected", "もう少し様子を見る")


def test_reject_closure_without_proposal_is_refused(town: Cli) -> None:
    number = open_case(town)
    failed = town.json("closure", "reject", number, actor="sato", ok=False)
    assert failed["guards"] == ["closure_pending"]


def test_reopen_a_closed_case_starts_a_new_episode(town: Cli) -> None:
    number = open_case(town)
    propose(town, number)
    town("closure", "approve", number, actor="sato")
    result = town("case", "reopen", number, "--referrer", "self", "--method", "office_visit",
                  "--topic", "debt", actor="kato")  # fmt: skip
    assert result.stdout.strip() == f"{number}: 終結 → 受付（再開（新しいエピソード））"
    shown = town.json("case", "show", number)["case"]
    assert (shown["stage"], shown["episode"], len(shown["contacts"])) == ("intake", 2, 2)
    assert "（第2期）" in town("case", "list").stdout


def test_reopen_an_open_case_is_refused(town: Cli) -> None:
    number = open_case(town)
    before = town.state(number)
    failed = town.json("case", "reopen", number, "--referrer", "self", "--method", "phone", "--topic", "debt",
                       actor="tanaka", ok=False)  # fmt: skip
    assert failed["code"] == "trigger_not_allowed"
    assert town.state(number) == before


def test_log_outreach_home_visit(town: Cli) -> None:
    number = open_case(town)
    result = town("outreach", "log", number, "--kind", "home_visit", "--on", "2025-06-03",
                  "--note", "自宅訪問", actor="tanaka")  # fmt: skip
    assert result.stdout.strip() == f"{number}: アウトリーチの記録（段階: 受付）"
    [visit] = town.json("case", "show", number)["case"]["outreach"]
    assert (visit["kind"], visit["done_on"], visit["staff"]) == ("home_visit", "2025-06-03", "田中 花子")


def test_log_outreach_after_the_closure_is_refused(town: Cli) -> None:
    number = open_case(town)
    propose(town, number)
    town("closure", "approve", number, "--on", "2025-09-05", actor="sato")
    before = town.state(number)
    failed = town.json("outreach", "log", number, "--kind", "home_visit", actor="tanaka", ok=False)
    assert failed["code"] == "trigger_not_allowed" and "再開" in failed["message_ja"]
    assert town.state(number) == before


def test_enrol_in_short_stay_for_at_most_a_month(town: Cli) -> None:
    town(
        "provider",
        "add",
        "シェルターあかり",
        "--program",
        "program_short_stay",
        "--registered-on",
        "2024-04-01",
        actor="admin",
    )
    number = open_case(town)
    before = town.state(number)
    failed = town.json("programme", "enrol", number, "--provider", "シェルターあかり",
                       "--start", "2025-07-01", "--end", "2025-08-15", actor="tanaka", ok=False)  # fmt: skip
    assert failed["code"] == "invalid_input" and "1か月以内" in failed["message_ja"]
    assert town.state(number) == before
    town("programme", "enrol", number, "--provider", "シェルターあかり", "--start", "2025-07-01",
         "--end", "2025-07-31", actor="tanaka")  # fmt: skip
    [stay] = town.json("case", "show", number)["case"]["enrolments"]
    assert (stay["program"], stay["provider"], stay["end_on"]) == (
        "program_short_stay",
        "シェルターあかり",
        "2025-07-31",
    )


def test_enrol_with_unknown_provider_is_not_found(town: Cli) -> None:
    number = open_case(town)
    failed = town.json("programme", "enrol", number, "--provider", "X", "--start", "2025-07-01",
                       "--end", "2025-07-02", actor="tanaka", ok=False)  # fmt: skip
    assert failed["code"] == "not_found"


def test_programme_exit_records_the_end_of_a_short_stay(town: Cli) -> None:
    town("provider", "add", "シェルターあかり", "--program", "program_short_stay",
         "--registered-on", "2024-04-01", actor="admin")  # fmt: skip
    number = open_case(town)
    town("programme", "enrol", number, "--provider", "シェルターあかり", "--start", "2025-07-01",
         "--end", "2025-07-31", actor="tanaka")  # fmt: skip
    town("programme", "exit", number, "--provider", "シェルターあかり", "--on", "2025-07-20", actor="tanaka")
    [stay] = town.json("case", "show", number)["case"]["enrolments"]
    assert stay["exited_on"] == "2025-07-20"
    again = town.json("programme", "exit", number, "--provider", "シェルターあかり", actor="tanaka", ok=False)
    assert again["code"] == "not_found"


def test_late_entries_on_a_closed_case_need_no_reopening(town: Cli) -> None:
    number = open_case(town)
    propose(town, number)
    town("closure", "approve", number, "--on", "2025-09-05", actor="sato")
    late = town("case", "contact", number, "--referrer", "self", "--method", "phone", "--topic", "debt",
                "--on", "2025-08-01", actor="tanaka")  # fmt: skip
    assert late.stdout.strip() == f"{number}: 相談の記録（後日入力。段階は終結のまま）"
    held = town.json("meeting", "hold", number, "--kind", "support", "--attendee", f"高橋@{ELDERLY}!",
                     "--on", "2025-08-10", actor="tanaka")  # fmt: skip
    assert (held["late_entry"], held["to_stage"]) == (True, "closed")
    after = town(
        "outreach", "log", number, "--kind", "home_visit", "--on", "2025-09-10", actor="tanaka", ok=False
    )
    assert "2025年9月5日 に終結しています" in after.stderr and "再開してから記録してください" in after.stderr
    shown = town("case", "show", number).stdout
    assert shown.count("（後日入力）") == 2
    assert town.json("case", "show", number)["case"]["stage"] == "closed"


def test_a_visit_contact_counted_as_outreach_shows_as_such(town: Cli) -> None:
    number = open_case(town)
    town("case", "contact", number, "--referrer", "self", "--method", "home_visit", "--topic", "debt",
         "--on", "2025-07-01", "--outreach-visit", actor="tanaka")  # fmt: skip
    contacts = town.json("case", "show", number)["case"]["contacts"]
    assert [c["outreach_visit"] for c in contacts] == [False, True]
    assert "訪問（アウトリーチ）" in town("case", "show", number).stdout
    refused = town("case", "contact", number, "--referrer", "self", "--method", "phone", "--topic", "debt",
                   "--outreach-visit", actor="tanaka", ok=False)  # fmt: skip
    assert "相談方法が「訪問」の相談だけがアウトリーチの訪問として数えられます" in refused.stderr
