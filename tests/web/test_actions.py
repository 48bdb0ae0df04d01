"""Allowed actions for the current user (with the reasons a blocked one is blocked), and the
side-effect-free preview they come from."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, select

from models import AuditEvent, Case, OutboxMessage
from states import LifecycleMachine
from tests.factories import World, fire, open_case, plan_data, to_multilayer_meeting
from tests.web.conftest import Web
from tests.web.helpers import intake, ok, to_planning
from yorisoi.errors import GuardFailed, PermissionDenied
from yorisoi.service import preview


def _actions(client: TestClient, number: str) -> dict[str, dict[str, Any]]:
    return {a["trigger"]: a for a in ok(client.get(f"/api/cases/{number}/actions"))}


def test_actions_say_who_may_do_what_and_why_not(web: Web) -> None:
    world = web.world
    coordinator = web.api_as(world.coordinator)
    number = intake(coordinator, world)
    first = _actions(coordinator, number)
    assert first["start_assessment"]["allowed"] is True
    assert first["start_assessment"]["to_stage"] == "assessment"
    assert first["reject_closure"]["allowed"] is False
    assert first["reject_closure"]["reasons"][0]["guard"] == "roles"

    ok(coordinator.post(f"/api/cases/{number}/actions/start_assessment", json={}))
    assessing = _actions(coordinator, number)
    # A 支援会議 needs attendees, but that is the form's business: the button is offered.
    assert assessing["hold_support_meeting"]["allowed"] is True
    assert assessing["hold_multilayer_meeting"]["allowed"] is False
    assert assessing["hold_multilayer_meeting"]["reasons"][0]["guard"] == "consent_covers_attendees"
    assert "本人同意" in assessing["hold_multilayer_meeting"]["reasons"][0]["message_ja"]

    to_planning_number = intake(coordinator, world)
    to_planning(coordinator, world, to_planning_number)
    planning = _actions(coordinator, to_planning_number)
    assert planning["approve_plan"]["allowed"] is False
    assert planning["approve_plan"]["reasons"][0]["guard"] == "roles"
    assert _actions(web.api_as(world.supervisor), to_planning_number)["approve_plan"]["allowed"] is True


def test_supervisor_cannot_approve_own_plan(web: Web) -> None:
    world = web.world
    author = web.api_as(world.supervisor2)  # supervisor and coordinator
    number = intake(author, world)
    meeting_id = to_planning(author, world, number)
    blocked = _actions(author, number)["approve_plan"]
    assert blocked["allowed"] is False
    assert [r["guard"] for r in blocked["reasons"]] == ["approver_is_not_plan_author"]
    refused = author.post(f"/api/cases/{number}/plans/approve", json={"meeting_id": meeting_id})
    assert refused.status_code == 422
    assert refused.json()["code"] == "guard_failed"
    assert refused.json()["guards"] == ["approver_is_not_plan_author"]
    inbox = ok(author.get("/api/inbox"))
    assert inbox == []  # never their own
    assert [i["number"] for i in ok(web.api_as(world.supervisor).get("/api/inbox"))] == [number]


def test_errors_have_their_status_and_shape(web: Web) -> None:
    client = web.api_as(web.world.coordinator)
    number = intake(client, web.world)
    not_now = client.post(f"/api/cases/{number}/actions/reopen", json={})
    assert not_now.status_code == 422 and not_now.json()["code"] == "trigger_not_allowed"
    unknown = client.post(f"/api/cases/{number}/actions/fly_away", json={})
    assert unknown.status_code == 422 and unknown.json()["code"] == "invalid_input"
    bad = client.post(f"/api/cases/{number}/actions/start_assessment", json={"data": {"nope": 1}})
    assert bad.status_code == 422 and "nope" in bad.json()["message_ja"]
    shape = client.post("/api/cases", json={"person": {}})
    assert shape.status_code == 422
    assert set(shape.json()) == {"code", "message_ja", "message_en"}
    assert client.get("/api/cases?limit=0").status_code == 422


@pytest.mark.parametrize("example", ["approve_plan", "approve_plan_without_meeting", "draft_plan"])
def test_preview_answers_as_fire_and_writes_nothing(
    session: Session, world: World, machine: LifecycleMachine, example: str
) -> None:
    case_id = open_case(session, world, machine).case_id
    meeting_id = to_multilayer_meeting(session, world, machine, case_id)
    fire(session, machine, case_id, "draft_plan", world.coordinator, **plan_data(world))
    examples: dict[str, tuple[str, dict[str, Any]]] = {
        "approve_plan": ("approve_plan", {"meeting_id": meeting_id, "approved_on": dt.date(2025, 6, 25)}),
        "approve_plan_without_meeting": ("approve_plan", {"approved_on": dt.date(2025, 6, 25)}),
        "draft_plan": ("draft_plan", plan_data(world)),
    }
    trigger, data = examples[example]
    actor = world.supervisor if trigger == "approve_plan" else world.coordinator

    def counts() -> tuple[int, int, int]:
        version = session.exec(select(Case.version).where(Case.id == case_id)).one()
        events = len(session.exec(select(AuditEvent)).all())
        return version, events, len(session.exec(select(OutboxMessage)).all())

    before = counts()
    seen = preview.preview(
        session=session, case_id=case_id, action=trigger, actor=actor, machine=machine, **data
    )
    assert counts() == before
    try:
        fired = fire(session, machine, case_id, trigger, actor, **data)
    except GuardFailed as refused:
        assert not seen.accepted and [r.guard for r in seen.refusals] == [r.guard for r in refused.refusals]
    else:
        assert seen.accepted and seen.to_stage == fired.to_stage
    assert seen.accepted is (example != "approve_plan_without_meeting")


def test_preview_refuses_like_fire(session: Session, world: World, machine: LifecycleMachine) -> None:
    case_id = open_case(session, world, machine).case_id
    with pytest.raises(PermissionDenied):
        preview.preview(
            session=session, case_id=case_id, action="start_assessment", actor=world.auditor, machine=machine
        )
