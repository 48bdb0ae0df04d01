"""Test data that goes through the real case service, never around it."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlmodel import Session

from models import Agency, Staff
from states import LifecycleMachine
from yorisoi.service import cases, directory
from yorisoi.service.cases import Fired


@dataclass
class World:
    """A small municipality: a desk, three agencies, coordinators and supervisors."""

    desk: Agency
    elderly: Agency
    disability: Agency
    poverty: Agency
    coordinator: Staff
    coordinator2: Staff
    supervisor: Staff
    supervisor2: Staff
    auditor: Staff

    @property
    def agencies(self) -> list[Agency]:
        return [self.elderly, self.disability, self.poverty]


def build_world(session: Session) -> World:
    add = directory.add_agency
    desk = add(session, name="ふくまる相談室 中央", field="community", is_desk=True)
    elderly = add(session, name="地域包括支援センター中央", field="elderly")
    disability = add(session, name="障がい者相談支援センター", field="disability")
    poverty = add(session, name="自立相談支援機関", field="poverty")
    staff = directory.add_staff
    return World(
        desk=desk,
        elderly=elderly,
        disability=disability,
        poverty=poverty,
        coordinator=staff(session, login="tanaka", name="田中 花子", roles=["coordinator"]),
        coordinator2=staff(session, login="kato", name="加藤 健", roles=["coordinator"]),
        supervisor=staff(session, login="sato", name="佐藤 一郎", roles=["supervisor"]),
        supervisor2=staff(session, login="suzuki", name="鈴木 次郎", roles=["supervisor", "coordinator"]),
        auditor=staff(session, login="ito", name="伊藤 監査", roles=["auditor"]),
    )


def contact(
    world: World,
    *,
    on: dt.date | None = None,
    topics: list[str] | None = None,
    referrer: str = "self",
    method: str = "phone",
) -> dict[str, Any]:
    return {
        "contacted_on": on or dt.date(2025, 6, 2),
        "referrer": referrer,
        "method": method,
        "topics": topics or ["hikikomori_school_refusal", "income"],
        "desk_id": world.desk.id,
    }


def open_case(
    session: Session,
    world: World,
    machine: LifecycleMachine,
    *,
    on: dt.date | None = None,
    dv_protected: bool = False,
) -> Fired:
    return cases.open_case(
        session=session,
        actor=world.coordinator,
        machine=machine,
        person={
            "name": "山田 太郎",
            "kana": "ヤマダ タロウ",
            "address": "山口市亀山町2-1",
            "dv_protected": dv_protected,
        },
        contact=contact(world, on=on),
    )


def attendees(*agencies: Agency, acknowledged: bool = True) -> list[dict[str, Any]]:
    return [
        {"name": f"{a.name} 担当者", "agency_id": a.id, "acknowledged_confidentiality": acknowledged}
        for a in agencies
    ]


def fire(
    session: Session, machine: LifecycleMachine, case_id: int, action: str, actor: Staff, **data: Any
) -> Fired:
    """Take `action` on the case: a trigger of `machine`'s lifecycle, a record action, or a
    lifecycle action by its kind (`approve_plan`), fired through the trigger the lifecycle names
    for it from the case's stage — so the same walk runs on any lifecycle."""
    name = cases.name_for(session, machine, case_id, action)
    return cases.fire(session=session, case_id=case_id, action=name, actor=actor, machine=machine, **data)


def give_consent(
    session: Session,
    world: World,
    machine: LifecycleMachine,
    case_id: int,
    *agencies: Agency,
    on: dt.date | None = None,
) -> Fired:
    return cases.fire(
        action="give_consent",
        session=session,
        case_id=case_id,
        actor=world.coordinator,
        machine=machine,
        given_on=on or dt.date(2025, 6, 10),
        agency_ids=[a.id for a in (agencies or world.agencies)],
    )


def to_multilayer_meeting(session: Session, world: World, machine: LifecycleMachine, case_id: int) -> int:
    """Assess, record consent, hold a 重層的支援会議; returns the meeting id."""
    fire(session, machine, case_id, "start_assessment", world.coordinator)
    give_consent(session, world, machine, case_id)
    fire(
        session,
        machine,
        case_id,
        "hold_multilayer_meeting",
        world.coordinator,
        held_on=dt.date(2025, 6, 20),
        attendees=attendees(world.elderly, world.poverty),
    )
    return latest_meeting_id(session, case_id)


def latest_meeting_id(session: Session, case_id: int) -> int:
    from sqlmodel import col, select

    from models import Meeting

    meeting_id = session.exec(
        select(Meeting.id).where(Meeting.case_id == case_id).order_by(col(Meeting.id).desc())
    ).first()
    assert meeting_id is not None
    return meeting_id


def plan_data(world: World, *, on: dt.date | None = None) -> dict[str, Any]:
    return {
        "drafted_on": on or dt.date(2025, 6, 20),
        "household_goal": "世帯が安定して暮らせる",
        "goals": [{"problem": "ひきこもり", "goal": "週1回外出できる"}],
        "roles": [
            {"agency_id": world.elderly.id, "role": "母の介護調整", "is_lead": False},
            {"agency_id": world.poverty.id, "role": "家計相談・主担当", "is_lead": True},
        ],
        "monitoring_interval_days": 30,
    }


def to_monitoring(
    session: Session,
    world: World,
    machine: LifecycleMachine,
    case_id: int,
    *,
    approved_on: dt.date = dt.date(2025, 6, 25),
) -> int:
    """Walk a case to 支援・モニタリング with a plan approved on `approved_on` (the meeting and the
    draft are dated 2025-06-20); returns the meeting id."""
    meeting_id = to_multilayer_meeting(session, world, machine, case_id)
    fire(session, machine, case_id, "draft_plan", world.coordinator, **plan_data(world))
    fire(
        session,
        machine,
        case_id,
        "approve_plan",
        world.supervisor,
        meeting_id=meeting_id,
        approved_on=approved_on,
    )
    return meeting_id
