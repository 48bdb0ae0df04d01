"""Records from before 令和 go in like any other: case numbers and 年度 in 平成."""

from __future__ import annotations

import datetime as dt

from sqlmodel import Session

from states import LifecycleMachine
from tests.factories import World, fire, open_case
from yorisoi.reports.build import build_annual
from yorisoi.settings import get_settings


def test_a_case_opened_in_2018_is_numbered_and_counted_in_heisei(
    session: Session, world: World, machine: LifecycleMachine
) -> None:
    opened = open_case(session, world, machine, on=dt.date(2018, 6, 1))
    assert opened.number == "H30-0001"
    fire(session, machine, opened.case_id, "start_assessment", world.coordinator)
    later = open_case(session, world, machine, on=dt.date(2019, 4, 30))  # still 平成31年, but 令和元年度
    assert later.number == "R1-0001"
    session.commit()
    report = build_annual(
        session, fiscal_year=2018, as_of=dt.date(2019, 3, 31), topics=get_settings().topics()
    )
    assert report.consultation.total.contacts == 1
