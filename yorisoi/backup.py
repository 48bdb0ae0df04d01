"""Backups and restores of the whole database, taken while the web app and the sweeps write.

- **SQLite**: SQLite's online backup API (`sqlite3.Connection.backup`) in one step: it copies
  every page inside one read transaction, so the copy is the database at one moment (in WAL
  mode a reader never blocks the writers, nor they it). The copy is written beside the target
  and moved into place once `PRAGMA integrity_check` says ok; it is readable by its owner only.
  A restore copies a checked backup into the configured database with the same API (it holds
  the write lock while it copies; writers wait, readers see the old or the new database).
- **PostgreSQL**: `pg_dump --format=custom` (one snapshot, consistent while others write) and
  `pg_restore --clean --if-exists --single-transaction`, with the connection from the
  configured URL (the password through PGPASSWORD, never on the command line).

After a restore every sign-in session is ended (a token signed out after the backup would
otherwise work again) and the schema is brought up to date; the command then runs
`audit verify`.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
from pathlib import Path

from sqlalchemy.engine import make_url

from yorisoi.errors import InvalidInput, YorisoiError


class BackupFailed(YorisoiError):
    code = "backup_failed"


def _check(connection: sqlite3.Connection, what: Path) -> None:
    try:
        result = connection.execute("PRAGMA integrity_check").fetchone()
    except sqlite3.DatabaseError as exc:
        raise InvalidInput(
            f"{what} は SQLite のデータベースではありません: {exc}", f"{what} is not a SQLite database: {exc}"
        ) from None
    if result is None or result[0] != "ok":
        raise BackupFailed(
            f"{what} の整合性チェックに失敗しました: {result}", f"{what} failed its integrity check: {result}"
        )
    tables = {row[0] for row in connection.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    if not {"alembic_version", "case", "audit_event"} <= tables:
        raise InvalidInput(
            f"{what} は yorisoi のデータベースではありません。", f"{what} is not a yorisoi database."
        )


def _refuse_existing(target: Path) -> None:
    if target.exists():
        raise InvalidInput(
            f"{target} はすでにあります（上書きしません）。", f"{target} exists already; not overwritten."
        )


def backup_sqlite(database: Path, target: Path) -> int:
    """Copy the live database at `database` to `target` (a new file); its size in bytes."""
    if target.exists():
        raise InvalidInput(
            f"{target} はすでにあります（上書きしません）。",
            f"{target} exists already; it is not overwritten.",
        )
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(f".{target.name}.partial")
    partial.unlink(missing_ok=True)
    source = sqlite3.connect(database, timeout=30)
    try:
        fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        os.close(fd)
        copy = sqlite3.connect(partial)
        try:
            source.backup(copy)  # pages=-1: every page in one step, one consistent snapshot
            copy.execute("PRAGMA journal_mode=DELETE")  # one self-contained file
            _check(copy, target)
        finally:
            copy.close()
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    finally:
        source.close()
    os.replace(partial, target)
    return target.stat().st_size


def restore_sqlite(backup: Path, database: Path) -> None:
    """Replace the database at `database` with the checked backup at `backup`."""
    if not backup.is_file():
        raise InvalidInput(f"バックアップ {backup} がありません。", f"There is no backup at {backup}.")
    source = sqlite3.connect(f"file:{backup}?mode=ro", uri=True)
    try:
        _check(source, backup)
        database.parent.mkdir(parents=True, exist_ok=True)
        target = sqlite3.connect(database, timeout=30)
        try:
            source.backup(target)
        finally:
            target.close()
    finally:
        source.close()


def _libpq(url: str) -> tuple[str, dict[str, str]]:
    """The URL as pg_dump takes it (no driver, no password) and the environment with the password."""
    parsed = make_url(url)
    env = dict(os.environ)
    if parsed.password is not None:
        env["PGPASSWORD"] = str(parsed.password)
    plain = parsed.set(drivername="postgresql", password=None)
    return plain.render_as_string(hide_password=False), env


def _tool(name: str) -> str:
    found = shutil.which(name)
    if found is None:
        raise BackupFailed(
            f"{name} が見つかりません（PostgreSQL のクライアント: apt-get install postgresql-client）。",
            f"{name} not found (the PostgreSQL client tools: apt-get install postgresql-client).",
        )
    return found


def _run(argv: list[str], env: dict[str, str]) -> None:
    done = subprocess.run(argv, env=env, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        detail = (done.stderr or done.stdout).strip().splitlines()[-1:] or ["?"]
        raise BackupFailed(
            f"{Path(argv[0]).name} が失敗しました: {detail[0]}", f"{Path(argv[0]).name} failed: {detail[0]}"
        )


def backup_postgres(url: str, target: Path) -> int:
    if target.exists():
        raise InvalidInput(
            f"{target} はすでにあります（上書きしません）。",
            f"{target} exists already; it is not overwritten.",
        )
    dsn, env = _libpq(url)
    partial = target.with_name(f".{target.name}.partial")
    try:
        _run([_tool("pg_dump"), "--format=custom", "--no-owner", f"--file={partial}", f"--dbname={dsn}"], env)
        os.chmod(partial, 0o600)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    os.replace(partial, target)
    return target.stat().st_size


def restore_postgres(backup: Path, url: str) -> None:
    if not backup.is_file():
        raise InvalidInput(f"バックアップ {backup} がありません。", f"There is no backup at {backup}.")
    dsn, env = _libpq(url)
    _run(
        [
            _tool("pg_restore"),
            "--clean",
            "--if-exists",
            "--no-owner",
            "--single-transaction",
            "--exit-on-error",
            f"--dbname={dsn}",
            str(backup),
        ],
        env,
    )
