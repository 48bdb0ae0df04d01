"""Many writers on the same cases at once: no update is lost, no chain forks.

On SQLite writers queue on the write lock (BEGIN IMMEDIATE); on PostgreSQL the version check
turns a lost race into a `VersionConflict`, which the caller retries. Either way every
successful action is in the case's history exactly once.
"""

from __future__ import annotations

import datetime as dt
import multiprocessing
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from sqlalchemy import Engine, func
from sqlmodel import Session, select

from models import AuditEvent, Case, Contact, OutboxMessage
from states import LifecycleMachine
from tests.factories import World, fire, open_case
from tests.lifecycle_names import Stage
from tests.service.concurrent_worker import record_contacts
from yorisoi.errors import GuardFailed, TriggerNotAllowed, VersionConflict
from yorisoi.service import cases
from yorisoi.service.audit import verify_chains

WRITERS = 4
ROUNDS = 12


def _connect_args(engine: Engine) -> dict[str, Any]:
    """The search_path a PostgreSQL test engine was created with (its private schema)."""
    if engine.dialect.name != "postgresql":
        return {}
    with engine.connect() as conn:
        schema = conn.exec_driver_sql("SHOW search_path").scalar_one()
    return {"options": f"-csearch_path={schema}"}


def _assert_nothing_lost(
    session: Session, machine: LifecycleMachine, case_ids: list[int], expected_contacts_per_case: int
) -> None:
    session.expire_all()
    for case_id in case_ids:
        case = session.get(Case, case_id)
        assert case is not None
        contacts = session.exec(
            select(func.count()).select_from(Contact).where(Contact.case_id == case_id)
        ).one()
        events = session.exec(
            select(func.count()).select_from(AuditEvent).where(AuditEvent.case_id == case_id)
        ).one()
        outbox = session.exec(
            select(func.count()).select_from(OutboxMessage).where(OutboxMessage.case_id == case_id)
        ).one()
        # 1 intake contact + every added one; 1 open event + one per added contact.
        assert contacts == 1 + expected_contacts_per_case
        assert events == outbox == case.version == 1 + expected_contacts_per_case
    assert verify_chains(session, machine).ok


def test_threads_adding_contacts_lose_no_update(
    engine: Engine, session: Session, world: World, machine: LifecycleMachine
) -> None:
    case_ids = [open_case(session, world, machine).case_id for _ in range(3)]
    url = engine.url.render_as_string(hide_password=False)
    logins = ["tanaka", "kato", "suzuki", "tanaka"][:WRITERS]
    with ThreadPoolExecutor(WRITERS) as pool:
        results = list(
            pool.map(
                lambda login: record_contacts(url, _connect_args(engine), login, case_ids, ROUNDS),
                logins,
            )
        )
    assert sum(done for done, _ in results) == WRITERS * ROUNDS * len(case_ids)
    _assert_nothing_lost(session, machine, case_ids, WRITERS * ROUNDS)


def test_processes_adding_contacts_lose_no_update(
    engine: Engine, session: Session, world: World, machine: LifecycleMachine
) -> None:
    case_ids = [open_case(session, world, machine).case_id for _ in range(2)]
    url = engine.url.render_as_string(hide_password=False)
    args = [(url, _connect_args(engine), login, case_ids, ROUNDS) for login in ("tanaka", "kato", "suzuki")]
    with multiprocessing.get_context("spawn").Pool(len(args)) as pool:
        results = pool.starmap(record_contacts, args)
    assert sum(done for done, _ in results) == len(args) * ROUNDS * len(case_ids)
    _assert_nothing_lost(session, machine, case_ids, len(args) * ROUNDS)


def test_racing_closure_approvals_close_the_case_once(
    engine: Engine, session: Session, world: World, machine: LifecycleMachine
) -> None:
    case_id = open_case(session, world, machine).case_id
    fire(
        session,
        machine,
        case_id,
        "propose_closure",
        world.coordinator,
        reason="referred_single_agency",
        evaluation="地域包括につないだ",
        proposed_on=dt.date(2025, 6, 3),
    )
    approvers = [world.supervisor, world.supervisor2] * 3

    def approve(actor: Any) -> str:
        with Session(engine, expire_on_commit=False) as own:
            try:
                cases.fire(
                    session=own,
                    case_id=case_id,
                    action="approve_closure",
                    actor=actor,
                    machine=machine,
                    decided_on=dt.date(2025, 6, 4),
                )
                return "ok"
            except (VersionConflict, TriggerNotAllowed, GuardFailed) as exc:
                return exc.code

    with ThreadPoolExecutor(len(approvers)) as pool:
        outcomes = list(pool.map(approve, approvers))
    assert outcomes.count("ok") == 1
    session.expire_all()
    case = session.get(Case, case_id)
    assert case is not None and case.stage == Stage.CLOSED
    closing = session.exec(
        select(func.count())
        .select_from(AuditEvent)
        .where(AuditEvent.case_id == case_id, AuditEvent.action == "approve_closure")
    ).one()
    assert closing == 1
    assert verify_chains(session, machine).ok


@pytest.mark.parametrize("writers", [2])
def test_concurrent_intakes_get_distinct_case_numbers(
    engine: Engine, session: Session, world: World, machine: LifecycleMachine, writers: int
) -> None:
    def intake(_: int) -> str:
        with Session(engine, expire_on_commit=False) as own:
            numbers = []
            for _round in range(10):
                while True:
                    try:
                        numbers.append(open_case(own, world, machine).number)
                        break
                    except VersionConflict:
                        continue
            return ",".join(numbers)

    with ThreadPoolExecutor(writers) as pool:
        numbers = ",".join(pool.map(intake, range(writers))).split(",")
    assert len(numbers) == len(set(numbers)) == writers * 10
    assert sorted(numbers) == [f"R7-{n:04d}" for n in range(1, writers * 10 + 1)]
