"""`yorisoi audit verify` records its result where the web audit page reads it."""

from __future__ import annotations

from sqlalchemy import text
from sqlmodel import Session, col, select

from models import ChainVerification
from models.db import create_db_engine
from tests.cli.conftest import Cli, open_case, to_monitoring
from yorisoi.settings import get_settings


def test_audit_verify_records_each_run_with_who_ran_it(town: Cli) -> None:
    number = open_case(town)
    to_monitoring(town, number)
    town("audit", "verify", actor="ito")
    engine = create_db_engine(get_settings().database_url())
    with engine.begin() as connection:  # the author approves their own plan, around the service
        connection.execute(text("UPDATE plan SET approved_by = author_id"))
    assert town("audit", "verify", actor="ito", ok=False).exit_code == 1
    with Session(engine) as session:
        runs = session.exec(select(ChainVerification).order_by(col(ChainVerification.id))).all()
    engine.dispose()
    assert [(r.trigger, r.started_by, r.status, r.cases, r.problem_cases) for r in runs] == [
        ("cli", "ito", "done", 1, 0),
        ("cli", "ito", "done", 1, 1),
    ]
    assert runs[1].case_numbers == [number] and runs[1].finished_at is not None
