"""山口市 令和6年度: every figure of the published table, reproduced from records made by the service."""

from __future__ import annotations

import datetime as dt
from collections import Counter

import pytest
from sqlalchemy import Engine
from sqlmodel import Session

from models.db import create_db_engine
from tests.reports.datasets import (
    CASES,
    CONTACTS,
    HOME_VISITS,
    MEETING_ATTENDANCE,
    MULTILAYER_MEETINGS,
    SUPPORT_MEETINGS,
    UNRECORDED,
    YAMAGUCHI_R6_ROW,
    Yamaguchi,
    topic_counts,
)
from yorisoi.reports.build import build_annual
from yorisoi.reports.layout import consultation_sheet
from yorisoi.reports.model import AnnualReport
from yorisoi.vocabulary import DEFAULT_TOPICS
from yorisoi.web.reporting import side_by_side

R6 = 2024


def _annual(
    session: Session,
    fy: int = R6,
    as_of: dt.date = dt.date(2026, 1, 1),
    desk_id: int | None = None,
    desk_name: str | None = None,
) -> AnnualReport:
    return build_annual(
        session, fiscal_year=fy, as_of=as_of, topics=DEFAULT_TOPICS, desk_id=desk_id, desk_name=desk_name
    )


def _published_row() -> list[object]:
    label, *values = YAMAGUCHI_R6_ROW.split("\t")
    return [label, *(int(v) for v in values)]


def test_annual_consultation_row_is_the_published_row(ysession: Session) -> None:
    report = _annual(ysession)
    sheet = consultation_sheet(report, DEFAULT_TOPICS)
    assert sheet.rows[-1] == _published_row()
    total = report.consultation.total
    assert (total.cases, total.contacts) == (336, 1802)
    assert total.referrers == {"self": 740, "family": 226, "community": 80, "agency": 756}
    assert total.methods == {"office_visit": 154, "phone": 1079, "home_visit": 421, "other": 104}
    assert (total.referrer_total, total.method_total, total.topic_total) == (1802, 1758, 2742)
    assert total.topic_total > total.contacts  # several topics per contact


def test_annual_keeps_unrecorded_methods_out_of_the_method_total(ysession: Session) -> None:
    total = _annual(ysession).consultation.total
    assert total.unrecorded_method == UNRECORDED == 44
    assert total.method_total + total.unrecorded_method == total.contacts
    note = consultation_sheet(_annual(ysession), DEFAULT_TOPICS).notes[0]
    assert "44 件を含みません" in note and "1802" in note and "1758" in note


def test_annual_meetings_outreach_plans_and_closures(ysession: Session) -> None:
    report = _annual(ysession)
    assert (report.meetings.support_meetings, report.meetings.multilayer_meetings) == (14, 5)
    assert (SUPPORT_MEETINGS, MULTILAYER_MEETINGS) == (14, 5)
    assert (report.coordination.home_visits, report.coordination.meeting_attendance) == (421, 360)
    assert (HOME_VISITS, MEETING_ATTENDANCE) == (421, 360)
    assert (report.meetings.plans_new, report.meetings.plans_revised) == (3, 1)
    assert report.closures.by_reason["referred_single_agency"] == 1
    assert report.closures.by_reason["declined"] == 1
    assert report.closures.total == report.meetings.closures == 2
    # 多機関協働（調整）: cases 20–29 (支援会議) and 30–33 (重層的支援会議, plans); case 0's
    # 支援会議 was on 2024-03-31, in R5.
    assert report.coordination.multi_agency_cases == 14


def test_annual_splits_fiscal_years_at_april_first(ysession: Session) -> None:
    r5, r7 = _annual(ysession, 2023), _annual(ysession, 2025)
    # 2024-03-31: four intakes, a 支援会議, a home visit — R5 only.
    assert (r5.consultation.total.contacts, r5.consultation.total.cases) == (4, 4)
    assert r5.meetings.support_meetings == 1
    assert (r5.coordination.home_visits, r5.coordination.meeting_attendance) == (1, 0)
    assert r5.coordination.multi_agency_cases == 1
    # 2025-04-01: three contacts on R6 cases and one new case — R7 only.
    assert (r7.consultation.total.contacts, r7.consultation.total.cases) == (4, 4)
    assert (r7.coordination.home_visits, r7.coordination.meeting_attendance) == (0, 1)
    assert r7.meetings.support_meetings == 0
    # …and R6 holds what it holds on 2025-03-31, its last day, whatever the 基準日 after it.
    on_last_day = _annual(ysession, as_of=dt.date(2025, 3, 31))
    assert consultation_sheet(on_last_day, DEFAULT_TOPICS).rows[-1] == _published_row()
    assert on_last_day.closures.by_reason["declined"] == 1  # decided 2025-03-31


@pytest.mark.parametrize("as_of", [dt.date(2024, 5, 31), dt.date(2024, 9, 30), dt.date(2025, 1, 15)])
def test_annual_counts_only_records_up_to_the_as_of_date(
    ysession: Session, yamaguchi: Yamaguchi, as_of: dt.date
) -> None:
    report = _annual(ysession, as_of=as_of)
    seen = yamaguchi.contacts_until(as_of)
    total = report.consultation.total
    assert 0 < total.contacts == len(seen) < CONTACTS
    assert total.cases == len({c.case for c in seen})
    assert total.referrers == {k: Counter(c.referrer for c in seen)[k] for k in total.referrers}
    methods = Counter(c.method for c in seen)
    assert total.methods == {k: methods[k] for k in total.methods}
    assert total.unrecorded_method == methods["unrecorded"]
    assert total.topics == {k: topic_counts(seen)[k] for k in DEFAULT_TOPICS}
    assert report.meetings.support_meetings == sum(d <= as_of for d in yamaguchi.support_meeting_days)
    assert report.meetings.multilayer_meetings == sum(d <= as_of for d in yamaguchi.multilayer_meeting_days)
    assert report.coordination.home_visits == sum(d <= as_of for d in yamaguchi.outreach_days["home_visit"])
    assert (report.start, report.end, report.as_of) == (dt.date(2024, 4, 1), as_of, as_of)


def test_annual_early_as_of_date_sees_fewer_cases(ysession: Session) -> None:
    # Every case has a contact by June; on 2024-05-31 some have not come in yet.
    assert _annual(ysession, as_of=dt.date(2024, 5, 31)).consultation.total.cases < CASES


def test_annual_before_the_year_starts_is_empty(ysession: Session) -> None:
    report = _annual(ysession, as_of=dt.date(2024, 3, 31))
    assert not report.started
    assert report.consultation.total.contacts == 0
    assert report.meetings.support_meetings == 0


def test_annual_desk_rows_add_up_to_the_total(ysession: Session, yamaguchi: Yamaguchi) -> None:
    report = _annual(ysession)
    rows = report.consultation.desks
    assert [r.desk for r in rows] == [d.name for d in yamaguchi.desks]
    expected = Counter(yamaguchi.desk_of(c.case).name for c in yamaguchi.contacts)
    assert {r.desk: r.contacts for r in rows} == expected
    assert sum(r.contacts for r in rows) == 1802
    assert sum(r.cases for r in rows) == 336  # each case was taken in at one desk
    assert [sum(r.referrers[k] for r in rows) for k in ("self", "family", "community", "agency")] == [
        740,
        226,
        80,
        756,
    ]
    assert sum(r.topic_total for r in rows) == 2742


def test_annual_for_one_desk_matches_its_row(ysession: Session, yamaguchi: Yamaguchi) -> None:
    desk = yamaguchi.desks[3]
    assert desk.id is not None
    whole = _annual(ysession)
    mine = _annual(ysession, desk_id=desk.id, desk_name=desk.name)
    row = next(r for r in whole.consultation.desks if r.desk_id == desk.id)
    assert mine.consultation.desks == []
    assert mine.consultation.total == row
    # Meetings and outreach follow the case's intake desk: cases 23 and 33 are desk 3's.
    assert mine.meetings.support_meetings == 2  # case 23, twice
    assert mine.meetings.multilayer_meetings == 1  # case 33
    assert mine.closures.total == 1
    expected_visits = sum(1 for case in yamaguchi.outreach_cases["home_visit"] if case % 10 == 3)
    assert mine.coordination.home_visits == expected_visits
    assert all(r.new_providers is None for r in mine.participation.rows)


@pytest.mark.parametrize("desk", [False, True], ids=["all desks", "one desk"])
def test_the_web_apps_side_by_side_build_gives_the_same_report(
    yamaguchi_engine: tuple[Engine, Yamaguchi], ysession: Session, desk: bool
) -> None:
    """The web app runs a report's queries on two connections at once (its first statistics
    view after a write); the figures are the ones the one-session build gives, table by table."""
    engine = yamaguchi_engine[0]
    gather = side_by_side(engine)
    assert gather is not None
    first = yamaguchi_engine[1].desks[0]
    desk_id, desk_name = (first.id, first.name) if desk else (None, None)
    apart = build_annual(
        ysession, fiscal_year=R6, as_of=dt.date(2026, 1, 1), topics=DEFAULT_TOPICS,
        desk_id=desk_id, desk_name=desk_name, gather=gather,
    )  # fmt: skip
    assert apart == _annual(ysession, desk_id=desk_id, desk_name=desk_name)
    assert apart.consultation.total.contacts > 0


def test_an_in_memory_database_is_read_in_order() -> None:
    """Every connection to `sqlite://` is a database of its own: no side-by-side reading there."""
    assert side_by_side(create_db_engine("sqlite://")) is None
