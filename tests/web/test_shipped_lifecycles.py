"""The API and the pages walk a case on both shipped lifecycles, through the actions' own endpoints.

The endpoints are named after actions (`/plans/approve`), not triggers: the same requests work
whatever the municipality called its triggers and stages.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from tests.conftest import sqlite_engine
from tests.web.conftest import Web, build_web
from tests.web.helpers import attendees, intake, ok
from yorisoi.settings import get_settings

SHIPPED = Path(__file__).resolve().parents[2] / "states" / "lifecycles"


@pytest.fixture(name="web_with", params=["default.yaml", "tsunagi.yaml"])
def web_with_fixture(
    request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Web]:
    monkeypatch.setenv("YORISOI_LIFECYCLE__FILE", str(SHIPPED / request.param))
    get_settings.cache_clear()
    engine = sqlite_engine(tmp_path / "web.db")
    web = build_web(engine)
    yield web
    for client in web.clients:
        client.close()
    engine.dispose()


def _post(
    client: TestClient, number: str, path: str, body: Mapping[str, object], status: int = 201
) -> dict[str, object]:
    return ok(client.post(f"/api/cases/{number}{path}", json=body), status)


def test_api_walks_intake_to_closure_on_each_lifecycle(web_with: Web) -> None:
    world = web_with.world
    coordinator, supervisor = web_with.api_as(world.coordinator), web_with.api_as(world.supervisor)
    lifecycle = ok(coordinator.get("/api/lifecycle"))
    stage_kind = {s["name"]: s.get("kind") for s in lifecycle["stages"]}
    number = intake(coordinator, world)
    _post(coordinator, number, "/assessment", {"note": "初回面談"}, 200)
    _post(
        coordinator,
        number,
        "/meetings/support",
        {"held_on": "2025-06-05", "attendees": attendees(world.elderly)},
    )
    _post(
        coordinator,
        number,
        "/consents",
        {"given_on": "2025-06-10", "agency_ids": [a.id for a in world.agencies]},
    )
    meeting = {"held_on": "2025-06-20", "attendees": attendees(world.elderly, world.poverty)}
    _post(coordinator, number, "/meetings/multilayer", meeting)
    plan = {
        "drafted_on": "2025-06-20",
        "goals": [{"goal": "週1回外出できる"}],
        "roles": [{"agency_id": world.poverty.id, "role": "家計相談"}],
    }
    _post(coordinator, number, "/plans", plan)
    returned = _post(
        supervisor, number, "/plans/return", {"reason": "目標を具体的に", "returned_on": "2025-06-20"}, 200
    )
    assert returned["from_stage"] == returned["to_stage"]
    _post(coordinator, number, "/plans", plan)
    meeting_id = ok(coordinator.get(f"/api/cases/{number}"))["case"]["meetings"][-1]["id"]
    approved = _post(
        supervisor, number, "/plans/approve", {"meeting_id": meeting_id, "approved_on": "2025-06-25"}, 200
    )
    assert stage_kind[str(approved["to_stage"])] == "monitoring"
    _post(coordinator, number, "/monitoring", {"held_on": "2025-07-20", "summary": "外出できた"})
    _post(
        coordinator,
        number,
        "/closure",
        {"reason": "goals_met", "evaluation": "安定", "proposed_on": "2025-08-01"},
    )
    closed = _post(supervisor, number, "/closure/approve", {"decided_on": "2025-08-02"}, 200)
    assert closed["to_stage"] in {s["name"] for s in lifecycle["stages"] if s["final"]}

    detail = ok(coordinator.get(f"/api/cases/{number}"))["case"]
    returned_plan = detail["plans"][0]
    assert returned_plan["status"] == "returned" and returned_plan["return_reason"] == "目標を具体的に"
    timeline = ok(coordinator.get(f"/api/cases/{number}/timeline"))
    assert [e["note"] for e in timeline if e["action"] == _trigger(lifecycle, "return_plan")] == [
        "目標を具体的に"
    ]

    # The pages speak the lifecycle's own words.
    page = web_with.page_as(world.coordinator).get(f"/cases/{number}").text
    for trigger in ("approve_plan", "return_plan", "record_monitoring"):
        assert _label(lifecycle, trigger) in page


def test_generic_endpoint_takes_the_lifecycle_own_trigger_names(web_with: Web) -> None:
    world = web_with.world
    coordinator = web_with.api_as(world.coordinator)
    lifecycle = ok(coordinator.get("/api/lifecycle"))
    number = intake(coordinator, world)
    actions = {a["trigger"] for a in ok(coordinator.get(f"/api/cases/{number}/actions"))}
    start = _trigger(lifecycle, "start_assessment")
    assert start in actions
    fired = ok(coordinator.post(f"/api/cases/{number}/actions/{start}", json={"data": {"note": "面談"}}))
    assert fired["action"] == start


def _trigger(lifecycle: dict[str, object], action: str) -> str:
    triggers = lifecycle["triggers"]
    assert isinstance(triggers, list)
    return str(next(t["name"] for t in triggers if t["action"] == action))


def _label(lifecycle: dict[str, object], action: str) -> str:
    triggers = lifecycle["triggers"]
    assert isinstance(triggers, list)
    return str(next(t["ja"] for t in triggers if t["action"] == action))
