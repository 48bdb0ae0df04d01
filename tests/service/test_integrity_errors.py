"""Only a broken event sequence is reported as a concurrent change; other integrity errors are not."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import Executable, insert
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from models import AuditEvent, Contact
from states import LifecycleMachine
from tests.factories import World, open_case
from yorisoi.service.cases import _is_race


def _integrity_error(session: Session, statement: Executable) -> IntegrityError:
    with pytest.raises(IntegrityError) as caught:
        session.execute(statement)
    session.rollback()
    return caught.value


def test_duplicate_event_sequence_counts_as_a_race(
    session: Session, world: World, machine: LifecycleMachine
) -> None:
    case_id = open_case(session, world, machine).case_id
    duplicate = insert(AuditEvent).values(
        case_id=case_id,
        seq=1,
        episode=1,
        action="open_case",
        from_stage="",
        to_stage="intake",
        actor_id=None,
        occurred_at=dt.datetime.now(dt.UTC),
        payload={},
        prev_hash="0" * 64,
        hash="f" * 64,
    )
    assert _is_race(_integrity_error(session, duplicate))


def test_missing_parent_row_is_not_a_race(session: Session, world: World) -> None:
    orphan = insert(Contact).values(
        case_id=999_999,
        contacted_on=dt.date(2025, 6, 2),
        referrer="self",
        method="phone",
        note="",
        created_at=dt.datetime.now(dt.UTC),
    )
    assert not _is_race(_integrity_error(session, orphan))
