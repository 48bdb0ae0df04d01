"""A workbook with mistakes: `--dry-run` lists every bad row — sheet, row, column, in Japanese —
all at once, writes nothing, and puts the failed rows in a workbook with their reasons, which
imports cleanly once they are fixed. Run on SQLite and PostgreSQL."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from openpyxl import Workbook, load_workbook
from sqlalchemy import Engine
from sqlmodel import Session

from states import default_machine
from tests.importing.conftest import IMPORTER, add_importer
from tests.service.refusals import snapshot
from yorisoi.importing.failed import write_failed
from yorisoi.importing.runner import ImportResult, run_import


def _write(path: Path, sheets: dict[str, list[list[Any]]]) -> Path:
    book = Workbook()
    assert book.active is not None
    book.remove(book.active)
    for name, rows in sheets.items():
        sheet = book.create_sheet(name)
        for row in rows:
            sheet.append(row)
    book.save(path)
    return path


def messy(path: Path) -> Path:
    return _write(
        path,
        {
            "関係機関": [
                ["機関名", "分野", "受付窓口"],
                ["ふくまる相談室 中央", "地域", "はい"],
                ["宇宙センター", "宇宙", "いいえ"],  # 3: unknown 分野
            ],
            "ケース": [
                ["台帳番号", "氏名", "生年月日", "受付窓口"],
                ["M-1", "山田 太郎", "S50.10.1", "ふくまる相談室 中央"],
                ["M-2", "佐藤 花子", None, "ふくまる相談室 中央"],
                ["M-3", "鈴木 一", "昭和99年1月1日", "ふくまる相談室 中央"],  # 4: 昭和 ended in 64
                ["M-1", "山田 太郎", None, None],  # 5: the same 台帳番号 twice
            ],
            "相談": [
                ["台帳番号", "相談日", "受付窓口", "相談者区分", "相談方法", "相談内容", "備考2"],
                ["M-1", "R6.4.1", None, "本人", "電話", "収入", "x"],
                ["M-1", "R6.13.1", None, "本人", "電話", "収入", None],  # 3: no 13th month
                [
                    "M-2",
                    "２０２４/４/５",
                    None,
                    "友人",
                    "電話",
                    "住まい",
                    None,
                ],  # 4: 友人 is not a 相談者区分
                ["M-2", "2024/4/6", None, "家族", "伝書鳩", "宇宙旅行", None],  # 5: method and topic
                ["M-9", "R6.4.7", None, "本人", "電話", "債務", None],  # 6: no such case
                ["M-1", "R6.5.1", "存在しない窓口", "本人", "来所", "債務", None],  # 7: unknown desk
                ["M-2", "R6.4.5", None, "本人", "ＴＥＬ", "債務", None],  # 8: fine (full-width TEL)
                ["M-1", "R20.1.1", None, "本人", "電話", "債務", None],  # 9: in the future
            ],
            "会議": [
                ["台帳番号", "開催日", "会議の種類"],  # 出席機関 is missing
                ["M-1", "R6.5.10", "支援会議"],
            ],
            "アウトリーチ": [
                ["台帳番号", "実施日", "種別"],
                ["M-1", "R6.3.1", "訪問"],  # 2: before the case was opened
                ["M-2", "R6.5.1", "訪問"],  # fine
            ],
        },
    )


EXPECTED = {
    ("関係機関", 3, "分野"),
    ("ケース", 4, "生年月日"),
    ("ケース", 5, "台帳番号"),
    ("相談", 3, "相談日"),
    ("相談", 4, "相談者区分"),
    ("相談", 5, "相談方法"),
    ("相談", 5, "相談内容"),
    ("相談", 6, None),
    ("相談", 7, "受付窓口"),
    ("相談", 9, "相談日"),
    ("会議", 1, "出席機関"),
    ("会議", 2, None),
    ("アウトリーチ", 2, "実施日"),
}


def _where(result: ImportResult) -> set[tuple[str, int | None, str | None]]:
    return {(p.sheet, p.row, p.column) for p in result.errors}


def test_dry_run_lists_every_bad_row_and_writes_nothing(engine: Engine, tmp_path: Path) -> None:
    add_importer(engine)
    path = messy(tmp_path / "messy.xlsx")
    with Session(engine) as session:
        before = snapshot(session)
    result = run_import(engine, default_machine(), path, actor=IMPORTER, dry_run=True)
    with Session(engine) as session:
        assert snapshot(session) == before
    assert _where(result) == EXPECTED
    messages = {(p.sheet, p.row, p.column): p.ja for p in result.errors}
    assert "存在しない日付です" in messages[("相談", 3, "相談日")]
    assert "「友人」は選べません" in messages[("相談", 4, "相談者区分")]
    assert "昭和99年はありません" in messages[("ケース", 4, "生年月日")]
    assert "台帳番号 M-9 のケースがありません" in messages[("相談", 6, None)]
    assert "受付日（2024年4月1日）より前です" in messages[("アウトリーチ", 2, "実施日")]
    assert "必須の列「出席機関」がありません" in messages[("会議", 1, "出席機関")]
    assert "未来の日付は記録できません" in messages[("相談", 9, "相談日")]
    assert [(p.sheet, p.column) for p in result.problems if p.warning] == [("相談", "備考2")]
    # What the import would do, had the rows been right:
    assert (result.cases_opened, result.tallies["相談"].added, result.tallies["アウトリーチ"].added) == (
        2,
        2,
        1,
    )


def test_failed_rows_workbook_has_the_reasons_and_imports_once_fixed(engine: Engine, tmp_path: Path) -> None:
    add_importer(engine)
    path = messy(tmp_path / "messy.xlsx")
    result = run_import(engine, default_machine(), path, actor=IMPORTER)
    assert result.cases_opened == 2 and result.tallies["相談"].added == 2
    failed = write_failed(tmp_path / "messy.errors.xlsx", result.failed_rows, result.problems, result.headers)
    book = load_workbook(failed)
    contacts = list(book["相談"].iter_rows(values_only=True))
    assert contacts[0][-1] == "エラー" and len(contacts) == 1 + 6
    assert "相談日: 存在しない日付です" in str(contacts[1][-1])
    listed = list(book["エラー一覧"].iter_rows(values_only=True))
    assert len(listed) == 1 + len(result.problems)
    # Fix the contacts in the failed-rows file and import it: only they go in, nothing twice.
    sheet = book["相談"]
    for row in range(2, sheet.max_row + 1):
        if sheet.cell(row, 1).value == "M-9":
            sheet.cell(row, 1).value = "M-2"
        sheet.cell(row, 2).value = f"R6.6.{row}"
        sheet.cell(row, 3).value = None  # no desk: the case's own
        sheet.cell(row, 4).value = "本人"
        sheet.cell(row, 5).value = "電話"
        sheet.cell(row, 6).value = "債務"
    for name in [n for n in book.sheetnames if n != "相談"]:
        del book[name]
    book.save(tmp_path / "fixed.xlsx")
    again = run_import(engine, default_machine(), tmp_path / "fixed.xlsx", actor=IMPORTER)
    assert again.errors == [] and again.tallies["相談"].added == 6
    once_more = run_import(engine, default_machine(), tmp_path / "fixed.xlsx", actor=IMPORTER)
    assert once_more.added == 0 and once_more.tallies["相談"].already == 6
