"""参加支援: a 短期宿泊 stay lasts at most one calendar month (Jan 31 + 1 month = Feb 28)."""

from __future__ import annotations

import datetime as dt
from functools import partial

from sqlmodel import Session, col, select

from models import ProgramEnrolment, ProgramProvider
from models.outreach import Program
from states import LifecycleMachine
from tests.factories import World, open_case
from tests.service.refusals import assert_refused
from yorisoi.errors import InvalidInput, NotFound
from yorisoi.service import cases, directory


def _provider(session: Session, program: Program) -> ProgramProvider:
    return directory.add_provider(
        session, name=f"{program} 事業所", program=program, registered_on=dt.date(2024, 4, 1)
    )


def _enrol(
    session: Session,
    world: World,
    machine: LifecycleMachine,
    case_id: int,
    provider_id: int,
    start: dt.date,
    end: dt.date,
) -> object:
    return cases.fire(
        action="enrol_in_program",
        session=session,
        case_id=case_id,
        actor=world.coordinator,
        machine=machine,
        provider_id=provider_id,
        start_on=start,
        end_on=end,
    )


OPENED = dt.date(2024, 1, 4)  # before every enrolment below

# (start, last allowed day): calendar-month arithmetic, not 30 or 31 days.
MONTHS = [
    (dt.date(2025, 1, 31), dt.date(2025, 2, 28)),
    (dt.date(2024, 1, 31), dt.date(2024, 2, 29)),  # leap year
    (dt.date(2025, 1, 15), dt.date(2025, 2, 15)),
    (dt.date(2025, 12, 20), dt.date(2026, 1, 20)),  # across the year end
    (dt.date(2025, 3, 31), dt.date(2025, 4, 30)),  # across the 年度 boundary
]


def test_enrol_short_stay_longer_than_one_month_refused(
    session: Session, world: World, machine: LifecycleMachine
) -> None:
    case_id = open_case(session, world, machine, on=OPENED).case_id
    provider = _provider(session, Program.SHORT_STAY)
    assert provider.id is not None
    provider_id = provider.id
    for start, last_day in MONTHS:
        error = assert_refused(
            session,
            InvalidInput,
            partial(
                _enrol, session, world, machine, case_id, provider_id, start, last_day + dt.timedelta(days=1)
            ),
        )
        assert f"until {last_day}" in error.en and "1か月以内" in error.ja
        _enrol(session, world, machine, case_id, provider_id, start, last_day)
    stays = session.exec(
        select(col(ProgramEnrolment.start_on), col(ProgramEnrolment.end_on)).where(
            ProgramEnrolment.case_id == case_id
        )
    ).all()
    assert sorted(stays) == sorted(MONTHS)


def test_enrol_type_b_may_last_longer_than_a_month(
    session: Session, world: World, machine: LifecycleMachine
) -> None:
    case_id = open_case(session, world, machine, on=OPENED).case_id
    provider = _provider(session, Program.TYPE_B)
    assert provider.id is not None
    _enrol(session, world, machine, case_id, provider.id, dt.date(2025, 4, 1), dt.date(2026, 3, 31))
    enrolment = session.exec(select(ProgramEnrolment).where(ProgramEnrolment.case_id == case_id)).one()
    assert enrolment.program == Program.TYPE_B


def test_enrol_refused_for_end_before_start_or_unregistered_provider(
    session: Session, world: World, machine: LifecycleMachine
) -> None:
    case_id = open_case(session, world, machine, on=OPENED).case_id
    provider = _provider(session, Program.SHORT_STAY)
    assert provider.id is not None
    provider_id = provider.id
    error = assert_refused(
        session,
        InvalidInput,
        lambda: _enrol(
            session, world, machine, case_id, provider_id, dt.date(2025, 5, 2), dt.date(2025, 5, 1)
        ),
    )
    assert "before the start" in error.en
    missing = assert_refused(
        session,
        NotFound,
        lambda: _enrol(session, world, machine, case_id, 9999, dt.date(2025, 5, 1), dt.date(2025, 5, 2)),
    )
    assert "9999" in missing.en
