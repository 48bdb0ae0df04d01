"""由利本荘市 R4–R6: meetings, plans, closures, 参加支援 and the PDCA table — on SQLite and PostgreSQL.

The same service-built data set runs on both databases, so the SQL is shown to be portable.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from importlib import resources
from pathlib import Path

import pytest
from sqlalchemy import Engine
from sqlmodel import Session

from states import default_machine
from tests.conftest import _PG_SKIP_REASON, drop_postgres_schema, postgres_engine, sqlite_engine
from tests.reports.conftest import default_settings
from tests.reports.datasets import (
    AS_OF,
    ENROLMENTS,
    REGISTRATIONS,
    YURIHONJO_SPLIT,
    Yurihonjo,
    build_yurihonjo,
)
from yorisoi.jpdates import fiscal_year
from yorisoi.reports.build import build_annual, build_trend
from yorisoi.reports.model import TargetRow, TrendReport
from yorisoi.reports.targets import Targets, load_targets
from yorisoi.vocabulary import DEFAULT_TOPICS

R4, R5, R6, R7, R8, R9 = range(2022, 2028)


@pytest.fixture(
    scope="module", name="ydb", params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]
)
def ydb_fixture(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[Engine, Yurihonjo]]:
    if request.param == "postgresql" and _PG_SKIP_REASON:
        pytest.skip(_PG_SKIP_REASON)
    if request.param == "sqlite":
        engine, schema = sqlite_engine(tmp_path_factory.mktemp("yurihonjo") / "yorisoi.db"), None
    else:
        engine, schema = postgres_engine()
    with (
        default_settings(tmp_path_factory.mktemp("yurihonjo-data")),
        Session(engine, expire_on_commit=False) as session,
    ):
        data = build_yurihonjo(session, default_machine())
    yield engine, data
    if schema is None:
        engine.dispose()
    else:
        drop_postgres_schema(engine, schema)


@pytest.fixture(name="session")
def session_fixture(ydb: tuple[Engine, Yurihonjo]) -> Iterator[Session]:
    with Session(ydb[0]) as session:
        yield session


def _example_targets() -> Targets:
    path = Path(str(resources.files("yorisoi.reports").joinpath("example-targets.yaml")))
    return load_targets(path)


def _trend(
    session: Session, first: int, last: int, as_of: dt.date, targets: Targets | None = None
) -> TrendReport:
    return build_trend(session, first=first, last=last, as_of=as_of, topics=DEFAULT_TOPICS, targets=targets)


def test_meetings_plans_closures_r4_to_r6_as_published(session: Session) -> None:
    trend = _trend(session, R4, R6, AS_OF)
    split = {
        fy: tuple(
            trend.row(k).actuals[fy]
            for k in ("meetings.multilayer", "plans.new", "closures", "meetings.support")
        )
        for fy in (R4, R5, R6)
    }
    assert split == YURIHONJO_SPLIT
    cumulative = [sum(n for v in split.values() if (n := v[i]) is not None) for i in range(4)]
    assert cumulative == [16, 13, 11, 18]  # 重層的支援会議 16, プラン 13, 終結 11, 支援会議 18


def test_as_of_date_leaves_out_march_records(session: Session) -> None:
    r6 = build_annual(session, fiscal_year=R6, as_of=dt.date(2025, 3, 31), topics=DEFAULT_TOPICS)
    assert r6.meetings.multilayer_meetings == YURIHONJO_SPLIT[R6][0] + 1
    assert r6.meetings.plans_new == YURIHONJO_SPLIT[R6][1] + 1
    assert r6.meetings.closures == YURIHONJO_SPLIT[R6][2] + 1
    assert r6.meetings.support_meetings == YURIHONJO_SPLIT[R6][3] + 1
    assert r6.closures.by_reason["moved_away"] == 1
    assert r6.participation.row("program_short_stay").enrolments == 2
    assert r6.participation.row("program_type_b").new_providers == 3


def test_participation_tables_as_published(session: Session) -> None:
    trend = _trend(session, R4, R6, AS_OF)
    for program in ("program_type_b", "program_short_stay"):
        enrolments = trend.row(f"participation.{program}.enrolments").actuals
        registered = trend.row(f"providers.{program}.registered").actuals
        assert enrolments == {fy: ENROLMENTS[program][fy] for fy in (R4, R5, R6)}
        assert registered == {fy: REGISTRATIONS[program][fy] for fy in (R4, R5, R6)}
    assert [trend.row("participation.program_type_b.enrolments").actuals[fy] for fy in (R4, R5, R6)] == [
        2,
        1,
        0,
    ]
    assert [trend.row("participation.program_short_stay.enrolments").actuals[fy] for fy in (R4, R5, R6)] == [
        0,
        1,
        1,
    ]
    assert [trend.row("providers.program_type_b.registered").actuals[fy] for fy in (R4, R5, R6)] == [1, 1, 2]
    assert [trend.row("providers.program_short_stay.registered").actuals[fy] for fy in (R4, R5, R6)] == [
        3,
        0,
        0,
    ]


def test_fiscal_year_boundary_at_april_first(session: Session) -> None:
    # 就B: one enrolment starts 2023-03-31 (R4's last day), the next 2023-04-01 (R5's first).
    before = build_annual(session, fiscal_year=R4, as_of=dt.date(2023, 3, 30), topics=DEFAULT_TOPICS)
    last_day = build_annual(session, fiscal_year=R4, as_of=dt.date(2023, 3, 31), topics=DEFAULT_TOPICS)
    r5_first = build_annual(session, fiscal_year=R5, as_of=dt.date(2023, 4, 1), topics=DEFAULT_TOPICS)
    assert before.participation.row("program_type_b").enrolments == 1
    assert last_day.participation.row("program_type_b").enrolments == 2
    assert r5_first.participation.row("program_type_b").enrolments == 1
    # 支援会議: R4's fifth on 2023-03-31, R5's first on 2023-04-01.
    assert (before.meetings.support_meetings, last_day.meetings.support_meetings) == (4, 5)
    assert r5_first.meetings.support_meetings == 1


def test_consultation_counts_on_this_database(session: Session, ydb: tuple[Engine, Yurihonjo]) -> None:
    days = ydb[1].contact_days
    for fy in (R4, R5, R6):
        total = build_annual(session, fiscal_year=fy, as_of=AS_OF, topics=DEFAULT_TOPICS).consultation.total
        expected = sum(1 for d in days if fiscal_year(d) == fy and d <= AS_OF)
        assert (total.contacts, total.cases, total.topic_total) == (expected, expected, 2 * expected)
        assert total.referrers["agency"] == total.methods["office_visit"] == expected
        assert total.topics["income"] == total.topics["housing"] == expected
        assert [
            r.contacts
            for r in build_annual(
                session, fiscal_year=fy, as_of=AS_OF, topics=DEFAULT_TOPICS
            ).consultation.desks
        ] == [expected]


def test_targets_and_achievement_rates(session: Session) -> None:
    trend = _trend(session, R4, R9, dt.date(2026, 3, 31), _example_targets())
    by_key = {(t.indicator, t.fiscal_year): t for t in trend.targets}
    assert by_key["participation.program_type_b.enrolments", R7] == TargetRow(
        "participation.program_type_b.enrolments", R7, 2, 1, 50.0
    )
    assert by_key["participation.program_short_stay.enrolments", R7].rate == 100.0
    assert by_key["providers.program_type_b.registered", R7].rate == 100.0
    assert by_key["providers.program_short_stay.registered", R7] == TargetRow(
        "providers.program_short_stay.registered", R7, 1, 0, 0.0
    )
    # R8 has not started on 2026-03-31: a target, no actual, no rate; a target of 0 has no rate.
    assert by_key["participation.program_type_b.enrolments", R8] == TargetRow(
        "participation.program_type_b.enrolments", R8, 3, None, None
    )
    assert by_key["providers.program_short_stay.registered", R9].target == 0
    assert len(trend.targets) == 12
    row = trend.row("participation.program_type_b.enrolments")
    assert row.targets == {R7: 2, R8: 3, R9: 3}
    assert row.actuals == {R4: 2, R5: 1, R6: 0, R7: 1, R8: None, R9: None}


def test_annual_report_carries_its_own_targets(session: Session) -> None:
    targets = _example_targets()
    r7 = build_annual(
        session, fiscal_year=R7, as_of=dt.date(2026, 3, 31), topics=DEFAULT_TOPICS, targets=targets
    )
    assert {t.indicator: (t.target, t.actual, t.rate) for t in r7.targets} == {
        "participation.program_type_b.enrolments": (2, 1, 50.0),
        "participation.program_short_stay.enrolments": (1, 1, 100.0),
        "providers.program_type_b.registered": (1, 1, 100.0),
        "providers.program_short_stay.registered": (1, 0, 0.0),
    }
    r6 = build_annual(session, fiscal_year=R6, as_of=AS_OF, topics=DEFAULT_TOPICS, targets=targets)
    assert r6.targets == []  # the plan sets no targets for R6
