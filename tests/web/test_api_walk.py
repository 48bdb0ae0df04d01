"""A case from intake to closure through the API, on SQLite and PostgreSQL."""

from __future__ import annotations

from tests.web.conftest import Web
from tests.web.helpers import intake, ok, to_planning


def test_walk_intake_to_closure_through_the_api(web_on: Web) -> None:
    world = web_on.world
    coordinator = web_on.api_as(world.coordinator)
    supervisor = web_on.api_as(world.supervisor)
    supervisor2 = web_on.api_as(world.supervisor2)
    number = intake(coordinator, world)
    meeting_id = to_planning(coordinator, world, number)

    refused = coordinator.post(f"/api/cases/{number}/plans/approve", json={"meeting_id": meeting_id})
    assert refused.status_code == 403
    assert refused.json()["code"] == "permission_denied"

    fired = ok(
        supervisor.post(
            f"/api/cases/{number}/plans/approve", json={"meeting_id": meeting_id, "approved_on": "2025-06-25"}
        )
    )
    assert fired["to_stage"] == "monitoring"
    ok(
        coordinator.post(
            f"/api/cases/{number}/monitoring", json={"held_on": "2025-07-20", "summary": "外出2回"}
        ),
        201,
    )
    ok(
        coordinator.post(
            f"/api/cases/{number}/closure",
            json={"proposed_on": "2025-09-01", "reason": "goals_met", "evaluation": "目標を達成した"},
        ),
        201,
    )
    # The supervisor who approves a closure must not be its proposer; suzuki proposes nothing here.
    closed = ok(supervisor2.post(f"/api/cases/{number}/closure/approve", json={"decided_on": "2025-09-10"}))
    assert closed["to_stage"] == "closed"

    detail = ok(coordinator.get(f"/api/cases/{number}"))["case"]
    assert detail["stage"] == "closed"
    assert [p["status"] for p in detail["plans"]] == ["approved"]
    events = ok(coordinator.get(f"/api/cases/{number}/timeline"))
    assert [e["action"] for e in events][-3:] == ["record_monitoring", "propose_closure", "approve_closure"]
