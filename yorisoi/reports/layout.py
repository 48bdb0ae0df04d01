"""Reports as the tables municipalities publish: Japanese headers, one `Sheet` per table.

The 相談実績 sheet follows 山口市's table column for column (相談者 本人 / 家族・親族 / 地域 /
関係機関等 / 計, 相談方法 来所 / 電話 / 訪問 / その他 / 計, 相談内容 … 計, 相談実件数, 相談延件数);
the meeting and 参加支援 sheets follow 由利本荘市's 実施計画. Terminal, CSV and XLSX output
all render these sheets, so the three never disagree.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field

from models.case import CONTACT_METHOD_LABELS_JA, REFERRER_LABELS_JA
from models.outreach import PROGRAM_LABELS_JA
from states.stages import CLOSURE_REASON_LABELS_JA
from yorisoi.jpdates import as_of_label, fiscal_year_label, fiscal_year_short, japanese_date, western_date
from yorisoi.reports.indicators import INDICATORS
from yorisoi.reports.model import AnnualReport, ConsultationRow, TargetRow, TrendReport

Cell = str | int | float | None
NOT_APPLICABLE = "—"


@dataclass(frozen=True, slots=True)
class Group:
    """A header cell spanning `span` columns; `label=None`: those columns' own labels span both rows."""

    label: str | None
    span: int


@dataclass(frozen=True, slots=True)
class Sheet:
    key: str
    name: str
    title: str
    columns: list[str]
    rows: list[list[Cell]]
    groups: list[Group] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    total_columns: frozenset[int] = frozenset()
    """Indexes of the 計 columns, set apart on the page and in bold in XLSX."""
    total_row: bool = False
    """The last row is the total (全体 / 計), set apart likewise."""
    pinned_end: int = 0
    """Trailing columns the page keeps in view while the table scrolls sideways (相談実件数 /
    相談延件数, the figures read first, stay where the published table puts them: last)."""

    def is_total(self, row: int, column: int) -> bool:
        """Whether the cell at (`row`, `column`) of `rows` is a total."""
        return column in self.total_columns or (self.total_row and row == len(self.rows) - 1)


def ja_date(day: dt.date) -> str:
    """`2025年6月2日` (working tables such as the audit's); titles use `official_cut` (和暦)."""
    return western_date(day)


def _scope(desk: str | None) -> str:
    return desk or "全体"


def _consultation_values(row: ConsultationRow) -> list[Cell]:
    return [
        row.desk,
        *row.referrers.values(),
        row.referrer_total,
        *row.methods.values(),
        row.method_total,
        *row.topics.values(),
        row.topic_total,
        row.cases,
        row.contacts,
    ]


def consultation_sheet(report: AnnualReport, topics: Mapping[str, str]) -> Sheet:
    total = report.consultation.total
    columns = [
        "受付窓口",
        *(REFERRER_LABELS_JA.get(c, c) for c in total.referrers),
        "計",
        *(CONTACT_METHOD_LABELS_JA.get(c, c) for c in total.methods),
        "計",
        *(topics.get(c, c) for c in total.topics),
        "計",
        "相談実件数",
        "相談延件数",
    ]
    groups = [
        Group(None, 1),
        Group("相談者", len(total.referrers) + 1),
        Group("相談方法", len(total.methods) + 1),
        Group("相談内容", len(total.topics) + 1),
        Group(None, 1),
        Group(None, 1),
    ]
    notes = []
    if total.unrecorded_method:
        notes.append(
            f"※相談方法の計は、相談方法が記録されていない相談 {total.unrecorded_method} 件を含みません"
            f"（相談延件数 {total.contacts} 件 − 相談方法の計 {total.method_total} 件）。"
        )
    notes.append("※相談内容は1回の相談で複数選べるため、その計は相談延件数を上回ることがあります。")
    notes.append("※相談実件数は、期間内に相談のあったケースの数（同じケースの相談は1件）です。")
    if report.consultation.desks:
        notes.append(
            "※複数の窓口で相談したケースは各窓口に数えるため、窓口別の相談実件数の和は合計と異なり得ます。"
        )
    return Sheet(
        key="consultation",
        name="相談実績",
        title=f"{fiscal_year_label(report.fiscal_year)} 相談実績（{_scope(report.desk)}）{_cut(report)}",
        columns=columns,
        rows=[_consultation_values(r) for r in [*report.consultation.desks, total]],
        groups=groups,
        notes=notes,
        total_columns=frozenset(_running_totals(groups)),
        total_row=True,
        pinned_end=2,
    )


def _running_totals(groups: list[Group]) -> list[int]:
    """The last column of each labelled group: its 計."""
    ends, column = [], 0
    for group in groups:
        column += group.span
        if group.label is not None:
            ends.append(column - 1)
    return ends


def official_cut(start: dt.date, end: dt.date, as_of: dt.date) -> str:
    """`令和6年4月1日〜令和7年3月31日（令和7年3月31日現在）`: the period and 基準日 of a
    published table in 和暦, as municipal documents title them (XLSX, CSV, the page, the chart)."""
    return f"{japanese_date(start)}〜{japanese_date(end)}（{as_of_label(as_of)}）"


def _cut(report: AnnualReport) -> str:
    return " " + official_cut(report.start, report.end, report.as_of)


def meetings_sheet(report: AnnualReport) -> Sheet:
    m = report.meetings
    return Sheet(
        key="meetings",
        name="会議・プラン・終結",
        title=f"{fiscal_year_label(report.fiscal_year)} 開催実績（{_scope(report.desk)}）{_cut(report)}",
        columns=["会議名", "回数", "プラン", "終結"],
        rows=[
            ["重層的支援会議", m.multilayer_meetings, m.plans_new, m.closures],
            ["支援会議", m.support_meetings, NOT_APPLICABLE, NOT_APPLICABLE],
        ],
        notes=[
            "※プランは新たに承認された支援プランの数です"
            + (f"（見直しによる再承認 {m.plans_revised} 件は含みません）" if m.plans_revised else "")
            + "。終結は承認された終結の数です。"
        ],
    )


def closures_sheet(report: AnnualReport) -> Sheet:
    rows: list[list[Cell]] = [
        [CLOSURE_REASON_LABELS_JA.get(reason, reason), n] for reason, n in report.closures.by_reason.items()
    ]
    rows.append(["計", report.closures.total])
    return Sheet(
        key="closures",
        name="終結理由",
        title=f"{fiscal_year_label(report.fiscal_year)} 終結（理由別・{_scope(report.desk)}）{_cut(report)}",
        columns=["終結理由", "件数"],
        rows=rows,
        total_row=True,
    )


def coordination_sheet(report: AnnualReport) -> Sheet:
    c = report.coordination
    return Sheet(
        key="coordination",
        name="多機関協働・アウトリーチ",
        title=f"{fiscal_year_label(report.fiscal_year)} 多機関協働・アウトリーチ（{_scope(report.desk)}）"
        f"{_cut(report)}",
        columns=["項目", "件数"],
        rows=[
            ["多機関協働（調整）件数", c.multi_agency_cases],
            ["訪問による相談件数（アウトリーチ）", c.home_visits],
            ["会議等出席回数（アウトリーチ）", c.meeting_attendance],
        ],
        notes=[
            "※多機関協働（調整）件数: 期間内に支援会議・重層的支援会議の開催、支援プランの作成・承認、"
            "モニタリングのいずれかがあったケースの数（1ケース1件）。",
            *(
                [
                    "※訪問による相談件数（アウトリーチ）は、相談方法「訪問」の相談のうちアウトリーチの"
                    f"訪問としても記録した {c.visits_from_contacts} 件を含みます（1件の記録を相談実績と"
                    "アウトリーチの両方に数えています）。"
                ]
                if c.visits_from_contacts
                else []
            ),
        ],
    )


def participation_sheet(report: AnnualReport) -> Sheet:
    rows: list[list[Cell]] = [
        [
            PROGRAM_LABELS_JA.get(r.program, r.program),
            r.enrolments,
            r.persons,
            NOT_APPLICABLE if r.new_providers is None else r.new_providers,
        ]
        for r in report.participation.rows
    ]
    return Sheet(
        key="participation",
        name="参加支援",
        title=f"{fiscal_year_label(report.fiscal_year)} 参加支援事業 利用実績（{_scope(report.desk)}）"
        f"{_cut(report)}",
        columns=["事業", "延人数（名）", "実人数（名）", "実施事業所の新規登録数（箇所）"],
        rows=rows,
        notes=["※延人数は期間内に利用を開始した件数、実人数はその人数（ケース数）です。"],
    )


def _rate(row: TargetRow) -> Cell:
    return NOT_APPLICABLE if row.rate is None else row.rate


def _actual(row: TargetRow) -> Cell:
    return NOT_APPLICABLE if row.actual is None else row.actual


_PDCA_NOTE = "※達成率 = 実績 ÷ 目標。目標が 0 の指標と、基準日にまだ始まっていない年度は「—」。"


def targets_sheet(rows: list[TargetRow], title: str, *, with_year: bool) -> Sheet:
    columns = ["指標", "単位", *(["年度"] if with_year else []), "目標", "実績", "達成率（%）"]
    body: list[list[Cell]] = [
        [
            INDICATORS[r.indicator].ja,
            INDICATORS[r.indicator].unit,
            *([fiscal_year_short(r.fiscal_year)] if with_year else []),
            r.target,
            _actual(r),
            _rate(r),
        ]
        for r in rows
    ]
    return Sheet("targets", "目標と実績", title, columns, body, notes=[_PDCA_NOTE])


def annual_sheets(report: AnnualReport, topics: Mapping[str, str]) -> list[Sheet]:
    sheets = [
        consultation_sheet(report, topics),
        meetings_sheet(report),
        closures_sheet(report),
        coordination_sheet(report),
        participation_sheet(report),
    ]
    if report.targets:
        title = f"{fiscal_year_label(report.fiscal_year)} 目標と実績（{_scope(report.desk)}）{_cut(report)}"
        sheets.append(targets_sheet(report.targets, title, with_year=False))
    return sheets


def trend_sheets(trend: TrendReport) -> list[Sheet]:
    years = trend.fiscal_years
    with_target = [fy for fy in years if any(fy in row.targets for row in trend.rows)]
    columns = ["指標", "単位"]
    for fy in years:
        columns.append(fiscal_year_short(fy))
        if fy in with_target:
            columns.append(f"{fiscal_year_short(fy)}（目標）")
    rows: list[list[Cell]] = []
    for row in trend.rows:
        indicator = INDICATORS[row.indicator]
        cells: list[Cell] = [indicator.ja, indicator.unit]
        for fy in years:
            actual = row.actuals[fy]
            cells.append(NOT_APPLICABLE if actual is None else actual)
            if fy in with_target:
                cells.append(row.targets.get(fy, NOT_APPLICABLE))
        rows.append(cells)
    span = f"{fiscal_year_label(years[0])}〜{fiscal_year_label(years[-1])}"
    scope = f"（{_scope(trend.desk)}、各年度 {as_of_label(trend.as_of)}）"
    sheets = [
        Sheet(
            key="trend",
            name="推移",
            title=f"{span}の推移{scope}",
            columns=columns,
            rows=rows,
            notes=["※「—」は基準日にまだ始まっていない年度、または目標のない年度です。"],
        )
    ]
    if trend.targets:
        sheets.append(targets_sheet(trend.targets, f"{span} 目標と実績{scope}", with_year=True))
    return sheets
