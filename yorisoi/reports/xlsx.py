"""Write sheets to an Excel workbook (openpyxl): one worksheet per table, as published.

Row 1 holds the title, header rows start at row 3 (two rows where the table has groups,
like 山口市's 相談者 / 相談方法 / 相談内容), data follows, notes below the data.

Every text goes in as text (`_put`): never a formula, an error value or a character XML cannot
hold, whatever the database holds (`yorisoi.safetext`).
"""

from __future__ import annotations

from pathlib import Path

from openpyxl import Workbook
from openpyxl.cell.cell import Cell as XlsxCell
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from yorisoi.reports.layout import Cell, Sheet
from yorisoi.safetext import is_formula_like, visible

TITLE_ROW = 1
HEADER_ROW = 3
_THIN = Side(style="thin", color="808080")
_BOX = Border(left=_THIN, right=_THIN, top=_THIN, bottom=_THIN)
_HEAD_FILL = PatternFill("solid", fgColor="E8EEF4")
_TOTAL_FILL = PatternFill("solid", fgColor="F3F5F8")
_CENTER = Alignment(horizontal="center", vertical="center", wrap_text=True)


def _put(ws: Worksheet, row: int, column: int, value: Cell) -> XlsxCell:
    """Write `value` to a cell; text as text (openpyxl would take `=…` for a formula and `#N/A`
    for an error, and refuse control characters)."""
    if not isinstance(value, str):
        return ws.cell(row, column, value)
    shown = visible(value)
    cell = ws.cell(row, column, shown)
    cell.data_type = "s"
    if is_formula_like(shown):
        cell.quotePrefix = True  # stays text when someone edits the cell in Excel
    return cell


def header_rows(sheet: Sheet) -> int:
    return 2 if sheet.groups else 1


def first_data_row(sheet: Sheet) -> int:
    return HEADER_ROW + header_rows(sheet)


def _header(ws: Worksheet, sheet: Sheet) -> None:
    labels_row = HEADER_ROW + header_rows(sheet) - 1
    for index, label in enumerate(sheet.columns, start=1):
        _put(ws, labels_row, index, label)
    column = 1
    for group in sheet.groups:
        last = column + group.span - 1
        if group.label is None:  # these columns' own labels span both header rows
            for c in range(column, last + 1):
                _put(ws, HEADER_ROW, c, sheet.columns[c - 1])
                ws.cell(labels_row, c, None)
                ws.merge_cells(start_row=HEADER_ROW, start_column=c, end_row=labels_row, end_column=c)
        else:
            _put(ws, HEADER_ROW, column, group.label)
            if last > column:
                ws.merge_cells(start_row=HEADER_ROW, start_column=column, end_row=HEADER_ROW, end_column=last)
        column = last + 1
    for row in ws.iter_rows(min_row=HEADER_ROW, max_row=labels_row, max_col=len(sheet.columns)):
        for cell in row:
            cell.font = Font(bold=True)
            cell.fill = _HEAD_FILL
            cell.alignment = _CENTER
            cell.border = _BOX


def _write(ws: Worksheet, sheet: Sheet) -> None:
    _put(ws, TITLE_ROW, 1, sheet.title).font = Font(bold=True, size=12)
    _header(ws, sheet)
    start = first_data_row(sheet)
    for r, values in enumerate(sheet.rows, start=start):
        for c, value in enumerate(values, start=1):
            cell = _put(ws, r, c, value)
            cell.border = _BOX
            if sheet.is_total(r - start, c - 1):
                cell.font = Font(bold=True)
                cell.fill = _TOTAL_FILL
            if isinstance(value, float):
                cell.number_format = "0.0"
            elif isinstance(value, str) and c > 1:
                cell.alignment = Alignment(horizontal="center")
    for offset, note in enumerate(sheet.notes, start=start + len(sheet.rows) + 1):
        _put(ws, offset, 1, note)
    # Japanese characters are about two columns wide.
    widest = max((len(str(row[0])) for row in sheet.rows), default=8)
    ws.column_dimensions["A"].width = max(12, min(40, widest * 2))
    for c in range(2, len(sheet.columns) + 1):
        ws.column_dimensions[get_column_letter(c)].width = max(8, min(24, len(sheet.columns[c - 1]) * 2 + 2))
    ws.freeze_panes = ws.cell(start, 2)


def write_xlsx(sheets: list[Sheet], path: Path) -> Path:
    """Write `sheets` to `path` (replaced if it exists); returns the path."""
    book = Workbook()
    default = book.active
    for sheet in sheets:
        _write(book.create_sheet(sheet.name[:31]), sheet)
    if default is not None:
        book.remove(default)
    path.parent.mkdir(parents=True, exist_ok=True)
    book.save(path)
    return path
