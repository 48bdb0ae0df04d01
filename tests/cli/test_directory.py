"""Staff, agencies, providers and topics."""

from __future__ import annotations

from tests.cli.conftest import DESK, Cli, open_case


def test_add_staff_lists_roles_in_japanese(town: Cli) -> None:
    result = town(
        "staff",
        "add",
        "yamamoto",
        "--name",
        "山本 三郎",
        "--role",
        "coordinator",
        "--agency",
        DESK,
        actor="sato",
    )
    assert (
        result.stdout.strip() == "職員を登録しました: yamamoto（山本 三郎、相談支援員（コーディネーター））"
    )
    listed = {s["login"]: s for s in town.json("staff", "list")}
    assert listed["yamamoto"]["agency"] == DESK and listed["yamamoto"]["roles"] == ["coordinator"]
    assert "山本 三郎" in town("staff", "list").stdout


def test_add_staff_with_unknown_role_changes_nothing(town: Cli) -> None:
    before = town.json("staff", "list")
    result = town("staff", "add", "yamamoto", "--name", "山本", "--role", "boss", actor="admin", ok=False)
    assert result.exit_code == 1 and "エラー: 役割「boss」は選べません" in result.stderr
    assert town.json("staff", "list") == before


def test_add_staff_with_taken_login_is_refused(town: Cli) -> None:
    failed = town.json(
        "staff", "add", "tanaka", "--name", "別人", "--role", "coordinator", actor="admin", ok=False
    )
    assert failed["code"] == "invalid_input" and "すでに使われています" in failed["message_ja"]


def test_deactivated_staff_cannot_act_until_reactivated(town: Cli) -> None:
    number = open_case(town)
    assert "無効にしました" in town("staff", "deactivate", "tanaka", actor="admin").stdout
    failed = town.json("case", "assess", number, actor="tanaka", ok=False)
    assert failed["code"] == "permission_denied"
    town("staff", "activate", "tanaka", actor="admin")
    town("case", "assess", number, actor="tanaka")


def test_deactivate_unknown_staff_is_not_found(town: Cli) -> None:
    assert town.json("staff", "deactivate", "nobody", actor="admin", ok=False)["code"] == "not_found"


def test_add_agency_accepts_japanese_field_label(town: Cli) -> None:
    result = town("agency", "add", "こども家庭センター", "--field", "子ども", actor="admin")
    assert result.stdout.strip() == "関係機関を登録しました: こども家庭センター（子ども）"
    rows = {a["name"]: a for a in town.json("agency", "list")}
    assert rows["こども家庭センター"]["field"] == "child" and rows[DESK]["is_desk"] is True


def test_add_agency_twice_or_with_unknown_field_is_refused(town: Cli) -> None:
    before = town.json("agency", "list")
    assert (
        town.json("agency", "add", DESK, "--field", "community", actor="admin", ok=False)["code"]
        == "invalid_input"
    )
    failed = town("agency", "add", "新しい機関", "--field", "space", actor="admin", ok=False)
    assert "分野「space」は選べません" in failed.stderr
    assert town.json("agency", "list") == before


def test_add_provider_and_list_it(town: Cli) -> None:
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
    [row] = town.json("provider", "list")
    assert (row["name"], row["program"], row["registered_on"]) == (
        "シェルターあかり",
        "program_short_stay",
        "2024-04-01",
    )
    assert "短期宿泊場所提供事業" in town("provider", "list").stdout


def test_add_provider_with_unknown_programme_is_refused(town: Cli) -> None:
    result = town("provider", "add", "X", "--program", "program_c", "--registered-on", "2024-04-01",
                  actor="admin", ok=False)  # fmt: skip
    assert result.exit_code == 1 and "事業「program_c」は選べません" in result.stderr
    assert town.json("provider", "list") == []


def test_topics_lists_codes_and_labels(town: Cli) -> None:
    topics = town.json("topics")
    assert topics["hikikomori_school_refusal"] == "ひきこもり・不登校"
    assert "DV・虐待について" in town("topics").stdout
