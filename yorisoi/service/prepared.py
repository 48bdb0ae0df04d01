"""Statements for the hot path: compiled once per dialect, run on the session's DBAPI cursor.

Every action runs a handful of small, fixed statements (read the case head, a guard's fact,
update the case, insert the audit event and the outbox message). Through `Session.execute` or
`Connection.execute` each one pays for statement construction, cache-key generation, an
execution context and a result object — several times the cost of the SQL itself. A
`Prepared` statement is built once at import with named bind parameters; per dialect it keeps
the SQL text, the order of its parameters and the column types' bind and result processors
(UTC datetimes, JSON, dates on SQLite), and `execute` hands the SQL to the DBAPI cursor of the
session's connection, inside the session's transaction. DBAPI errors are raised as
SQLAlchemy's (`IntegrityError`, `OperationalError`, …), as `Connection.execute` would.

`insert_row` / `insert_rows` do the same for the rows an action creates (a meeting, a closure
proposal, …), with the model's defaults, instead of SQLModel objects and a flush.

These statements do not appear in SQLAlchemy's echo log or cursor events.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any, cast

from sqlalchemy import Connection, Dialect, Select, Table, bindparam, insert
from sqlalchemy.exc import DBAPIError
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.elements import ClauseElement
from sqlmodel import Session, SQLModel

Processor = Callable[[Any], Any]


@dataclass(frozen=True, slots=True)
class _Compiled:
    sql: str
    names: tuple[str, ...]
    constants: dict[str, Any]  # parameters the statement itself fixes, e.g. LIMIT 1
    bind: tuple[tuple[int, Processor], ...]  # (position, converter) of the parameters that convert
    result: tuple[Processor | None, ...]
    positional: bool


def connection(session: Session) -> Connection:
    """The connection of the session's transaction, after flushing pending ORM changes.

    The flush keeps the order the ORM would use (its statements autoflush); it returns at once
    when nothing is pending.
    """
    if session.autoflush:
        session.flush()
    return session.connection()


class Prepared:
    """A Core statement with named bind parameters, compiled once per dialect."""

    def __init__(self, statement: ClauseElement) -> None:
        self.statement = statement
        self._compiled: dict[Dialect, _Compiled] = {}

    def _compile(self, dialect: Dialect) -> _Compiled:
        compiled = cast(SQLCompiler, self.statement.compile(dialect=dialect))
        if compiled.insert_prefetch or compiled.update_prefetch:
            raise TypeError("prepared statements must name every column they write")
        # Parameters by the name they have in the SQL (anonymous ones, like LIMIT's, get one).
        binds = {name: bind for bind, name in compiled.bind_names.items()}
        names = tuple(compiled.positiontup or () if compiled.positional else binds)
        constants = {name: binds[name].value for name in names if not binds[name].required}
        converters = (binds[name].type.dialect_impl(dialect).bind_processor(dialect) for name in names)
        bind = tuple((index, process) for index, process in enumerate(converters) if process is not None)
        result: tuple[Processor | None, ...] = ()
        if isinstance(self.statement, Select):
            result = tuple(
                column.type.dialect_impl(dialect).result_processor(dialect, None)
                for column in self.statement.selected_columns
            )
        prepared = _Compiled(compiled.string, names, constants, bind, result, compiled.positional)
        self._compiled[dialect] = prepared
        return prepared

    def execute(self, connection: Connection, params: Mapping[str, Any]) -> Any:
        """Run on `connection`'s DBAPI connection; returns the open DBAPI cursor."""
        dialect = connection.dialect
        compiled = self._compiled.get(dialect) or self._compile(dialect)
        return self._run(connection, compiled, params)

    def _run(self, connection: Connection, compiled: _Compiled, params: Mapping[str, Any]) -> Any:
        if compiled.constants:
            params = {**compiled.constants, **params}
        values = [params[name] for name in compiled.names]
        for index, process in compiled.bind:
            values[index] = process(values[index])
        arguments: Sequence[Any] | dict[str, Any] = (
            values if compiled.positional else dict(zip(compiled.names, values, strict=True))
        )
        cursor = connection.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
        try:
            cursor.execute(compiled.sql, arguments)
        except connection.dialect.loaded_dbapi.Error as exc:
            cursor.close()
            raise DBAPIError.instance(
                compiled.sql,
                arguments,
                exc,
                connection.dialect.loaded_dbapi.Error,
                dialect=connection.dialect,
            ) from exc
        return cursor

    def rows(self, session: Session, params: Mapping[str, Any]) -> list[tuple[Any, ...]]:
        """Run a SELECT; its rows, converted by the column types (e.g. dates on SQLite)."""
        conn = connection(session)
        compiled = self._compiled.get(conn.dialect) or self._compile(conn.dialect)
        cursor = self._run(conn, compiled, params)
        fetched = cursor.fetchall()
        cursor.close()
        if not any(compiled.result):
            return [tuple(row) for row in fetched]
        return [
            tuple(v if p is None else p(v) for v, p in zip(row, compiled.result, strict=True))
            for row in fetched
        ]

    def first(self, session: Session, params: Mapping[str, Any]) -> tuple[Any, ...] | None:
        rows = self.rows(session, params)
        return rows[0] if rows else None


def insert_all_columns(
    table: Table, *, return_key: bool = False
) -> tuple[Prepared, Callable[[dict[str, Any]], dict[str, Any]]]:
    """INSERT naming every column but the generated key, and a function completing a row.

    Columns the caller leaves out get their model default (a value, or a function called per
    row), as the ORM would give them; columns without one get NULL. A column the table does
    not have is refused. `return_key`: the INSERT returns the generated key.
    """
    generated = table.autoincrement_column
    columns = [c for c in table.columns if c is not generated and c.server_default is None]
    defaults: dict[str, Callable[[], Any]] = {}
    for column in columns:
        default = column.default
        if default is None:
            defaults[column.name] = lambda: None
        elif default.is_scalar:
            defaults[column.name] = lambda value=default.arg: value  # type: ignore[attr-defined,misc]
        elif default.is_callable:
            defaults[column.name] = lambda make=default.arg: make(None)  # type: ignore[attr-defined,misc]
        else:
            raise TypeError(f"{table.name}.{column.name}: SQL defaults are not supported here")

    def complete(row: dict[str, Any]) -> dict[str, Any]:
        unknown = row.keys() - defaults.keys()
        if unknown:
            raise TypeError(f"{table.name} has no column(s) {sorted(unknown)}")
        for name, make in defaults.items():
            if name not in row:
                row[name] = make()
        return row

    statement = insert(table).values({c.name: bindparam(c.name, type_=c.type) for c in columns})
    if return_key and generated is not None:
        statement = statement.returning(generated)
    else:  # no RETURNING of the new key on PostgreSQL: nobody reads it
        statement = statement.inline()
    return Prepared(statement), complete


# Rows an action only creates (a meeting and its attendees, a closure proposal, …) are written
# with these rather than as SQLModel objects: building the object and flushing it through the
# unit of work cost several times the INSERT itself. Columns left out get the model's
# defaults. The rows never enter the session's identity map; query them if needed as objects.


def insert_row(session: Session, model: type[SQLModel], **values: Any) -> int:
    """Insert one row of `model` in the session's transaction; returns its generated id."""
    cursor = _row_insert(model.__table__).run(session, values)  # type: ignore[attr-defined]
    try:
        (new_id,) = cursor.fetchone()
    finally:
        cursor.close()
    return int(new_id)


def insert_rows(session: Session, model: type[SQLModel], rows: Iterable[Mapping[str, Any]]) -> None:
    """Insert rows of `model` (e.g. a plan's goals) in the session's transaction."""
    insert = _row_insert(model.__table__)  # type: ignore[attr-defined]
    for row in rows:
        insert.run(session, row).close()


class _RowInsert:
    """INSERT of one table's rows, RETURNING the generated id where the table has one."""

    def __init__(self, table: Table) -> None:
        self._statement, self._complete = insert_all_columns(table, return_key=True)

    def run(self, session: Session, values: Mapping[str, Any]) -> Any:
        return self._statement.execute(connection(session), self._complete(dict(values)))


@cache
def _row_insert(table: Table) -> _RowInsert:
    return _RowInsert(table)
