"""Import fixtures: an empty database with the importing supervisor, and the generated 山口市 year.

The year (≈2,900 rows through the case service) is imported once per module, on SQLite; the
tests read it. Smaller imports run on both databases through the shared `engine` fixture.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import Engine
from sqlmodel import Session

from states import default_machine
from tests.conftest import sqlite_engine
from tests.importing.generate import Intended, yamaguchi_workbook
from tests.reports.conftest import default_settings
from yorisoi.importing.runner import ImportResult, run_import
from yorisoi.service import directory

IMPORTER = "boss"


def add_importer(engine: Engine) -> None:
    with Session(engine) as session:
        directory.add_staff(session, login=IMPORTER, name="取込 担当", roles=["supervisor"])


@dataclass
class ImportedYear:
    engine: Engine
    path: Path
    intended: Intended
    result: ImportResult


@pytest.fixture(scope="module", name="year")
def year_fixture(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ImportedYear]:
    with default_settings(tmp_path_factory.mktemp("year-data")):
        folder = tmp_path_factory.mktemp("year")
        engine = sqlite_engine(folder / "yorisoi.db")
        add_importer(engine)
        path = folder / "山口市R6.xlsx"
        intended = yamaguchi_workbook(path)
        result = run_import(engine, default_machine(), path, actor=IMPORTER)
        yield ImportedYear(engine, path, intended, result)
    engine.dispose()
