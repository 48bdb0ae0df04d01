"""Print sheets as Rich tables; a table too wide for a terminal is printed turned on its side.

Text is shown through `yorisoi.safetext.visible` (control characters as escapes) and escaped for
Rich markup: a desk's name never reaches the terminal as an escape sequence."""

from __future__ import annotations

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from yorisoi.reports.layout import NOT_APPLICABLE, Cell, Group, Sheet
from yorisoi.safetext import visible

WIDE = 12


def _text(value: Cell) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:.1f}"
    return _label(str(value))


def _label(text: str) -> str:
    return escape(visible(text))


def _is_number(value: Cell) -> bool:
    return value is None or value == NOT_APPLICABLE or isinstance(value, int | float)


def _flat(sheet: Sheet) -> Table:
    table = Table()
    for index, column in enumerate(sheet.columns):
        numeric = index > 0 and all(_is_number(row[index]) for row in sheet.rows)
        table.add_column(_label(column), justify="right" if numeric else "left", overflow="fold")
    for row in sheet.rows:
        table.add_row(*(_text(v) for v in row))
    return table


def _turned(sheet: Sheet) -> Table:
    """Columns become rows (区分 / 項目), the first column's values become the columns."""
    table = Table()
    table.add_column("区分", no_wrap=True)
    table.add_column(_label(sheet.columns[0]), no_wrap=True)
    for row in sheet.rows:
        table.add_column(_text(row[0]), justify="right", overflow="fold")
    kinds: list[tuple[str, str]] = []  # (区分, 項目) per column
    column = 0
    for group in sheet.groups or [Group(None, len(sheet.columns))]:
        for offset in range(group.span):
            label = sheet.columns[column + offset]
            if group.label is None:  # a column of its own (相談実件数): its label is the 区分
                kinds.append((label, ""))
            else:
                kinds.append((group.label if offset == 0 else "", label))
        column += group.span
    for index in range(1, len(sheet.columns)):
        kind, item = kinds[index]
        table.add_row(_label(kind), _label(item), *(_text(row[index]) for row in sheet.rows))
    return table


def print_sheets(sheets: list[Sheet], console: Console) -> None:
    for sheet in sheets:
        console.print(visible(sheet.title), style="bold", markup=False, highlight=False)
        console.print(_turned(sheet) if len(sheet.columns) > WIDE else _flat(sheet))
        for note in sheet.notes:
            console.print(visible(note), markup=False, highlight=False)
        console.print()
