"""A demo database: one 年度 (令和6年度) of みほん市, a made-up mid-size city.

The city has ten まるごと相談室 (consultation desks, like 山口市's ふくまる相談室: one at the
社会福祉協議会, nine at the 地域包括支援センター), ten agencies across fields, four coordinators and
two supervisors. Over the year a few hundred people consult the desks, most of them several
times (相談実件数 / 相談延件数 in the proportions 山口市 reports); some are assessed, and about
thirty go on to 支援会議 and 重層的支援会議, plans, monitoring, closures — in the numbers
由利本荘市 reports (18 支援会議, 16 重層的支援会議, 13 plans, 11 closures).

Every record is written by the real case service, in date order per case, so every guard
(consent, 守秘義務, four eyes, closure rules) is applied exactly as in production; a scenario
the lifecycle refuses stops the demo with the service's error. The random choices use a fixed
seed: the same command builds the same database. Names and places are fictional.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlmodel import Session

from models.db import create_db_engine, migrate, session_scope, sqlite_url
from models.queries import (
    RecordCounts,
    action_counts,
    event_payload,
    household_id_of_case,
    record_counts,
    stage_counts,
)
from states import LifecycleMachine
from yorisoi.demo.city import World, build_world
from yorisoi.demo.scenario import LAST_MEETING, Scenario, Script, Step
from yorisoi.demo.stories import STORY_CASES, write_everyday, write_stories
from yorisoi.errors import InvalidInput
from yorisoi.service import cases, lifecycles
from yorisoi.service.audit import verify_chains
from yorisoi.settings import get_settings
from yorisoi.sweeps.demo import DemoReminders, sweep_and_deliver

DEFAULT_CASES = 336
DEFAULT_SEED = 2024

__all__ = ["DEFAULT_CASES", "DEFAULT_SEED", "STORY_CASES", "DemoReport", "run"]


@dataclass(frozen=True, slots=True)
class DemoReport:
    path: Path
    stages: dict[str, int]
    actions: dict[str, int]
    records: RecordCounts
    events: int
    audit_problems: int
    seconds: float
    examples: dict[str, str] = field(default_factory=dict)  # what to look at → case number
    reminders: DemoReminders | None = None  # the year's last morning: sweep, then dispatch


def run(
    path: Path,
    *,
    cases_count: int = DEFAULT_CASES,
    seed: int = DEFAULT_SEED,
    progress: Callable[[int, int], None] | None = None,
) -> DemoReport:
    """Build the demo database at `path` (replacing it) and return what it holds."""
    started = time.perf_counter()
    if cases_count < STORY_CASES:
        raise InvalidInput(
            f"デモには {STORY_CASES} 件以上のケースが必要です（指定: {cases_count}）。",
            f"The demo needs at least {STORY_CASES} cases (asked for {cases_count}).",
        )
    _refuse_configured_database(path)
    for suffix in ("", "-wal", "-shm", "-journal"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    path.parent.mkdir(parents=True, exist_ok=True)
    engine = create_db_engine(sqlite_url(path))
    try:
        migrate(engine)
        with session_scope(engine) as session:
            machine = lifecycles.in_force(session, None)  # the scenario follows the default lifecycle
            scenario = Scenario(build_world(session), seed, get_settings().topics())
            write_stories(scenario)
            assert len(scenario.scripts) == STORY_CASES, "update STORY_CASES with the stories"
            write_everyday(scenario, cases_count - len(scenario.scripts))
            _play(session, machine, scenario, progress)
            session.commit()  # end the read transaction: the sweep writes from its own sessions
            reminders = sweep_and_deliver(engine, machine.lifecycle, get_settings(), database=path)
            chains = verify_chains(session, machine)
            return DemoReport(
                path=path,
                stages=stage_counts(session),
                actions=action_counts(session),
                records=record_counts(session),
                events=chains.events,
                audit_problems=len(chains.problems),
                seconds=time.perf_counter() - started,
                examples=_examples(scenario),
                reminders=reminders,
            )
    finally:
        engine.dispose()


def _examples(scenario: Scenario) -> dict[str, str]:
    found = {what: script.number for what, script in scenario.examples.items()}
    untouched = [s for s in scenario.scripts if not any(st.kind == "trigger" for st in s.steps)]
    if untouched:
        first = min(untouched, key=lambda s: s.opened_on)
        found["intake"] = first.number
        found["intake_coordinator"] = first.coordinator.login
    return found


def _refuse_configured_database(path: Path) -> None:
    configured = get_settings().database_url()
    if (
        configured.startswith("sqlite:///")
        and Path(configured.removeprefix("sqlite:///")).resolve() == path.resolve()
    ):
        raise InvalidInput(
            f"{path} は設定されたデータベースです。デモは別のファイルに作成してください。",
            f"{path} is the configured database; the demo must use another file.",
        )


def _play(
    session: Session,
    machine: LifecycleMachine,
    scenario: Scenario,
    progress: Callable[[int, int], None] | None,
) -> None:
    """Open every case in date order (so numbers follow dates), then play each case's steps."""
    scripts = sorted(scenario.scripts, key=lambda s: s.opened_on)
    total = len(scripts) + sum(len(s.steps) for s in scripts)
    done = 0
    for script in scripts:
        household = None
        if script.household_of is not None and script.household_of.case_id is not None:
            household = household_id_of_case(session, script.household_of.case_id)
        opened = cases.open_case(
            session=session,
            actor=script.coordinator,
            machine=machine,
            person={**script.person, "household_id": household},
            contact=script.contact,
        )
        script.case_id, script.number = opened.case_id, opened.number
        done += 1
        if progress:
            progress(done, total)
    for script in scripts:
        for step in sorted(script.steps, key=lambda st: st.on):
            _do(session, machine, scenario.world, script, step)
            done += 1
            if progress and done % 25 == 0:
                progress(done, total)
    if progress:
        progress(total, total)


_RECORD_ACTIONS = {
    "contact": "add_contact",
    "consent": "give_consent",
    "outreach": "log_outreach",
    "enrol": "enrol_in_program",
}
"""Script steps that are record actions; the others name a lifecycle action (`approve_plan`)."""


def _do(session: Session, machine: LifecycleMachine, world: World, script: Script, step: Step) -> None:
    actor = script.coordinator if step.by is None else world.supervisors[step.by]
    assert script.case_id is not None
    case_id = script.case_id
    action = _RECORD_ACTIONS.get(step.kind, step.trigger)
    data: dict[str, Any] = {k: script.meeting_id if v is LAST_MEETING else v for k, v in step.data.items()}
    name = cases.name_for(session, machine, case_id, action)
    fired = cases.fire(session=session, case_id=case_id, action=name, actor=actor, machine=machine, **data)
    if action == "hold_multilayer_meeting":
        script.meeting_id = event_payload(session, fired.case_id, fired.version)["meeting_id"]
