"""The Alembic migrations build exactly the schema the models describe, on both databases."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Engine, inspect
from sqlmodel import SQLModel

from models.db import create_db_engine, current_revision, migrate
from models.search import include_name
from tests.conftest import _PG_SKIP_REASON, POSTGRES_URL, drop_postgres_schema


@pytest.fixture(
    name="empty_engine", params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]
)
def empty_engine_fixture(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    if request.param == "sqlite":
        engine = create_db_engine(f"sqlite:///{tmp_path / 'migrated.db'}")
        yield engine
        engine.dispose()
        return
    if _PG_SKIP_REASON:
        pytest.skip(_PG_SKIP_REASON)
    import uuid

    import sqlalchemy as sa

    schema = f"m_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(POSTGRES_URL)
    with admin.begin() as conn:
        conn.exec_driver_sql(f'CREATE SCHEMA "{schema}"')
    admin.dispose()
    engine = create_db_engine(POSTGRES_URL, connect_args={"options": f"-csearch_path={schema}"})
    yield engine
    drop_postgres_schema(engine, schema)


def test_migrate_builds_the_models_schema(empty_engine: Engine) -> None:
    migrate(empty_engine)
    assert current_revision(empty_engine) is not None
    with empty_engine.connect() as connection:
        # The search index (FTS5 virtual table, GIN trigram indexes) is not SQLModel metadata.
        opts = {"compare_type": True, "include_name": include_name}
        context = MigrationContext.configure(connection, opts=opts)
        differences = compare_metadata(context, SQLModel.metadata)
    assert differences == []
    assert set(inspect(empty_engine).get_table_names()) >= set(SQLModel.metadata.tables)


def test_migrate_twice_changes_nothing(empty_engine: Engine) -> None:
    migrate(empty_engine)
    first = current_revision(empty_engine)
    migrate(empty_engine)
    assert current_revision(empty_engine) == first
