"""The rows an import could not take, as a workbook to fix and import again.

Each sheet with a failed row is written with the headers the file had and an エラー column
with every reason for the row; an エラー一覧 sheet lists every problem found (sheet, row,
column, message), notes included. The import reads this file like any other: it leaves the
エラー column and the エラー一覧 sheet aside, and the rows already taken are not taken twice.
"""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

from openpyxl import Workbook
from openpyxl.styles import Alignment

from yorisoi.importing.reader import FAILED_COLUMN, Problem, Row
from yorisoi.importing.template import header, style_dates

LIST_SHEET = "エラー一覧"


def write_failed(
    path: Path, rows: list[Row], problems: list[Problem], headers: dict[str, tuple[str, ...]]
) -> Path:
    """`headers`: each sheet's header row as the file had it (by the sheet's name)."""
    book = Workbook()
    summary = book.active
    assert summary is not None
    summary.title = LIST_SHEET
    header(summary, ["シート", "行", "列", "内容", "種類", "English"])
    for n, problem in enumerate(problems, start=2):
        values = [
            problem.sheet,
            problem.row,
            problem.column,
            problem.ja,
            "注意" if problem.warning else "エラー",
            problem.en,
        ]
        for position, value in enumerate(values, start=1):
            summary.cell(n, position, value)
    summary.column_dimensions["D"].width = 80
    by_sheet: dict[str, list[Row]] = defaultdict(list)
    for row in rows:
        by_sheet[row.sheet].append(row)
    for name, failed in by_sheet.items():
        sheet = book.create_sheet(name[:31])
        names = [*headers.get(name, ()), FAILED_COLUMN]
        header(sheet, names)
        width = len(names) - 1
        for n, row in enumerate(failed, start=2):
            cells = list(row.cells[:width]) + [None] * (width - len(row.cells))
            for position, value in enumerate(cells, start=1):
                sheet.cell(n, position, value)
            reason = sheet.cell(n, width + 1, "\n".join(_reason(p) for p in row.problems))
            reason.alignment = Alignment(wrap_text=True, vertical="top")
        sheet.column_dimensions[sheet.cell(1, width + 1).column_letter].width = 70
        style_dates(sheet, range(1, width + 1), len(failed))
    book.save(path)
    return path


def _reason(problem: Problem) -> str:
    return f"{problem.column}: {problem.ja}" if problem.column else problem.ja
