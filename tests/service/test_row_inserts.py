"""insert_row / insert_rows write what the ORM would have written, defaults included."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlmodel import Session, select

from models import ContactTopic, Meeting
from states import LifecycleMachine
from tests.factories import World, open_case
from tests.service.refusals import snapshot
from yorisoi.service.prepared import insert_row, insert_rows

HELD_ON = dt.date(2025, 6, 20)


def test_insert_row_fills_the_model_defaults_like_the_orm(
    session: Session, world: World, machine: LifecycleMachine
) -> None:
    case_id = open_case(session, world, machine).case_id
    assert world.coordinator.id is not None
    by_orm = Meeting(case_id=case_id, kind="support", held_on=HELD_ON, recorded_by=world.coordinator.id)
    session.add(by_orm)
    session.flush()
    new_id = insert_row(
        session, Meeting, case_id=case_id, kind="support", held_on=HELD_ON, recorded_by=world.coordinator.id
    )
    session.commit()

    rows = {m.id: m for m in session.exec(select(Meeting).where(Meeting.case_id == case_id)).all()}
    ours, theirs = rows[new_id], rows[by_orm.id]
    assert new_id != by_orm.id
    assert (ours.title, ours.decisions) == (theirs.title, theirs.decisions) == ("", "")
    assert (ours.kind, ours.held_on, ours.recorded_by) == (theirs.kind, theirs.held_on, theirs.recorded_by)
    # default_factory=utcnow, called per row: an aware UTC moment, not NULL, not a shared constant
    assert ours.created_at.tzinfo is not None
    assert abs(ours.created_at - theirs.created_at) < dt.timedelta(minutes=1)


def test_insert_rows_writes_a_table_without_a_generated_key(
    session: Session, world: World, machine: LifecycleMachine
) -> None:
    open_case(session, world, machine)
    contact_id = session.exec(select(ContactTopic.contact_id)).first()
    assert contact_id is not None
    insert_rows(session, ContactTopic, [{"contact_id": contact_id, "topic": t} for t in ("debt", "housing")])
    session.commit()

    topics = session.exec(select(ContactTopic.topic).where(ContactTopic.contact_id == contact_id)).all()
    assert sorted(topics) == ["debt", "hikikomori_school_refusal", "housing", "income"]


def test_insert_row_refuses_an_unknown_column_and_writes_nothing(
    session: Session, world: World, machine: LifecycleMachine
) -> None:
    case_id = open_case(session, world, machine).case_id
    before = snapshot(session)
    with pytest.raises(TypeError, match="held_at"):
        insert_row(session, Meeting, case_id=case_id, kind="support", held_at=HELD_ON, recorded_by=1)
    session.rollback()
    assert snapshot(session) == before
