"""Reports as JSON-ready dicts for the web UI: figures by code, with every Japanese label."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from models.case import CONTACT_METHOD_LABELS_JA, REFERRER_LABELS_JA
from models.outreach import PROGRAM_LABELS_JA
from states.stages import CLOSURE_REASON_LABELS_JA
from yorisoi.jpdates import fiscal_year_label, fiscal_year_short
from yorisoi.reports.indicators import INDICATORS
from yorisoi.reports.model import AnnualReport, ConsultationRow, TargetRow, TrendReport


def _year(fy: int) -> dict[str, Any]:
    return {"fiscal_year": fy, "short": fiscal_year_short(fy), "label": fiscal_year_label(fy)}


def _labels(topics: Mapping[str, str]) -> dict[str, Any]:
    return {
        "referrers": dict(REFERRER_LABELS_JA),
        "methods": dict(CONTACT_METHOD_LABELS_JA),
        "topics": dict(topics),
        "closure_reasons": dict(CLOSURE_REASON_LABELS_JA),
        "programs": dict(PROGRAM_LABELS_JA),
        "indicators": {k: {"ja": i.ja, "unit": i.unit} for k, i in INDICATORS.items()},
    }


def _consultation_row(row: ConsultationRow) -> dict[str, Any]:
    return {
        "desk_id": row.desk_id,
        "desk": row.desk,
        "referrers": row.referrers,
        "referrer_total": row.referrer_total,
        "methods": row.methods,
        "method_total": row.method_total,
        "unrecorded_method": row.unrecorded_method,
        "topics": row.topics,
        "topic_total": row.topic_total,
        "cases": row.cases,
        "contacts": row.contacts,
    }


def _target(row: TargetRow) -> dict[str, Any]:
    return {
        "indicator": row.indicator,
        **_year(row.fiscal_year),
        "target": row.target,
        "actual": row.actual,
        "rate_percent": row.rate,
    }


def annual_json(report: AnnualReport, topics: Mapping[str, str], *, labels: bool = True) -> dict[str, Any]:
    data: dict[str, Any] = {
        **_year(report.fiscal_year),
        "as_of": report.as_of.isoformat(),
        "start": report.start.isoformat(),
        "end": report.end.isoformat(),
        "started": report.started,
        "desk": report.desk,
        "consultation": {
            "desks": [_consultation_row(r) for r in report.consultation.desks],
            "total": _consultation_row(report.consultation.total),
        },
        "meetings": {
            "support_meetings": report.meetings.support_meetings,
            "multilayer_meetings": report.meetings.multilayer_meetings,
            "plans_new": report.meetings.plans_new,
            "plans_revised": report.meetings.plans_revised,
            "closures": report.meetings.closures,
        },
        "closures": {"by_reason": report.closures.by_reason, "total": report.closures.total},
        "coordination": {
            "multi_agency_cases": report.coordination.multi_agency_cases,
            "home_visits": report.coordination.home_visits,
            "meeting_attendance": report.coordination.meeting_attendance,
            "visits_from_contacts": report.coordination.visits_from_contacts,
        },
        "participation": [
            {
                "program": r.program,
                "enrolments": r.enrolments,
                "persons": r.persons,
                "new_providers": r.new_providers,
            }
            for r in report.participation.rows
        ],
        "targets": [_target(t) for t in report.targets],
    }
    if labels:
        data["labels"] = _labels(topics)
    return data


def trend_json(trend: TrendReport, topics: Mapping[str, str]) -> dict[str, Any]:
    return {
        "fiscal_years": [_year(fy) for fy in trend.fiscal_years],
        "as_of": trend.as_of.isoformat(),
        "desk": trend.desk,
        "indicators": [
            {
                "indicator": row.indicator,
                "ja": INDICATORS[row.indicator].ja,
                "unit": INDICATORS[row.indicator].unit,
                "values": [
                    {**_year(fy), "actual": row.actuals[fy], "target": row.targets.get(fy)}
                    for fy in trend.fiscal_years
                ],
            }
            for row in trend.rows
        ],
        "targets": [_target(t) for t in trend.targets],
        "years": [annual_json(y, topics, labels=False) for y in trend.years],
        "labels": _labels(topics),
    }
