"""The 山口市 R6 data set (≈2,600 service calls) is built once for the whole package, on SQLite.

The shared `engine` fixture is per test; building 1,802 contacts per test would take minutes,
so this package keeps its own engine (`tests.conftest.sqlite_engine`) for its lifetime. The
tests only read it.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from sqlalchemy import Engine
from sqlmodel import Session

from states import default_machine
from tests.conftest import sqlite_engine
from tests.reports.datasets import Yamaguchi, build_yamaguchi


@contextmanager
def default_settings(data_dir: Path) -> Iterator[None]:
    """What the per-test `_isolated_settings` does, for fixtures that outlive a test."""
    from yorisoi.settings import get_settings

    with pytest.MonkeyPatch.context() as env:
        env.setenv("YORISOI_DATA_DIR", str(data_dir))
        for name in list(os.environ):
            if name.startswith("YORISOI_") and name not in {"YORISOI_DATA_DIR", "YORISOI_TEST_POSTGRES_URL"}:
                env.delenv(name)
        get_settings.cache_clear()
        try:
            yield
        finally:
            get_settings.cache_clear()


@pytest.fixture(scope="package", name="yamaguchi_engine")
def yamaguchi_engine_fixture(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Engine, Yamaguchi]]:
    with default_settings(tmp_path_factory.mktemp("yamaguchi-data")):
        engine = sqlite_engine(tmp_path_factory.mktemp("yamaguchi") / "yorisoi.db")
        with Session(engine, expire_on_commit=False) as session:
            data = build_yamaguchi(session, default_machine())
    yield engine, data
    engine.dispose()


@pytest.fixture(name="yamaguchi")
def yamaguchi_fixture(yamaguchi_engine: tuple[Engine, Yamaguchi]) -> Yamaguchi:
    return yamaguchi_engine[1]


@pytest.fixture(name="ysession")
def ysession_fixture(yamaguchi_engine: tuple[Engine, Yamaguchi]) -> Iterator[Session]:
    with Session(yamaguchi_engine[0]) as session:
        yield session
