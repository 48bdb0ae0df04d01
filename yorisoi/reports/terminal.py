"""Print sheets as Rich tables; a table too wide for a terminal is printed turned on its side."""

from __future__ import annotations

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from yorisoi.reports.layout import Cell, Sheet

WIDE = 12


def _text(value: Cell) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:.1f}"
    return escape(str(value))


def _flat(sheet: Sheet) -> Table:
    table = Table(title=escape(sheet.title), title_justify="left")
    for index, column in enumerate(sheet.columns):
        table.add_column(escape(column), justify="left" if index == 0 else "right", overflow="fold")
    for row in sheet.rows:
        table.add_row(*(_text(v) for v in row))
    return table


def _turned(sheet: Sheet) -> Table:
    """Columns become rows (区分 / 項目), the first column's values become the columns."""
    table = Table(title=escape(sheet.title), title_justify="left")
    table.add_column("区分")
    table.add_column(escape(sheet.columns[0]))
    for row in sheet.rows:
        table.add_column(_text(row[0]), justify="right", overflow="fold")
    groups: list[str] = []
    for group in sheet.groups or []:
        groups.extend([group.label or ""] + [""] * (group.span - 1))
    for index in range(1, len(sheet.columns)):
        label = groups[index] if index < len(groups) else ""
        table.add_row(escape(label), escape(sheet.columns[index]), *(_text(row[index]) for row in sheet.rows))
    return table


def print_sheets(sheets: list[Sheet], console: Console) -> None:
    for sheet in sheets:
        console.print(_turned(sheet) if len(sheet.columns) > WIDE else _flat(sheet))
        for note in sheet.notes:
            console.print(note, markup=False, highlight=False)
        console.print()
