"""SQLite transactions: writers queue on the write lock; readers never hold it."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.exc import OperationalError

from models.db import read_only
from tests.conftest import sqlite_engine


def test_read_only_transaction_does_not_block_a_writer(tmp_path: Path) -> None:
    engine = sqlite_engine(tmp_path / "rw.db")
    with read_only(engine).connect() as reader:
        reader.execute(text("SELECT count(*) FROM staff")).scalar_one()
        assert reader.in_transaction()
        # A writer on another connection commits while the reader's transaction is open.
        with engine.begin() as writer:
            writer.execute(
                text(
                    "INSERT INTO agency (name, field, is_desk, created_at) "
                    "VALUES ('窓口', 'community', 1, '2025-04-01 00:00:00')"
                )
            )
        # The reader keeps its snapshot (WAL), then sees the write in its next transaction.
        assert reader.execute(text("SELECT count(*) FROM agency")).scalar_one() == 0
    with read_only(engine).connect() as reader:
        assert reader.execute(text("SELECT count(*) FROM agency")).scalar_one() == 1
    engine.dispose()


def test_write_transaction_takes_the_lock_at_begin(tmp_path: Path) -> None:
    engine = sqlite_engine(tmp_path / "w.db")
    with engine.connect() as first:
        first.execute(text("SELECT 1"))
        assert first.in_transaction()
        blocked = engine.execution_options().connect()
        blocked.connection.driver_connection.execute("PRAGMA busy_timeout=50")  # type: ignore[union-attr]
        with pytest.raises(OperationalError, match="database is locked"):
            blocked.execute(text("SELECT 1"))
        blocked.close()
    engine.dispose()
