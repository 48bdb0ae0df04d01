"""The report model: one dataclass per published table, plain values, no database.

Codes stay codes here (`self`, `phone`, `income` …); `layout` turns them into the Japanese
tables the municipalities publish, `export.to_json` into the web UI's JSON.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class ConsultationRow:
    """One line of the 相談実績 table: a desk (受付窓口), or the whole municipality.

    `methods` holds the four published 相談方法; contacts whose method was not recorded
    are counted in `unrecorded_method` and in `contacts`, not in the 相談方法 計.
    """

    desk_id: int | None
    desk: str
    referrers: dict[str, int]
    methods: dict[str, int]
    unrecorded_method: int
    topics: dict[str, int]
    cases: int
    contacts: int

    @property
    def referrer_total(self) -> int:
        return sum(self.referrers.values())

    @property
    def method_total(self) -> int:
        return sum(self.methods.values())

    @property
    def topic_total(self) -> int:
        return sum(self.topics.values())


@dataclass(frozen=True, slots=True)
class ConsultationTable:
    """相談実績: a row per desk and the total (相談実件数 is not the sum of the desks')."""

    desks: list[ConsultationRow]
    total: ConsultationRow


@dataclass(frozen=True, slots=True)
class MeetingTable:
    """開催実績: meetings held, the plans and closures they decided (由利本荘市's table)."""

    support_meetings: int
    multilayer_meetings: int
    plans_new: int
    plans_revised: int
    closures: int


@dataclass(frozen=True, slots=True)
class ClosureTable:
    """終結 approved in the 年度, per reason."""

    by_reason: dict[str, int]

    @property
    def total(self) -> int:
        return sum(self.by_reason.values())


@dataclass(frozen=True, slots=True)
class CoordinationTable:
    """多機関協働（調整） cases and アウトリーチ (訪問, 会議等出席)."""

    multi_agency_cases: int
    home_visits: int
    meeting_attendance: int
    visits_from_contacts: int = 0
    """Of `home_visits`, the 訪問 contacts recorded as the outreach visit too (one record each)."""


@dataclass(frozen=True, slots=True)
class ParticipationRow:
    """参加支援, one programme: 延人数, 実人数, new registered providers (None for a desk)."""

    program: str
    enrolments: int
    persons: int
    new_providers: int | None


@dataclass(frozen=True, slots=True)
class ParticipationTable:
    rows: list[ParticipationRow]

    def row(self, program: str) -> ParticipationRow:
        return next(r for r in self.rows if r.program == program)


@dataclass(frozen=True, slots=True)
class TargetRow:
    """One line of the PDCA table: an indicator's target and actual in one 年度.

    `rate` is actual ÷ target in percent, 四捨五入 to one decimal (`yorisoi.percent`); None when
    there is no actual yet (the 年度 has not started at the 基準日) or the target is 0 (no rate
    can be computed).
    """

    indicator: str
    fiscal_year: int
    target: int
    actual: int | None
    rate: float | None


@dataclass(frozen=True, slots=True)
class AnnualReport:
    """Every table of one 年度 at one 基準日, for the municipality or one desk."""

    fiscal_year: int
    as_of: dt.date
    start: dt.date
    end: dt.date
    desk: str | None
    started: bool
    consultation: ConsultationTable
    meetings: MeetingTable
    closures: ClosureTable
    coordination: CoordinationTable
    participation: ParticipationTable
    targets: list[TargetRow] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class TrendRow:
    """An indicator over several 年度: actuals (None before a 年度 starts) and targets."""

    indicator: str
    actuals: dict[int, int | None]
    targets: dict[int, int]


@dataclass(frozen=True, slots=True)
class TrendReport:
    fiscal_years: list[int]
    as_of: dt.date
    desk: str | None
    rows: list[TrendRow]
    targets: list[TargetRow]
    years: list[AnnualReport]

    def row(self, indicator: str) -> TrendRow:
        return next(r for r in self.rows if r.indicator == indicator)
