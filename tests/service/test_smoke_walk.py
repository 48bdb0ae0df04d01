"""The happy path through the whole lifecycle, on both databases."""

from __future__ import annotations

import datetime as dt

from sqlmodel import Session

from models import Case
from states import LifecycleMachine
from tests.factories import World, fire, open_case, to_monitoring
from tests.lifecycle_names import Stage
from yorisoi.service.audit import verify_chains


def test_case_walks_from_intake_to_closure_and_reopens(
    session: Session, world: World, machine: LifecycleMachine
) -> None:
    case_id = open_case(session, world, machine).case_id
    to_monitoring(session, world, machine, case_id)
    fire(
        session,
        machine,
        case_id,
        "record_monitoring",
        world.coordinator,
        summary="外出できた",
        held_on=dt.date(2025, 7, 25),
    )
    fire(
        session,
        machine,
        case_id,
        "propose_closure",
        world.coordinator,
        reason="goals_met",
        evaluation="週1回の外出が定着した",
        proposed_on=dt.date(2025, 9, 1),
    )
    closed = fire(
        session, machine, case_id, "approve_closure", world.supervisor, decided_on=dt.date(2025, 9, 5)
    )
    assert closed.to_stage == Stage.CLOSED
    reopened = fire(
        session,
        machine,
        case_id,
        "reopen",
        world.coordinator,
        contact={"referrer": "family", "method": "phone", "topics": ["debt"]},
    )
    case = session.get(Case, case_id)
    assert case is not None
    session.refresh(case)
    assert (case.stage, case.episode, case.version) == (Stage.INTAKE, 2, reopened.version)
    report = verify_chains(session, machine)
    assert report.ok and report.events == case.version
