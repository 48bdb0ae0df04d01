"""Records that hold control characters or formula-like text (typed before input was checked, or
imported) are shown safely: terminal output never carries the raw ESC, XLSX and CSV never a
formula, and openpyxl no longer refuses the workbook."""

from __future__ import annotations

import csv
import json
from pathlib import Path

from openpyxl import load_workbook
from sqlalchemy import text

from models.db import create_db_engine
from tests.cli.conftest import DESK, Cli, open_case, to_monitoring
from yorisoi.settings import get_settings

FORMULA = '=HYPERLINK("http://example.invalid/","クリック")'
ESC_NAME = "田中\x1b[31m花子\x1b]0;pwned\x07"
ESC_SHOWN = "田中\\x1b[31m花子\\x1b]0;pwned\\x07"


def _store_bad_text(number: str) -> None:
    """Write what the input checks now refuse straight into the database."""
    engine = create_db_engine(get_settings().database_url())
    with engine.begin() as connection:
        connection.execute(
            text("UPDATE agency SET name = :v WHERE name = :desk"), {"v": FORMULA, "desk": DESK}
        )
        connection.execute(text("UPDATE staff SET name = :v WHERE login = 'tanaka'"), {"v": ESC_NAME})
        connection.execute(
            text('UPDATE person SET name = :v WHERE id = (SELECT person_id FROM "case" WHERE number = :n)'),
            {"v": "山田\x1b[2J\u202e太郎", "n": number},
        )
    engine.dispose()


def _no_raw_controls(output: str) -> None:
    assert "\x1b" not in output and "\x07" not in output and "\u202e" not in output


def test_case_show_staff_and_agency_lists_print_control_characters_as_escapes(town: Cli) -> None:
    number = open_case(town)
    to_monitoring(town, number)
    _store_bad_text(number)
    shown = town("case", "show", number).stdout
    _no_raw_controls(shown)
    assert "山田\\x1b[2J\\u202e太郎" in shown and ESC_SHOWN in shown and FORMULA in shown
    staff = town("staff", "list").stdout
    _no_raw_controls(staff)
    assert ESC_SHOWN in staff
    agencies = town("agency", "list").stdout
    assert FORMULA in agencies
    as_json = town("--json", "staff", "list").stdout
    _no_raw_controls(as_json)
    assert json.loads(as_json)[[r["login"] for r in json.loads(as_json)].index("tanaka")]["name"] == ESC_NAME


def test_reports_write_formulas_as_text_and_control_characters_safely(town: Cli, tmp_path: Path) -> None:
    number = open_case(town)
    to_monitoring(town, number)
    _store_bad_text(number)

    annual = tmp_path / "annual.xlsx"
    town(
        "report", "annual", "--fy", "R7", "--as-of", "2026-03-31", "--format", "xlsx", "--output", str(annual)
    )
    sheet = load_workbook(annual)["相談実績"]
    [desk] = [c for row in sheet.iter_rows() for c in row if c.value == FORMULA]
    assert desk.data_type == "s" and desk.quotePrefix  # text, and stays text when edited

    audit = tmp_path / "audit.xlsx"
    town("audit", "report", "--from", "2025-04-01", "--to", "2026-03-31", "--format", "xlsx", "--output",
         str(audit))  # fmt: skip
    approvals = load_workbook(audit)["支援プランの承認"]
    assert f"{ESC_SHOWN} (tanaka)" in [c.value for row in approvals.iter_rows() for c in row]

    town("report", "annual", "--fy", "R7", "--as-of", "2026-03-31", "--format", "csv", "--output",
         str(tmp_path / "csv"))  # fmt: skip
    [consultation] = (tmp_path / "csv").glob("*-consultation.csv")
    with consultation.open(encoding="utf-8-sig", newline="") as handle:
        cells = [cell for row in csv.reader(handle) for cell in row]
    assert "'" + FORMULA in cells and FORMULA not in cells
    town("audit", "report", "--from", "2025-04-01", "--to", "2026-03-31", "--format", "csv", "--output",
         str(tmp_path / "audit-csv"))  # fmt: skip
    written = "".join(p.read_text("utf-8-sig") for p in (tmp_path / "audit-csv").glob("*.csv"))
    assert "\x1b" not in written and ESC_SHOWN in written

    table = town("audit", "report", "--from", "2025-04-01", "--to", "2026-03-31").stdout
    _no_raw_controls(table)
