"""Walk a case to any stage of the default lifecycle, through the real service."""

from __future__ import annotations

import datetime as dt

from sqlmodel import Session

from models import Case
from states import LifecycleMachine
from tests.factories import World, attendees, fire, open_case, plan_data, to_monitoring, to_multilayer_meeting
from tests.lifecycle_names import Stage

MEETING_DAY = dt.date(2025, 6, 20)


def hold_support_meeting(
    session: Session, world: World, machine: LifecycleMachine, case_id: int, *, on: dt.date = MEETING_DAY
) -> None:
    fire(
        session,
        machine,
        case_id,
        "hold_support_meeting",
        world.coordinator,
        held_on=on,
        title="支援会議",
        attendees=attendees(world.elderly, world.poverty),
    )


def case_at(session: Session, world: World, machine: LifecycleMachine, stage: str) -> int:
    """A new case (its own person) standing at `stage`; returns its id."""
    case_id = open_case(session, world, machine).case_id
    if stage == Stage.INTAKE:
        return case_id
    if stage == Stage.ASSESSMENT:
        fire(session, machine, case_id, "start_assessment", world.coordinator)
    elif stage == Stage.SUPPORT_MEETING:
        fire(session, machine, case_id, "start_assessment", world.coordinator)
        hold_support_meeting(session, world, machine, case_id)
    elif stage == Stage.MULTILAYER_MEETING:
        to_multilayer_meeting(session, world, machine, case_id)
    elif stage == Stage.PLANNING:
        to_multilayer_meeting(session, world, machine, case_id)
        fire(session, machine, case_id, "draft_plan", world.coordinator, **plan_data(world))
    elif stage == Stage.MONITORING:
        to_monitoring(session, world, machine, case_id)
    else:
        raise ValueError(f"no walk to {stage}")
    return case_id


def fresh_case(session: Session, case_id: int) -> Case:
    """The case as the database holds it now (nothing cached in the session)."""
    session.expire_all()
    case = session.get(Case, case_id)
    assert case is not None
    return case


def stage_of(session: Session, case_id: int) -> str:
    return fresh_case(session, case_id).stage
