"""The trend as one SVG page of small charts (pygal), one per theme, targets dashed.

SVG keeps every label as text, so Japanese renders with whatever fonts the viewer has (the
server needs none). Values are printed on the points: the page reads without hovering.
"""

from __future__ import annotations

import sys
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path

import pygal
from pygal.style import Style

from yorisoi.jpdates import fiscal_year_label, fiscal_year_short
from yorisoi.reports.layout import ja_date
from yorisoi.reports.model import TrendReport

# pygal appends an old-style import hook (no find_spec) for its map plugins, which yorisoi does
# not use; left in place it breaks every later import once warnings are errors.
sys.meta_path[:] = [f for f in sys.meta_path if type(f).__name__ != "PluginImportFixer"]

SVG_NS = "http://www.w3.org/2000/svg"
XLINK_NS = "http://www.w3.org/1999/xlink"
FONTS = '"Noto Sans CJK JP", "Hiragino Sans", "Yu Gothic", Meiryo, "IPAexGothic", sans-serif'
PALETTE = ("#1f6fb2", "#d9822b", "#2e9d5b", "#b83d6e", "#7a5cc4")
PANEL_W, PANEL_H, HEADER_H, COLUMNS = 760, 430, 70, 2


@dataclass(frozen=True, slots=True)
class Panel:
    title: str
    indicators: tuple[tuple[str, str], ...]  # (indicator key, legend label)


PANELS = (
    Panel("相談件数", (("consultation.cases", "相談実件数"), ("consultation.contacts", "相談延件数"))),
    Panel("会議の開催回数", (("meetings.support", "支援会議"), ("meetings.multilayer", "重層的支援会議"))),
    Panel(
        "多機関協働・支援プラン・終結",
        (
            ("multi_agency.cases", "多機関協働（調整）"),
            ("plans.new", "プラン作成"),
            ("plans.revised", "プラン見直し"),
            ("closures", "終結"),
        ),
    ),
    Panel(
        "アウトリーチ",
        (("outreach.home_visits", "訪問"), ("outreach.meeting_attendance", "会議等出席")),
    ),
    Panel(
        "参加支援 延人数",
        (
            ("participation.program_type_b.enrolments", "就B活用事業"),
            ("participation.program_short_stay.enrolments", "短期宿泊場所提供事業"),
        ),
    ),
    Panel(
        "実施事業所の新規登録数",
        (
            ("providers.program_type_b.registered", "就B活用事業"),
            ("providers.program_short_stay.registered", "短期宿泊場所提供事業"),
        ),
    ),
)


def y_labels(values: list[int | None]) -> list[int]:
    """Whole-number ticks from 0, at most about eight, on a 1-2-5 step."""
    top = max((v for v in values if v is not None), default=0)
    step = 1
    while top / step > 8:
        step = step * 5 // 2 if str(step)[0] == "2" else step * 2
    return list(range(0, top + step, step)) if top else [0, 1]


def _panel_svg(trend: TrendReport, panel: Panel) -> ET.Element:
    colors: list[str] = []
    series: list[tuple[str, list[int | None], bool]] = []  # (legend, values, is a target)
    for index, (key, label) in enumerate(panel.indicators):
        row = trend.row(key)
        color = PALETTE[index % len(PALETTE)]
        series.append((label, [row.actuals[fy] for fy in trend.fiscal_years], False))
        colors.append(color)
        if row.targets:
            series.append((f"{label}（目標）", [row.targets.get(fy) for fy in trend.fiscal_years], True))
            colors.append(color)
    style = Style(
        font_family=FONTS,
        background="white",
        plot_background="white",
        colors=tuple(colors),
        title_font_size=20,
        legend_font_size=13,
        label_font_size=13,
        major_label_font_size=13,
        value_font_size=12,
    )
    chart = pygal.Line(
        style=style,
        width=PANEL_W,
        height=PANEL_H,
        title=panel.title,
        x_labels=[fiscal_year_short(fy) for fy in trend.fiscal_years],
        legend_at_bottom=True,
        legend_at_bottom_columns=3,
        print_values=True,
        js=[],
        disable_xml_declaration=True,
        y_labels=y_labels([v for _label, values, _dashed in series for v in values]),
        show_y_guides=True,
        dots_size=4,
        allow_interruptions=True,
    )
    for label, values, dashed in series:
        chart.add(label, values, stroke_style={"width": 2, "dasharray": "6,4"} if dashed else {"width": 3})
    element = ET.fromstring(chart.render(is_unicode=True))
    for parent in list(element.iter()):  # pygal's interactive scripts: a static page needs none
        for child in list(parent):
            if child.tag == f"{{{SVG_NS}}}script":
                parent.remove(child)
    return element


def trend_svg(trend: TrendReport) -> str:
    """The whole page as SVG text: a heading and one chart per panel, two to a row."""
    ET.register_namespace("", SVG_NS)
    ET.register_namespace("xlink", XLINK_NS)
    rows = (len(PANELS) + COLUMNS - 1) // COLUMNS
    width, height = PANEL_W * COLUMNS, HEADER_H + PANEL_H * rows
    page = ET.Element(
        f"{{{SVG_NS}}}svg",
        {"width": str(width), "height": str(height), "viewBox": f"0 0 {width} {height}"},
    )
    ET.SubElement(page, f"{{{SVG_NS}}}rect", {"width": "100%", "height": "100%", "fill": "white"})
    years = trend.fiscal_years
    heading = ET.SubElement(
        page,
        f"{{{SVG_NS}}}text",
        {"x": "24", "y": "40", "font-size": "24", "font-weight": "bold", "font-family": FONTS},
    )
    scope = trend.desk or "全体"
    heading.text = (
        f"{fiscal_year_label(years[0])}〜{fiscal_year_label(years[-1])}の推移（{scope}、"
        f"基準日 {ja_date(trend.as_of)}）"
    )
    note = ET.SubElement(
        page, f"{{{SVG_NS}}}text", {"x": "24", "y": "62", "font-size": "13", "font-family": FONTS}
    )
    note.text = "破線は目標（実施計画）。途切れた点は基準日にまだ始まっていない年度。"
    for index, panel in enumerate(PANELS):
        chart = _panel_svg(trend, panel)
        chart.set("x", str(PANEL_W * (index % COLUMNS)))
        chart.set("y", str(HEADER_H + PANEL_H * (index // COLUMNS)))
        chart.set("width", str(PANEL_W))
        chart.set("height", str(PANEL_H))
        page.append(chart)
    return ET.tostring(page, encoding="unicode", xml_declaration=False)


def write_trend_svg(trend: TrendReport, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text('<?xml version="1.0" encoding="utf-8"?>\n' + trend_svg(trend), encoding="utf-8")
    return path
