"""Reading a workbook (XLSX, or an old XLS, with calamine) or one sheet (CSV): sheets and headers
found, rows read into values.

A sheet is found by its name (the template's, an alias, or the mapping file's); its header row
is the one of the first ten that names the most of its columns (a title row above is fine).
Headers are matched the same way, and unknown columns are left aside with a note. Each row is
read cell by cell: every problem is kept, with the sheet, the row and the column, so one run
lists them all. Nothing here touches the database.
"""

from __future__ import annotations

import csv
import hashlib
import io
import itertools
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from yorisoi.errors import InvalidInput
from yorisoi.importing.layout import BY_KEY, SHEETS, Column, SheetSpec
from yorisoi.importing.values import CellProblem, is_blank, read, squeeze

HEADER_SCAN_ROWS = 10
IGNORED_SHEETS = frozenset({squeeze("説明"), squeeze("選択肢"), squeeze("エラー一覧")})
FAILED_COLUMN = "エラー"
"""The reason column of the failed-rows workbook: ignored when that file is imported again."""


@dataclass(frozen=True, slots=True)
class Problem:
    """Something wrong in the file: where (sheet, row, column as the file names them) and why."""

    sheet: str
    row: int | None
    column: str | None
    ja: str
    en: str
    warning: bool = False

    def where_ja(self) -> str:
        parts = [f"シート「{self.sheet}」"] if self.sheet else []
        if self.row is not None:
            parts.append(f"{self.row}行目")
        if self.column:
            parts.append(f"列「{self.column}」")
        return " ".join(parts)


@dataclass
class Row:
    spec: SheetSpec
    sheet: str
    number: int
    values: dict[str, Any]
    cells: tuple[Any, ...]
    problems: list[Problem] = field(default_factory=list)

    def problem(
        self, column: Column | None, ja: str, en: str, *, headers: dict[str, str] | None = None
    ) -> None:
        name = None if column is None else (headers or {}).get(column.key, column.header)
        self.problems.append(Problem(self.sheet, self.number, name, ja, en))


@dataclass
class Sheet:
    spec: SheetSpec
    name: str
    header_row: int
    headers: tuple[str, ...]
    """The header row as the file has it."""
    columns: dict[int, Column]
    """Position in the row → the column it fills."""
    rows: list[Row] = field(default_factory=list)

    @property
    def header_of(self) -> dict[str, str]:
        """Column key → the header the file gives it."""
        return {c.key: self.headers[i] for i, c in self.columns.items()}


@dataclass
class Workbook:
    path: Path
    file_hash: str
    sheets: list[Sheet]
    problems: list[Problem]

    def rows(self) -> Iterator[Row]:
        for sheet in self.sheets:
            yield from sheet.rows


@dataclass(frozen=True, slots=True)
class Mapping:
    """A municipality's own sheet and column names (YAML), onto the template's.

    ```yaml
    sheets:            # ファイルのシート名: 取込のシート名
      相談受付台帳: 相談
    columns:           # 取込のシート名: {ファイルの列名: 取込の列名}
      相談:
        受付年月日: 相談日
        ケースNo: 台帳番号
    ```
    """

    sheets: dict[str, str] = field(default_factory=dict)
    """squeezed file sheet name → sheet key"""
    columns: dict[str, dict[str, str]] = field(default_factory=dict)
    """sheet key → squeezed file header → column key"""


def _sheet_key(name: object, source: str) -> str:
    wanted = squeeze(name)
    for spec in SHEETS:
        if wanted in {squeeze(spec.name), squeeze(spec.key), *(squeeze(a) for a in spec.aliases)}:
            return spec.key
    raise InvalidInput(
        f"{source}: シート「{name}」は取込のシートにありません（{'、'.join(s.name for s in SHEETS)}）",
        f"{source}: {name!r} is not a sheet of the import ({', '.join(s.key for s in SHEETS)}).",
    )


def _column_key(spec: SheetSpec, name: object, source: str) -> str:
    wanted = squeeze(name)
    for column in spec.columns:
        if wanted in {squeeze(column.header), squeeze(column.key), *(squeeze(a) for a in column.aliases)}:
            return column.key
    raise InvalidInput(
        f"{source}: 列「{name}」はシート「{spec.name}」の列にありません"
        f"（{'、'.join(c.header for c in spec.columns)}）",
        f"{source}: {name!r} is not a column of {spec.key}.",
    )


def load_mapping(path: Path) -> Mapping:
    """Read and check a mapping file; every name it gives must be a sheet or column of the import."""
    source = str(path)
    try:
        loaded = yaml.safe_load(path.read_text("utf-8")) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise InvalidInput(
            f"対応表 {source} を読めません: {exc}", f"Cannot read the mapping file {source}: {exc}"
        ) from None
    if not isinstance(loaded, dict) or set(loaded) - {"sheets", "columns"}:
        raise InvalidInput(
            f"{source}: 対応表は sheets と columns の2つの項目で書いてください",
            f"{source}: a mapping file has `sheets` and `columns` only.",
        )
    sheets = {
        squeeze(theirs): _sheet_key(ours, source) for theirs, ours in (loaded.get("sheets") or {}).items()
    }
    columns: dict[str, dict[str, str]] = {}
    for sheet, names in (loaded.get("columns") or {}).items():
        spec = BY_KEY[_sheet_key(sheet, source)]
        if not isinstance(names, dict):
            raise InvalidInput(
                f"{source}: columns の「{sheet}」は「ファイルの列名: 取込の列名」の対応にしてください",
                f"{source}: columns.{sheet} must map the file's headers to the import's.",
            )
        columns[spec.key] = {
            squeeze(theirs): _column_key(spec, ours, source) for theirs, ours in names.items()
        }
    return Mapping(sheets, columns)


def _match_sheet(name: str, mapping: Mapping) -> SheetSpec | None:
    key = mapping.sheets.get(squeeze(name))
    if key is not None:
        return BY_KEY[key]
    try:
        return BY_KEY[_sheet_key(name, "")]
    except InvalidInput:
        return None


def _match_columns(spec: SheetSpec, cells: Sequence[Any], mapping: Mapping) -> dict[int, Column]:
    own = mapping.columns.get(spec.key, {})
    names: dict[str, Column] = {}
    for each in spec.columns:
        for name in (each.header, each.key, *each.aliases):
            names.setdefault(squeeze(name), each)
    found: dict[int, Column] = {}
    taken: set[str] = set()
    for position, cell in enumerate(cells):
        if is_blank(cell):
            continue
        header = squeeze(cell)
        column: Column | None = spec.column(own[header]) if header in own else names.get(header)
        if column is not None and column.key not in taken:
            found[position] = column
            taken.add(column.key)
    return found


def _read_sheet(
    spec: SheetSpec, name: str, rows: Iterable[Sequence[Any]], mapping: Mapping
) -> tuple[Sheet | None, list[Problem]]:
    iterator = iter(rows)
    head: list[tuple[int, Sequence[Any]]] = []
    for number, cells in enumerate(iterator, start=1):
        head.append((number, cells))
        if number >= HEADER_SCAN_ROWS:
            break
    best: tuple[int, Sequence[Any], dict[int, Column]] | None = None
    for number, cells in head:
        columns = _match_columns(spec, cells, mapping)
        if columns and (best is None or len(columns) > len(best[2])):
            best = (number, cells, columns)
    if best is None:
        names = "、".join(c.header for c in spec.required)
        return None, [
            Problem(
                name,
                None,
                None,
                f"見出しの行が見つかりません（最初の{HEADER_SCAN_ROWS}行に「{names}」などの列名が必要です）",
                f"no header row in the first {HEADER_SCAN_ROWS} rows",
            )
        ]
    header_row, header_cells, columns = best
    headers = tuple("" if is_blank(c) else str(c).strip() for c in header_cells)
    sheet = Sheet(spec, name, header_row, headers, columns)
    problems = []
    present = {c.key for c in columns.values()}
    for column in spec.required:
        if column.key not in present:
            also = f"（別名: {'、'.join(column.aliases)}）" if column.aliases else ""
            problems.append(
                Problem(
                    name,
                    header_row,
                    column.header,
                    f"必須の列「{column.header}」がありません{also}。この列がないため、このシートの行は取り込めません",
                    f"the required column {column.header!r} ({column.key}) is missing: "
                    "no row of the sheet can be imported",
                )
            )
    for position, header in enumerate(headers):
        if header and position not in columns and squeeze(header) != squeeze(FAILED_COLUMN):
            problems.append(
                Problem(
                    name,
                    header_row,
                    header,
                    "この列は取り込みません（取込の列名ではありません。対応表で列名を指定できます）",
                    "this column is not imported (not a column of the import; a mapping file can name it)",
                    warning=True,
                )
            )
    missing_required = any(p for p in problems if not p.warning)
    rest = (row for number, row in head if number > header_row)
    for number, cells in enumerate(itertools.chain(rest, iterator), start=header_row + 1):
        if all(is_blank(c) for c in cells):
            continue
        row = Row(spec, name, number, {}, tuple(cells))
        if missing_required:
            row.problem(None, "必須の列がないため取り込めません", "a required column of the sheet is missing")
        else:
            _read_row(sheet, row)
        sheet.rows.append(row)
    return sheet, problems


def _read_row(sheet: Sheet, row: Row) -> None:
    headers = sheet.header_of
    for position, column in sheet.columns.items():
        cell = row.cells[position] if position < len(row.cells) else None
        if is_blank(cell):
            if column.required:
                row.problem(column, "必須です（空欄です）", "required (empty)", headers=headers)
            continue
        try:
            row.values[column.key] = read(column, cell)
        except CellProblem as problem:
            row.problem(column, problem.ja, problem.en, headers=headers)


def file_hash(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def read_workbook(path: Path, *, mapping: Mapping | None = None, sheet: str | None = None) -> Workbook:
    """Every sheet of the import in the file (XLSX, or CSV holding one sheet: `sheet` names it,
    else the file's name or its headers tell which)."""
    mapping = mapping or Mapping()
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise InvalidInput(
            f"ファイル {path} を読めません: {exc.strerror}", f"Cannot read {path}: {exc.strerror}"
        ) from None
    digest = file_hash(data)
    suffix = path.suffix.lower()
    if suffix == ".csv":
        return _read_csv(path, data, digest, mapping, sheet)
    if suffix not in {".xlsx", ".xlsm", ".xls"}:
        raise InvalidInput(
            f"{path.name}: 取り込めるのは XLSX（.xls も可）と CSV のファイルです",
            f"{path.name}: only XLSX (or XLS) and CSV files can be imported.",
        )
    return _read_xlsx(path, data, digest, mapping)


def _read_xlsx(path: Path, data: bytes, digest: str, mapping: Mapping) -> Workbook:
    from python_calamine import CalamineWorkbook

    try:
        book = CalamineWorkbook.from_filelike(io.BytesIO(data))
    except Exception as exc:  # calamine raises its own errors for a file that is not a workbook
        raise InvalidInput(
            f"{path.name} はワークブック（XLSX）として読めません（{type(exc).__name__}）",
            f"{path.name} is not a readable workbook ({type(exc).__name__}).",
        ) from None
    sheets, problems = [], []
    for name in book.sheet_names:
        spec = _match_sheet(name, mapping)
        if spec is None:
            if squeeze(name) not in IGNORED_SHEETS:
                problems.append(
                    Problem(
                        name,
                        None,
                        None,
                        "このシートは取り込みません（シート名が取込のシートにありません。対応表で指定できます）",
                        "this sheet is not imported (not a sheet of the import; a mapping file can name it)",
                        warning=True,
                    )
                )
            continue
        # From cell A1 on, so that row numbers are the sheet's own.
        rows = book.get_sheet_by_name(name).to_python(skip_empty_area=False)
        found, sheet_problems = _read_sheet(spec, name, rows, mapping)
        problems += sheet_problems
        if found is not None:
            sheets.append(found)
    if not sheets and not any(not p.warning for p in problems):
        problems.append(
            Problem(
                "",
                None,
                None,
                f"取り込めるシートがありません（シート名: {'、'.join(s.name for s in SHEETS)}）",
                "no sheet of the import in the file",
            )
        )
    return Workbook(path, digest, sheets, problems)


def _decode(data: bytes, name: str) -> str:
    for encoding in ("utf-8-sig", "cp932"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise InvalidInput(
        f"{name} の文字コードを読めません（UTF-8 か Shift_JIS にしてください）",
        f"{name}: the encoding is neither UTF-8 nor Shift_JIS.",
    )


def _read_csv(path: Path, data: bytes, digest: str, mapping: Mapping, sheet: str | None) -> Workbook:
    rows = list(csv.reader(io.StringIO(_decode(data, path.name), newline="")))
    if sheet is not None:
        spec = _match_sheet(sheet, mapping)
        if spec is None:
            raise InvalidInput(
                f"シート「{sheet}」は取込のシートにありません（{'、'.join(s.name for s in SHEETS)}）",
                f"{sheet!r} is not a sheet of the import.",
            )
    else:
        spec = _match_sheet(path.stem, mapping) or _guess(rows[:HEADER_SCAN_ROWS], mapping, path.name)
    found, problems = _read_sheet(spec, path.stem, rows, mapping)
    return Workbook(path, digest, [found] if found else [], problems)


def _guess(head: list[list[str]], mapping: Mapping, name: str) -> SheetSpec:
    """The record sheet whose required columns one header row holds, with the most columns."""
    scored = []
    for spec in SHEETS:
        for cells in head:
            columns = _match_columns(spec, cells, mapping)
            keys = {c.key for c in columns.values()}
            if all(c.key in keys for c in spec.required):
                scored.append((len(columns), len(spec.required), spec.key))
    if not scored:
        raise InvalidInput(
            f"{name}: どのシートの CSV か分かりません。--sheet でシート名"
            f"（{'、'.join(s.name for s in SHEETS)}）を指定するか、ファイル名をシート名にしてください",
            f"{name}: cannot tell which sheet the CSV holds; name it with --sheet or by the file name.",
        )
    return BY_KEY[max(scored)[2]]
