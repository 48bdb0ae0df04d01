"""期限超過 has one definition (`models.case.monitoring_overdue`), the same in every list."""

from __future__ import annotations

import datetime as dt

from sqlmodel import Session

from models.due import overdue_cases
from models.queries import list_cases
from states import LifecycleMachine
from tests.factories import World, fire, open_case, to_monitoring


def _late(session: Session, machine: LifecycleMachine, on: dt.date) -> tuple[set[str], set[str]]:
    stages = machine.lifecycle.monitoring_stages
    listed = {r.number for r in list_cases(session, today=on, monitoring_stages=stages) if r.overdue}
    return listed, {c.number for c in overdue_cases(session, stages=stages, on=on)}


def test_overdue_is_monitoring_past_its_date_and_not_a_plan_under_revision(
    session: Session, world: World, machine: LifecycleMachine
) -> None:
    case = open_case(session, world, machine)
    to_monitoring(session, world, machine, case.case_id)  # approved 6/25, every 30 days: due 7/25
    waiting = open_case(session, world, machine)  # no monitoring date at all
    assert _late(session, machine, dt.date(2025, 7, 25)) == (set(), set())
    assert _late(session, machine, dt.date(2025, 7, 26)) == ({case.number}, {case.number})
    fire(session, machine, case.case_id, "revise_plan", world.coordinator, drafted_on=dt.date(2025, 7, 26))
    # Under revision the case is out of monitoring until the new version is approved.
    assert _late(session, machine, dt.date(2025, 8, 1)) == (set(), set())
    assert waiting.number not in _late(session, machine, dt.date(2026, 1, 1))[0]
