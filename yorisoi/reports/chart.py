"""The trend as one SVG page of small charts (pygal), one per theme, targets dashed.

SVG keeps every label as text, so Japanese renders with whatever fonts the viewer has (the
server needs none). Values are printed on the points: the page reads without hovering.
"""

from __future__ import annotations

import sys
import xml.etree.ElementTree as ET
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import pygal
from pygal.style import Style

from yorisoi.jpdates import as_of_label, fiscal_year_label, fiscal_year_short
from yorisoi.reports.model import TrendReport
from yorisoi.reports.targets import Targets

# pygal appends an old-style import hook (no find_spec) for its map plugins, which yorisoi does
# not use; left in place it breaks every later import once warnings are errors.
sys.meta_path[:] = [f for f in sys.meta_path if type(f).__name__ != "PluginImportFixer"]

SVG_NS = "http://www.w3.org/2000/svg"
XLINK_NS = "http://www.w3.org/1999/xlink"
FONTS = '"Noto Sans CJK JP", "Hiragino Sans", "Yu Gothic", Meiryo, "IPAexGothic", sans-serif'
PALETTE = ("#1f6fb2", "#d9822b", "#2e9d5b", "#b83d6e", "#7a5cc4")
PANEL_W, PANEL_H, HEADER_H, COLUMNS = 760, 400, 70, 2
LEGEND_COLUMNS, LEGEND_ROW_H = 2, 26
"""Legend entries two to a row (a long label such as 短期宿泊場所提供事業（目標） needs half a
panel); each further legend row makes the panel taller instead of squeezing the plot."""
MARGIN_RIGHT = 56
"""Room right of the last 年度 for the value printed on its point."""


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


def _series(trend: TrendReport, panel: Panel) -> list[tuple[str, list[int | None], bool, str]]:
    """(legend, values, is a target, colour) per line: each indicator, and its target where set."""
    series: list[tuple[str, list[int | None], bool, str]] = []
    for index, (key, label) in enumerate(panel.indicators):
        row = trend.row(key)
        color = PALETTE[index % len(PALETTE)]
        series.append((label, [row.actuals[fy] for fy in trend.fiscal_years], False, color))
        if row.targets:
            targets = [row.targets.get(fy) for fy in trend.fiscal_years]
            series.append((f"{label}（目標）", targets, True, color))
    return series


def panel_height(trend: TrendReport, panel: Panel) -> int:
    """The panel's height: the plot plus as many legend rows as its lines need."""
    rows = -(-len(_series(trend, panel)) // LEGEND_COLUMNS)
    return PANEL_H + LEGEND_ROW_H * rows


CHARTED: frozenset[str] = frozenset(key for panel in PANELS for key, _label in panel.indicators)
"""The indicators the chart draws."""


def has_targets(trend: TrendReport) -> bool:
    """Whether any charted indicator has a target (and so a dashed line) in these 年度."""
    return any(trend.row(key).targets for key in CHARTED)


def targets_charted(targets: Targets, fiscal_years: Iterable[int]) -> bool:
    """`has_targets` before the trend is built: whether `targets` names a charted indicator in
    one of `fiscal_years` (the statistics page captions the chart without building it)."""
    years = list(fiscal_years)
    return any(targets.get(key, fy) is not None for key in CHARTED for fy in years)


def _panel_svg(trend: TrendReport, panel: Panel, height: int) -> ET.Element:
    series = _series(trend, panel)
    colors = [color for _label, _values, _dashed, color in series]
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
        height=height,
        title=panel.title,
        x_labels=[fiscal_year_short(fy) for fy in trend.fiscal_years],
        legend_at_bottom=True,
        legend_at_bottom_columns=LEGEND_COLUMNS,
        truncate_legend=-1,
        margin_right=MARGIN_RIGHT,
        print_values=True,
        js=[],
        disable_xml_declaration=True,
        y_labels=y_labels([v for _label, values, _dashed, _color in series for v in values]),
        show_y_guides=True,
        dots_size=4,
        allow_interruptions=True,
    )
    for label, values, dashed, _color in series:
        chart.add(label, values, stroke_style={"width": 2, "dasharray": "6,4"} if dashed else {"width": 3})
    element = ET.fromstring(chart.render(is_unicode=True))
    for parent in list(element.iter()):  # pygal's interactive scripts: a static page needs none
        for child in list(parent):
            if child.tag == f"{{{SVG_NS}}}script":
                parent.remove(child)
    return element


def trend_svg(trend: TrendReport) -> str:
    """The whole page as SVG text: a heading and one chart per panel, two to a row, each row
    as tall as its tallest legend needs. The dashed-line note only where a target is drawn."""
    ET.register_namespace("", SVG_NS)
    ET.register_namespace("xlink", XLINK_NS)
    heights = [panel_height(trend, panel) for panel in PANELS]
    row_heights = [max(heights[i : i + COLUMNS]) for i in range(0, len(PANELS), COLUMNS)]
    width, height = PANEL_W * COLUMNS, HEADER_H + sum(row_heights)
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
        f"{as_of_label(trend.as_of)}）"
    )
    note = ET.SubElement(
        page, f"{{{SVG_NS}}}text", {"x": "24", "y": "62", "font-size": "13", "font-family": FONTS}
    )
    dashed = "破線は目標（実施計画）。" if has_targets(trend) else ""
    note.text = dashed + "途切れた点は基準日にまだ始まっていない年度。"
    for index, panel in enumerate(PANELS):
        row = index // COLUMNS
        chart = _panel_svg(trend, panel, row_heights[row])
        chart.set("x", str(PANEL_W * (index % COLUMNS)))
        chart.set("y", str(HEADER_H + sum(row_heights[:row])))
        chart.set("width", str(PANEL_W))
        chart.set("height", str(row_heights[row]))
        page.append(chart)
    return ET.tostring(page, encoding="unicode", xml_declaration=False)


def write_trend_svg(trend: TrendReport, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text('<?xml version="1.0" encoding="utf-8"?>\n' + trend_svg(trend), encoding="utf-8")
    return path
