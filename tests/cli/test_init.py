"""`yorisoi init`: creates the data directory and the schema, and can run again."""

from __future__ import annotations

from pathlib import Path

from tests.cli.conftest import Cli
from yorisoi.settings import get_settings


def test_init_creates_the_database_where_it_says(cli: Cli) -> None:
    path = get_settings().data_dir / "yorisoi.db"
    assert not path.exists()
    result = cli("init")
    assert path.exists()
    assert result.stdout.startswith(f"データベースを作成しました: {path}")


def test_init_twice_keeps_the_data(cli: Cli) -> None:
    cli("init", "--admin", "admin", "--password-stdin", input="the admin passphrase\n")
    cli("agency", "add", "相談室", "--field", "community", "--desk", actor="admin")
    shown = cli.json("init")
    assert shown["created"] is False and Path(shown["database"]).name == "yorisoi.db"
    assert [a["name"] for a in cli.json("agency", "list")] == ["相談室"]
