"""CLI tests: the real `yorisoi` app through Typer's CliRunner, on a SQLite file per test.

`tests/conftest.py` points YORISOI_DATA_DIR at a fresh temporary directory for every test;
the `town` fixture then builds a small municipality through the CLI itself.
"""

from __future__ import annotations

import functools
import json
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import typer
import typer.main
import typer.testing
from typer.testing import CliRunner, Result

from yorisoi.cli.app import app

DESK = "ふくまる相談室 中央"
ELDERLY = "地域包括支援センター中央"
DISABILITY = "障がい者相談支援センター"
POVERTY = "自立相談支援機関"


@dataclass
class Cli:
    """Run `yorisoi …`; by default fail the test unless the command succeeds."""

    runner: CliRunner

    def __call__(
        self,
        *args: str,
        actor: str | None = None,
        json_output: bool = False,
        ok: bool = True,
        input: str | None = None,
    ) -> Result:
        argv = [*(["--as", actor] if actor else []), *(["--json"] if json_output else []), *args]
        result = self.runner.invoke(app, argv, input=input)
        if result.exception is not None and not isinstance(result.exception, SystemExit):
            raise result.exception
        if ok and result.exit_code != 0:
            raise AssertionError(f"yorisoi {' '.join(argv)} exited {result.exit_code}:\n{result.output}")
        if not ok and result.exit_code == 0:
            raise AssertionError(f"yorisoi {' '.join(argv)} should have failed:\n{result.output}")
        return result

    def json(self, *args: str, actor: str | None = None, ok: bool = True, input: str | None = None) -> Any:
        return json.loads(self(*args, actor=actor, json_output=True, ok=ok, input=input).stdout)

    def state(self, number: str) -> tuple[str, int, int]:
        """(stage, version, audit events) of a case: what must not move when a command fails."""
        shown = self.json("case", "show", number)
        return shown["case"]["stage"], shown["case"]["version"], len(shown["timeline"])


@functools.cache
def _command(typer_app: typer.Typer) -> Any:
    return typer.main.get_command(typer_app)


@pytest.fixture(autouse=True)
def _build_commands_once(monkeypatch: pytest.MonkeyPatch) -> None:
    """Typer rebuilds the Click command tree on every `invoke` (~70 ms); tests reuse one."""
    monkeypatch.setattr(typer.testing, "_get_command", _command)


ADMIN_PASSWORD = "the admin passphrase"


@pytest.fixture(autouse=True)
def _single_operator(_isolated_settings: None, monkeypatch: pytest.MonkeyPatch) -> None:
    """The CLI tests act with `--as`: a single trusted operator (tests of `yorisoi login` unset it)."""
    monkeypatch.setenv("YORISOI_CLI__SINGLE_OPERATOR", "true")


@pytest.fixture(name="cli")
def cli_fixture() -> Cli:
    return Cli(CliRunner(env={"COLUMNS": "200"}))


def _build_town(cli: Cli) -> None:
    """`yorisoi init` with an administrator, a desk, three agencies, two coordinators, two
    supervisors, an auditor."""
    cli("init", "--admin", "admin", "--password-stdin", input=f"{ADMIN_PASSWORD}\n")
    cli("agency", "add", DESK, "--field", "community", "--desk", actor="admin")
    cli("agency", "add", ELDERLY, "--field", "elderly", actor="admin")
    cli("agency", "add", DISABILITY, "--field", "disability", actor="admin")
    cli("agency", "add", POVERTY, "--field", "poverty", actor="admin")
    cli("staff", "add", "tanaka", "--name", "田中 花子", "--role", "coordinator", actor="admin")
    cli("staff", "add", "kato", "--name", "加藤 健", "--role", "coordinator", actor="admin")
    cli("staff", "add", "sato", "--name", "佐藤 一郎", "--role", "supervisor", actor="admin")
    cli("staff", "add", "suzuki", "--name", "鈴木 次郎", "--role", "supervisor", "--role", "coordinator",
        actor="admin")  # fmt: skip
    cli("staff", "add", "ito", "--name", "伊藤 監査", "--role", "auditor", actor="admin")


@pytest.fixture(name="town_template", scope="session")
def town_template_fixture(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The town built once through the CLI; each test gets its own copy of the file."""
    from yorisoi.settings import get_settings

    data_dir = tmp_path_factory.mktemp("town")
    get_settings.cache_clear()
    try:
        env = {"YORISOI_DATA_DIR": str(data_dir), "YORISOI_CLI__SINGLE_OPERATOR": "true"}
        _build_town(Cli(CliRunner(env=env)))
    finally:
        get_settings.cache_clear()
    return data_dir / "yorisoi.db"


@pytest.fixture(name="town")
def town_fixture(cli: Cli, town_template: Path) -> Cli:
    """A fresh copy of the town's database in this test's data directory."""
    from yorisoi.settings import get_settings

    data_dir = get_settings().data_dir
    data_dir.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(town_template, data_dir / "yorisoi.db")
    return cli


def open_case(cli: Cli, *extra: str, on: str = "2025-06-02", actor: str | None = "tanaka") -> str:
    """Open a case (R7-… for June 2025) and return its number."""
    fired = cli.json(
        "case", "open", "--name", "山田 太郎", "--kana", "ヤマダ タロウ", "--address", "山口市亀山町2-1",
        "--desk", DESK, "--referrer", "family", "--method", "phone",
        "--topic", "hikikomori_school_refusal", "--topic", "income", "--on", on, *extra,
        actor=actor,
    )  # fmt: skip
    return str(fired["case"])


def to_multilayer(cli: Cli, number: str, *, on: str = "2025-06-20") -> int:
    """Assess, record consent for the three agencies, hold a 重層的支援会議; return its id."""
    cli("case", "assess", number, actor="tanaka")
    cli("consent", "give", number, "--agency", ELDERLY, "--agency", POVERTY, "--agency", DISABILITY,
        "--on", "2025-06-10", actor="tanaka")  # fmt: skip
    held = cli.json(
        "meeting", "hold", number, "--kind", "multilayer", "--on", on,
        "--attendee", f"高橋@{ELDERLY}", "--attendee", f"渡辺@{POVERTY}", actor="tanaka",
    )  # fmt: skip
    return int(held["meeting_id"])


def to_monitoring(cli: Cli, number: str) -> int:
    """Walk a case to 支援・モニタリング: plan drafted by tanaka, approved by sato."""
    meeting = to_multilayer(cli, number)
    cli("plan", "draft", number, "--goal", "ひきこもり=週1回外出できる", "--role", f"{ELDERLY}=母の介護調整",
        "--role", f"{POVERTY}=家計相談", "--lead", POVERTY, "--interval-days", "30", "--on", "2025-06-20",
        actor="tanaka")  # fmt: skip
    cli("plan", "approve", number, "--meeting", str(meeting), "--on", "2025-06-25", actor="sato")
    return meeting
