"""`yorisoi audit verify` and `yorisoi lifecycle diagram|check`."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import text

from models.db import create_db_engine
from states import load_lifecycle
from states.diagram import mermaid
from tests.cli.conftest import Cli, open_case, to_monitoring
from yorisoi.cli.app import app
from yorisoi.settings import get_settings


def test_audit_verify_passes_on_an_untouched_database_and_says_what_it_did_not_check(town: Cli) -> None:
    number = open_case(town)
    to_monitoring(town, number)
    open_case(town)
    result = town("audit", "verify")
    assert result.stdout.splitlines() == [
        "ケース 2 件・監査記録 7 件を検証しました: "
        "監査記録と各記録に問題はありません（巻き戻しは未確認。下の注意を参照）",
        "注意: チェックポイントの鍵（YORISOI_AUDIT__KEY または YORISOI_AUDIT__KEY_FILE）が"
        "設定されていないため、末尾の記録の削除・ケースの巻き戻しは確認していません。",
    ]
    report = town.json("audit", "verify")
    assert (report["ok"], report["cases"], report["events"], report["problems"]) == (True, 2, 7, [])
    assert report["not_compared"] == {} and report["checkpoint"]["status"] == "no_key"
    strict = town("audit", "verify", "--require-checkpoint", ok=False)
    assert strict.exit_code == 1 and "巻き戻しは未確認" in strict.stdout


def test_audit_verify_reports_an_edited_event_and_exits_1(town: Cli) -> None:
    number = open_case(town)
    to_monitoring(town, number)
    untouched = open_case(town)
    engine = create_db_engine(get_settings().database_url())
    with engine.begin() as connection:  # someone edits the approval record behind the service's back
        connection.execute(
            text("UPDATE audit_event SET actor_id = actor_id + 1 WHERE seq = 6 AND case_id = "
                 "(SELECT id FROM \"case\" WHERE number = :n)"),
            {"n": number},
        )  # fmt: skip
    engine.dispose()
    result = town("audit", "verify", ok=False)
    assert result.exit_code == 1
    assert f"{number} 第6番の記録: 記録の内容がハッシュと一致しません（改ざんの可能性）。" in result.stdout
    assert untouched not in result.stdout
    report = town.json("audit", "verify", ok=False)
    assert report["ok"] is False and [(p["case"], p["seq"], p["code"]) for p in report["problems"]] == [
        (number, 6, "chain")
    ]


def test_lifecycle_diagram_prints_mermaid_of_the_default(cli: Cli) -> None:
    assert cli("lifecycle", "diagram").stdout == mermaid(load_lifecycle())
    plain = cli("lifecycle", "diagram", "--no-guards").stdout
    assert plain == mermaid(load_lifecycle(), show_guards=False) and "no_valid_consent" not in plain


def test_lifecycle_diagram_of_a_municipality_file(cli: Cli, tmp_path: Path) -> None:
    text_ = load_lifecycle().stages[0].ja
    source = Path(__file__).resolve().parents[2] / "states" / "lifecycles" / "default.yaml"
    custom = tmp_path / "city.yaml"
    custom.write_text(source.read_text("utf-8").replace(f"ja: {text_}", "ja: 相談受付"), "utf-8")
    assert (
        'state "相談受付<br/>intake" as intake' in cli("lifecycle", "diagram", "--file", str(custom)).stdout
    )


def test_lifecycle_check_accepts_the_default_file(cli: Cli) -> None:
    source = Path(__file__).resolve().parents[2] / "states" / "lifecycles" / "default.yaml"
    result = cli("lifecycle", "check", str(source))
    assert result.stdout.startswith(f"OK: {source}（default: 段階 7")


def test_lifecycle_check_lists_every_problem_with_its_line(cli: Cli, tmp_path: Path) -> None:
    broken = tmp_path / "broken.yaml"
    broken.write_text(
        "name: broken\n"
        "initial: intake\n"
        "stages:\n"
        "  - {name: intake, ja: 受付, en: Intake}\n"
        "  - {name: closed, ja: 終結, en: Closed, final: true}\n"
        "triggers:\n"
        "  close: {ja: 終結, en: Close, roles: [supervisor]}\n"
        "transitions:\n"
        "  - {trigger: close, source: intake, dest: nowhere}\n"
        "  - {trigger: close, source: intake, dest: closed, guards: [no_such_guard]}\n",
        "utf-8",
    )
    result = cli("lifecycle", "check", str(broken), ok=False)
    assert result.exit_code == 1
    lines = result.stdout.splitlines()
    assert any(line.startswith(f"{broken}:9: ") and "nowhere" in line for line in lines)
    assert any(line.startswith(f"{broken}:10: ") and "no_such_guard" in line for line in lines)
    assert "エラー: ライフサイクル定義" in result.stderr
    failed = cli.json("lifecycle", "check", str(broken), ok=False)
    by_line: dict[int, str] = {}
    for problem in failed["problems"]:
        by_line[problem["line"]] = by_line.get(problem["line"], "") + problem["message"] + "\n"
    assert failed["code"] == "invalid_lifecycle" and set(by_line) == {3, 6, 7, 9, 10}
    # What the engine needs and the file lacks: a monitoring stage, an action per trigger and
    # the actions only a file that can carry a case from intake to closure has.
    assert "kind: monitoring" in by_line[3]
    assert "trigger 'close' needs an 'action'" in by_line[7]
    assert "no trigger has 'action: approve_plan'" in by_line[6]


def test_lifecycle_check_of_a_missing_file_fails(cli: Cli, tmp_path: Path) -> None:
    result = cli("lifecycle", "check", str(tmp_path / "none.yaml"), ok=False)
    assert result.exit_code == 1 and "cannot read the file" in result.stdout


def test_broken_configured_lifecycle_is_pointed_out_and_the_one_in_force_kept(
    town: Cli, tmp_path: Path
) -> None:
    broken = tmp_path / "broken.yaml"
    broken.write_text("stages: []\n", "utf-8")
    get_settings.cache_clear()
    try:
        result = town.runner.invoke(app, ["case", "list"], env={"YORISOI_LIFECYCLE__FILE": str(broken)})
    finally:
        get_settings.cache_clear()
    assert result.exit_code == 0  # the lifecycle in force is in the database, version 1
    assert f"設定のライフサイクルファイル {broken} に誤りがあるため使っていません" in result.stderr
    assert f"{broken}:1:" in result.stderr
