"""The search index: filled by migration 0006 for the cases already there, kept by every writer
(an import included), on SQLite (FTS5) and PostgreSQL (pg_trgm)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from sqlalchemy import Engine
from sqlmodel import Session

from models import caselists
from models.caseload import ListScope
from models.db import create_db_engine, migrate, session_scope
from states import default_machine
from tests.factories import build_world, open_case
from tests.importing.conftest import IMPORTER, add_importer
from tests.importing.test_messy_workbook import _write
from yorisoi.importing.runner import run_import

EVERYTHING = ListScope(everything=True)


def found(session: Session, text: str) -> list[str]:
    terms = caselists.search_terms(text)
    assert terms is not None
    page = caselists.search(session, EVERYTHING, terms, today=dt.date(2025, 7, 1), monitoring_stages=())
    return [c.number for c in page.cards]


def test_migration_0006_indexes_the_cases_already_there(tmp_path: Path) -> None:
    engine = create_db_engine(f"sqlite:///{tmp_path / 'old.db'}")
    migrate(engine, "0005")
    with session_scope(engine) as session:
        world = build_world(session)
        number = open_case(session, world, default_machine()).number
        session.commit()
    migrate(engine)
    with session_scope(engine) as session:
        assert found(session, "山田太") == [number]
        assert found(session, "ヤマダ") == [number]
    engine.dispose()


def test_an_import_is_found_at_once(engine: Engine, tmp_path: Path) -> None:
    add_importer(engine)
    desk = "ふくまる相談室 中央"
    sheets: dict[str, list[list[Any]]] = {
        "関係機関": [["機関名", "分野", "受付窓口"], [desk, "地域", "はい"]],
        "ケース": [
            ["台帳番号", "氏名", "ふりがな"],
            ["C-1", "取込 千代子", "とりこみ ちよこ"],
            ["C-2", "取込 正", ""],
        ],
        "相談": [
            ["台帳番号", "相談日", "相談者区分", "相談方法", "相談内容", "受付窓口"],
            ["C-1", dt.date(2024, 4, 2), "本人", "電話", "収入", desk],
            ["C-2", dt.date(2024, 4, 3), "本人", "電話", "収入", desk],
        ],
    }
    result = run_import(engine, default_machine(), _write(tmp_path / "in.xlsx", sheets), actor=IMPORTER)
    assert result.errors == []
    with session_scope(engine) as session:
        assert len(found(session, "取込千代")) == 1
        assert len(found(session, "チヨコ")) == 1  # hiragana kana, found in katakana
        assert len(found(session, "取込")) == 2  # two characters: a name prefix
        assert found(session, "千代子取込") == []
