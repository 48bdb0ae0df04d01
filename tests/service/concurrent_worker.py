"""Work done by each thread or process of the concurrency tests (importable for spawn)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlmodel import Session

from models.db import create_db_engine
from states import default_machine
from yorisoi.errors import VersionConflict
from yorisoi.service import cases, directory


def record_contacts(
    url: str, connect_args: dict[str, Any], login: str, case_ids: list[int], rounds: int
) -> tuple[int, int]:
    """Add `rounds` contacts to each case, retrying on conflicts; returns (done, conflicts)."""
    engine = create_db_engine(url, connect_args=connect_args) if connect_args else create_db_engine(url)
    machine = default_machine()
    done = conflicts = 0
    try:
        with Session(engine, expire_on_commit=False) as session:
            actor = directory.staff_by_login(session, login)
            for round_no in range(rounds):
                for case_id in case_ids:
                    while True:
                        try:
                            cases.fire(
                                action="add_contact",
                                session=session,
                                case_id=case_id,
                                actor=actor,
                                machine=machine,
                                contacted_on=dt.date(2025, 7, 1) + dt.timedelta(days=round_no % 200),
                                referrer="agency",
                                method="phone",
                                topics=["income"],
                                note=f"{login} round {round_no}",
                            )
                            done += 1
                            break
                        except VersionConflict:
                            conflicts += 1
    finally:
        engine.dispose()
    return done, conflicts
