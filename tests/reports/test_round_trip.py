"""`yorisoi export` → `yorisoi import` into an empty database gives the same annual reports.

The 山口市 data set (built through the case service) is exported whole and for 令和6年度 alone;
each workbook is imported into a database holding only the importing supervisor. Every table
of every 年度 — per desk too — comes out the same. A DV-protected address is never exported.
"""

from __future__ import annotations

import datetime as dt
import zipfile
from pathlib import Path

from sqlalchemy import Engine
from sqlmodel import Session

from states import default_machine
from tests.conftest import sqlite_engine
from tests.factories import World, fire, open_case
from tests.importing.conftest import IMPORTER, add_importer
from tests.reports.datasets import Yamaguchi
from tests.service.test_corrections import SECRET
from yorisoi.importing.export import write_export
from yorisoi.importing.runner import run_import
from yorisoi.reports.build import build_annual
from yorisoi.reports.model import AnnualReport
from yorisoi.vocabulary import DEFAULT_TOPICS


def _annual(engine: Engine, fy: int, desk: tuple[int, str] | None = None) -> AnnualReport:
    with Session(engine) as session:
        return build_annual(
            session,
            fiscal_year=fy,
            as_of=dt.date(2026, 1, 1),
            topics=DEFAULT_TOPICS,
            desk_id=desk[0] if desk else None,
            desk_name=desk[1] if desk else None,
        )


def _imported(tmp_path: Path, workbook: Path) -> Engine:
    engine = sqlite_engine(tmp_path / "empty.db")
    add_importer(engine)
    result = run_import(engine, default_machine(), workbook, actor=IMPORTER)
    assert result.errors == [], result.errors[:5]
    return engine


def test_export_then_import_reproduces_every_annual_report(
    yamaguchi_engine: tuple[Engine, Yamaguchi], tmp_path: Path
) -> None:
    source, data = yamaguchi_engine
    with Session(source) as session:
        counts = write_export(session, tmp_path / "all.xlsx")
    assert (counts["ケース"], counts["相談"], counts["会議"], counts["支援プラン"]) == (337, 1810, 20, 4)
    copy = _imported(tmp_path, tmp_path / "all.xlsx")
    for fy in (2023, 2024, 2025):
        assert _annual(copy, fy) == _annual(source, fy), fy
    desk = data.desks[3]
    assert desk.id is not None
    with Session(copy) as session:
        copied_desk = next(
            d for d in session.exec(__import__("sqlmodel").select(type(desk))).all() if d.name == desk.name
        )
    assert copied_desk.id is not None
    mine, theirs = (
        _annual(source, 2024, (desk.id, desk.name)),
        _annual(copy, 2024, (copied_desk.id, desk.name)),
    )
    assert mine.consultation.total.contacts == theirs.consultation.total.contacts > 0
    assert (mine.meetings, mine.closures, mine.coordination) == (
        theirs.meetings,
        theirs.closures,
        theirs.coordination,
    )
    copy.dispose()


def test_export_of_a_period_imports_to_the_same_figures(
    yamaguchi_engine: tuple[Engine, Yamaguchi], tmp_path: Path
) -> None:
    source, _data = yamaguchi_engine
    start, end = dt.date(2024, 4, 1), dt.date(2024, 6, 30)  # R6's first quarter
    with Session(source) as session:
        counts = write_export(session, tmp_path / "q1.xlsx", start=start, end=end)
    assert 0 < counts["相談"] < 1802
    copy = _imported(tmp_path, tmp_path / "q1.xlsx")
    with Session(source) as a, Session(copy) as b:
        cut = {"fiscal_year": 2024, "as_of": end, "topics": DEFAULT_TOPICS}
        assert build_annual(b, **cut) == build_annual(a, **cut)  # type: ignore[arg-type]
    assert _annual(copy, 2024).consultation.total.contacts == counts["相談"]  # nothing after June
    copy.dispose()


def test_export_never_holds_a_dv_protected_address(session: Session, world: World, tmp_path: Path) -> None:
    machine = default_machine()
    case_id = open_case(session, world, machine, dv_protected=True).case_id
    fire(session, machine, case_id, "correct_details", world.coordinator, address=SECRET)
    open_case(session, world, machine)  # an unprotected household: its address is exported
    path = tmp_path / "out.xlsx"
    write_export(session, path)
    with zipfile.ZipFile(path) as archive:
        text = "".join(archive.read(n).decode("utf-8") for n in archive.namelist() if n.endswith(".xml"))
    assert SECRET not in text and "山口市亀山町2-1" in text
