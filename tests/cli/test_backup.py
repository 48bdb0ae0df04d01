"""`yorisoi backup` while a writer loop runs, then `yorisoi restore` into a new database whose
`audit verify` is OK — on SQLite (the online backup API) and PostgreSQL (pg_dump/pg_restore)."""

from __future__ import annotations

import json
import shutil
import threading
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlmodel import Session, func, select

from models import Case
from models.db import create_db_engine, migrate, session_scope
from states import default_machine
from tests.cli.conftest import Cli
from tests.conftest import _PG_SKIP_REASON, POSTGRES_URL
from tests.factories import World, build_world, fire, open_case
from yorisoi.settings import get_settings


class Writer:
    """Opens cases and records steps on them in a loop, each a committed transaction, until stopped."""

    def __init__(self, url: str, world_ids: World) -> None:
        self.url = url
        self.world = world_ids
        self.done = 0
        self.stop = threading.Event()
        self.progress = threading.Condition()
        self.error: BaseException | None = None
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        engine = create_db_engine(self.url)
        machine = default_machine()
        try:
            with session_scope(engine) as session:
                while not self.stop.is_set():
                    opened = open_case(session, self.world, machine)
                    fire(
                        session,
                        machine,
                        opened.case_id,
                        "start_assessment",
                        self.world.coordinator,
                        note="面談",
                    )
                    with self.progress:
                        self.done += 1
                        self.progress.notify_all()
        except BaseException as exc:  # reported by the test
            self.error = exc
        finally:
            engine.dispose()

    def wait_for(self, count: int) -> None:
        with self.progress:
            assert self.progress.wait_for(lambda: self.done >= count or self.error is not None, timeout=120)
        assert self.error is None, self.error


def _cases(url: str) -> int:
    engine = create_db_engine(url)
    try:
        with Session(engine) as session:
            return int(session.exec(select(func.count()).select_from(Case)).one())
    finally:
        engine.dispose()


def _backup_while_writing(cli: Cli, url: str, target: Path) -> tuple[int, int]:
    """Build a world on `url`, back it up while the writer loop runs; (cases before, cases after)."""
    engine = create_db_engine(url)
    migrate(engine)
    with Session(engine, expire_on_commit=False) as session:
        world = build_world(session)
    engine.dispose()
    writer = Writer(url, world)
    writer.thread.start()
    try:
        writer.wait_for(5)
        before = writer.done
        shown = cli.json("backup", str(target))
        writer.wait_for(writer.done + 5)  # it kept writing past the backup
    finally:
        writer.stop.set()
        writer.thread.join(60)
    assert writer.error is None, writer.error
    assert shown["backup"] == str(target) and shown["bytes"] > 0
    return before, writer.done


def test_sqlite_backup_while_writing_restores_to_a_verified_database(
    cli: Cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = f"sqlite:///{get_settings().data_dir / 'yorisoi.db'}"
    get_settings().data_dir.mkdir(parents=True)
    target = tmp_path / "backups" / "yorisoi-backup.db"
    before, after = _backup_while_writing(cli, url, target)
    assert target.stat().st_mode & 0o777 == 0o600
    assert cli.json("backup", str(target), ok=False)["code"] == "invalid_input"  # never overwritten

    monkeypatch.setenv("YORISOI_DATA_DIR", str(tmp_path / "restored"))
    get_settings.cache_clear()
    assert cli.json("restore", str(target), ok=False)["code"] == "invalid_input"  # needs --yes
    restored = cli("restore", str(target), "--yes").stdout
    assert "復元しました" in restored and "監査記録と各記録に問題はありません" in restored
    verified = cli.json("audit", "verify")
    copied = _cases(f"sqlite:///{tmp_path / 'restored' / 'yorisoi.db'}")
    assert verified["ok"] is True and verified["problems"] == []
    assert before <= copied <= after + 1 and verified["cases"] == copied


def test_restore_refuses_a_file_that_is_not_a_yorisoi_database(cli: Cli, tmp_path: Path) -> None:
    junk = tmp_path / "junk.db"
    junk.write_bytes(b"not a database at all" * 100)
    failed = cli.json("restore", str(junk), "--yes", ok=False)
    assert failed["code"] == "invalid_input" and "not a SQLite database" in failed["message_en"]
    assert not (get_settings().data_dir / "yorisoi.db").exists()


@pytest.fixture(name="two_databases")
def two_databases_fixture() -> Iterator[tuple[str, str]]:
    if _PG_SKIP_REASON:
        pytest.skip(_PG_SKIP_REASON)
    if shutil.which("pg_dump") is None or shutil.which("pg_restore") is None:
        pytest.skip("pg_dump/pg_restore not installed (apt-get install postgresql-client)")
    names = [f"yorisoi_backup_{uuid.uuid4().hex[:10]}" for _ in range(2)]
    admin = sa.create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
    base = sa.engine.make_url(POSTGRES_URL)
    with admin.connect() as connection:
        for name in names:
            connection.exec_driver_sql(f'CREATE DATABASE "{name}"')
    try:
        yield (
            base.set(database=names[0]).render_as_string(hide_password=False),
            base.set(database=names[1]).render_as_string(hide_password=False),
        )
    finally:
        with admin.connect() as connection:
            for name in names:
                connection.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()


@pytest.mark.postgres
def test_postgres_backup_while_writing_restores_to_a_verified_database(
    cli: Cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, two_databases: tuple[str, str]
) -> None:
    live, empty = two_databases
    monkeypatch.setenv("YORISOI_DATABASE__URL", live)
    get_settings.cache_clear()
    target = tmp_path / "yorisoi.dump"
    before, after = _backup_while_writing(cli, live, target)

    monkeypatch.setenv("YORISOI_DATABASE__URL", empty)
    get_settings.cache_clear()
    restored = cli("restore", str(target), "--yes").stdout
    assert "監査記録と各記録に問題はありません" in restored
    verified = json.loads(cli("--json", "audit", "verify").stdout)
    assert verified["ok"] is True and before <= verified["cases"] <= after + 1
