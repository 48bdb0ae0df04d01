"""Both shipped lifecycles really run: the same walk, the same sweeps, the same annual report.

`tsunagi.yaml` renames every stage and trigger of `default.yaml` and adds stages of its own;
the engine knows neither file by name. The walk below names only actions (`approve_plan`),
and `tests.factories.fire` fires them through whichever trigger the lifecycle offers.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine
from sqlmodel import Session, select

from models import AuditEvent, Case
from models.db import session_scope
from states import LifecycleMachine, load_lifecycle
from tests.conftest import sqlite_engine
from tests.factories import (
    World,
    attendees,
    build_world,
    contact,
    fire,
    latest_meeting_id,
    open_case,
    plan_data,
)
from tests.sweeps.helpers import reminders, sweep
from yorisoi.reports.build import build_annual
from yorisoi.service.audit import verify_chains
from yorisoi.service.registry import RESERVED_NAMES, label
from yorisoi.settings import get_settings

SHIPPED = Path(__file__).resolve().parents[2] / "states" / "lifecycles"


@pytest.fixture(name="shipped", params=["default.yaml", "tsunagi.yaml"])
def shipped_fixture(request: pytest.FixtureRequest) -> LifecycleMachine:
    return LifecycleMachine(load_lifecycle(SHIPPED / request.param, reserved=RESERVED_NAMES))


@dataclass(frozen=True)
class Step:
    action: str
    by: str = "coordinator"
    data: dict[str, Any] | None = None


def _walk(world: World) -> list[Step]:
    """Intake to closure and back: every action of the lifecycle, by kind."""
    on = dt.date
    agencies = [a.id for a in world.agencies]
    meeting = {"attendees": attendees(world.elderly, world.poverty)}
    closure = {"reason": "goals_met", "evaluation": "安定"}
    return [
        Step("start_assessment", data={"note": "本人・母と面談"}),
        Step("hold_support_meeting", data={"held_on": on(2025, 6, 5), "attendees": attendees(world.elderly)}),
        Step("give_consent", data={"given_on": on(2025, 6, 10), "agency_ids": agencies}),
        Step("hold_multilayer_meeting", data={"held_on": on(2025, 6, 20), **meeting}),
        Step("draft_plan", data=plan_data(world)),
        Step("return_plan", "supervisor", {"reason": "目標を具体的に", "returned_on": on(2025, 6, 21)}),
        Step("draft_plan", data=plan_data(world, on=on(2025, 6, 22))),
        Step("hold_multilayer_meeting", data={"held_on": on(2025, 6, 23), **meeting}),
        Step("approve_plan", "supervisor", {"meeting_id": LATEST, "approved_on": on(2025, 6, 25)}),
        Step("record_monitoring", data={"held_on": on(2025, 7, 25), "summary": "外出できた"}),
        Step("log_outreach", data={"kind": "home_visit", "done_on": on(2025, 7, 26)}),
        Step("add_contact", data=contact(world, on=on(2025, 7, 27))),
        Step("revise_plan", data={"drafted_on": on(2025, 8, 1)}),
        Step("hold_multilayer_meeting", data={"held_on": on(2025, 8, 2), **meeting}),
        Step("approve_plan", "supervisor", {"meeting_id": LATEST, "approved_on": on(2025, 8, 3)}),
        Step("withdraw_consent", data={"withdrawn_on": on(2025, 8, 10)}),
        Step("give_consent", data={"given_on": on(2025, 8, 20), "agency_ids": agencies}),
        Step("propose_closure", data={**closure, "proposed_on": on(2025, 9, 20)}),
        Step("reject_closure", "supervisor", {"note": "もう少し様子を見る", "decided_on": on(2025, 9, 21)}),
        Step("propose_closure", data={**closure, "proposed_on": on(2025, 9, 25)}),
        Step("approve_closure", "supervisor", {"decided_on": on(2025, 9, 30)}),
        Step("reopen", data={"contact": contact(world, on=on(2026, 1, 8))}),
    ]


LATEST = object()
"""A step's `meeting_id` is the case's latest meeting."""


def _shape(machine: LifecycleMachine, stage: str) -> str:
    """What a stage is to the engine, whatever its name: initial, monitoring, final or other."""
    lifecycle = machine.lifecycle
    if stage == lifecycle.initial:
        return "initial"
    if stage in lifecycle.final_stages:
        return "final"
    return "monitoring" if stage in lifecycle.monitoring_stages else "other"


Walked = list[tuple[str, str, bool]]


def _run_walk(session: Session, world: World, machine: LifecycleMachine) -> tuple[int, Walked]:
    """The walk on a new case: (action, the shape of the stage it led to, whether it moved)."""
    case_id = open_case(session, world, machine).case_id
    walked: Walked = []
    for step in _walk(world):
        data = {
            k: latest_meeting_id(session, case_id) if v is LATEST else v for k, v in (step.data or {}).items()
        }
        actor = world.supervisor if step.by == "supervisor" else world.coordinator
        fired = fire(session, machine, case_id, step.action, actor, **data)
        walked.append((step.action, _shape(machine, fired.to_stage), fired.from_stage != fired.to_stage))
    return case_id, walked


def test_the_same_walk_runs_on_both_lifecycles_with_the_same_outcome(
    session: Session, world: World, shipped: LifecycleMachine
) -> None:
    default = LifecycleMachine(load_lifecycle(reserved=RESERVED_NAMES))
    case_id, walked = _run_walk(session, world, shipped)
    if shipped.lifecycle.name == "default":
        expected = walked
    else:  # the same walk on the default lifecycle, in the same database
        _other, expected = _run_walk(session, world, default)
    assert walked == expected
    assert [shape for _action, shape, _moved in walked][-3:] == ["other", "final", "initial"]
    events = session.exec(select(AuditEvent).where(AuditEvent.case_id == case_id)).all()
    assert len(events) == len(walked) + 1
    # Every event the timeline shows has a Japanese label, the system's own included.
    unlabelled = [e.action for e in events if label(shipped.lifecycle, e.action) == e.action]
    assert unlabelled == []
    assert label(shipped.lifecycle, "mark_overdue") == "モニタリング期限超過の記録"
    report = verify_chains(session, shipped, case_ids=[case_id])
    assert report.ok, report.problems


def test_monitoring_sweep_finds_cases_where_the_lifecycle_says_monitoring_runs(
    engine: Engine, session: Session, world: World, shipped: LifecycleMachine
) -> None:
    case_id = open_case(session, world, shipped).case_id
    _run = [
        fire(session, shipped, case_id, "start_assessment", world.coordinator),
        fire(
            session,
            shipped,
            case_id,
            "give_consent",
            world.coordinator,
            given_on=dt.date(2025, 6, 10),
            agency_ids=[a.id for a in world.agencies],
        ),
        fire(
            session,
            shipped,
            case_id,
            "hold_multilayer_meeting",
            world.coordinator,
            held_on=dt.date(2025, 6, 20),
            attendees=attendees(world.elderly, world.poverty),
        ),
        fire(session, shipped, case_id, "draft_plan", world.coordinator, **plan_data(world)),
    ]
    fire(
        session,
        shipped,
        case_id,
        "approve_plan",
        world.supervisor,
        meeting_id=latest_meeting_id(session, case_id),
        approved_on=dt.date(2025, 6, 25),
    )
    stage = session.get(Case, case_id).stage  # type: ignore[union-attr]
    assert stage in shipped.lifecycle.monitoring_stages
    session.commit()
    # Plan interval 30 days: due 7/25; 7/22 is within the notice window of 3 business days.
    result = sweep(engine, shipped, dt.date(2025, 7, 22))
    assert result.total_queued == 1
    (reminder,) = reminders(session, "reminder.monitoring_due")
    assert (reminder.case_id, reminder.recipient, reminder.payload["due_on"]) == (
        case_id,
        "staff:tanaka",
        "2025-07-25",
    )
    assert reminder.payload["stage_ja"] == shipped.lifecycle.stage_label(stage)


def test_annual_report_is_the_same_on_both_lifecycles(tmp_path: Path) -> None:
    """The same walk recorded under each lifecycle, each in its own database: every table equal."""
    reports = []
    for name in ("default.yaml", "tsunagi.yaml"):
        machine = LifecycleMachine(load_lifecycle(SHIPPED / name, reserved=RESERVED_NAMES))
        engine = sqlite_engine(tmp_path / f"{name}.db")
        with session_scope(engine) as session:
            world = build_world(session)
            _run_walk(session, world, machine)
            _run_walk(session, world, machine)
            session.commit()
            report = build_annual(
                session, fiscal_year=2025, as_of=dt.date(2026, 3, 31), topics=get_settings().topics()
            )
            reports.append(dataclasses.replace(report, desk=None))
        engine.dispose()
    default, tsunagi = reports
    assert tsunagi == default
    assert (default.meetings.support_meetings, default.meetings.multilayer_meetings) == (2, 6)
    assert (default.meetings.plans_new, default.meetings.plans_revised) == (2, 2)
    assert default.closures.total == 2 and default.consultation.total.contacts == 6
