"""yorisoi as a user without a checkout has it: the wheel, in a venv of its own.

The wheel is built with `uv build` and installed with the locked versions as constraints (what
`uv export` writes), so the tests that use it check our packaging, not today's releases of
our dependencies. The venv lives outside pytest's private temporary directory and is readable
by every user, and it is made from the system's python3.11 where there is one (a pyenv under
/root is not), so a test may run it as another user (the Prefect worker in
tests/flows/test_server_integration.py does, when the tests run as root).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from tests.test_lock import ROOT, _uv


def run(*args: str | Path, cwd: Path, env: dict[str, str] | None = None, timeout: float = 600) -> str:
    """Run a command; fail the test with its output unless it succeeds."""
    result = subprocess.run(
        [str(a) for a in args], cwd=cwd, capture_output=True, text=True, timeout=timeout, env=env, check=False
    )
    assert result.returncode == 0, f"{args}: {result.stdout}\n{result.stderr}"
    return result.stdout


@contextmanager
def installed_wheel() -> Iterator[Path]:
    """A fresh venv with yorisoi's wheel installed (its root; `bin/yorisoi`, `bin/prefect`)."""
    work = Path(tempfile.mkdtemp(prefix="yorisoi-wheel-"))
    try:
        work.chmod(0o755)  # another user may run what is installed here
        uv = _uv()
        run(uv, "build", "--wheel", "--out-dir", work / "dist", cwd=ROOT)
        (wheel,) = (work / "dist").glob("yorisoi-*.whl")
        constraints = work / "constraints.txt"
        exported = run(uv, "export", "--locked", "--no-dev", "--no-hashes", "--no-emit-project", cwd=ROOT)
        constraints.write_text(exported, encoding="utf-8")
        venv = work / "venv"
        env = {k: v for k, v in os.environ.items() if k != "VIRTUAL_ENV"}
        system = Path("/usr/bin/python3.11")
        run(uv, "venv", "--python", str(system) if system.exists() else "3.11", venv, cwd=work, env=env)
        python = venv / "bin" / "python"
        run(uv, "pip", "install", "--python", python, wheel, "-c", constraints, cwd=work, env=env)
        yield venv
    finally:
        shutil.rmtree(work, ignore_errors=True)


def usable_by_anyone(venv: Path) -> bool:
    """Whether every user can run this venv's interpreter (each directory on its way is searchable)."""
    target = (venv / "bin" / "python").resolve()
    return all(os.stat(p).st_mode & 0o001 for p in target.parents) and bool(os.stat(target).st_mode & 0o001)
