"""Real Prefect flow runs: one temporary Prefect server (`prefect_test_harness`) for the session.

Entering the harness costs ~15 s, so it is started once, lazily, by the first test that asks
for `prefect_harness`; heartbeats are off (a synchronous flow otherwise pays ~1 s at exit).
It is scoped to this package, not the session: leaving it drains Prefect's events and log
workers, whose threads would otherwise keep touching the global `random` while later tests draw
Hypothesis examples (a spurious "do not use the random module inside strategies" warning, seen
as a FlakyFailure in tests/web/test_openapi_fuzz.py).
Each test gets its own yorisoi SQLite database, named by YORISOI_DATABASE__URL, which is what
the flows' tasks open.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine

from tests.conftest import sqlite_engine


@pytest.fixture(scope="package")
def prefect_harness(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    from prefect.settings import (
        PREFECT_FLOWS_HEARTBEAT_FREQUENCY,
        PREFECT_HOME,
        PREFECT_SERVER_ANALYTICS_ENABLED,
        PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS,
        temporary_settings,
    )
    from prefect.testing.utilities import prefect_test_harness

    with pytest.MonkeyPatch.context() as env:
        env.setenv("DO_NOT_TRACK", "1")
        with temporary_settings(
            updates={
                PREFECT_HOME: tmp_path_factory.mktemp("prefect-home"),
                PREFECT_SERVER_ANALYTICS_ENABLED: False,
                PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS: 120,
                PREFECT_FLOWS_HEARTBEAT_FREQUENCY: None,
            }
        ):
            with prefect_test_harness(server_startup_timeout=None):
                yield


@pytest.fixture(name="flow_db")
def flow_db_fixture(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Engine]:
    """A fresh yorisoi database that the flows' tasks find through the settings."""
    from yorisoi.settings import get_settings

    path = tmp_path / "flows.db"
    engine = sqlite_engine(path)
    monkeypatch.setenv("YORISOI_DATABASE__URL", f"sqlite:///{path}")
    get_settings.cache_clear()
    yield engine
    engine.dispose()
