"""The command line as a whole: fast help, global options, the error format."""

from __future__ import annotations

import json
import subprocess
import sys

from tests.cli.conftest import Cli, open_case
from yorisoi.cli.app import app


def test_help_imports_neither_prefect_nor_the_database() -> None:
    probe = (
        "import sys\n"
        "from yorisoi.cli.app import main\n"
        "sys.argv = ['yorisoi', '--help']\n"
        "try:\n    main()\nexcept SystemExit:\n    pass\n"
        "heavy = sorted(m for m in sys.modules if m.split('.')[0] in {'prefect', 'sqlalchemy', 'sqlmodel', "
        "'pendulum', 'pydantic_settings'} or m.startswith(('yorisoi.service', 'models')))\n"
        "print('HEAVY', heavy)\n"
    )
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert "寄り添い" in done.stdout
    assert "HEAVY []" in done.stdout


def test_version_prints_the_package_version(cli: Cli) -> None:
    from yorisoi import __version__

    assert cli("--version").stdout.strip() == f"yorisoi {__version__}"


def test_command_without_database_tells_to_run_init(cli: Cli) -> None:
    result = cli("case", "list", ok=False)
    assert result.exit_code == 1
    assert "エラー: データベース" in result.stderr and "yorisoi init" in result.stderr
    assert "Error: There is no database" in result.stderr


def test_error_with_json_is_one_object_on_stdout(town: Cli) -> None:
    failed = town.json("case", "show", "R7-9999", ok=False)
    assert failed == {
        "code": "not_found",
        "message_ja": "ケース番号 R7-9999 は存在しません。",
        "message_en": "There is no case numbered R7-9999.",
    }


def test_usage_error_is_reported_in_japanese_with_exit_2(town: Cli) -> None:
    result = town("case", "open", "--name", "山田", actor="tanaka", ok=False)
    assert result.exit_code == 2
    assert result.stderr.startswith("エラー: コマンドの指定に誤りがあります")
    assert "--desk" in result.stderr and "yorisoi case open --help" in result.stderr


def test_bad_date_is_a_usage_error_in_both_languages(town: Cli) -> None:
    result = town("consent", "withdraw", "R7-0001", "--on", "2025/06/01", actor="tanaka", ok=False)
    assert result.exit_code == 2
    assert "YYYY-MM-DD" in result.stderr and "日付は" in result.stderr


def test_usage_error_with_json_has_code_usage(town: Cli) -> None:
    result = town("case", "assess", json_output=True, ok=False)
    assert result.exit_code == 2
    assert json.loads(result.stdout)["code"] == "usage"


def test_changing_a_case_without_actor_is_refused(town: Cli) -> None:
    number = open_case(town)
    before = town.state(number)
    result = town("case", "assess", number, ok=False)
    assert result.exit_code == 1
    assert "操作する職員を指定してください" in result.stderr and "--as" in result.stderr
    assert town.state(number) == before


def test_changing_a_case_as_unknown_login_is_refused(town: Cli) -> None:
    number = open_case(town)
    before = town.state(number)
    failed = town.json("case", "assess", number, actor="nobody", ok=False)
    assert failed["code"] == "not_found" and "nobody" in failed["message_ja"]
    assert town.state(number) == before


def test_actor_comes_from_yorisoi_actor(town: Cli) -> None:
    number = open_case(town)
    result = town.runner.invoke(app, ["case", "assess", number], env={"YORISOI_ACTOR": "kato"})
    assert result.exit_code == 0, result.output
    assert result.stdout.strip() == f"{number}: 受付 → アセスメント（アセスメント開始）"
