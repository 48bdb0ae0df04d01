"""Engines and sessions: a SQLite file by default (WAL), PostgreSQL for several users.

On SQLite every transaction starts with BEGIN IMMEDIATE: a writer takes the write lock
before it reads, so two writers never deadlock upgrading a read lock (they queue on
busy_timeout instead). Reads that write nothing (reports, lists, verification, every GET of
the web app) use `read_only(engine)`, whose transactions start with a plain BEGIN: in WAL
mode they read a snapshot, never wait for a writer and never make one wait. A small write
that must not wait either (the web app's access log) uses `no_wait(engine)`: its BEGIN
IMMEDIATE fails at once with "database is locked" instead of queueing, and the caller
decides what to do (queue the rows for later).
"""

from __future__ import annotations

import datetime as dt
import functools
import json
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from importlib import resources
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.exc import DBAPIError
from sqlmodel import Session

import models  # noqa: F401 - registers every table on SQLModel.metadata

SQLITE_BUSY_TIMEOUT_MS = 30_000
READ_ONLY = "yorisoi_read_only"
NO_WAIT = "yorisoi_no_wait"


def sqlite_url(path: Path) -> str:
    return f"sqlite:///{path}"


def _jsonable(value: Any) -> Any:
    if isinstance(value, dt.date):
        return value.isoformat()
    raise TypeError(f"a JSON column cannot hold a value of type {type(value).__name__}")


json_dumps = functools.partial(json.dumps, default=_jsonable, ensure_ascii=False)
"""How JSON columns (payloads, roles) are written: dates as ISO text, Japanese as it is."""


def create_db_engine(url: str, **kwargs: Any) -> Engine:
    """An engine for `url` with the connection settings yorisoi relies on."""
    kwargs.setdefault("json_serializer", json_dumps)
    if url.startswith("sqlite"):
        engine = create_engine(
            url,
            connect_args={"check_same_thread": False, "timeout": SQLITE_BUSY_TIMEOUT_MS / 1000},
            **kwargs,
        )
        event.listen(engine, "connect", _sqlite_on_connect)
        event.listen(engine, "begin", _sqlite_begin_immediate)
        return engine
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
    return create_engine(url, pool_pre_ping=True, **kwargs)


SQLITE_PRAGMAS = (
    "PRAGMA journal_mode=WAL",
    "PRAGMA synchronous=NORMAL",
    "PRAGMA foreign_keys=ON",
    f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}",
    # Checkpoint every ~40 MB of WAL instead of ~4 MB: every action rewrites the same few
    # index pages, and a rarer checkpoint writes each of them back (and fsyncs) once instead
    # of ten times. Costs up to ~40 MB of WAL file and a longer pause at each checkpoint.
    "PRAGMA wal_autocheckpoint=10000",
)
"""Run on every new SQLite connection (bench/transitions.py gives its baseline the same)."""


def _sqlite_on_connect(dbapi_connection: Any, _record: Any) -> None:
    # Let SQLAlchemy's "begin" event issue BEGIN; pysqlite's own would be deferred.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    for pragma in SQLITE_PRAGMAS:
        cursor.execute(pragma)
    cursor.close()


def _sqlite_begin_immediate(connection: Connection) -> None:
    # Straight to the driver: this runs once per transaction, and SQLAlchemy's statement
    # machinery around one fixed statement cost more than the statement. Errors (e.g. the
    # database stayed locked past busy_timeout) are raised as SQLAlchemy's, as before.
    options = connection.get_execution_options()
    statement = "BEGIN" if options.get(READ_ONLY) else "BEGIN IMMEDIATE"
    driver = connection.connection.driver_connection
    try:
        if options.get(NO_WAIT):
            # Only the BEGIN must not wait: once it holds the write lock, nothing else does.
            driver.execute("PRAGMA busy_timeout=0")  # type: ignore[union-attr]
            try:
                driver.execute(statement)  # type: ignore[union-attr]
            finally:
                driver.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")  # type: ignore[union-attr]
        else:
            driver.execute(statement)  # type: ignore[union-attr]
    except sqlite3.Error as exc:
        raise DBAPIError.instance(statement, (), exc, sqlite3.Error, dialect=connection.dialect) from exc


def read_only(engine: Engine) -> Engine:
    """The same engine for reading only: on SQLite its transactions do not take the write lock."""
    return engine.execution_options(**{READ_ONLY: True})


def no_wait(engine: Engine) -> Engine:
    """The same engine for a write that must not queue: on SQLite, BEGIN fails at once when another
    connection holds the write lock (OperationalError "database is locked"). Elsewhere a no-op."""
    return engine.execution_options(**{NO_WAIT: True})


@contextmanager
def session_scope(engine: Engine) -> Iterator[Session]:
    """A session whose objects stay readable after commit, on one connection for its life.

    Its transactions begin and commit on that connection instead of taking one from the pool
    and returning it each time, which costs more than a small transaction's SQL on SQLite.
    "control_fully": whatever transaction the connection is in is the session's to commit.
    """
    with (
        engine.connect() as connection,
        Session(bind=connection, expire_on_commit=False, join_transaction_mode="control_fully") as session,
    ):
        yield session


def connection(session: Session) -> Connection:
    """The connection of the session's transaction, after flushing pending ORM changes.

    Core statements run on it take part in the session's transaction; the flush keeps the
    order the ORM would use (its own statements autoflush) and returns at once when nothing
    is pending.
    """
    if session.autoflush:
        session.flush()
    return session.connection()


def engine_of(session: Session) -> Engine:
    """The engine behind a session, whether it was bound to an engine or to a connection."""
    return session.get_bind().engine


def migrate(engine: Engine, revision: str = "head") -> None:
    """Bring the schema to `revision` with Alembic (creates it on an empty database)."""
    from alembic import command
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(resources.files("models").joinpath("migrations")))
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, revision)


def current_revision(engine: Engine) -> str | None:
    from alembic.runtime.migration import MigrationContext

    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()
