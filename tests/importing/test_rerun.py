"""Re-running an import: after a Ctrl-C half way nothing is lost and nothing doubled; a file that
grew adds only its new rows — a record dated inside a closed episode as a late entry (後日入力).
On SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, func
from sqlmodel import Session, select

from models import AuditEvent, Case, Contact, Household, ImportedRow, Person
from states import LifecycleMachine, default_machine, load_lifecycle
from tests.importing.conftest import IMPORTER, add_importer
from tests.importing.test_messy_workbook import _write
from yorisoi.importing import runner
from yorisoi.importing.runner import run_import
from yorisoi.reports.build import build_annual
from yorisoi.service.audit import verify_chains
from yorisoi.service.registry import RESERVED_NAMES
from yorisoi.vocabulary import DEFAULT_TOPICS

DESK = "ふくまる相談室 中央"
SHIPPED = Path(__file__).resolve().parents[2] / "states" / "lifecycles"


def _rows(cases: int, contacts: int) -> dict[str, list[list[Any]]]:
    sheets: dict[str, list[list[Any]]] = {
        "関係機関": [["機関名", "分野", "受付窓口"], [DESK, "地域", "はい"]],
        "ケース": [["台帳番号", "氏名"], *([f"C-{c}", f"相談者 {c}"] for c in range(cases))],
        "相談": [["台帳番号", "相談日", "相談者区分", "相談方法", "相談内容", "受付窓口"]],
    }
    start = dt.date(2024, 4, 1)
    for c in range(cases):
        for k in range(contacts):
            sheets["相談"].append([f"C-{c}", start + dt.timedelta(days=k), "本人", "電話", "収入", DESK])
    return sheets


def _counts(engine: Engine) -> tuple[int, int, int, int]:
    with Session(engine) as session:
        return (
            session.exec(select(func.count()).select_from(Case)).one(),
            session.exec(select(func.count()).select_from(Contact)).one(),
            session.exec(select(func.count()).select_from(AuditEvent)).one(),
            session.exec(select(func.count()).select_from(ImportedRow)).one(),
        )


def test_an_import_cut_short_loses_nothing_and_doubles_nothing(
    engine: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    add_importer(engine)
    path = _write(tmp_path / "big.xlsx", _rows(cases=12, contacts=10))
    monkeypatch.setattr(runner, "BATCH_STEPS", 25)  # several batches for a small file
    ticks = 0

    def interrupt(n: int) -> None:
        nonlocal ticks
        ticks += n
        if ticks >= 70:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        run_import(engine, default_machine(), path, actor=IMPORTER, progress=interrupt)
    cases, contacts, events, keys = _counts(engine)
    assert 0 < cases < 12 and contacts == keys == cases * 10  # whole cases, each with its keys
    finished = run_import(engine, default_machine(), path, actor=IMPORTER)
    assert finished.errors == [] and finished.tallies["相談"].already == contacts
    assert finished.tallies["相談"].added == 120 - contacts
    assert _counts(engine) == (12, 120, 120, 120)


def test_a_file_that_grew_adds_its_new_rows_late_entries_included(engine: Engine, tmp_path: Path) -> None:
    add_importer(engine)
    sheets = _rows(cases=2, contacts=3)
    sheets["終結"] = [
        ["台帳番号", "終結日", "終結理由", "支援の評価", "承認者"],
        ["C-0", "R6.5.1", "目標達成", "安定", IMPORTER],
    ]
    sheets["職員"] = [
        ["ログイン名", "氏名", "役割"],
        ["tanaka", "田中 花子", "相談支援員（コーディネーター）"],
    ]
    sheets["終結"][1].insert(4, "tanaka")
    sheets["終結"][0].insert(4, "提案者")
    first = run_import(engine, default_machine(), _write(tmp_path / "v1.xlsx", sheets), actor=IMPORTER)
    assert first.errors == []
    sheets["相談"].append(["C-0", "R6.4.20", "家族", "訪問", "住まい", DESK])  # inside the closed episode
    sheets["相談"].append(["C-1", "R6.6.1", "本人", "電話", "債務", DESK])
    sheets["アウトリーチ"] = [
        ["台帳番号", "実施日", "種別"],
        ["C-0", "R6.4.25", "訪問"],
        ["C-0", "R6.5.2", "訪問"],
    ]
    grown = run_import(engine, default_machine(), _write(tmp_path / "v2.xlsx", sheets), actor=IMPORTER)
    assert (grown.tallies["相談"].added, grown.tallies["相談"].already) == (2, 6)
    assert grown.tallies["アウトリーチ"].added == 1
    (after_closure,) = grown.errors  # outreach after the closure: reopen first
    assert (after_closure.sheet, after_closure.row, after_closure.column) == ("アウトリーチ", 3, "実施日")
    assert "再開してから記録してください" in after_closure.ja
    with Session(engine) as session:
        late = [p for p in session.exec(select(AuditEvent.payload)).all() if p.get("late_entry")]
        assert len(late) == 2 and all("import" in p for p in late)
        report = build_annual(session, fiscal_year=2024, as_of=dt.date(2025, 3, 31), topics=DEFAULT_TOPICS)
    assert (report.consultation.total.contacts, report.coordination.home_visits) == (8, 1)


def test_cases_of_one_household_share_it(engine: Engine, tmp_path: Path) -> None:
    add_importer(engine)
    sheets = _rows(cases=3, contacts=1)
    sheets["ケース"] = [
        ["台帳番号", "氏名", "住所", "世帯番号"],
        ["C-0", "山田 太郎", "山口市亀山町2-1", "H-1"],
        ["C-1", "山田 花子", None, "H-1"],
        ["C-2", "佐藤 一", "山口市中央1-1", None],
    ]
    assert (
        run_import(engine, default_machine(), _write(tmp_path / "h.xlsx", sheets), actor=IMPORTER).errors
        == []
    )
    with Session(engine) as session:
        rows = session.exec(select(Person.name, Household.id, Household.address).join(Household)).all()
    members = Counter((household, address) for _name, household, address in rows)
    assert sorted(members.values()) == [1, 2]
    assert {address for (_h, address), n in members.items() if n == 2} == {"山口市亀山町2-1"}


def test_import_fires_by_action_on_a_municipalitys_own_lifecycle(engine: Engine, tmp_path: Path) -> None:
    """tsunagi.yaml names every stage and trigger its own way: the same workbook goes in."""
    add_importer(engine)
    machine = LifecycleMachine(load_lifecycle(SHIPPED / "tsunagi.yaml", reserved=RESERVED_NAMES))
    sheets = _rows(cases=1, contacts=2)
    sheets["関係機関"] += [
        ["地域包括支援センター中央", "高齢", "いいえ"],
        ["自立相談支援機関", "生活困窮", None],
    ]
    sheets["職員"] = [["ログイン名", "氏名", "役割"], ["tanaka", "田中 花子", "coordinator"]]
    agencies = "地域包括支援センター中央、自立相談支援機関"
    sheets["本人同意"] = [["台帳番号", "同意日", "同意の範囲"], ["C-0", "R6.6.1", agencies]]
    sheets["会議"] = [
        ["台帳番号", "開催日", "会議の種類", "出席機関", "守秘義務の確認"],
        ["C-0", "R6.5.1", "支援会議", "地域包括支援センター中央", "はい"],
        ["C-0", "R6.6.3", "重層的支援会議", agencies, None],
    ]
    sheets["支援プラン"] = [
        ["台帳番号", "作成日", "承認日", "課題と目標", "役割分担", "主担当", "作成者", "承認者"],
        [
            "C-0",
            "R6.6.3",
            "R6.6.6",
            "家計：安定",
            "自立相談支援機関：家計相談",
            "自立相談支援機関",
            "tanaka",
            IMPORTER,
        ],
    ]
    sheets["終結"] = [
        ["台帳番号", "終結日", "終結理由", "支援の評価", "提案者", "承認者"],
        ["C-0", "R7.3.1", "目標達成", "安定", "tanaka", IMPORTER],
    ]
    result = run_import(engine, machine, _write(tmp_path / "t.xlsx", sheets), actor=IMPORTER)
    assert result.errors == [], result.errors
    with Session(engine) as session:
        case = session.exec(select(Case)).one()
        actions = session.exec(select(AuditEvent.action).order_by(AuditEvent.seq)).all()  # type: ignore[arg-type]
        assert verify_chains(session, machine).ok
    assert case.stage == "shuryo"
    assert actions == [
        "open_case",
        "add_contact",
        "seiri_kaishi",  # the assessment the engine starts before a meeting
        "shuhi_kaigi",
        "give_consent",
        "doui_kaigi",
        "plan_an",
        "plan_kettei",
        "shuryo_teian",
        "shuryo_kettei",
    ]


def test_a_refused_row_goes_alone_and_the_progress_counts_each_row_once(
    engine: Engine, tmp_path: Path
) -> None:
    """A case's rows go in together; when one is refused the case runs again row by row, so the
    refused row alone is reported, the case's other rows go in, and the progress bar counts
    every row once."""
    add_importer(engine)
    sheets = _rows(cases=3, contacts=3)
    sheets["職員"] = [
        ["ログイン名", "氏名", "役割"],
        ["tanaka", "田中 花子", "相談支援員（コーディネーター）"],
    ]
    sheets["終結"] = [
        ["台帳番号", "終結日", "終結理由", "支援の評価", "提案者", "承認者"],
        ["C-1", "R6.5.1", "目標達成", "安定", "tanaka", IMPORTER],
    ]
    sheets["アウトリーチ"] = [
        ["台帳番号", "実施日", "種別"],
        ["C-1", "R6.4.2", "訪問"],  # before the closure: goes in
        ["C-1", "R6.5.2", "訪問"],  # after it: refused (reopen first)
        ["C-2", "R6.4.3", "訪問"],
    ]
    total: list[int] = []
    ticks: list[int] = []
    result = run_import(
        engine, default_machine(), _write(tmp_path / "mixed.xlsx", sheets), actor=IMPORTER,
        progress=ticks.append, total=total.append,
    )  # fmt: skip
    assert [(p.sheet, p.row) for p in result.errors] == [("アウトリーチ", 3)]
    assert "再開してから記録してください" in result.errors[0].ja
    assert (result.tallies["相談"].added, result.tallies["アウトリーチ"].added) == (9, 2)
    assert result.tallies["終結"].added == 1 and result.cases_opened == 3
    assert sum(ticks) == total[0]
    assert _counts(engine)[:2] == (3, 9)
    with Session(engine) as session:
        assert verify_chains(session, default_machine()).ok
        closed = session.exec(select(Case).where(Case.external_ref == "C-1")).one()
        assert closed.stage == "closed"
