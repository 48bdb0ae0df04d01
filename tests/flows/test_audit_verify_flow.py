"""The nightly `audit-verify` flow: a real flow run that verifies and records, as the page shows."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from sqlalchemy import Engine
from sqlmodel import Session, col, select

from models import ChainVerification, Plan
from states import default_machine
from tests import factories
from tests.factories import build_world

pytestmark = pytest.mark.usefixtures("prefect_harness")


def test_audit_verify_flow_records_each_run_for_the_audit_page(flow_db: Engine) -> None:
    from flows.audit_verify import audit_verify

    machine = default_machine()
    with Session(flow_db, expire_on_commit=False) as session:
        world = build_world(session)
        case = factories.open_case(session, world, machine)
        factories.to_monitoring(session, world, machine, case.case_id)

    clean = audit_verify()
    with flow_db.begin() as connection:  # forged around the service: the author approves their own plan
        connection.execute(sa.update(Plan).values(approved_by=Plan.author_id))
    forged = audit_verify(return_state=True)

    assert clean.ok and clean.cases == 1 and clean.problem_cases == 0
    assert forged.is_completed()  # a finding is the run's result, not a failure
    found = forged.result()
    assert not found.ok and found.case_numbers == [case.number]
    with Session(flow_db) as session:
        rows = session.exec(select(ChainVerification).order_by(col(ChainVerification.id))).all()
    assert [(r.id, r.trigger, r.status, r.problem_cases) for r in rows] == [
        (clean.run_id, "flow", "done", 0),
        (found.run_id, "flow", "done", 1),
    ]
    assert all(r.started_by.startswith("audit-verify/") and r.finished_at is not None for r in rows)
