"""`yorisoi login`/`logout`, `--as` only for a single trusted operator, the directory's log."""

from __future__ import annotations

import json
import stat

import pytest
from sqlmodel import Session, col, select

from models import AuthSession, DirectoryEvent
from tests.cli.conftest import ADMIN_PASSWORD, DESK, Cli, open_case
from yorisoi import runtime
from yorisoi.settings import get_settings

PASSWORD = "tanaka's passphrase"


@pytest.fixture(name="office")
def office_fixture(town: Cli, monkeypatch: pytest.MonkeyPatch) -> Cli:
    """The town, with tanaka's password, in the default set-up (no single operator)."""
    town("staff", "set-password", "tanaka", "--password-stdin", actor="admin", input=f"{PASSWORD}\n")
    monkeypatch.delenv("YORISOI_CLI__SINGLE_OPERATOR")
    get_settings.cache_clear()
    return town


def _login(cli: Cli, login: str, password: str, ok: bool = True):
    return cli("login", login, "--password-stdin", input=f"{password}\n", ok=ok)


def test_as_is_refused_unless_single_operator(office: Cli) -> None:
    refused = office.json("case", "open", "--name", "x", "--desk", DESK, "--referrer", "self", "--method",
                          "phone", "--topic", "income", actor="tanaka", ok=False)  # fmt: skip
    assert refused["code"] == "actor_required" and "SINGLE_OPERATOR" in refused["message_en"]
    nobody = office.json("agency", "add", "新しい機関", "--field", "other", ok=False)
    assert nobody["code"] == "actor_required" and "yorisoi login" in nobody["message_en"]


def test_login_keeps_a_0600_token_and_logout_ends_it_on_the_server(office: Cli) -> None:
    _login(office, "tanaka", PASSWORD)
    path = get_settings().cli.credentials_file()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    copied = path.read_text("utf-8")
    number = open_case(office, actor=None)  # acts as tanaka, from the token
    assert office.json("case", "show", number)["timeline"][0]["actor_login"] == "tanaka"
    assert "ログアウトしました" in office("logout").stdout
    path.write_text(copied, "utf-8")  # a copy of the token kept from before the sign-out
    failed = office.json("case", "assess", number, ok=False)
    assert failed["code"] == "actor_required" and "expired or was ended" in failed["message_en"]


def test_wrong_password_is_refused_and_throttled(office: Cli) -> None:
    for _ in range(5):
        wrong = _login(office, "tanaka", "not the password", ok=False)
        assert "ログイン名またはパスワードが違います" in wrong.stderr
    throttled = _login(office, "tanaka", PASSWORD, ok=False)
    assert "待ってから" in throttled.stderr
    assert not get_settings().cli.credentials_file().exists()


def test_directory_changes_need_a_supervisor_or_administrator_and_are_logged(office: Cli) -> None:
    _login(office, "tanaka", PASSWORD)
    refused = office.json("staff", "add", "evil", "--name", "x", "--role", "supervisor", ok=False)
    assert refused["code"] == "permission_denied"
    assert office.json("agency", "add", "X", "--field", "other", ok=False)["code"] == "permission_denied"
    _login(office, "admin", ADMIN_PASSWORD)
    office("staff", "add", "yamada", "--name", "山田", "--role", "coordinator")
    office("staff", "deactivate", "yamada")
    engine = runtime.engine(get_settings())
    try:
        with Session(engine) as session:
            events = session.exec(select(DirectoryEvent).order_by(col(DirectoryEvent.id))).all()
    finally:
        engine.dispose()
    logged = [(e.action, e.subject) for e in events]
    assert logged[0] == ("staff_add", "admin") and events[0].actor_id is None  # init --admin
    assert logged[-2:] == [("staff_add", "yamada"), ("staff_deactivate", "yamada")]
    assert {e.actor_id for e in events[1:]} != {None}
    assert ("staff_add", "evil") not in logged


def test_own_password_change_needs_the_current_one_and_ends_sessions(office: Cli) -> None:
    _login(office, "tanaka", PASSWORD)
    wrong = office("staff", "set-password", "tanaka", "--password-stdin",
                   input="guess\nnew passphrase!\n", ok=False)  # fmt: skip
    assert "現在のパスワードが違います" in wrong.stderr
    office("staff", "set-password", "tanaka", "--password-stdin", input=f"{PASSWORD}\nnew passphrase!\n")
    assert office.json("case", "list", "--stage", "intake") is not None  # reads need no sign-in
    assert office.json("agency", "add", "X", "--field", "other", ok=False)["code"] == "actor_required"
    engine = runtime.engine(get_settings())
    try:
        with Session(engine) as session:
            rows = session.exec(select(AuthSession)).all()
    finally:
        engine.dispose()
    assert [r.revoked_why for r in rows] == ["password"]


def test_init_admin_only_on_an_empty_directory(town: Cli) -> None:
    again = town.json("init", "--admin", "root", "--password-stdin", input="a long passphrase\n", ok=False)
    assert again["code"] == "invalid_input" and "already exist" in again["message_en"]


def test_supervisor_unlocks_a_locked_login(office: Cli) -> None:
    for _ in range(5):
        _login(office, "tanaka", "not the password", ok=False)
    _login(office, "admin", ADMIN_PASSWORD)
    held = office.json("staff", "locks")
    assert [(h["kind"], h["key"]) for h in held] == [("login", "tanaka")]
    assert json.loads(office("--json", "staff", "unlock", "tanaka").stdout)["login"] == "tanaka"
    assert office.json("staff", "locks") == []
    _login(office, "tanaka", PASSWORD)


def test_sign_in_log_and_directory_changes_are_listed_for_supervisors_and_auditors(office: Cli) -> None:
    _login(office, "tanaka", "not the password", ok=False)
    _login(office, "tanaka", PASSWORD)
    assert office.json("staff", "sign-ins", ok=False)["code"] == "permission_denied"  # a coordinator
    assert office.json("staff", "changes", ok=False)["code"] == "permission_denied"
    office("staff", "set-password", "ito", "--password-stdin", actor=None, ok=False, input="x\n")
    _login(office, "admin", ADMIN_PASSWORD)
    office("staff", "set-password", "ito", "--password-stdin", input="the auditor's passphrase\n")
    _login(office, "ito", "the auditor's passphrase")
    log = office.json("staff", "sign-ins", "--login", "tanaka")
    assert [r["outcome"] for r in log] == ["ok", "failed"]
    assert log[0]["client"].startswith("cli:") and log[0]["channel"] == "cli"
    changes = office.json("staff", "changes")
    assert (changes[0]["action"], changes[0]["subject"], changes[0]["actor"]) == (
        "password_set",
        "ito",
        "admin",
    )
    assert changes[-1]["actor"] is None and changes[-1]["action"] == "staff_add"  # init --admin
    assert "password_set" in office("staff", "changes").stdout
