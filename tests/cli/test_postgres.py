"""The same CLI on PostgreSQL: init twice, a case through a 支援会議, a clean audit."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
import sqlalchemy as sa

from tests.cli.conftest import DESK, ELDERLY, Cli
from tests.conftest import _PG_SKIP_REASON, POSTGRES_URL
from yorisoi.settings import get_settings

pytestmark = pytest.mark.postgres


@pytest.fixture(name="pg_cli")
def pg_cli_fixture(cli: Cli, monkeypatch: pytest.MonkeyPatch) -> Iterator[Cli]:
    if _PG_SKIP_REASON:
        pytest.skip(_PG_SKIP_REASON)
    schema = f"cli_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(POSTGRES_URL)
    with admin.begin() as connection:
        connection.exec_driver_sql(f'CREATE SCHEMA "{schema}"')
    monkeypatch.setenv("YORISOI_DATABASE__URL", f"{POSTGRES_URL}?options=-csearch_path%3D{schema}")
    get_settings.cache_clear()
    yield cli
    get_settings.cache_clear()
    with admin.begin() as connection:
        connection.exec_driver_sql(f'DROP SCHEMA "{schema}" CASCADE')
    admin.dispose()


def test_cli_walks_a_case_on_postgresql(pg_cli: Cli) -> None:
    created = pg_cli.json("init", "--admin", "admin", "--password-stdin", input="the admin passphrase\n")
    assert created["created"] is True and created["admin"] == "admin"
    assert pg_cli.json("init")["created"] is False
    pg_cli("agency", "add", DESK, "--field", "community", "--desk", actor="admin")
    pg_cli("agency", "add", ELDERLY, "--field", "elderly", actor="admin")
    pg_cli("staff", "add", "tanaka", "--name", "田中 花子", "--role", "coordinator", actor="admin")
    opened = pg_cli.json(
        "case", "open", "--name", "山田 太郎", "--desk", DESK, "--referrer", "self", "--method", "phone",
        "--topic", "income", "--address", "山口市亀山町2-1", "--dv-protected", "--on", "2025-06-02",
        actor="tanaka",
    )  # fmt: skip
    number = opened["case"]
    pg_cli("case", "assess", number, actor="tanaka")
    pg_cli("meeting", "hold", number, "--kind", "support", "--attendee", f"高橋@{ELDERLY}!", actor="tanaka")
    shown = pg_cli.json("case", "show", number)
    assert (shown["case"]["stage"], shown["case"]["version"]) == ("support_meeting", 3)
    assert "亀山町" not in str(shown)
    verified = pg_cli.json("audit", "verify")
    assert (verified["ok"], verified["cases"], verified["events"], verified["problems"]) == (True, 1, 3, [])
