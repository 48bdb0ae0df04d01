"""Shared fixtures: a fresh database per test, on SQLite and on PostgreSQL.

PostgreSQL comes from YORISOI_TEST_POSTGRES_URL (default: 127.0.0.1:5432, database `test`,
trust auth); each test gets its own schema, dropped afterwards. Where no server answers, the
PostgreSQL variants are skipped with a notice in the summary (`-ra`).
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from hypothesis import settings as hypothesis_settings
from sqlalchemy import Engine
from sqlmodel import Session, SQLModel

from models.db import create_db_engine, session_scope
from states import LifecycleMachine, default_machine
from tests.factories import World, build_world

# Property and fuzz tests draw the same examples on every run ("ci", the default), so a red run is
# a real defect; `pytest --hypothesis-profile=explore` draws new ones and remembers failures.
hypothesis_settings.register_profile("ci", derandomize=True, database=None, print_blob=True)
hypothesis_settings.register_profile("explore", derandomize=False, max_examples=200)
hypothesis_settings.load_profile("ci")

POSTGRES_URL = os.environ.get(
    "YORISOI_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)


def _postgres_unreachable() -> str | None:
    try:
        probe = sa.create_engine(POSTGRES_URL, connect_args={"connect_timeout": 3})
        with probe.connect():
            pass
        probe.dispose()
    except Exception as exc:  # any failure means: skip, and say why
        return f"PostgreSQL not reachable at {POSTGRES_URL}: {type(exc).__name__}"
    return None


_PG_SKIP_REASON = _postgres_unreachable()


@pytest.fixture(autouse=True)
def _isolated_settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Every test gets its own data directory and freshly read settings."""
    from yorisoi.settings import get_settings

    monkeypatch.setenv("YORISOI_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))  # `yorisoi login` keeps its token there
    for name in list(os.environ):
        if name.startswith("YORISOI_") and name not in {"YORISOI_DATA_DIR", "YORISOI_TEST_POSTGRES_URL"}:
            monkeypatch.delenv(name)
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


def sqlite_engine(path: Path) -> Engine:
    engine = create_db_engine(f"sqlite:///{path}")
    SQLModel.metadata.create_all(engine)
    return engine


def postgres_engine() -> tuple[Engine, str]:
    """A PostgreSQL engine bound to a new, empty schema."""
    schema = f"t_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(POSTGRES_URL)
    with admin.begin() as conn:
        conn.exec_driver_sql(f'CREATE SCHEMA "{schema}"')
        # pg_trgm once for the database, in public: created by the first install into a test's
        # own schema, it would go with that schema (and the other workers' indexes using it).
        conn.exec_driver_sql("SELECT pg_advisory_xact_lock(hashtext('yorisoi-tests:pg_trgm'))")
        conn.exec_driver_sql("CREATE EXTENSION IF NOT EXISTS pg_trgm SCHEMA public")
    admin.dispose()
    engine = create_db_engine(POSTGRES_URL, connect_args={"options": f"-csearch_path={schema}"})
    SQLModel.metadata.create_all(engine)
    return engine, schema


def drop_postgres_schema(engine: Engine, schema: str) -> None:
    engine.dispose()
    admin = sa.create_engine(POSTGRES_URL)
    with admin.begin() as conn:
        conn.exec_driver_sql(f'DROP SCHEMA "{schema}" CASCADE')
    admin.dispose()


@pytest.fixture(scope="session")
def _postgres_schema() -> Iterator[Engine]:
    """One schema per test run; each test empties it (far cheaper than a schema per test).

    Ids are not reset between tests: tests use the ids the service returns, never literals.
    """
    if _PG_SKIP_REASON:
        pytest.skip(_PG_SKIP_REASON)
    engine, schema = postgres_engine()
    yield engine
    drop_postgres_schema(engine, schema)


def _emptied(engine: Engine) -> Engine:
    # DELETE, not TRUNCATE: on tables this small it is ~50x faster (no file rewrite per table).
    with engine.begin() as conn:
        for table in reversed(SQLModel.metadata.sorted_tables):
            conn.exec_driver_sql(f'DELETE FROM "{table.name}"')
    return engine


@pytest.fixture(
    name="engine",
    params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)],
)
def engine_fixture(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    if request.param == "sqlite":
        engine = sqlite_engine(tmp_path / "yorisoi.db")
        yield engine
        engine.dispose()
        return
    if _PG_SKIP_REASON:
        pytest.skip(_PG_SKIP_REASON)
    engine = _emptied(request.getfixturevalue("_postgres_schema"))
    yield engine
    engine.dispose()  # close every pooled connection so the next TRUNCATE never waits


@pytest.fixture(name="session")
def session_fixture(engine: Engine) -> Iterator[Session]:
    with session_scope(engine) as session:  # the product's own kind of session
        yield session


@pytest.fixture(scope="session", name="wheel_venv")
def wheel_venv_fixture() -> Iterator[Path]:
    """yorisoi's wheel in a venv of its own, built once per run (tests/wheel.py)."""
    from tests.wheel import installed_wheel

    with installed_wheel() as venv:
        yield venv


@pytest.fixture(name="machine")
def machine_fixture() -> LifecycleMachine:
    return default_machine()


@pytest.fixture(name="world")
def world_fixture(session: Session) -> World:
    return build_world(session)
