"""The indicators a trend shows and a target (目標) may name, each read from an annual report."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from models.outreach import Program
from yorisoi.reports.model import AnnualReport


@dataclass(frozen=True, slots=True)
class Indicator:
    key: str
    ja: str
    unit: str
    value: Callable[[AnnualReport], int | None]


def _enrolments(program: str) -> Callable[[AnnualReport], int | None]:
    return lambda r: r.participation.row(program).enrolments


def _providers(program: str) -> Callable[[AnnualReport], int | None]:
    return lambda r: r.participation.row(program).new_providers


_ALL = [
    Indicator("consultation.cases", "相談実件数", "件", lambda r: r.consultation.total.cases),
    Indicator("consultation.contacts", "相談延件数", "件", lambda r: r.consultation.total.contacts),
    Indicator("meetings.support", "支援会議 開催回数", "回", lambda r: r.meetings.support_meetings),
    Indicator(
        "meetings.multilayer", "重層的支援会議 開催回数", "回", lambda r: r.meetings.multilayer_meetings
    ),
    Indicator("plans.new", "支援プラン作成数", "件", lambda r: r.meetings.plans_new),
    Indicator("plans.revised", "支援プラン見直し数", "件", lambda r: r.meetings.plans_revised),
    Indicator("closures", "終結数", "件", lambda r: r.closures.total),
    Indicator(
        "multi_agency.cases", "多機関協働（調整）件数", "件", lambda r: r.coordination.multi_agency_cases
    ),
    Indicator("outreach.home_visits", "アウトリーチ 訪問件数", "件", lambda r: r.coordination.home_visits),
    Indicator(
        "outreach.meeting_attendance",
        "アウトリーチ 会議等出席回数",
        "件",
        lambda r: r.coordination.meeting_attendance,
    ),
    Indicator(
        "participation.program_type_b.enrolments",
        "参加支援 延人数 就B活用事業",
        "名",
        _enrolments(Program.TYPE_B),
    ),
    Indicator(
        "participation.program_short_stay.enrolments",
        "参加支援 延人数 短期宿泊場所提供事業",
        "名",
        _enrolments(Program.SHORT_STAY),
    ),
    Indicator(
        "providers.program_type_b.registered",
        "実施事業所の新規登録数 就B活用事業",
        "箇所",
        _providers(Program.TYPE_B),
    ),
    Indicator(
        "providers.program_short_stay.registered",
        "実施事業所の新規登録数 短期宿泊場所提供事業",
        "箇所",
        _providers(Program.SHORT_STAY),
    ),
]

INDICATORS: dict[str, Indicator] = {i.key: i for i in _ALL}
