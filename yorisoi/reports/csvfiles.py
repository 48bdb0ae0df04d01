"""Write sheets as CSV files, one per table, in a directory.

UTF-8 with a byte-order mark: Excel, which most municipal offices open CSV with, reads
Japanese correctly only then. Header rows as in the XLSX sheet; notes after a blank line.
Text that Excel would take for a formula (`=`, `+`, `-`, `@` …) gets a leading `'`, and
control characters are written as escapes (`yorisoi.safetext.cell_text`).
"""

from __future__ import annotations

import csv
from pathlib import Path

from yorisoi.reports.layout import Cell, Sheet
from yorisoi.safetext import cell_text


def header_lines(sheet: Sheet) -> list[list[Cell]]:
    if not sheet.groups:
        return [list(sheet.columns)]
    top: list[Cell] = []
    below: list[Cell] = []
    column = 0
    for group in sheet.groups:
        labels = sheet.columns[column : column + group.span]
        if group.label is None:
            top.extend(labels)
            below.extend([""] * group.span)
        else:
            top.extend([group.label] + [""] * (group.span - 1))
            below.extend(labels)
        column += group.span
    return [top, below]


def safe_cell(value: Cell) -> Cell:
    if value is None:
        return ""
    return cell_text(value) if isinstance(value, str) else value


def write_csv(sheets: list[Sheet], directory: Path, prefix: str) -> list[Path]:
    """Write `{prefix}-{sheet.key}.csv` per sheet into `directory`; returns the files."""
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for sheet in sheets:
        path = directory / f"{prefix}-{sheet.key}.csv"
        with path.open("w", encoding="utf-8-sig", newline="") as handle:
            out = csv.writer(handle)
            out.writerow([safe_cell(sheet.title)])
            out.writerows([safe_cell(v) for v in row] for row in header_lines(sheet))
            out.writerows([safe_cell(v) for v in row] for row in sheet.rows)
            if sheet.notes:
                out.writerow([])
                out.writerows([safe_cell(note)] for note in sheet.notes)
        written.append(path)
    return written
