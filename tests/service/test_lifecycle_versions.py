"""Lifecycle versions: a new lifecycle applied to cases in flight, audited, and replayed per version."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
import yaml
from sqlmodel import Session, select

from models import AuditEvent, Case, LifecycleVersion
from states import LifecycleMachine
from tests.factories import World, fire, open_case, to_monitoring
from tests.service.refusals import assert_refused
from yorisoi.errors import InvalidInput, PermissionDenied
from yorisoi.service import lifecycles
from yorisoi.service.audit import verify_chains

SHIEN = {"monitoring": "shien"}
CLOSED = {"monitoring": "closed"}
JULY_1 = dt.date(2025, 7, 1)


def _renamed(old: str, new: str, label: str) -> str:
    """The default lifecycle with stage `old` renamed to `new` (and relabelled)."""
    text, _source = lifecycles.file_text(None)
    doc: dict[str, Any] = yaml.safe_load(text)
    doc["name"] = "renamed"
    for stage in doc["stages"]:
        if stage["name"] == old:
            stage["name"], stage["ja"] = new, label
    for transition in doc["transitions"]:
        sources = transition["source"] if isinstance(transition["source"], list) else [transition["source"]]
        transition["source"] = [new if s == old else s for s in sources]
        if transition.get("dest") == old:
            transition["dest"] = new
    return yaml.safe_dump(doc, allow_unicode=True, sort_keys=False)


@pytest.fixture(name="v1")
def v1_fixture(session: Session) -> LifecycleMachine:
    """The default lifecycle, recorded in the database as version 1."""
    return lifecycles.in_force(session, None)


def _cases(session: Session, world: World, machine: LifecycleMachine) -> dict[str, int]:
    """One case at intake, one in monitoring, one closed."""
    intake = open_case(session, world, machine).case_id
    monitored = open_case(session, world, machine).case_id
    to_monitoring(session, world, machine, monitored)
    closed = open_case(session, world, machine).case_id
    fire(session, machine, closed, "propose_closure", world.coordinator, reason="declined", evaluation="辞退")
    fire(session, machine, closed, "approve_closure", world.supervisor)
    return {"intake": intake, "monitoring": monitored, "closed": closed}


def test_first_version_is_the_configured_file_recorded_once(session: Session, v1: LifecycleMachine) -> None:
    recorded = session.exec(select(LifecycleVersion)).all()
    assert [(v.id, v.name, v.applied_by) for v in recorded] == [(1, "default", None)]
    assert v1.lifecycle.version == 1
    assert lifecycles.in_force(session, None) is v1  # no second record, the same machine


def test_apply_refuses_a_removed_stage_holding_cases_without_a_mapping(
    session: Session, world: World, v1: LifecycleMachine
) -> None:
    _cases(session, world, v1)
    text = _renamed("monitoring", "shien", "支援実施")
    refused = assert_refused(
        session,
        InvalidInput,
        lambda: lifecycles.apply(
            session, actor=world.supervisor, current=v1, text=text, source="new.yaml", mapping={}
        ),
    )
    assert "段階 monitoring（支援・モニタリング）に 1 件のケースがあります" in refused.ja
    assert "--map monitoring=" in refused.ja


def test_apply_with_a_mapping_moves_every_case_audited_and_replays_per_version(
    session: Session, world: World, v1: LifecycleMachine
) -> None:
    ids = _cases(session, world, v1)
    text = _renamed("monitoring", "shien", "支援実施")

    plan = lifecycles.plan_apply(session, v1, text, "new.yaml", {"monitoring": "shien"})
    session.rollback()
    assert {(m.from_stage, m.to_stage, m.cases) for m in plan.moves} == {
        ("intake", "intake", 1),
        ("monitoring", "shien", 1),
        ("closed", "closed", 1),
    }
    assert session.exec(select(LifecycleVersion)).all()[-1].id == 1  # the dry run wrote nothing

    _plan, version = lifecycles.apply(
        session,
        actor=world.supervisor,
        current=v1,
        text=text,
        source="new.yaml",
        mapping={"monitoring": "shien"},
    )
    assert version == 2
    v2 = lifecycles.in_force(session, None)
    assert v2.lifecycle.version == 2 and v2.lifecycle.monitoring_stages == {"shien"}
    rows = {c.id: c for c in session.exec(select(Case)).all()}
    assert rows[ids["monitoring"]].stage == "shien"
    assert {c.lifecycle_version for c in rows.values()} == {2}
    migrations = session.exec(select(AuditEvent).where(AuditEvent.action == lifecycles.MIGRATE)).all()
    assert sorted((e.case_id, e.from_stage, e.to_stage, e.actor_id) for e in migrations) == sorted(
        [
            (ids["intake"], "intake", "intake", world.supervisor.id),
            (ids["monitoring"], "monitoring", "shien", world.supervisor.id),
            (ids["closed"], "closed", "closed", world.supervisor.id),
        ]
    )
    assert {e.payload["from_version"] for e in migrations} == {1}
    assert v2.lifecycle.stage_label("monitoring") == "支援・モニタリング"  # old events keep their label
    session.commit()

    # Work goes on under version 2, and the replay checks each event against its own version.
    fire(
        session,
        v2,
        ids["monitoring"],
        "record_monitoring",
        world.coordinator,
        summary="安定",
        held_on=dt.date(2025, 7, 1),
    )
    report = verify_chains(session, v2)
    assert report.ok, report.problems
    assert report.cases == 3


def test_replay_of_events_before_the_migration_needs_their_own_version(
    session: Session, world: World, v1: LifecycleMachine, monkeypatch: pytest.MonkeyPatch
) -> None:
    ids = _cases(session, world, v1)
    lifecycles.apply(
        session,
        actor=world.supervisor,
        current=v1,
        text=_renamed("monitoring", "shien", "支援実施"),
        source="new.yaml",
        mapping={"monitoring": "shien"},
    )
    v2 = lifecycles.in_force(session, None)
    session.commit()
    assert verify_chains(session, v2).ok
    # Replayed against version 2 alone, the approval into `monitoring` (a version-1 stage) breaks.
    monkeypatch.setattr(lifecycles, "versions", lambda _session: {1: v2, 2: v2})
    problems = verify_chains(session, v2).problems
    assert [p.case_number for p in problems] == [session.get(Case, ids["monitoring"]).number]  # type: ignore[union-attr]
    assert "ライフサイクル（第1版）にない遷移です" in problems[0].ja


def test_apply_refuses_mapping_an_open_stage_to_a_final_one(
    session: Session, world: World, v1: LifecycleMachine
) -> None:
    _cases(session, world, v1)
    text = _renamed("monitoring", "shien", "支援実施")
    refused = assert_refused(
        session,
        InvalidInput,
        lambda: lifecycles.apply(
            session,
            actor=world.supervisor,
            current=v1,
            text=text,
            source="new.yaml",
            mapping={"monitoring": "closed"},
        ),
    )
    assert "終結した段階と進行中の段階は対応させられません" in refused.ja


def test_apply_is_for_supervisors_only(session: Session, world: World, v1: LifecycleMachine) -> None:
    _cases(session, world, v1)
    text = _renamed("monitoring", "shien", "支援実施")
    assert_refused(
        session,
        PermissionDenied,
        lambda: lifecycles.apply(
            session,
            actor=world.coordinator,
            current=v1,
            text=text,
            source="new.yaml",
            mapping={"monitoring": "shien"},
        ),
    )


def test_applying_the_lifecycle_in_force_again_is_refused(
    session: Session, world: World, v1: LifecycleMachine
) -> None:
    text, source = lifecycles.file_text(None)
    with pytest.raises(InvalidInput, match="すでに適用されています"):
        lifecycles.apply(session, actor=world.supervisor, current=v1, text=text, source=source, mapping={})
