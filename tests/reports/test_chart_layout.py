"""The trend chart is sized to its labels, and says 「破線は目標」 and draws dashed lines only
where a target exists. Built from a hand-made trend: no database."""

from __future__ import annotations

import datetime as dt
import xml.etree.ElementTree as ET

from yorisoi.reports.chart import PANEL_H, PANEL_W, PANELS, has_targets, panel_height, trend_svg
from yorisoi.reports.indicators import INDICATORS
from yorisoi.reports.model import TrendReport, TrendRow

SVG = "{http://www.w3.org/2000/svg}"
YEARS = [2023, 2024, 2025]


def _trend(targets: dict[str, dict[int, int]]) -> TrendReport:
    rows = [TrendRow(key, {2023: 4, 2024: 1802, 2025: 2100}, targets.get(key, {})) for key in INDICATORS]
    return TrendReport(YEARS, dt.date(2025, 4, 30), None, rows, [], [])


def _texts(svg: ET.Element) -> list[str]:
    return [t.text or "" for t in svg.iter(f"{SVG}text")]


def _dashed(svg: ET.Element) -> int:
    """Series drawn dashed: pygal styles each series by class, the target ones `dasharray:6,4`."""
    return sum((style.text or "").count("stroke-dasharray:6,4") for style in svg.iter(f"{SVG}style"))


def test_without_targets_no_dashed_line_and_no_dashed_caption() -> None:
    trend = _trend({})
    svg = ET.fromstring(trend_svg(trend))
    texts = _texts(svg)
    assert not has_targets(trend)
    assert not any("破線" in t for t in texts)
    assert not any("（目標）" in t for t in texts)
    assert _dashed(svg) == 0
    assert "令和5年度〜令和7年度の推移（全体、令和7年4月30日現在）" in texts


def test_with_targets_dashed_lines_and_caption() -> None:
    key = "participation.program_type_b.enrolments"
    trend = _trend({key: {2024: 2000, 2025: 2200}})
    svg = ET.fromstring(trend_svg(trend))
    texts = _texts(svg)
    assert has_targets(trend)
    assert any(t.startswith("破線は目標") for t in texts)
    assert "就B活用事業（目標）" in texts
    assert _dashed(svg) >= 1


def test_panels_grow_with_their_legend_and_leave_room_for_the_last_value() -> None:
    plain = _trend({})
    four = next(p for p in PANELS if len(p.indicators) == 4)  # 多機関協働・支援プラン・終結
    two = next(p for p in PANELS if len(p.indicators) == 2)
    assert panel_height(plain, four) > panel_height(plain, two) >= PANEL_H
    svg = ET.fromstring(trend_svg(plain))
    panels = [e for e in svg if e.tag == f"{SVG}svg"]
    assert len(panels) == len(PANELS)
    # the page is as tall as its panels, row by row: nothing is cut off at the bottom
    bottom = max(float(p.get("y", 0)) + float(p.get("height", 0)) for p in panels)
    assert float(svg.get("height", 0)) == bottom
    # each panel's plot ends well inside its width, so the R7 value printed right of the last
    # point stays inside the panel (pygal's own margin_right)
    for panel in panels:
        plot = next(g for g in panel.iter(f"{SVG}g") if "plot" in (g.get("class") or "").split())
        x = float((plot.get("transform") or "translate(0, 0)").split("(")[1].split(",")[0])
        width = float(next(r for r in plot.iter(f"{SVG}rect")).get("width", 0))
        assert x + width <= PANEL_W - 50
