"""Build annual and trend reports from `models.stats`: SQL aggregates in, report tables out.

Python only arranges the few grouped rows the queries return (desks × categories); it never
loops over records, so a report costs the same whatever the number of cases.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections import Counter
from collections.abc import Callable, Mapping
from typing import Any

from sqlmodel import Session

from models import stats
from models.case import ContactMethod, Referrer
from models.outreach import OutreachKind, Program
from states.stages import ClosureReason, MeetingKind
from yorisoi.errors import InvalidInput
from yorisoi.jpdates import fiscal_year_short
from yorisoi.percent import percent
from yorisoi.reports.indicators import INDICATORS
from yorisoi.reports.model import (
    AnnualReport,
    ClosureTable,
    ConsultationRow,
    ConsultationTable,
    CoordinationTable,
    MeetingTable,
    ParticipationRow,
    ParticipationTable,
    TargetRow,
    TrendReport,
    TrendRow,
)
from yorisoi.reports.targets import Targets

TOTAL_LABEL = "合計"
NO_DESK_LABEL = "受付窓口なし"
PUBLISHED_METHODS = [m.value for m in ContactMethod if m is not ContactMethod.UNRECORDED]


def _ordered(counts: Mapping[str, int], codes: list[str]) -> dict[str, int]:
    """Every known code in order (zeros included), then any code the records hold beyond them."""
    ordered = {code: int(counts.get(code, 0)) for code in codes}
    ordered.update({code: int(n) for code, n in sorted(counts.items()) if code not in ordered})
    return ordered


def _consultation_row(
    desk_id: int | None,
    desk: str,
    groups: list[stats.ContactGroup],
    topics: list[stats.TopicGroup],
    cases: int,
    topic_codes: list[str],
) -> ConsultationRow:
    referrers: Counter[str] = Counter()
    methods: Counter[str] = Counter()
    for group in groups:
        referrers[group.referrer] += group.contacts
        methods[group.method] += group.contacts
    unrecorded = methods.pop(ContactMethod.UNRECORDED.value, 0)
    mentions: Counter[str] = Counter()
    for topic in topics:
        mentions[topic.topic] += topic.mentions
    return ConsultationRow(
        desk_id=desk_id,
        desk=desk,
        referrers=_ordered(referrers, [r.value for r in Referrer]),
        methods=_ordered(methods, PUBLISHED_METHODS),
        unrecorded_method=unrecorded,
        topics=_ordered(mentions, topic_codes),
        cases=cases,
        contacts=sum(g.contacts for g in groups),
    )


def _consultation(
    found: Mapping[str, Any],
    desk_id: int | None,
    desk_name: str | None,
    topic_codes: list[str],
) -> ConsultationTable:
    groups: list[stats.ContactGroup] = found["contact_groups"]
    topics: list[stats.TopicGroup] = found["topic_groups"]
    cases_by_desk = {row.desk_id: row.cases for row in found["desk_cases"]}
    total = _consultation_row(
        desk_id,
        desk_name or TOTAL_LABEL,
        groups,
        topics,
        found["total_cases"],
        topic_codes,
    )
    if desk_id is not None:
        return ConsultationTable(desks=[], total=total)
    desks: list[tuple[int | None, str]] = list(found["desks"])
    if None in cases_by_desk:
        desks.append((None, NO_DESK_LABEL))
    rows = [
        _consultation_row(
            d_id,
            name,
            [g for g in groups if g.desk_id == d_id],
            [t for t in topics if t.desk_id == d_id],
            cases_by_desk.get(d_id, 0),
            topic_codes,
        )
        for d_id, name in desks
    ]
    return ConsultationTable(desks=rows, total=total)


Query = Callable[[Session], Any]
Gather = Callable[[Mapping[str, Query]], dict[str, Any]]
"""Runs a report's named queries and returns their results by name: one after another on one
session (`in_order`), or side by side on several connections (the web app's, for the first
view after a write)."""


def in_order(session: Session) -> Gather:
    """The queries one after another on `session` (one transaction: one consistent snapshot)."""
    return lambda queries: {name: query(session) for name, query in queries.items()}


def _annual_queries(period: stats.Period, desk_id: int | None) -> dict[str, Query]:
    """Every query of a 年度's tables, the longest first (`Gather`s that run them side by side
    start those first): at a million cases 相談内容 takes a third of the time."""
    queries: dict[str, Query] = {
        "topic_groups": lambda s: stats.topic_groups(s, period, desk_id),
        "multi_agency": lambda s: stats.multi_agency_cases(s, period, desk_id),
        "meetings": lambda s: stats.meetings_held(s, period, desk_id),
        "plans": lambda s: stats.plans_approved(s, period, desk_id),
        "desk_cases": lambda s: stats.desk_cases(s, period, desk_id),
        "closures": lambda s: stats.closures_approved(s, period, desk_id),
        "total_cases": lambda s: stats.total_cases(s, period, desk_id),
        "contact_groups": lambda s: stats.contact_groups(s, period, desk_id),
        "outreach": lambda s: stats.outreach_done(s, period, desk_id),
        "visits_from_contacts": lambda s: stats.outreach_visit_contacts(s, period, desk_id),
        "enrolments": lambda s: stats.program_enrolments(s, period, desk_id),
    }
    if desk_id is None:
        queries["providers"] = lambda s: stats.provider_registrations(s, period)
        queries["desks"] = lambda s: list(stats.desks(s))
    return queries


def _counts(rows: list[stats.KindCount]) -> dict[str, int]:
    return {row.kind: int(row.total) for row in rows}


def build_annual(
    session: Session,
    *,
    fiscal_year: int,
    as_of: dt.date,
    topics: Mapping[str, str],
    targets: Targets | None = None,
    desk_id: int | None = None,
    desk_name: str | None = None,
    gather: Gather | None = None,
) -> AnnualReport:
    """Every table of 年度 `fiscal_year` counting records dated on or before `as_of`; the
    queries run through `gather` (default: one after another on `session`)."""
    period = stats.Period.fiscal_year(fiscal_year, as_of)
    found = (gather or in_order(session))(_annual_queries(period, desk_id))
    meetings = _counts(found["meetings"])
    plans = found["plans"]
    closures = _ordered(_counts(found["closures"]), [r.value for r in ClosureReason])
    outreach = _counts(found["outreach"])
    visits_from_contacts = found["visits_from_contacts"]
    enrolments = {row.program: row for row in found["enrolments"]}
    providers = None if desk_id is not None else _counts(found["providers"])
    participation = ParticipationTable(
        [
            ParticipationRow(
                program=program.value,
                enrolments=enrolments[program].enrolments if program in enrolments else 0,
                persons=enrolments[program].persons if program in enrolments else 0,
                new_providers=None if providers is None else providers.get(program.value, 0),
            )
            for program in Program
        ]
    )
    report = AnnualReport(
        fiscal_year=fiscal_year,
        as_of=as_of,
        start=period.start,
        end=period.end,
        desk=desk_name,
        started=period.start <= period.end,
        consultation=_consultation(found, desk_id, desk_name, list(topics)),
        meetings=MeetingTable(
            support_meetings=meetings.get(MeetingKind.SUPPORT.value, 0),
            multilayer_meetings=meetings.get(MeetingKind.MULTILAYER.value, 0),
            plans_new=plans.new,
            plans_revised=plans.approved - plans.new,
            closures=sum(closures.values()),
        ),
        closures=ClosureTable(closures),
        coordination=CoordinationTable(
            multi_agency_cases=found["multi_agency"],
            home_visits=outreach.get(OutreachKind.HOME_VISIT.value, 0) + visits_from_contacts,
            meeting_attendance=outreach.get(OutreachKind.MEETING_ATTENDANCE.value, 0),
            visits_from_contacts=visits_from_contacts,
        ),
        participation=participation,
    )
    if targets is None:
        return report
    rows = [
        target_row(indicator, fiscal_year, target, report)
        for indicator, target in targets.for_year(fiscal_year).items()
    ]
    return dataclasses.replace(report, targets=rows)


def target_row(indicator: str, fiscal_year: int, target: int, report: AnnualReport) -> TargetRow:
    """A PDCA line: target, actual (None before the 年度 starts) and achievement rate."""
    actual = INDICATORS[indicator].value(report) if report.started else None
    rate = None if actual is None else percent(actual, target)
    return TargetRow(indicator, fiscal_year, target, actual, rate)


def build_trend(
    session: Session,
    *,
    first: int,
    last: int,
    as_of: dt.date,
    topics: Mapping[str, str],
    targets: Targets | None = None,
    desk_id: int | None = None,
    desk_name: str | None = None,
) -> TrendReport:
    """Every indicator over 年度 `first`..`last`, each 年度 cut at the same 基準日."""
    if last < first:
        raise InvalidInput(
            f"期間の終わり（{fiscal_year_short(last)}）が始まり（{fiscal_year_short(first)}）より前です。",
            f"The last 年度 ({fiscal_year_short(last)}) is before the first ({fiscal_year_short(first)}).",
        )
    if last - first >= 30:
        raise InvalidInput("推移は30年度までです。", "A trend covers at most 30 年度.")
    years = [
        build_annual(
            session,
            fiscal_year=fy,
            as_of=as_of,
            topics=topics,
            targets=targets,
            desk_id=desk_id,
            desk_name=desk_name,
        )
        for fy in range(first, last + 1)
    ]
    targets = targets or Targets()
    rows = [
        TrendRow(
            indicator=key,
            actuals={y.fiscal_year: indicator.value(y) if y.started else None for y in years},
            targets={y.fiscal_year: t for y in years if (t := targets.get(key, y.fiscal_year)) is not None},
        )
        for key, indicator in INDICATORS.items()
    ]
    return TrendReport(
        fiscal_years=[y.fiscal_year for y in years],
        as_of=as_of,
        desk=desk_name,
        rows=rows,
        targets=[row for y in years for row in y.targets],
        years=years,
    )
