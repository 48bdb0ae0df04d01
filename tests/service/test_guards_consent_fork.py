"""The consent fork: 重層的支援会議 only with a valid consent covering its agencies; otherwise 支援会議."""

from __future__ import annotations

import datetime as dt

from sqlmodel import Session, col, select

from models import Agency, Meeting, MeetingAttendee
from states import LifecycleMachine, MeetingKind
from tests.factories import World, attendees, fire, give_consent
from tests.lifecycle_names import Stage
from tests.service.refusals import assert_refused, count
from tests.service.walks import MEETING_DAY, case_at, hold_support_meeting, stage_of
from yorisoi.errors import GuardFailed
from yorisoi.service import cases


def _hold_multilayer(
    session: Session,
    world: World,
    machine: LifecycleMachine,
    case_id: int,
    *agencies: Agency,
    **extra: object,
) -> None:
    fire(
        session,
        machine,
        case_id,
        "hold_multilayer_meeting",
        world.coordinator,
        held_on=extra.pop("held_on", MEETING_DAY),
        title="重層的支援会議",
        attendees=attendees(*(agencies or (world.elderly, world.poverty))),
        **extra,
    )


def _refused_multilayer(
    session: Session,
    world: World,
    machine: LifecycleMachine,
    case_id: int,
    *agencies: Agency,
    **extra: object,
) -> GuardFailed:
    error = assert_refused(
        session, GuardFailed, lambda: _hold_multilayer(session, world, machine, case_id, *agencies, **extra)
    )
    assert [r.guard for r in error.refusals] == ["consent_covers_attendees"]
    return error


def test_hold_multilayer_meeting_with_covering_consent_moves_to_multilayer_meeting(
    session: Session, world: World, machine: LifecycleMachine
) -> None:
    case_id = case_at(session, world, machine, Stage.ASSESSMENT)
    give_consent(session, world, machine, case_id, world.elderly, world.poverty)
    _hold_multilayer(session, world, machine, case_id, world.elderly, world.poverty)
    assert stage_of(session, case_id) == Stage.MULTILAYER_MEETING
    meeting = session.exec(select(Meeting).where(Meeting.case_id == case_id)).one()
    assert (meeting.kind, meeting.held_on) == (MeetingKind.MULTILAYER, MEETING_DAY)
    # Municipal staff attend without an agency: the consent's scope does not concern them.
    fire(
        session,
        machine,
        case_id,
        "hold_multilayer_meeting",
        world.coordinator,
        held_on=MEETING_DAY,
        attendees=[*attendees(world.elderly), {"name": "市 福祉総務課", "staff_id": world.coordinator.id}],
    )
    assert count(session, Meeting, case_id=case_id, kind=MeetingKind.MULTILAYER) == 2


def test_hold_multilayer_meeting_refused_without_consent(
    session: Session, world: World, machine: LifecycleMachine
) -> None:
    case_id = case_at(session, world, machine, Stage.ASSESSMENT)
    error = _refused_multilayer(session, world, machine, case_id)
    assert "本人同意がありません" in error.ja and "no valid consent" in error.en


def test_hold_multilayer_meeting_refused_with_nobody_attending(
    session: Session, world: World, machine: LifecycleMachine
) -> None:
    case_id = case_at(session, world, machine, Stage.ASSESSMENT)
    give_consent(session, world, machine, case_id, world.elderly, world.poverty)

    def hold_empty() -> None:
        fire(session, machine, case_id, "hold_multilayer_meeting", world.coordinator, held_on=MEETING_DAY)

    error = assert_refused(session, GuardFailed, hold_empty)
    assert [r.guard for r in error.refusals] == ["meeting_has_attendees"]
    assert "出席者が登録されていません" in error.ja


def test_hold_multilayer_meeting_refused_when_consent_misses_an_attending_agency(
    session: Session, world: World, machine: LifecycleMachine
) -> None:
    case_id = case_at(session, world, machine, Stage.ASSESSMENT)
    give_consent(session, world, machine, case_id, world.elderly, world.poverty)
    error = _refused_multilayer(session, world, machine, case_id, world.elderly, world.disability)
    assert world.disability.name in error.ja and world.disability.name in error.en
    assert world.elderly.name not in error.ja


def test_hold_multilayer_meeting_refused_after_consent_withdrawn(
    session: Session, world: World, machine: LifecycleMachine
) -> None:
    case_id = case_at(session, world, machine, Stage.ASSESSMENT)
    give_consent(session, world, machine, case_id)
    fire(session, machine, case_id, "withdraw_consent", world.coordinator, withdrawn_on=dt.date(2025, 6, 15))
    assert stage_of(session, case_id) == Stage.ASSESSMENT  # recorded, the stage stays
    _refused_multilayer(session, world, machine, case_id)


def test_hold_multilayer_meeting_refused_when_consent_given_after_the_meeting_date(
    session: Session, world: World, machine: LifecycleMachine
) -> None:
    case_id = case_at(session, world, machine, Stage.ASSESSMENT)
    give_consent(session, world, machine, case_id, on=dt.date(2025, 6, 25))
    _refused_multilayer(session, world, machine, case_id, held_on=dt.date(2025, 6, 24))
    _hold_multilayer(session, world, machine, case_id, held_on=dt.date(2025, 6, 25))  # same day is fine
    assert stage_of(session, case_id) == Stage.MULTILAYER_MEETING


def test_hold_support_meeting_refused_when_valid_consent_exists(
    session: Session, world: World, machine: LifecycleMachine
) -> None:
    case_id = case_at(session, world, machine, Stage.ASSESSMENT)
    give_consent(session, world, machine, case_id)
    error = assert_refused(
        session, GuardFailed, lambda: hold_support_meeting(session, world, machine, case_id)
    )
    assert [r.guard for r in error.refusals] == ["no_valid_consent"]
    assert "重層的支援会議を開催してください" in error.ja


def test_hold_support_meeting_without_consent_moves_to_support_meeting(
    session: Session, world: World, machine: LifecycleMachine
) -> None:
    case_id = case_at(session, world, machine, Stage.ASSESSMENT)
    hold_support_meeting(session, world, machine, case_id)
    assert stage_of(session, case_id) == Stage.SUPPORT_MEETING
    meeting = session.exec(select(Meeting).where(Meeting.case_id == case_id)).one()
    assert meeting.kind == MeetingKind.SUPPORT
    acknowledged = session.exec(
        select(MeetingAttendee.confidentiality_acknowledged).where(MeetingAttendee.meeting_id == meeting.id)
    ).all()
    assert acknowledged == [True, True]
    # A consent that only starts after the meeting day does not stand in the way.
    later = case_at(session, world, machine, Stage.ASSESSMENT)
    give_consent(session, world, machine, later, on=dt.date(2025, 7, 1))
    hold_support_meeting(session, world, machine, later, on=MEETING_DAY)
    assert stage_of(session, later) == Stage.SUPPORT_MEETING


# --- from the 支援会議 track ------------------------------------------------------------------


def test_hold_multilayer_meeting_from_support_meeting_once_consent_recorded(
    session: Session, world: World, machine: LifecycleMachine
) -> None:
    case_id = case_at(session, world, machine, Stage.SUPPORT_MEETING)
    _refused_multilayer(session, world, machine, case_id, held_on=dt.date(2025, 7, 1))
    give_consent(session, world, machine, case_id, on=dt.date(2025, 6, 28))
    _hold_multilayer(session, world, machine, case_id, held_on=dt.date(2025, 7, 1))
    assert stage_of(session, case_id) == Stage.MULTILAYER_MEETING
    kinds = session.exec(
        select(Meeting.kind).where(Meeting.case_id == case_id).order_by(col(Meeting.id))
    ).all()
    assert kinds == [MeetingKind.SUPPORT, MeetingKind.MULTILAYER]


def test_hold_support_meeting_repeated_stays_in_support_meeting(
    session: Session, world: World, machine: LifecycleMachine
) -> None:
    case_id = case_at(session, world, machine, Stage.SUPPORT_MEETING)
    for day in (dt.date(2025, 7, 20), dt.date(2025, 8, 20)):
        fired = cases.fire(
            session=session,
            case_id=case_id,
            action="hold_support_meeting",
            actor=world.supervisor,
            machine=machine,
            held_on=day,
            attendees=attendees(world.disability),
        )
        assert (fired.from_stage, fired.to_stage) == (Stage.SUPPORT_MEETING, Stage.SUPPORT_MEETING)
    assert count(session, Meeting, case_id=case_id, kind=MeetingKind.SUPPORT) == 3
    # Repeated meetings are bound by 守秘義務 like the first.
    error = assert_refused(
        session,
        GuardFailed,
        lambda: fire(
            session,
            machine,
            case_id,
            "hold_support_meeting",
            world.coordinator,
            attendees=attendees(world.poverty, acknowledged=False),
        ),
    )
    assert [r.guard for r in error.refusals] == ["attendees_bound_to_confidentiality"]


def test_hold_support_meeting_refused_for_attendee_without_confidentiality(
    session: Session, world: World, machine: LifecycleMachine
) -> None:
    case_id = case_at(session, world, machine, Stage.ASSESSMENT)
    unbound = [*attendees(world.elderly), *attendees(world.disability, acknowledged=False)]

    def hold(people: list[dict[str, object]]) -> None:
        fire(session, machine, case_id, "hold_support_meeting", world.coordinator, attendees=people)

    error = assert_refused(session, GuardFailed, lambda: hold(unbound))
    assert [r.guard for r in error.refusals] == ["attendees_bound_to_confidentiality"]
    assert f"{world.disability.name} 担当者" in error.ja and "守秘義務" in error.ja
    assert world.elderly.name not in error.ja
    nobody = assert_refused(session, GuardFailed, lambda: hold([]))
    assert "at least one attendee" in nobody.en
