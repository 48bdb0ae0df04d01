"""訂正: a person's and household's details change through the case service, audited before/after.

The address of a DV-protected household never enters the audit trail in clear — not when it is
corrected, not when protection is switched on together with a new address — and an address an
earlier correction recorded in clear is masked on the timeline once the household is protected.
"""

from __future__ import annotations

import datetime as dt
import json
from functools import partial

from sqlmodel import Session, col, select

from models import AuditEvent, Household, OutboxMessage, Person
from models.person import MASKED_ADDRESS
from models.queries import case_detail, timeline
from states import LifecycleMachine
from tests.factories import World, fire, open_case
from tests.service.refusals import assert_refused
from yorisoi.errors import InvalidInput, VersionConflict
from yorisoi.service import cases

SECRET = "山口市秘匿町9-9-9"


def _audit_text(session: Session) -> str:
    events = session.exec(select(AuditEvent.payload)).all()
    outbox = session.exec(select(OutboxMessage.payload)).all()
    return json.dumps([*events, *outbox], ensure_ascii=False)


def test_correct_details_changes_only_what_is_given_and_audits_before_and_after(
    session: Session, world: World, machine: LifecycleMachine
) -> None:
    opened = open_case(session, world, machine)
    fired = fire(
        session,
        machine,
        opened.case_id,
        "correct_details",
        world.coordinator,
        kana="ヤマダ タロウ",  # as it was: not a change
        name="山田 太朗",
        birth_date=dt.date(1980, 2, 29),
        address="山口市中央1-1",
        note="本人確認書類で訂正",
    )
    assert fired.version == 2
    detail = case_detail(session, opened.case_id)
    assert detail is not None
    assert (detail.person_name, detail.birth_date, detail.address) == (
        "山田 太朗",
        dt.date(1980, 2, 29),
        "山口市中央1-1",
    )
    event = timeline(session, opened.case_id)[-1]
    assert event.payload["changes"] == {
        "name": {"before": "山田 太郎", "after": "山田 太朗"},
        "birth_date": {"before": None, "after": "1980-02-29"},
        "address": {"before": "山口市亀山町2-1", "after": "山口市中央1-1"},
    }
    assert event.note == "本人確認書類で訂正"
    same = partial(
        fire, session, machine, opened.case_id, "correct_details", world.coordinator, name="山田 太朗"
    )
    assert "訂正する項目がありません" in assert_refused(session, InvalidInput, same).ja


def test_correct_details_of_a_changed_case_is_refused(
    session: Session, world: World, machine: LifecycleMachine
) -> None:
    case_id = open_case(session, world, machine).case_id
    fire(session, machine, case_id, "start_assessment", world.coordinator)  # version 2
    stale = partial(
        cases.fire,
        session=session,
        case_id=case_id,
        action="correct_details",
        actor=world.coordinator,
        machine=machine,
        expected_version=1,
        name="別人",
    )
    assert_refused(session, VersionConflict, stale)


def test_dv_address_never_enters_the_audit_trail_in_clear(
    session: Session, world: World, machine: LifecycleMachine
) -> None:
    case_id = open_case(session, world, machine).case_id
    fire(
        session, machine, case_id, "correct_details", world.coordinator, address="山口市旧住所1-1"
    )  # in clear
    fire(session, machine, case_id, "correct_details", world.coordinator, address=SECRET, dv_protected=True)
    moved = SECRET.replace("9-9-9", "8-8-8")
    fire(session, machine, case_id, "correct_details", world.coordinator, address=moved)
    household = session.exec(
        select(Household).join(Person, col(Person.household_id) == col(Household.id))
    ).one()
    assert (household.address, household.dv_protected) == (moved, True)
    written = _audit_text(session)
    assert SECRET not in written and moved not in written
    entries = timeline(session, case_id)
    assert [e.payload["changes"]["address"] for e in entries[-3:]] == [
        {"before": MASKED_ADDRESS, "after": MASKED_ADDRESS}
    ] * 3  # the first correction's clear address is masked now the household is protected
    assert entries[-2].payload["changes"]["dv_protected"] == {"before": False, "after": True}
    detail = case_detail(session, case_id)
    assert detail is not None and detail.address == MASKED_ADDRESS
