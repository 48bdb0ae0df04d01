"""verify_chains: a walked case verifies; any edit, deletion or reordering is found and named."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pytest
from sqlalchemy import Executable, delete, func, select, update
from sqlmodel import Session, col

from models import AuditEvent, Case
from models.audit import event_hash
from states import LifecycleMachine
from tests.factories import World, fire, open_case, to_monitoring
from tests.lifecycle_names import Stage
from yorisoi.service.audit import ChainReport, verify_chains


@dataclass(frozen=True)
class Walked:
    case_id: int
    number: str
    version: int


@pytest.fixture(name="walked")
def walked_fixture(session: Session, world: World, machine: LifecycleMachine) -> tuple[Walked, Walked]:
    """Two cases: one walked to 支援・モニタリング (7 events), one just assessed (2 events)."""
    first = open_case(session, world, machine)
    to_monitoring(session, world, machine, first.case_id)
    last = fire(
        session,
        machine,
        first.case_id,
        "record_monitoring",
        world.coordinator,
        summary="外出できた",
        held_on=dt.date(2025, 7, 25),
    )
    second = open_case(session, world, machine)
    assessed = fire(session, machine, second.case_id, "start_assessment", world.coordinator)
    return Walked(first.case_id, first.number, last.version), Walked(
        second.case_id, second.number, assessed.version
    )


def _raw(session: Session, statement: Executable) -> None:
    """Tamper with the database directly, as someone with SQL access could."""
    session.execute(statement)
    session.commit()
    session.expire_all()


def _events(session: Session, case_id: int) -> list[AuditEvent]:
    return list(
        session.execute(
            select(AuditEvent).where(col(AuditEvent.case_id) == case_id).order_by(col(AuditEvent.seq))
        ).scalars()
    )


def _only_problem(report: ChainReport, number: str, seq: int | None) -> str:
    assert [(p.case_number, p.seq) for p in report.problems] == [(number, seq)]
    problem = report.problems[0]
    assert problem.ja and problem.en
    return problem.en


def test_verify_chains_ok_on_walked_cases(
    session: Session, machine: LifecycleMachine, walked: tuple[Walked, Walked]
) -> None:
    report = verify_chains(session, machine)
    first, second = walked
    assert report.ok and report.cases == 2
    assert (first.version, second.version, report.events) == (7, 2, 9)
    assert verify_chains(session, machine, case_ids=[second.case_id]).events == 2


EDITS: list[tuple[str, object]] = [
    ("payload", {"note": "書き換え"}),
    ("actor_id", None),
    ("to_stage", Stage.CLOSED.value),
    ("from_stage", Stage.INTAKE.value),
    ("action", "approve_plan"),
    ("occurred_at", dt.datetime(2020, 1, 1, tzinfo=dt.UTC)),
]


def test_verify_chains_detects_edited_event(
    session: Session, machine: LifecycleMachine, walked: tuple[Walked, Walked]
) -> None:
    first, _ = walked
    original = _events(session, first.case_id)[3]  # seq 4
    for column, value in EDITS:
        saved = getattr(original, column)
        this_event = update(AuditEvent).where(col(AuditEvent.id) == original.id)
        _raw(session, this_event.values({column: value}))
        en = _only_problem(verify_chains(session, machine), first.number, 4)
        assert "does not match its hash" in en, column
        _raw(session, this_event.values({column: saved}))
        assert verify_chains(session, machine).ok, f"restoring {column} should verify again"


def test_verify_chains_detects_edit_with_recomputed_hash_at_the_next_event(
    session: Session, machine: LifecycleMachine, walked: tuple[Walked, Walked]
) -> None:
    first, _ = walked
    event = _events(session, first.case_id)[4]  # seq 5
    forged = {**event.payload, "forged": True}
    digest = event_hash(
        prev_hash=event.prev_hash,
        case_id=event.case_id,
        seq=event.seq,
        episode=event.episode,
        action=event.action,
        from_stage=event.from_stage,
        to_stage=event.to_stage,
        actor_id=event.actor_id,
        occurred_at=event.occurred_at,
        payload=forged,
    )
    _raw(
        session, update(AuditEvent).where(col(AuditEvent.id) == event.id).values(payload=forged, hash=digest)
    )
    en = _only_problem(verify_chains(session, machine), first.number, 6)
    assert "prev_hash" in en


def test_verify_chains_detects_deleted_middle_event(
    session: Session, machine: LifecycleMachine, walked: tuple[Walked, Walked]
) -> None:
    first, _ = walked
    _raw(
        session, delete(AuditEvent).where(col(AuditEvent.case_id) == first.case_id, col(AuditEvent.seq) == 5)
    )
    en = _only_problem(verify_chains(session, machine), first.number, 6)
    assert "event 5 is missing" in en


def test_verify_chains_detects_deleted_last_event(
    session: Session, machine: LifecycleMachine, walked: tuple[Walked, Walked]
) -> None:
    first, _ = walked
    _raw(
        session,
        delete(AuditEvent).where(
            col(AuditEvent.case_id) == first.case_id, col(AuditEvent.seq) == first.version
        ),
    )
    en = _only_problem(verify_chains(session, machine), first.number, first.version - 1)
    assert "trailing events deleted" in en
    # Setting the case back one version as well still leaves the head hash pointing at the
    # deleted event.
    _raw(session, update(Case).where(col(Case.id) == first.case_id).values(version=first.version - 1))
    en = _only_problem(verify_chains(session, machine), first.number, first.version - 1)
    assert "head hash" in en


def test_verify_chains_detects_swapped_seq(
    session: Session, machine: LifecycleMachine, walked: tuple[Walked, Walked]
) -> None:
    first, _ = walked
    third, fourth = _events(session, first.case_id)[2:4]
    # Three steps around the (case_id, seq) unique constraint.
    _raw(session, update(AuditEvent).where(col(AuditEvent.id) == third.id).values(seq=-1))
    _raw(session, update(AuditEvent).where(col(AuditEvent.id) == fourth.id).values(seq=3))
    _raw(session, update(AuditEvent).where(col(AuditEvent.id) == third.id).values(seq=4))
    problem = verify_chains(session, machine).problems
    assert [(p.case_number, p.seq, p.event_id) for p in problem] == [(first.number, 3, fourth.id)]


def test_verify_chains_detects_stage_changed_on_the_case_row(
    session: Session, machine: LifecycleMachine, walked: tuple[Walked, Walked]
) -> None:
    first, _ = walked
    _raw(session, update(Case).where(col(Case.id) == first.case_id).values(stage=Stage.CLOSED.value))
    en = _only_problem(verify_chains(session, machine), first.number, first.version)
    assert "replayed stage 'monitoring' differs from the stored stage 'closed'" in en


def test_verify_chains_names_first_bad_event_of_each_broken_case(
    session: Session, machine: LifecycleMachine, walked: tuple[Walked, Walked]
) -> None:
    first, second = walked
    for seq in (7, 3):
        _raw(
            session,
            update(AuditEvent)
            .where(col(AuditEvent.case_id) == first.case_id, col(AuditEvent.seq) == seq)
            .values(payload={}),
        )
    _raw(
        session,
        update(AuditEvent)
        .where(col(AuditEvent.case_id) == second.case_id, col(AuditEvent.seq) == 2)
        .values(actor_id=None),
    )
    report = verify_chains(session, machine)
    assert {(p.case_number, p.seq) for p in report.problems} == {(first.number, 3), (second.number, 2)}
    assert report.cases == 2
    total = session.execute(select(func.count()).select_from(AuditEvent)).scalar_one()
    assert report.events == total
    _raw(session, delete(AuditEvent).where(col(AuditEvent.case_id) == second.case_id))
    report = verify_chains(session, machine)
    assert {(p.case_number, p.seq) for p in report.problems} == {(first.number, 3), (second.number, None)}
    assert "no audit events" in next(p.en for p in report.problems if p.case_number == second.number)
