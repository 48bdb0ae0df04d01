"""A 訪問 contact may also be the アウトリーチ home visit: one record, counted in both tables."""

from __future__ import annotations

import datetime as dt
from functools import partial

from sqlmodel import Session

from states import LifecycleMachine
from tests.factories import World, contact, fire, open_case
from tests.service.refusals import assert_refused
from yorisoi.errors import InvalidInput
from yorisoi.reports.build import build_annual
from yorisoi.reports.layout import coordination_sheet
from yorisoi.settings import get_settings


def test_visit_contact_counts_once_as_a_contact_and_once_as_a_home_visit(
    session: Session, world: World, machine: LifecycleMachine
) -> None:
    case_id = open_case(session, world, machine).case_id
    visit = contact(world, on=dt.date(2025, 7, 1), method="home_visit")
    fire(session, machine, case_id, "add_contact", world.coordinator, **visit, outreach_visit=True)
    fire(session, machine, case_id, "add_contact", world.coordinator, **visit)  # a visit, not outreach
    fire(
        session,
        machine,
        case_id,
        "log_outreach",
        world.coordinator,
        kind="home_visit",
        done_on=dt.date(2025, 7, 2),
    )
    report = build_annual(
        session, fiscal_year=2025, as_of=dt.date(2026, 3, 31), topics=get_settings().topics()
    )
    assert report.consultation.total.contacts == 3
    assert report.consultation.total.methods["home_visit"] == 2
    assert (report.coordination.home_visits, report.coordination.visits_from_contacts) == (2, 1)
    assert "アウトリーチの訪問としても記録した 1 件を含みます" in coordination_sheet(report).notes[-1]


def test_only_a_visit_contact_counts_as_outreach(
    session: Session, world: World, machine: LifecycleMachine
) -> None:
    case_id = open_case(session, world, machine).case_id
    call = partial(
        fire,
        session,
        machine,
        case_id,
        "add_contact",
        world.coordinator,
        **contact(world),
        outreach_visit=True,
    )
    refused = assert_refused(session, InvalidInput, call)
    assert "アウトリーチの訪問としても数える: 相談方法が「訪問」の相談だけが" in refused.ja
