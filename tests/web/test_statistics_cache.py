"""The 年度 figures are built once and kept until a write changes them (issue 13: the statistics
page may cache a 年度's figures; the first view after a write shows that write)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import event

from tests.web.conftest import Web
from tests.web.helpers import intake, ok

ANNUAL = "/api/reports/annual?fiscal_year=R7&as_of=2025-12-31"


@contextmanager
def contact_queries(web: Web) -> Iterator[list[str]]:
    """The SQL statements that read the contact table while the block runs."""
    seen: list[str] = []

    def note(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        if "FROM contact" in statement:
            seen.append(statement)

    event.listen(web.engine, "before_cursor_execute", note)
    try:
        yield seen
    finally:
        event.remove(web.engine, "before_cursor_execute", note)


def _contacts(annual: dict[str, Any]) -> int:
    return int(annual["consultation"]["total"]["contacts"])


def test_figures_are_kept_between_views_and_rebuilt_after_a_write(web: Web) -> None:
    world = web.world
    coordinator = web.api_as(world.coordinator)
    intake(coordinator, world)
    supervisor = web.api_as(world.supervisor)

    with contact_queries(web) as first:
        assert _contacts(ok(supervisor.get(ANNUAL))) == 1
    with contact_queries(web) as again:
        assert _contacts(ok(supervisor.get(ANNUAL))) == 1
        page = supervisor.get("/reports?fiscal_year=R7&as_of=2025-12-31")
        assert page.status_code == 200
    assert first and not again  # the page and the API answered from the kept figures

    intake(coordinator, world)  # a write that changes the figures
    with contact_queries(web) as after_write:
        assert _contacts(ok(supervisor.get(ANNUAL))) == 2
    assert after_write


def test_another_year_or_day_is_its_own_question(web: Web) -> None:
    world = web.world
    intake(web.api_as(world.coordinator), world)  # a contact on 2025-06-02 (令和7年度)
    supervisor = web.api_as(world.supervisor)
    assert _contacts(ok(supervisor.get(ANNUAL))) == 1
    assert _contacts(ok(supervisor.get("/api/reports/annual?fiscal_year=R7&as_of=2025-05-31"))) == 0
    assert _contacts(ok(supervisor.get("/api/reports/annual?fiscal_year=R6&as_of=2025-03-31"))) == 0
    assert _contacts(ok(supervisor.get(ANNUAL))) == 1
