"""`yorisoi staff set-password` and `yorisoi web` from the command line."""

from __future__ import annotations

import json

from sqlmodel import Session
from typer.testing import CliRunner

from models import Staff
from yorisoi import runtime
from yorisoi.cli.app import app
from yorisoi.service import accounts
from yorisoi.settings import get_settings


def test_set_password_then_sign_in_with_it() -> None:
    runner = CliRunner()
    assert runner.invoke(app, ["init"]).exit_code == 0
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
