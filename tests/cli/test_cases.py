"""Opening, listing and showing cases; contacts, assessment."""

from __future__ import annotations

from tests.cli.conftest import DESK, Cli, open_case, to_monitoring


def test_open_case_prints_the_new_case_in_japanese(town: Cli) -> None:
    result = town(
        "case", "open", "--name", "山田 太郎", "--desk", DESK, "--referrer", "家族・親族", "--method", "電話",
        "--topic", "ひきこもり・不登校", "--topic", "income", "--on", "2025-06-02", actor="tanaka",
    )  # fmt: skip
    assert result.stdout.strip() == "R7-0001: 新しいケースを受け付けました（段階: 受付）"
    shown = town.json("case", "show", "R7-0001")
    [contact] = shown["case"]["contacts"]
    assert (contact["referrer"], contact["method"]) == ("family", "phone")
    assert contact["topics"] == ["hikikomori_school_refusal", "income"]
    assert shown["case"]["coordinator"] == "田中 花子"


def test_open_case_for_another_coordinator(town: Cli) -> None:
    number = open_case(town, "--coordinator", "kato")
    assert town.json("case", "show", number)["case"]["coordinator"] == "加藤 健"


def test_open_case_with_unknown_topic_creates_nothing(town: Cli) -> None:
    result = town(
        "case", "open", "--name", "山田", "--desk", DESK, "--referrer", "self", "--method", "phone",
        "--topic", "astrology", actor="tanaka", ok=False,
    )  # fmt: skip
    assert result.exit_code == 1 and "相談内容「astrology」は選べません" in result.stderr
    assert town.json("case", "list") == []


def test_open_case_at_a_desk_that_is_not_a_desk_is_refused(town: Cli) -> None:
    failed = town.json(
        "case", "open", "--name", "山田", "--desk", "自立相談支援機関", "--referrer", "self",
        "--method", "phone", "--topic", "income", actor="tanaka", ok=False,
    )  # fmt: skip
    assert failed["code"] == "invalid_input" and "受付窓口として登録されていません" in failed["message_ja"]
    assert town.json("case", "list") == []


def test_list_cases_filters_by_stage_coordinator_and_year(town: Cli) -> None:
    first = open_case(town)
    second = open_case(town, "--coordinator", "kato")
    older = open_case(town, on="2024-12-01")
    town("case", "assess", second, actor="kato")
    numbers = [r["number"] for r in town.json("case", "list")]
    assert numbers == [older, first, second] and older.startswith("R6-")
    assert [r["number"] for r in town.json("case", "list", "--stage", "アセスメント")] == [second]
    assert [r["number"] for r in town.json("case", "list", "--coordinator", "kato")] == [second]
    assert [r["number"] for r in town.json("case", "list", "--fy", "令和6年度")] == [older]
    table = town("case", "list", "--stage", "assessment").stdout
    assert "ケース 1 件" in table and second in table and "加藤 健" in table


def test_list_cases_marks_overdue_monitoring(town: Cli) -> None:
    late = open_case(town)
    open_case(town)
    to_monitoring(town, late)  # next monitoring 30 days after 2025-06-25: long past
    [row] = town.json("case", "list", "--overdue")
    assert (row["number"], row["overdue"], row["next_monitoring_on"]) == (late, True, "2025-07-25")
    assert "⚠ 超過" in town("case", "list").stdout


def test_list_cases_with_unknown_stage_or_year_is_refused(town: Cli) -> None:
    assert "段階「nowhere」は選べません" in town("case", "list", "--stage", "nowhere", ok=False).stderr
    assert "年度を読み取れません" in town("case", "list", "--fy", "R7x", ok=False).stderr


def test_show_case_masks_a_dv_protected_address(town: Cli) -> None:
    number = open_case(town, "--dv-protected")
    shown = town("case", "show", number).stdout
    assert "山口市亀山町" not in shown and "＊＊＊（DV等支援措置により非表示）" in shown
    data = town.json("case", "show", number)
    assert "山口市亀山町" not in str(data) and data["case"]["dv_protected"] is True


def test_show_case_has_details_and_japanese_timeline(town: Cli) -> None:
    number = open_case(town)
    to_monitoring(town, number)
    shown = town("case", "show", number).stdout
    for expected in (
        "支援・モニタリング（第1期・版 6）",
        "本人: 山田 太郎（ヤマダ タロウ）",
        "住所: 山口市亀山町2-1",
        "ひきこもり・不登校、収入・生活費のこと",
        "重層的支援会議",
        "支援プラン 第1版（承認済み、第1期）",
        "役割: 自立相談支援機関 — 家計相談【主担当】",
        "経過（監査記録 6 件。日付は出来事の日、入力日時は日本時間）",
        "受付 → アセスメント",
        "支援プラン → 支援・モニタリング",
        "佐藤 一郎",
    ):
        assert expected in shown, expected
    timeline = town.json("case", "show", number)["timeline"]
    assert [e["action"] for e in timeline][:3] == ["open_case", "start_assessment", "give_consent"]
    assert timeline[-1]["actor_login"] == "sato"


def test_show_unknown_case_is_not_found(town: Cli) -> None:
    result = town("case", "show", "R7-0404", ok=False)
    assert result.exit_code == 1
    assert result.stderr.splitlines() == [
        "エラー: ケース番号 R7-0404 は存在しません。",
        "Error: There is no case numbered R7-0404.",
    ]


def test_add_contact_counts_another_consultation(town: Cli) -> None:
    number = open_case(town)
    result = town(
        "case", "contact", number, "--referrer", "agency", "--method", "home_visit", "--topic", "debt",
        "--desk", DESK, "--on", "2025-06-05", actor="tanaka",
    )  # fmt: skip
    assert result.stdout.strip() == f"{number}: 相談の記録（段階: 受付）"
    contacts = town.json("case", "show", number)["case"]["contacts"]
    assert [c["contacted_on"] for c in contacts] == ["2025-06-02", "2025-06-05"]


def test_add_contact_with_unknown_referrer_changes_nothing(town: Cli) -> None:
    number = open_case(town)
    before = town.state(number)
    result = town(
        "case", "contact", number, "--referrer", "neighbour", "--method", "phone", "--topic", "debt",
        actor="tanaka", ok=False,
    )  # fmt: skip
    assert "相談者区分「neighbour」は選べません" in result.stderr
    assert town.state(number) == before


def test_assess_moves_the_case_to_assessment(town: Cli) -> None:
    number = open_case(town)
    assert town("case", "assess", number, actor="tanaka").stdout.strip() == (
        f"{number}: 受付 → アセスメント（アセスメント開始）"
    )
    fired = town.json("case", "assess", number, actor="tanaka", ok=False)
    assert fired["code"] == "trigger_not_allowed" and "アセスメント開始" in fired["message_ja"]
    assert town.state(number)[:2] == ("assessment", 2)


def test_assess_as_auditor_is_not_permitted(town: Cli) -> None:
    number = open_case(town)
    failed = town.json("case", "assess", number, actor="ito", ok=False)
    assert failed["code"] == "permission_denied"
    assert town.state(number) == ("intake", 1, 1)


def test_correct_details_by_cli_with_version_check(town: Cli) -> None:
    number = open_case(town, "--ref", "Y-0001")
    stale = town.json("case", "correct", number, "--name", "山田 太朗", "--expect-version", "9",
                      actor="tanaka", ok=False)  # fmt: skip
    assert stale["code"] == "version_conflict"
    done = town("case", "correct", number, "--address", "山口市秘匿町1-1", "--dv-protected",
                "--note", "支援措置の決定", "--expect-version", "1", actor="tanaka")  # fmt: skip
    assert done.stdout.strip() == f"{number}: 本人・世帯の情報の訂正（段階: 受付）"
    shown = town("case", "show", number).stdout
    assert "台帳番号 Y-0001" in shown and "〔DV等支援措置〕" in shown and "秘匿町" not in shown
    taken = town.json("case", "open", "--name", "別人", "--desk", DESK, "--referrer", "self",
                      "--method", "phone", "--topic", "income", "--ref", "Y-0001", actor="tanaka",
                      ok=False)  # fmt: skip
    assert "台帳番号 Y-0001 のケースはすでにあります" in taken["message_ja"]
