"""The search index over cases (case number, the person's name and kana, partial match), and
the tally of cases per stage and coordinator that the board counts from.

SQLite: an FTS5 table `case_search` with the trigram tokenizer (substring match for Japanese,
which has no spaces between words), one row per case (rowid = case.id). PostgreSQL: pg_trgm
GIN indexes on the very expressions the search compares, on `person` and `case` themselves.

Kept in sync by triggers in the database (the search index on SQLite, the tally on both), or
by being indexes (PostgreSQL): every writer — the case service, `yorisoi import`, a 訂正 of the
details, a bulk loader, a hand-run UPDATE — keeps them right without a code path to forget.

What is indexed is the number, the name and the kana with their spaces removed (someone typing
「山田太郎」 must find 「山田 太郎」). Never the address: a DV-protected household's address
must not be findable, and no other field is searched.

These objects are not SQLModel tables (FTS5 is a virtual table with shadow tables, the GIN
indexes use an operator class from an extension): `install` creates them, called by migration
0006 and by `SQLModel.metadata.create_all` (an `after_create` listener), and
`is_search_object` tells the Alembic comparison to leave them out.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy import Connection, event
from sqlmodel import Field, SQLModel


class CaseStageTally(SQLModel, table=True):
    """How many cases each (stage, coordinator) holds — the board's column counts without
    counting a million rows. Kept by triggers on "case" (`install`), like the search index; a
    case without a coordinator counts under `coordinator_key` 0."""

    __tablename__ = "case_stage_tally"

    stage: str = Field(primary_key=True, max_length=64)
    coordinator_key: int = Field(primary_key=True)
    n: int = 0


SEARCH_PREFIX = "case_search"
"""Every object of the search index is named with this prefix (FTS5 adds its shadow tables
`case_search_data`, `_idx`, `_content`, `_docsize`, `_config` under it)."""

FTS_TABLE = "case_search"

# Raw SQL: neither SQLAlchemy nor Alembic can express FTS5 virtual tables, triggers or a GIN
# index with an extension's operator class.
_SPACELESS = "replace(replace({0}, ' ', ''), '　', '')"

_SQLITE_DDL = (
    f"CREATE VIRTUAL TABLE IF NOT EXISTS {FTS_TABLE} USING fts5(number, name, kana, tokenize='trigram')",
    f"""CREATE TRIGGER IF NOT EXISTS {SEARCH_PREFIX}_case_insert AFTER INSERT ON "case" BEGIN
  INSERT INTO {FTS_TABLE}(rowid, number, name, kana)
  SELECT new.id, new.number, {_SPACELESS.format("p.name")}, {_SPACELESS.format("p.kana")}
  FROM person AS p WHERE p.id = new.person_id;
END""",
    f"""CREATE TRIGGER IF NOT EXISTS {SEARCH_PREFIX}_case_update AFTER UPDATE OF number, person_id ON "case"
BEGIN
  DELETE FROM {FTS_TABLE} WHERE rowid = old.id;
  INSERT INTO {FTS_TABLE}(rowid, number, name, kana)
  SELECT new.id, new.number, {_SPACELESS.format("p.name")}, {_SPACELESS.format("p.kana")}
  FROM person AS p WHERE p.id = new.person_id;
END""",
    f"""CREATE TRIGGER IF NOT EXISTS {SEARCH_PREFIX}_case_delete AFTER DELETE ON "case" BEGIN
  DELETE FROM {FTS_TABLE} WHERE rowid = old.id;
END""",
    f"""CREATE TRIGGER IF NOT EXISTS {SEARCH_PREFIX}_person_update AFTER UPDATE OF name, kana ON person
BEGIN
  UPDATE {FTS_TABLE} SET name = {_SPACELESS.format("new.name")}, kana = {_SPACELESS.format("new.kana")}
  WHERE rowid IN (SELECT id FROM "case" WHERE person_id = new.id);
END""",
)

_TALLY_UP = """INSERT INTO case_stage_tally(stage, coordinator_key, n)
  VALUES (new.stage, coalesce(new.coordinator_id, 0), 1)
  ON CONFLICT(stage, coordinator_key) DO UPDATE SET n = n + 1;"""
_TALLY_DOWN = """UPDATE case_stage_tally SET n = n - 1
  WHERE stage = old.stage AND coordinator_key = coalesce(old.coordinator_id, 0);"""

_SQLITE_TALLY = (
    f"""CREATE TRIGGER IF NOT EXISTS case_tally_insert AFTER INSERT ON "case" BEGIN
  {_TALLY_UP}
END""",
    f"""CREATE TRIGGER IF NOT EXISTS case_tally_update AFTER UPDATE OF stage, coordinator_id ON "case"
WHEN old.stage IS NOT new.stage OR old.coordinator_id IS NOT new.coordinator_id BEGIN
  {_TALLY_DOWN}
  {_TALLY_UP}
END""",
    f"""CREATE TRIGGER IF NOT EXISTS case_tally_delete AFTER DELETE ON "case" BEGIN
  {_TALLY_DOWN}
END""",
)

_PG_TALLY = (
    f"""CREATE OR REPLACE FUNCTION case_tally_sync() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP IN ('UPDATE', 'DELETE') THEN
    {_TALLY_DOWN.replace("old.", "OLD.")}
  END IF;
  IF TG_OP IN ('INSERT', 'UPDATE') THEN
    {_TALLY_UP.replace("new.", "NEW.").replace("SET n = n + 1", "SET n = case_stage_tally.n + 1")}
  END IF;
  RETURN NULL;
END $$""",
    """CREATE OR REPLACE TRIGGER case_tally_sync
  AFTER INSERT OR DELETE OR UPDATE OF stage, coordinator_id ON "case"
  FOR EACH ROW EXECUTE FUNCTION case_tally_sync()""",
)

_TALLY_FILL = (
    "DELETE FROM case_stage_tally",
    """INSERT INTO case_stage_tally(stage, coordinator_key, n)
  SELECT stage, coalesce(coordinator_id, 0), count(*) FROM "case"
  GROUP BY stage, coalesce(coordinator_id, 0)""",
)

_SQLITE_FILL = f"""INSERT INTO {FTS_TABLE}(rowid, number, name, kana)
SELECT c.id, c.number, {_SPACELESS.format("p.name")}, {_SPACELESS.format("p.kana")}
FROM "case" AS c JOIN person AS p ON p.id = c.person_id"""

_SQLITE_DROP = (
    "DROP TRIGGER IF EXISTS case_tally_delete",
    "DROP TRIGGER IF EXISTS case_tally_update",
    "DROP TRIGGER IF EXISTS case_tally_insert",
    f"DROP TRIGGER IF EXISTS {SEARCH_PREFIX}_person_update",
    f"DROP TRIGGER IF EXISTS {SEARCH_PREFIX}_case_delete",
    f"DROP TRIGGER IF EXISTS {SEARCH_PREFIX}_case_update",
    f"DROP TRIGGER IF EXISTS {SEARCH_PREFIX}_case_insert",
    f"DROP TABLE IF EXISTS {FTS_TABLE}",
)

PG_INDEXES = {
    f"{SEARCH_PREFIX}_person_name_trgm": ("person", _SPACELESS.format("name")),
    f"{SEARCH_PREFIX}_person_kana_trgm": ("person", _SPACELESS.format("kana")),
    f"{SEARCH_PREFIX}_case_number_trgm": ("case", "number"),
}
"""GIN trigram indexes on PostgreSQL: name → (table, indexed expression)."""


def _trgm_schema(connection: Connection) -> str:
    """The schema pg_trgm lives in, installing it where it is missing (its operator class must
    be named with it when that schema is not on the search path)."""
    found = connection.exec_driver_sql(
        "SELECT extnamespace::regnamespace::text FROM pg_extension WHERE extname = 'pg_trgm'"
    ).scalar()
    if found is None:
        # Two installers at once (two app instances migrating) would both try to create it.
        connection.exec_driver_sql("SELECT pg_advisory_xact_lock(hashtext('yorisoi:pg_trgm'))")
        connection.exec_driver_sql("CREATE EXTENSION IF NOT EXISTS pg_trgm")
        found = connection.exec_driver_sql(
            "SELECT extnamespace::regnamespace::text FROM pg_extension WHERE extname = 'pg_trgm'"
        ).scalar()
    return str(found)


def install(connection: Connection, *, fill: bool = False) -> None:
    """Create the search index for the connection's database (idempotent); with `fill`, index
    the cases already there (a migration over an existing database)."""
    dialect = connection.dialect.name
    if dialect == "sqlite":
        exists = connection.exec_driver_sql(
            "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", (FTS_TABLE,)
        ).first()
        for statement in (*_SQLITE_DDL, *_SQLITE_TALLY):
            connection.exec_driver_sql(statement)
        if fill and exists is None:
            connection.exec_driver_sql(_SQLITE_FILL)
    elif dialect == "postgresql":
        for statement in _PG_TALLY:
            connection.exec_driver_sql(statement)
        schema = _trgm_schema(connection)
        for name, (table, expression) in PG_INDEXES.items():
            opclass = f'"{schema}".gin_trgm_ops'
            connection.exec_driver_sql(
                f'CREATE INDEX IF NOT EXISTS {name} ON "{table}" USING gin (({expression}) {opclass})'
            )
    if fill and dialect in {"sqlite", "postgresql"}:
        for statement in _TALLY_FILL:  # recounted from scratch: right whatever was there
            connection.exec_driver_sql(statement)


def uninstall(connection: Connection) -> None:
    """Drop the search index (the migration's downgrade)."""
    if connection.dialect.name == "sqlite":
        for statement in _SQLITE_DROP:
            connection.exec_driver_sql(statement)
    elif connection.dialect.name == "postgresql":
        connection.exec_driver_sql('DROP TRIGGER IF EXISTS case_tally_sync ON "case"')
        connection.exec_driver_sql("DROP FUNCTION IF EXISTS case_tally_sync()")
        for name in PG_INDEXES:
            connection.exec_driver_sql(f"DROP INDEX IF EXISTS {name}")


def is_search_object(name: str | None, type_: str, parent_names: Any = None) -> bool:
    """Whether a reflected table or index belongs to the search index (not in the metadata)."""
    return type_ in {"table", "index"} and name is not None and name.startswith(SEARCH_PREFIX)


def include_name(name: str | None, type_: str, parent_names: Any) -> bool:
    """Alembic's `include_name` hook: compare everything but the search index."""
    return not is_search_object(name, type_, parent_names)


@event.listens_for(SQLModel.metadata, "after_create")
def _after_create(target: sa.MetaData, connection: Connection, **_: Any) -> None:
    # create_all (tests, tools) builds the same database a migration does, search index included.
    if {"case", "person", "case_stage_tally"} <= set(target.tables):
        install(connection, fill=True)
