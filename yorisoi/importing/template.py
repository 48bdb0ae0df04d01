"""The workbook to fill in (`yorisoi import template`), and what the other workbooks share.

One sheet per kind of record with its Japanese headers (required ones marked), a drop-down
list on every coded column (from a 選択肢 sheet, so long lists such as 相談内容 fit), yes/no
lists on はい／いいえ columns, and an 説明 sheet that says what each column takes.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter, quote_sheetname
from openpyxl.worksheet.datavalidation import DataValidation
from openpyxl.worksheet.worksheet import Worksheet

from yorisoi.importing.layout import SHEETS, Column, Kind, SheetSpec

REQUIRED_FILL = PatternFill("solid", fgColor="FDE9D9")
HEAD_FILL = PatternFill("solid", fgColor="E8EEF4")
DATE_FORMAT = "yyyy/mm/dd"
CHOICES_SHEET = "選択肢"
HELP_SHEET = "説明"
_KIND_JA = {
    Kind.REF: "番号",
    Kind.LINE: "文字",
    Kind.TEXT: "文章（改行可）",
    Kind.DATE: "日付（R6.4.1、令和6年4月1日、2024/4/1 など）",
    Kind.BOOL: "はい／いいえ",
    Kind.INT: "整数",
    Kind.CODE: "一覧から1つ",
    Kind.CODES: "一覧から複数（「、」区切り）",
    Kind.STAFF: "職員のログイン名か氏名",
    Kind.AGENCY: "登録済みの関係機関名",
    Kind.AGENCIES: "関係機関名（複数は「、」区切り）",
    Kind.PROVIDER: "登録済みの事業所名",
    Kind.GOALS: "1行に「課題：目標」",
    Kind.ROLES: "1行に「機関名：役割」",
}


def header(worksheet: Worksheet, headers: Sequence[str], required: Sequence[bool] = ()) -> None:
    """Write the header row (row 1) of a normal-mode worksheet, required columns coloured."""
    for position, text in enumerate(headers, start=1):
        cell = worksheet.cell(1, position, text)
        cell.font = Font(bold=True)
        needed = position - 1 < len(required) and required[position - 1]
        cell.fill = REQUIRED_FILL if needed else HEAD_FILL
        cell.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
        worksheet.column_dimensions[get_column_letter(position)].width = max(12, len(text) * 2 + 4)
    worksheet.freeze_panes = "A2"


def cell_value(value: Any) -> Any:
    """A value as a cell holds it: dates as dates, lists one per line."""
    if isinstance(value, list | tuple):
        return "\n".join(str(v) for v in value)
    return value


def style_dates(worksheet: Worksheet, columns: Iterable[int], rows: int) -> None:
    for column in columns:
        for (cell,) in worksheet.iter_rows(min_row=2, max_row=rows + 1, min_col=column, max_col=column):
            if isinstance(cell.value, dt.date):
                cell.number_format = DATE_FORMAT


def _choices(book: Workbook) -> dict[str, str]:
    """A hidden sheet with every vocabulary's labels; column key → its range."""
    sheet = book.create_sheet(CHOICES_SHEET)
    ranges: dict[str, str] = {}
    position = 0
    for spec in SHEETS:
        for column in spec.columns:
            if column.vocabulary is None or f"{spec.key}.{column.key}" in ranges:
                continue
            position += 1
            labels = list(column.vocabulary().values())
            letter = get_column_letter(position)
            sheet.cell(1, position, f"{spec.name}・{column.header}")
            for n, label in enumerate(labels, start=2):
                sheet.cell(n, position, label)
            ranges[f"{spec.key}.{column.key}"] = (
                f"{quote_sheetname(CHOICES_SHEET)}!${letter}$2:${letter}${len(labels) + 1}"
            )
    sheet.sheet_state = "hidden"
    return ranges


def _validate(worksheet: Worksheet, spec: SheetSpec, ranges: dict[str, str], rows: int = 2000) -> None:
    for position, column in enumerate(spec.columns, start=1):
        area = f"{get_column_letter(position)}2:{get_column_letter(position)}{rows + 1}"
        rule: DataValidation | None = None
        if column.kind is Kind.BOOL:
            rule = DataValidation(type="list", formula1='"はい,いいえ"', allow_blank=True)
        elif column.kind in (Kind.CODE, Kind.CODES):
            rule = DataValidation(type="list", formula1=ranges[f"{spec.key}.{column.key}"], allow_blank=True)
            # Several values (相談内容) are typed as 「A、B」: the list helps, it does not forbid.
            rule.showErrorMessage = column.kind is Kind.CODE
            rule.error = f"「{column.header}」は一覧から選んでください"
        if rule is not None:
            rule.prompt = column.help or _KIND_JA[column.kind]
            rule.showInputMessage = True
            worksheet.add_data_validation(rule)
            rule.add(area)


def _help(book: Workbook) -> None:
    sheet = book.active
    assert sheet is not None
    sheet.title = HELP_SHEET
    lines = [
        "重層的支援体制整備事業の記録の取込（yorisoi import）",
        "",
        "・シートごとに1種類の記録。1行が1件です。見出しの行は変えずに、2行目から書いてください。",
        "・台帳番号で行とケースをつなぎます。ケースのシートの行と、同じ台帳番号の相談・会議・プラン…の行が1つのケースです。",
        "・ケースは、相談のシートのいちばん早い相談の日に受け付けたものとして作ります。記録は日付の順に取り込みます。",
        "・日付は R6.4.1、令和6年4月1日、H31.3.31、2024/4/1、Excel の日付のどれでも書けます。"
        "全角の数字も読めます。",
        "・一覧から選ぶ列は、表示の言葉でも英字のコードでも書けます。",
        "・同じファイルをもう一度取り込んでも、取込済みの行は取り込みません（増えた行だけを取り込みます）。",
        "・まず --dry-run で確かめてください。誤りのある行は、理由の列をつけた別のファイルに書き出します。",
        "・色のついた見出しは必須の列です。",
        "",
    ]
    for n, text in enumerate(lines, start=1):
        sheet.cell(n, 1, text).font = Font(bold=n == 1, size=12 if n == 1 else 11)
    start = len(lines) + 1
    columns = ["シート", "列", "必須", "書き方", "説明", "例", "別名"]
    for position, text in enumerate(columns, start=1):
        cell = sheet.cell(start, position, text)
        cell.font = Font(bold=True)
        cell.fill = HEAD_FILL
    row = start + 1
    for spec in SHEETS:
        for column in spec.columns:
            values = [
                spec.name,
                column.header,
                "必須" if column.required else "",
                _KIND_JA[column.kind],
                column.help or (spec.help if column is spec.columns[0] else ""),
                column.example,
                "、".join(column.aliases),
            ]
            for position, value in enumerate(values, start=1):
                sheet.cell(row, position, value)
            row += 1
    for position, width in enumerate([14, 22, 6, 30, 60, 24, 30], start=1):
        sheet.column_dimensions[get_column_letter(position)].width = width


def write_template(path: Path) -> Path:
    """Write the empty workbook to `path`."""
    book = Workbook()
    _help(book)
    ranges = _choices(book)
    for spec in SHEETS:
        sheet = book.create_sheet(spec.name)
        header(sheet, [c.header for c in spec.columns], [c.required for c in spec.columns])
        _validate(sheet, spec, ranges)
    book.move_sheet(CHOICES_SHEET, offset=len(SHEETS))
    book.save(path)
    return path


def column_headers(spec: SheetSpec) -> list[str]:
    return [c.header for c in spec.columns]


__all__ = ["Column", "cell_value", "column_headers", "header", "style_dates", "write_template"]
