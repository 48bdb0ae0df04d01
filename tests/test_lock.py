"""uv.lock is the one environment every machine installs: it must agree with pyproject.toml.

`make lint` runs `uv lock --check` before anything else; these tests show the same check here
(for a plain `pytest` run) and that it really refuses a pyproject.toml edited without the lock.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def _uv() -> str:
    found = ROOT / ".tools" / "bin" / "uv"
    if found.exists():
        return str(found)
    on_path = shutil.which("uv")
    if on_path is None:
        pytest.skip("uv not installed (make bootstraps it into .tools/)")
    return on_path


def _lock_check(directory: Path, *, offline: bool = True) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [_uv(), "lock", "--check", *(["--offline"] if offline else [])],
        cwd=directory,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_lock_agrees_with_pyproject() -> None:
    result = _lock_check(ROOT)
    assert result.returncode == 0, result.stderr


def test_lock_check_refuses_a_dependency_changed_without_the_lock(tmp_path: Path) -> None:
    for name in ("pyproject.toml", "uv.lock", ".python-version", "README.md"):
        shutil.copy(ROOT / name, tmp_path / name)
    pyproject = tmp_path / "pyproject.toml"
    text = pyproject.read_text(encoding="utf-8")
    assert '"rich>=13"' in text
    pyproject.write_text(text.replace('"rich>=13"', '"rich>=14"'), encoding="utf-8")

    # A stale lock makes uv resolve again, which needs the index: offline, a fresh uv cache
    # holds only the locked wheels, not the index pages.
    result = _lock_check(tmp_path, offline=False)

    assert result.returncode != 0
    assert "uv lock" in result.stderr  # the message says how to fix it
