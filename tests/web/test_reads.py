"""Reading never waits for a writer: a page view while another connection holds a write
transaction (a sweep's batch, another user's save) completes, and its access-log rows are
written as soon as the lock is free — none is lost (issue 14).

No timing is asserted: had the read taken SQLite's write lock, it would have waited out
busy_timeout and answered 500 ("database is locked") while the writer still held it.
"""

from __future__ import annotations

from sqlalchemy import Engine, func, select, update
from sqlmodel import Session, col

from models import Case, RecordView
from models.db import read_only
from tests.web.conftest import Web
from tests.web.helpers import intake
from yorisoi.service.access_log import AccessLogWriter


def _views(engine: Engine) -> list[tuple[str, str, bool]]:
    with Session(read_only(engine)) as session:  # committed rows only, without taking the lock
        rows = session.execute(
            select(col(RecordView.what), col(RecordView.channel), col(RecordView.granted)).order_by(
                col(RecordView.id)
            )
        ).all()
    return [(what, channel, granted) for what, channel, granted in rows]


def test_page_views_complete_while_a_writer_holds_the_lock_and_are_logged_after(web_on: Web) -> None:
    web = web_on
    world = web.world
    api = web.api_as(world.coordinator)
    page = web.page_as(world.coordinator)
    outsider = web.api_as(world.coordinator2)  # not on the case's team: refused, and that is logged too
    number = intake(api, world)
    writer: AccessLogWriter = web.app.state.access_log
    before = _views(web.engine)
    sqlite = web.engine.dialect.name == "sqlite"

    with web.engine.connect() as holder:  # a sweep's batch, in the middle of its transaction
        holder.execute(update(Case).values(overdue=Case.overdue))  # on SQLite: BEGIN IMMEDIATE, lock held
        shown = page.get(f"/cases/{number}")
        board = page.get("/")
        read = api.get(f"/api/cases/{number}")
        refused = outsider.get(f"/api/cases/{number}")
        while_held = _views(web.engine)
        queued = writer.queued
        holder.commit()

    statuses = (shown.status_code, board.status_code, read.status_code, refused.status_code)
    assert statuses == (200, 200, 200, 404)  # an outsider: the answer a missing case gets
    assert number in shown.text
    if sqlite:  # the log could not be written without waiting: queued, not lost, not waited for
        assert (while_held, queued) == (before, 3)
    else:  # PostgreSQL: a row insert does not wait for the writer
        assert queued == 0
    assert writer.flush(timeout=60)
    logged = _views(web.engine)[len(before) :]
    assert logged == [
        ("case_detail", "web", True),
        ("case_detail", "api", True),
        ("case_detail", "api", False),
    ]


def test_views_queued_behind_a_writer_are_written_before_the_app_stops(web: Web) -> None:
    api = web.api_as(web.world.coordinator)
    number = intake(api, web.world)
    writer: AccessLogWriter = web.app.state.access_log

    with web.engine.connect() as holder:
        holder.execute(update(Case).values(overdue=Case.overdue))
        for _ in range(3):
            assert api.get(f"/api/cases/{number}").status_code == 200
        assert writer.queued == 3
        holder.commit()
    writer.close(timeout=60)  # what the app's shutdown does

    with Session(read_only(web.engine)) as session:
        assert session.execute(select(func.count()).select_from(RecordView)).scalar_one() == 3
