"""Random walks through the real case service keep the lifecycle's invariants.

Hypothesis fires random triggers, as random staff (including the plan's author, the closure's
proposer and an auditor), with random data (consent or none, partial scopes, withdrawals,
meeting ids of this and other cases, dates that go back as well as forward) on a few cases.
Many actions are refused; that is expected. After every step:

- no plan was approved by its author;
- every 重層的支援会議 had a consent active on its date covering its attending agencies;
- every closed case has an approved closure decided by someone other than its proposer;
- the audit chains verify, the stored stage is the stage replayed from the events, and the
  case's version is its number of events;
- a refused action changed nothing; an accepted one wrote one event and one outbox message.

Each example runs on its own SQLite file, copied from a template holding the schema and the
staff. The checks read through a second, plain sqlite3 connection: it sees only what was
committed, which is exactly what a refused action must not have changed.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import shutil
import sqlite3
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)
from sqlmodel import Session, SQLModel

from models import Agency, Staff
from models.db import create_db_engine
from states import default_machine
from tests.factories import World, build_world, contact
from tests.lifecycle_names import Stage
from yorisoi.errors import YorisoiError
from yorisoi.service import cases
from yorisoi.service.audit import verify_chains

MACHINE = default_machine()
TRIGGERS = sorted(MACHINE.lifecycle.triggers)
DAY_ZERO = dt.date(2025, 6, 1)
# Supervisors appear more often so that approvals get a fair chance.
ACTORS = [
    "supervisor",
    "supervisor2",
    "supervisor",
    "coordinator",
    "coordinator2",
    "plan_author",
    "closure_proposer",
    "auditor",
]
CLOSURE_REASONS = ["goals_met", "referred_single_agency", "moved_away", "died", "declined", "other", "bored"]
FORWARD = {
    "start_assessment",
    "hold_support_meeting",
    "hold_multilayer_meeting",
    "draft_plan",
    "approve_plan",
    "record_monitoring",
    "revise_plan",
}
TABLES = [table.name for table in SQLModel.metadata.sorted_tables]

# Mostly forward in time, sometimes back: back-dated records are where rules break.
steps_in_time = st.sampled_from([0, 0, 1, 2, 5, 10, 30, -3, -20])


@dataclasses.dataclass
class Template:
    path: Path
    world_ids: dict[str, int]


@pytest.fixture(name="template", scope="module")
def template_fixture() -> Iterator[Template]:
    """A database file with the schema and a small municipality, copied for each example."""
    directory = Path(tempfile.mkdtemp(prefix="yorisoi-prop-template-"))
    path = directory / "template.db"
    engine = create_db_engine(f"sqlite:///{path}")
    SQLModel.metadata.create_all(engine)
    with Session(engine, expire_on_commit=False) as session:
        world = build_world(session)
        ids = {f.name: getattr(world, f.name).id for f in dataclasses.fields(world)}
    engine.dispose()
    yield Template(path, ids)
    shutil.rmtree(directory, ignore_errors=True)


def _world(session: Session, ids: dict[str, int]) -> World:
    rows: dict[str, Any] = {}
    for name, row_id in ids.items():
        model = Agency if name in {"desk", "elderly", "disability", "poverty"} else Staff
        rows[name] = session.get(model, row_id)
    return World(**rows)


class LifecycleWalk(RuleBasedStateMachine):
    """A small municipality whose staff keep trying things."""

    template: Template  # set by the test before running

    def __init__(self) -> None:
        super().__init__()
        self.directory = Path(tempfile.mkdtemp(prefix="yorisoi-prop-"))
        path = self.directory / "walk.db"
        shutil.copyfile(self.template.path, path)
        self.engine = create_db_engine(f"sqlite:///{path}")
        self.session = Session(self.engine, expire_on_commit=False)
        self.world = _world(self.session, self.template.world_ids)
        self.raw = sqlite3.connect(path, isolation_level=None)
        self.case_ids: list[int] = []
        self.clock: dict[int, dt.date] = {}

    def teardown(self) -> None:
        self.raw.close()
        self.session.close()
        self.engine.dispose()
        shutil.rmtree(self.directory, ignore_errors=True)

    # --- reading what was committed --------------------------------------------------------

    def _rows(self, sql: str, *params: object) -> list[tuple[Any, ...]]:
        return self.raw.execute(sql, params).fetchall()

    def _snapshot(self) -> dict[str, list[tuple[Any, ...]]]:
        return {name: self._rows(f'SELECT * FROM "{name}" ORDER BY 1') for name in TABLES}

    # --- drawing data ------------------------------------------------------------------------

    def _day(self, data: st.DataObject, case_id: int, label: str) -> dt.date:
        """A date near the case's clock; the clock moves on with the dates drawn."""
        day = self.clock[case_id] + dt.timedelta(days=data.draw(steps_in_time, label=label))
        self.clock[case_id] = max(self.clock[case_id], day)
        return day

    def _agency_ids(
        self, data: st.DataObject, label: str, *, min_size: int = 0, case_id: int | None = None
    ) -> list[int]:
        """All agencies, some of them, or (given a case) those its latest consent covers."""
        agencies = [a.id for a in self.world.agencies if a.id is not None]
        choices = [st.just(agencies), st.lists(st.sampled_from(agencies), min_size=min_size, max_size=3)]
        if case_id is not None:
            scope = [
                r[0]
                for r in self._rows(
                    "SELECT agency_id FROM consent_agency WHERE consent_id ="
                    " (SELECT max(id) FROM consent WHERE case_id = ?)",
                    case_id,
                )
            ]
            if len(scope) >= min_size:
                choices += [st.just(scope), st.just(scope)]
        return sorted(set(data.draw(st.one_of(*choices), label=label)))

    def _actor(self, name: str, case_id: int) -> Staff:
        latest = {
            "plan_author": "SELECT author_id FROM plan WHERE case_id = ? ORDER BY id DESC LIMIT 1",
            "closure_proposer": "SELECT proposed_by FROM closure WHERE case_id = ? ORDER BY id DESC LIMIT 1",
        }
        if name in latest:
            row = self._rows(latest[name], case_id)
            staff = self.session.get(Staff, row[0][0]) if row else None
            return staff or self.world.supervisor2
        found: Staff = getattr(self.world, name)
        return found

    def _meeting_id(self, data: st.DataObject, case_id: int) -> int | None:
        own = [r[0] for r in self._rows("SELECT id FROM meeting WHERE case_id = ? ORDER BY id DESC", case_id)]
        others = [r[0] for r in self._rows("SELECT id FROM meeting WHERE case_id != ?", case_id)]
        choices: list[int | None] = [None, 999_999, *own[:1], *own[:1], *own, *others]
        return data.draw(st.sampled_from(choices), label="meeting_id")

    def _trigger_data(self, trigger: str, data: st.DataObject, case_id: int) -> dict[str, Any]:
        draw = data.draw
        if trigger in ("hold_support_meeting", "hold_multilayer_meeting"):
            return {
                "held_on": self._day(data, case_id, "held_on"),
                "attendees": [
                    {
                        "name": f"出席者{n}",
                        "agency_id": agency_id,
                        "acknowledged_confidentiality": draw(
                            st.sampled_from([True, True, True, False]), label="守秘"
                        ),
                    }
                    for n, agency_id in enumerate(
                        self._agency_ids(data, "attending", min_size=1, case_id=case_id)
                    )
                ],
            }
        if trigger in ("draft_plan", "revise_plan"):
            copy_goals = trigger == "revise_plan" and draw(st.booleans(), label="copy goals")
            return {
                "drafted_on": self._day(data, case_id, "drafted_on"),
                "goals": [] if copy_goals else [{"problem": "課題", "goal": "目標"}],
                "roles": [
                    {"agency_id": a, "role": "役割"} for a in self._agency_ids(data, "roles", case_id=case_id)
                ],
            }
        if trigger == "approve_plan":
            return {
                "meeting_id": self._meeting_id(data, case_id),
                "approved_on": self._day(data, case_id, "approved_on"),
            }
        if trigger == "record_monitoring":
            return {"held_on": self._day(data, case_id, "held_on"), "summary": "経過良好"}
        if trigger == "withdraw_consent":
            return {"withdrawn_on": self._day(data, case_id, "withdrawn_on")}
        if trigger == "propose_closure":
            return {
                "proposed_on": self._day(data, case_id, "proposed_on"),
                "reason": draw(st.sampled_from(CLOSURE_REASONS), label="reason"),
                "reason_text": draw(st.sampled_from(["", "転居予定", "転居予定"]), label="reason_text"),
                "evaluation": draw(
                    st.sampled_from(["", "目標を達成した", "目標を達成した"]), label="evaluation"
                ),
            }
        if trigger in ("approve_closure", "reject_closure"):
            return {"decided_on": self._day(data, case_id, "decided_on")}
        if trigger == "reopen":
            return {"contact": contact(self.world, on=self._day(data, case_id, "contacted_on"))}
        return {}

    # --- acting ------------------------------------------------------------------------------

    def _attempt(self, action: Callable[[], object]) -> None:
        """Run one action: refused → nothing changed; accepted → one event and one message."""
        before = self._snapshot()
        try:
            action()
        except YorisoiError:
            after = self._snapshot()
            changed = [name for name in TABLES if before[name] != after[name]]
            assert not changed, f"a refused action changed {changed}"
            return
        for table in ("audit_event", "outbox_message"):
            (count,) = self._rows(f"SELECT count(*) FROM {table}")[0]
            assert count == len(before[table]) + 1, table

    def _case(self, pick: int) -> int:
        return self.case_ids[pick % len(self.case_ids)]

    @initialize()
    def first_case(self) -> None:
        self.open_case()

    @precondition(lambda self: len(self.case_ids) < 3)
    @rule()
    def open_case(self) -> None:
        fired = cases.open_case(
            session=self.session,
            actor=self.world.coordinator,
            machine=MACHINE,
            person={"name": f"相談者 {len(self.case_ids) + 1}"},
            contact=contact(self.world, on=DAY_ZERO),
        )
        self.case_ids.append(fired.case_id)
        self.clock[fired.case_id] = DAY_ZERO

    @rule(pick=st.integers(0, 2), actor=st.sampled_from(ACTORS), data=st.data())
    def fire(self, pick: int, actor: str, data: st.DataObject) -> None:
        case_id = self._case(pick)
        ((stage, version),) = self._rows('SELECT stage, version FROM "case" WHERE id = ?', case_id)
        allowed = MACHINE.triggers_from(stage)
        # Mostly a trigger the stage allows (guards still decide), weighted towards those that
        # move a case on so that walks reach plans and monitoring; sometimes any trigger.
        anything = data.draw(st.sampled_from([False, False, False, True]), label="any trigger")
        weighted = [*allowed, *(t for t in allowed if t in FORWARD for _ in range(3))]
        trigger = data.draw(st.sampled_from(TRIGGERS if anything else weighted), label="trigger")
        payload = self._trigger_data(trigger, data, case_id)
        expected = data.draw(
            st.sampled_from([None, None, None, version, version, version - 1]), label="expected_version"
        )
        staff = self._actor(actor, case_id)
        self._attempt(
            lambda: cases.fire(
                session=self.session,
                case_id=case_id,
                action=trigger,
                actor=staff,
                machine=MACHINE,
                expected_version=expected,
                **payload,
            )
        )

    @rule(pick=st.integers(0, 2), data=st.data())
    def advance(self, pick: int, data: st.DataObject) -> None:
        """Take the natural next step with sensible data, so walks get deep into the lifecycle."""
        case_id = self._case(pick)
        ((stage,),) = self._rows('SELECT stage FROM "case" WHERE id = ?', case_id)
        day = self.clock[case_id] + dt.timedelta(days=data.draw(st.integers(0, 10), label="days on"))
        self.clock[case_id] = day
        staff: Staff = getattr(self.world, data.draw(st.sampled_from(ACTORS[:5]), label="staff"))
        trigger, payload = self._next_step(case_id, stage, day, data)
        if trigger == "give_consent":
            agencies = [a.id for a in self.world.agencies]
            self._attempt(
                lambda: cases.fire(
                    action="give_consent",
                    session=self.session,
                    case_id=case_id,
                    actor=self.world.coordinator,
                    machine=MACHINE,
                    given_on=day,
                    agency_ids=agencies,
                )
            )
            return
        if trigger in ("approve_plan", "approve_closure"):
            # Usually a second supervisor; sometimes the author / proposer tries to approve.
            own = data.draw(st.sampled_from([False, False, True]), label="approve own")
            staff = self._actor("plan_author" if trigger == "approve_plan" else "closure_proposer", case_id)
            staff = staff if own else self._other_supervisor(case_id, trigger)
        self._attempt(
            lambda: cases.fire(
                session=self.session,
                case_id=case_id,
                action=trigger,
                actor=staff,
                machine=MACHINE,
                **payload,
            )
        )

    def _other_supervisor(self, case_id: int, trigger: str) -> Staff:
        if trigger == "approve_plan":
            sql = "SELECT author_id FROM plan WHERE case_id = ? ORDER BY id DESC LIMIT 1"
        else:
            sql = "SELECT proposed_by FROM closure WHERE case_id = ? ORDER BY id DESC LIMIT 1"
        first = self._rows(sql, case_id)
        taken = first[0][0] if first else None
        return self.world.supervisor2 if taken == self.world.supervisor.id else self.world.supervisor

    def _next_step(
        self, case_id: int, stage: str, day: dt.date, data: st.DataObject
    ) -> tuple[str, dict[str, Any]]:
        scope = [
            r[0]
            for r in self._rows(
                "SELECT agency_id FROM consent_agency WHERE consent_id ="
                " (SELECT max(id) FROM consent WHERE case_id = ? AND withdrawn_on IS NULL)",
                case_id,
            )
        ]
        attendees = [
            {"name": f"出席者{a}", "agency_id": a, "acknowledged_confidentiality": True} for a in scope
        ]
        pending = self._rows("SELECT id FROM closure WHERE case_id = ? AND status = 'proposed'", case_id)
        if stage == Stage.CLOSED:
            return "reopen", {"contact": contact(self.world, on=day)}
        if pending:
            return "approve_closure", {"decided_on": day}
        if stage == Stage.INTAKE:
            return "start_assessment", {}
        if stage in (Stage.ASSESSMENT, Stage.SUPPORT_MEETING):
            if not scope:
                return "give_consent", {}
            return "hold_multilayer_meeting", {"held_on": day, "attendees": attendees}
        roles = [{"agency_id": a, "role": "役割"} for a in scope]
        if stage == Stage.MULTILAYER_MEETING:
            return "draft_plan", {"drafted_on": day, "goals": [{"goal": "目標"}], "roles": roles}
        if stage == Stage.PLANNING:
            meetings = self._rows(
                "SELECT id, held_on FROM meeting WHERE case_id = ? AND kind = 'multilayer_meeting'"
                " ORDER BY held_on DESC, id DESC LIMIT 1",
                case_id,
            )
            drafted = self._rows("SELECT max(drafted_on) FROM plan WHERE case_id = ?", case_id)[0][0]
            if meetings and meetings[0][1] >= drafted:
                return "approve_plan", {"meeting_id": meetings[0][0], "approved_on": day}
            return "hold_multilayer_meeting", {"held_on": day, "attendees": attendees}
        choice = data.draw(
            st.sampled_from(["record_monitoring", "revise_plan", "propose_closure", "withdraw_consent"]),
            label="next",
        )
        if choice == "withdraw_consent":
            return choice, {"withdrawn_on": day + dt.timedelta(days=1)}
        if choice == "record_monitoring":
            return choice, {"held_on": day, "summary": "経過良好"}
        if choice == "revise_plan":
            return choice, {"drafted_on": day}
        return choice, {"proposed_on": day, "reason": "goals_met", "evaluation": "目標を達成した"}

    @rule(pick=st.integers(0, 2), data=st.data())
    def give_consent(self, pick: int, data: st.DataObject) -> None:
        case_id = self._case(pick)
        given_on = self._day(data, case_id, "given_on")
        agency_ids = self._agency_ids(data, "consent scope", min_size=1)
        self._attempt(
            lambda: cases.fire(
                action="give_consent",
                session=self.session,
                case_id=case_id,
                actor=self.world.coordinator,
                machine=MACHINE,
                given_on=given_on,
                agency_ids=agency_ids,
            )
        )

    # --- invariants --------------------------------------------------------------------------

    @invariant()
    def no_plan_approved_by_its_author(self) -> None:
        own = self._rows("SELECT id, author_id FROM plan WHERE approved_by = author_id")
        assert own == [], f"plans approved by their own author: {own}"

    @invariant()
    def multilayer_meetings_had_consent_covering_their_agencies(self) -> None:
        uncovered = self._rows(
            """
            SELECT m.id, m.held_on FROM meeting m
            WHERE m.kind = 'multilayer_meeting' AND NOT EXISTS (
                SELECT 1 FROM consent c
                WHERE c.case_id = m.case_id AND c.given_on <= m.held_on
                  AND (c.withdrawn_on IS NULL OR c.withdrawn_on > m.held_on)
                  AND NOT EXISTS (
                      SELECT 1 FROM meeting_attendee a
                      WHERE a.meeting_id = m.id AND a.agency_id IS NOT NULL
                        AND a.agency_id NOT IN (
                            SELECT agency_id FROM consent_agency WHERE consent_id = c.id
                        )
                  )
            )
            """
        )
        assert uncovered == [], f"重層的支援会議 without covering consent: {uncovered}"

    @invariant()
    def closed_cases_were_approved_by_someone_else(self) -> None:
        own = self._rows("SELECT id FROM closure WHERE status = 'approved' AND decided_by = proposed_by")
        assert own == [], f"closures approved by their proposer: {own}"
        unapproved = self._rows(
            """
            SELECT k.number FROM "case" k WHERE k.stage = ? AND NOT EXISTS (
                SELECT 1 FROM closure c WHERE c.case_id = k.id AND c.episode = k.episode
                  AND c.status = 'approved'
            )
            """,
            Stage.CLOSED.value,
        )
        assert unapproved == [], f"closed without an approved closure this episode: {unapproved}"

    @invariant()
    def journal_matches_the_cases(self) -> None:
        report = verify_chains(self.session, MACHINE)
        self.session.commit()  # end the read transaction
        assert report.ok, report.problems
        for case_id, stage, version in self._rows('SELECT id, stage, version FROM "case"'):
            events = self._rows(
                "SELECT from_stage, to_stage FROM audit_event WHERE case_id = ? ORDER BY seq", case_id
            )
            replayed = ""
            for from_stage, to_stage in events:
                assert from_stage == replayed, f"case {case_id}: {replayed!r} then {from_stage!r}"
                replayed = to_stage
            assert (replayed, len(events)) == (stage, version), f"case {case_id}: stage or version"


def test_lifecycle_invariants_hold_under_random_actions(template: Template) -> None:
    LifecycleWalk.template = template
    run_state_machine_as_test(
        LifecycleWalk,
        settings=settings(
            max_examples=25,
            stateful_step_count=40,
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow],
        ),
    )
