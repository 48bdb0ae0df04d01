"""A user who never clones the repository: the wheel alone, in a bare venv, runs yorisoi.

The venv is the session's `wheel_venv` (tests/wheel.py: built with `uv build`, installed with
the locked versions as constraints), shared with the Prefect worker of
tests/flows/test_server_integration.py.
"""

from __future__ import annotations

import os
from pathlib import Path

from tests.wheel import run


def test_installed_wheel_answers_help(wheel_venv: Path, tmp_path: Path) -> None:
    out = run(wheel_venv / "bin" / "yorisoi", "--help", cwd=tmp_path)
    assert "重層的支援体制整備事業" in out


def test_installed_wheel_runs_the_demo(wheel_venv: Path, tmp_path: Path) -> None:
    env = {**os.environ, "YORISOI_DATA_DIR": str(tmp_path / "data"), "COLUMNS": "120"}
    out = run(wheel_venv / "bin" / "yorisoi", "demo", cwd=tmp_path, env=env)
    assert "届いたリマインダー" in out
    assert (tmp_path / "data" / "demo-notifications.jsonl").exists()
