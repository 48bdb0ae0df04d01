"""Outputs of the 山口市 R6 report: XLSX read back cell by cell, CSV, JSON, terminal, SVG chart."""

from __future__ import annotations

import csv
import datetime as dt
import json
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from openpyxl import load_workbook
from rich.console import Console
from sqlmodel import Session

from tests.reports.datasets import YAMAGUCHI_R6_ROW, Yamaguchi
from yorisoi.reports.build import build_annual, build_trend
from yorisoi.reports.chart import PANELS, trend_svg
from yorisoi.reports.csvfiles import write_csv
from yorisoi.reports.indicators import INDICATORS
from yorisoi.reports.jsondata import annual_json, trend_json
from yorisoi.reports.layout import annual_sheets, trend_sheets
from yorisoi.reports.model import AnnualReport
from yorisoi.reports.terminal import print_sheets
from yorisoi.reports.xlsx import write_xlsx
from yorisoi.vocabulary import DEFAULT_TOPICS

PUBLISHED = [YAMAGUCHI_R6_ROW.split("\t")[0], *(int(v) for v in YAMAGUCHI_R6_ROW.split("\t")[1:])]
REFERRER_HEAD = ["本人", "家族・親族", "地域", "関係機関等", "計"]
METHOD_HEAD = ["来所", "電話", "訪問", "その他", "計"]


@pytest.fixture(name="r6")
def r6_fixture(ysession: Session) -> AnnualReport:
    return build_annual(ysession, fiscal_year=2024, as_of=dt.date(2025, 3, 31), topics=DEFAULT_TOPICS)


def test_xlsx_consultation_sheet_cell_by_cell(r6: AnnualReport, yamaguchi: Yamaguchi, tmp_path: Path) -> None:
    path = write_xlsx(annual_sheets(r6, DEFAULT_TOPICS), tmp_path / "r6.xlsx")
    book = load_workbook(path)
    assert book.sheetnames == [
        "相談実績",
        "会議・プラン・終結",
        "終結理由",
        "多機関協働・アウトリーチ",
        "参加支援",
    ]
    ws = book["相談実績"]
    assert ws["A1"].value == "令和6年度 相談実績（全体） 令和6年4月1日〜令和7年3月31日（令和7年3月31日現在）"
    # Header: 山口市's two rows; 受付窓口 / 相談実件数 / 相談延件数 span both.
    assert [ws.cell(3, c).value for c in (1, 2, 7, 12, 32, 33)] == [
        "受付窓口", "相談者", "相談方法", "相談内容", "相談実件数", "相談延件数",
    ]  # fmt: skip
    assert {str(r) for r in ws.merged_cells.ranges} == {
        "A3:A4",
        "B3:F3",
        "G3:K3",
        "L3:AE3",
        "AF3:AF4",
        "AG3:AG4",
    }
    assert [ws.cell(4, c).value for c in range(2, 12)] == REFERRER_HEAD + METHOD_HEAD
    assert [ws.cell(4, c).value for c in range(12, 31)] == list(DEFAULT_TOPICS.values())
    assert ws.cell(4, 31).value == "計"
    assert ws.max_column == 33
    # Ten desks, then 合計 — the published row, every cell.
    for offset, desk in enumerate(yamaguchi.desks):
        row = r6.consultation.desks[offset]
        expected = [
            desk.name, *row.referrers.values(), row.referrer_total, *row.methods.values(), row.method_total,
            *row.topics.values(), row.topic_total, row.cases, row.contacts,
        ]  # fmt: skip
        assert [ws.cell(5 + offset, c).value for c in range(1, 34)] == expected
    assert [ws.cell(15, c).value for c in range(1, 34)] == PUBLISHED
    assert "44 件を含みません" in ws.cell(17, 1).value
    assert ws.max_row == 15 + 1 + 4  # a blank row, then four notes


def test_xlsx_other_sheets_cell_by_cell(r6: AnnualReport, tmp_path: Path) -> None:
    book = load_workbook(write_xlsx(annual_sheets(r6, DEFAULT_TOPICS), tmp_path / "r6.xlsx"))

    def grid(name: str, rows: int, columns: int) -> list[list[object]]:
        ws = book[name]
        return [[ws.cell(r, c).value for c in range(1, columns + 1)] for r in range(3, 3 + rows)]

    assert grid("会議・プラン・終結", 3, 4) == [
        ["会議名", "回数", "プラン", "終結"],
        ["重層的支援会議", 5, 3, 2],
        ["支援会議", 14, "—", "—"],
    ]
    assert grid("終結理由", 8, 2) == [
        ["終結理由", "件数"],
        ["目標達成", 0],
        ["単独機関での支援へ移行", 1],
        ["転出", 0],
        ["死亡", 0],
        ["本人の辞退", 1],
        ["その他", 0],
        ["計", 2],
    ]
    assert grid("多機関協働・アウトリーチ", 4, 2) == [
        ["項目", "件数"],
        ["多機関協働（調整）件数", 14],
        ["訪問による相談件数（アウトリーチ）", 421],
        ["会議等出席回数（アウトリーチ）", 360],
    ]
    assert grid("参加支援", 3, 4) == [
        ["事業", "延人数（名）", "実人数（名）", "実施事業所の新規登録数（箇所）"],
        ["就労継続支援B型事業所活用事業", 0, 0, 0],
        ["短期宿泊場所提供事業", 0, 0, 0],
    ]


def test_csv_files_one_per_table(r6: AnnualReport, tmp_path: Path) -> None:
    files = write_csv(annual_sheets(r6, DEFAULT_TOPICS), tmp_path / "csv", "R6")
    assert [f.name for f in files] == [
        f"R6-{key}.csv" for key in ("consultation", "meetings", "closures", "coordination", "participation")
    ]
    raw = files[0].read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")  # BOM: Excel reads the Japanese
    with files[0].open(encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.reader(handle))
    assert rows[1][:3] == ["受付窓口", "相談者", ""] and rows[1][31:] == ["相談実件数", "相談延件数"]
    assert rows[2][1:6] == REFERRER_HEAD and rows[2][0] == ""
    assert rows[13] == [str(v) for v in PUBLISHED]
    assert rows[15][0].startswith("※相談方法の計は")


def test_json_holds_every_figure_and_label(r6: AnnualReport) -> None:
    data = json.loads(json.dumps(annual_json(r6, DEFAULT_TOPICS), ensure_ascii=False))
    total = data["consultation"]["total"]
    assert (data["short"], data["label"], data["as_of"]) == ("R6", "令和6年度", "2025-03-31")
    assert (total["cases"], total["contacts"], total["method_total"], total["unrecorded_method"]) == (
        336,
        1802,
        1758,
        44,
    )
    assert list(total["topics"].values()) == PUBLISHED[11:30] and total["topic_total"] == 2742
    assert len(data["consultation"]["desks"]) == 10
    assert data["meetings"] == {
        "support_meetings": 14, "multilayer_meetings": 5, "plans_new": 3, "plans_revised": 1, "closures": 2,
    }  # fmt: skip
    assert data["coordination"] == {
        "multi_agency_cases": 14,
        "home_visits": 421,
        "meeting_attendance": 360,
        "visits_from_contacts": 0,
    }
    assert data["labels"]["referrers"]["community"] == "地域"
    assert data["labels"]["methods"]["unrecorded"] == "未記録"


def test_terminal_prints_the_table_on_its_side(r6: AnnualReport) -> None:
    console = Console(record=True, width=240)
    print_sheets(annual_sheets(r6, DEFAULT_TOPICS), console)
    text = console.export_text()
    assert "令和6年度 相談実績（全体）" in text
    line = next(row for row in text.splitlines() if "相談延件数" in row and "│" in row)
    assert line.rstrip().rstrip("│").split()[-1] == "1802"  # the 合計 column comes last
    assert "社協本所" in text  # one column per desk


def test_trend_chart_and_json(ysession: Session) -> None:
    trend = build_trend(ysession, first=2023, last=2025, as_of=dt.date(2025, 4, 30), topics=DEFAULT_TOPICS)
    assert all(key in INDICATORS for panel in PANELS for key, _label in panel.indicators)
    svg = ET.fromstring(trend_svg(trend))
    texts = [t.text or "" for t in svg.iter("{http://www.w3.org/2000/svg}text")]
    assert "令和5年度〜令和7年度の推移（全体、令和7年4月30日現在）" in texts
    assert {p.title for p in PANELS} <= set(texts)
    assert "1802" in texts and "336" in texts and "421" in texts  # the R6 values, printed on the points
    assert not list(svg.iter("{http://www.w3.org/2000/svg}script"))
    data = trend_json(trend, DEFAULT_TOPICS)
    contacts = next(i for i in data["indicators"] if i["indicator"] == "consultation.contacts")
    assert [v["actual"] for v in contacts["values"]] == [4, 1802, 4]
    sheet = trend_sheets(trend)[0]
    assert sheet.columns == ["指標", "単位", "R5", "R6", "R7"]
    assert sheet.rows[1] == ["相談延件数", "件", 4, 1802, 4]
