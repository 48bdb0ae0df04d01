"""The README's CLI tour runs as written (only the case number depends on today's 年度)."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest

from tests.cli.conftest import Cli
from yorisoi.cli.app import app
from yorisoi.jpdates import fiscal_year, fiscal_year_short, today_tokyo

README = (Path(__file__).resolve().parents[2] / "README.md").read_text("utf-8")


def tour_commands() -> list[str]:
    section = README.split("## A short tour of the CLI", 1)[1]
    block = re.findall(r"```sh\n(.*?)```", section, flags=re.S)[0]
    joined = block.replace("\\\n", " ")
    return [line.split("  #")[0].strip() for line in joined.splitlines() if line.strip()]


PASSWORD = "a tour passphrase"


def test_readme_tour_runs_command_by_command(cli: Cli, monkeypatch: pytest.MonkeyPatch) -> None:
    """As written, in the default set-up (no single operator: `yorisoi login`); every password
    prompt is answered with the same passphrase."""
    monkeypatch.delenv("YORISOI_CLI__SINGLE_OPERATOR")
    first_case = f"{fiscal_year_short(fiscal_year(today_tokyo()))}-0001"
    env: dict[str, str] = {}
    outputs = []
    for line in tour_commands():
        if line.startswith("export "):
            name, value = line.removeprefix("export ").split("=", 1)
            env[name] = value
            continue
        argv = shlex.split(line.replace("R7-0001", first_case))
        assert argv[0] == "yorisoi"
        assert "--as" not in argv
        result = cli.runner.invoke(app, argv[1:], env=env, input=f"{PASSWORD}\n{PASSWORD}\n")
        assert result.exit_code == 0, f"{line}\n{result.output}"
        outputs.append(result.stdout)
    assert any(f"{first_case}: 新しいケースを受け付けました" in out for out in outputs)
    assert any("stateDiagram-v2" in out for out in outputs)
    assert any("田中 花子（tanaka）としてログインしました" in out for out in outputs)
    assert "ログアウトしました" in outputs[-1]
