"""`yorisoi staff set-password` and `yorisoi web` from the command line."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from sqlmodel import Session
from typer.testing import CliRunner

from models import Staff
from models.db import current_revision
from yorisoi import runtime
from yorisoi.cli.app import app
from yorisoi.serve import free_port
from yorisoi.service import accounts
from yorisoi.settings import get_settings


def test_set_password_then_sign_in_with_it() -> None:
    runner = CliRunner()
    admin = runner.invoke(
        app, ["init", "--admin", "admin", "--password-stdin"], input="the admin passphrase\n"
    )
    assert admin.exit_code == 0, admin.output
    signed_in = runner.invoke(app, ["login", "admin", "--password-stdin"], input="the admin passphrase\n")
    assert signed_in.exit_code == 0, signed_in.output
    added = runner.invoke(app, ["staff", "add", "tanaka", "--name", "田中 花子", "--role", "coordinator"])
    assert added.exit_code == 0, added.output
    short = runner.invoke(
        app, ["--json", "staff", "set-password", "tanaka", "--password-stdin"], input="short\n"
    )
    assert short.exit_code != 0 and json.loads(short.stdout)["code"] == "invalid_input"
    done = runner.invoke(
        app, ["--json", "staff", "set-password", "tanaka", "--password-stdin"], input="a long passphrase\n"
    )
    assert done.exit_code == 0, done.output
    assert json.loads(done.stdout) == {"login": "tanaka", "password_set": True}
    prompted = runner.invoke(
        app, ["staff", "set-password", "tanaka"], input="another passphrase\nanother passphrase\n"
    )
    assert prompted.exit_code == 0 and "パスワードを設定しました" in prompted.output
    unknown = runner.invoke(
        app, ["staff", "set-password", "nobody", "--password-stdin"], input="a long passphrase\n"
    )
    assert unknown.exit_code != 0

    engine = runtime.engine(get_settings())
    try:
        with Session(engine) as session:
            staff = accounts.authenticate(session, "tanaka", "another passphrase")
            assert (
                isinstance(staff, Staff)
                and staff.password_hash
                and staff.password_hash.startswith("$argon2id$")
            )
    finally:
        engine.dispose()


def test_web_command_is_offered() -> None:
    shown = CliRunner().invoke(app, ["web", "--help"])
    assert shown.exit_code == 0
    assert "--host" in shown.output and "--port" in shown.output


def test_web_with_two_worker_processes_migrates_once_and_serves(tmp_path: Path) -> None:
    """`yorisoi web --workers 2`: the schema is migrated before the workers start, both serve."""
    port = free_port()
    env = {**os.environ, "YORISOI_WEB__SECRET_KEY": "test-secret"}  # the data dir: the autouse fixture
    with (tmp_path / "web.log").open("wb") as log:
        web = subprocess.Popen(
            [str(Path(sys.executable).with_name("yorisoi")), "web", "--port", str(port), "--workers", "2"],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    try:
        answers = [_get(f"http://127.0.0.1:{port}/login", web) for _ in range(6)]
        workers = [
            line
            for line in (tmp_path / "web.log").read_text("utf-8").splitlines()
            if "Started server process" in line
        ]
    finally:
        web.send_signal(signal.SIGTERM)
        web.wait(30)
    assert answers == [200] * 6
    assert len(workers) == 2, (tmp_path / "web.log").read_text("utf-8")
    engine = runtime.engine(get_settings())
    try:
        assert current_revision(engine) is not None
    finally:
        engine.dispose()


def _get(url: str, process: subprocess.Popen[bytes]) -> int:
    deadline = time.monotonic() + 180  # two interpreters starting on a loaded 2-core machine
    while time.monotonic() < deadline and process.poll() is None:
        try:
            with urllib.request.urlopen(url, timeout=5) as answer:
                return int(answer.status)
        except OSError:
            time.sleep(0.2)
    raise AssertionError(f"{url} never answered (exit code {process.poll()})")
