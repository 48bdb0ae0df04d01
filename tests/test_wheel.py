"""A user who never clones the repository: the wheel alone, in a bare venv, runs yorisoi.

The wheel is built with `uv build` and installed with the locked versions as constraints (what
`uv export` writes), so this checks our packaging, not today's releases of our dependencies.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from tests.test_lock import ROOT, _uv


def _run(*args: str | Path, cwd: Path, env: dict[str, str] | None = None) -> str:
    result = subprocess.run(
        [str(a) for a in args], cwd=cwd, capture_output=True, text=True, timeout=600, env=env, check=False
    )
    assert result.returncode == 0, f"{args}: {result.stdout}\n{result.stderr}"
    return result.stdout


@pytest.fixture(scope="module", name="wheel_venv")
def wheel_venv_fixture(tmp_path_factory: pytest.TempPathFactory) -> Path:
    work = tmp_path_factory.mktemp("wheel")
    uv = _uv()
    _run(uv, "build", "--wheel", "--out-dir", work / "dist", cwd=ROOT)
    (wheel,) = (work / "dist").glob("yorisoi-*.whl")
    constraints = work / "constraints.txt"
    exported = _run(uv, "export", "--locked", "--no-dev", "--no-hashes", "--no-emit-project", cwd=ROOT)
    constraints.write_text(exported, encoding="utf-8")
    venv = work / "venv"
    _run(uv, "venv", "--python", "3.11", venv, cwd=work)
    _run(uv, "pip", "install", "--python", venv / "bin" / "python", wheel, "-c", constraints, cwd=work)
    return venv


def test_installed_wheel_answers_help(wheel_venv: Path, tmp_path: Path) -> None:
    out = _run(wheel_venv / "bin" / "yorisoi", "--help", cwd=tmp_path)
    assert "重層的支援体制整備事業" in out


def test_installed_wheel_runs_the_demo(wheel_venv: Path, tmp_path: Path) -> None:
    env = {**os.environ, "YORISOI_DATA_DIR": str(tmp_path / "data"), "COLUMNS": "120"}
    out = _run(wheel_venv / "bin" / "yorisoi", "demo", cwd=tmp_path, env=env)
    assert "届いたリマインダー" in out
    assert (tmp_path / "data" / "demo-notifications.jsonl").exists()
