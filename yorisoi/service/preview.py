"""Ask what an action would do, without doing it: the buttons a case page may show.

`preview` runs the checks `cases.fire` runs — known action, allowed from the stage, the
actor's roles, the input, the guards — and stops there. `available_actions` asks the
lifecycle machine to explain every trigger of the case's stage (`LifecycleMachine.explain`:
every guard, not only the first that fails), assuming what the action's registry entry says
a form would start from, and leaves the guards that judge only typed input to the form: a
button is offered when the case itself allows the action. `record_actions` lists the record
actions (contact, consent …) the actor may take on the case, and `late_entries` what a closed
case still takes without reopening (後日入力: meetings, monitoring). Nothing is written, and the
transaction is rolled back at the end; the case's head is read without a lock, so a page
view never waits for someone's save.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlmodel import Session

from models import Staff
from states import LifecycleMachine, Refusal
from yorisoi.errors import PermissionDenied, YorisoiError
from yorisoi.service import inputs as i
from yorisoi.service.cases import case_facts, late_entry_trigger, refuse_unless_allowed
from yorisoi.service.journal import load_head
from yorisoi.service.registry import ACTIONS, LATE_ENTRY_ACTIONS, RECORD_ACTIONS, ActionSpec, Step, resolve


@dataclass(frozen=True, slots=True)
class Preview:
    trigger: str
    accepted: bool
    to_stage: str
    refusals: tuple[Refusal, ...]


@dataclass(frozen=True, slots=True)
class ActionOption:
    """One action of the case's stage for one actor: allowed now, or why not."""

    trigger: str
    ja: str
    en: str
    allowed: bool
    to_stage: str | None
    reasons: tuple[Refusal, ...]


def preview(
    *,
    session: Session,
    case_id: int,
    action: str,
    actor: Staff,
    machine: LifecycleMachine,
    **data: Any,
) -> Preview:
    """What `cases.fire` would answer for this action, without writing anything."""
    step = resolve(machine.lifecycle, action)
    try:
        head = load_head(session, case_id, lock=False)
        refuse_unless_allowed(machine, head, step, actor)
        parsed = i.parse_input(step.spec.input, data, action)
        if step.trigger is None:
            return Preview(action, True, head.stage, ())
        facts = case_facts(session, head, actor, step.spec, parsed)
        outcome = machine.attempt(head.stage, step.trigger, facts, step.spec.facts(session, head, parsed))
        return Preview(action, outcome.accepted, outcome.stage, outcome.refusals)
    finally:
        session.rollback()


def check_action(
    *, session: Session, case_id: int, action: str, actor: Staff, machine: LifecycleMachine
) -> ActionSpec:
    """Refuse, as `cases.fire` would and in its order, an action unknown, not allowed from the
    case's stage, or not the actor's to take, before its input is even read; its spec if not."""
    step = resolve(machine.lifecycle, action)
    try:
        refuse_unless_allowed(machine, load_head(session, case_id, lock=False), step, actor)
    finally:
        session.rollback()
    return step.spec


def available_actions(
    *, session: Session, case_id: int, actor: Staff, machine: LifecycleMachine
) -> list[ActionOption]:
    """Every trigger of the case's current stage, each allowed for `actor` or with its reasons."""
    lifecycle = machine.lifecycle
    options: list[ActionOption] = []
    try:
        head = load_head(session, case_id, lock=False)
        for trigger in machine.triggers_from(head.stage):
            definition = lifecycle.triggers[trigger]
            step = Step(ACTIONS[definition.action], trigger)
            try:
                refuse_unless_allowed(machine, head, step, actor)
            except PermissionDenied as refusal:
                reason = Refusal("roles", refusal.ja, refusal.en)
                options.append(ActionOption(trigger, definition.ja, definition.en, False, None, (reason,)))
                continue
            probe = step.spec.probe_input(session, head)
            facts = case_facts(session, head, actor, step.spec, probe)
            outcome = machine.explain(
                head.stage, trigger, facts, step.spec.facts(session, head, probe), skip_input_guards=True
            )
            dest = outcome.stage if outcome.accepted else None
            options.append(
                ActionOption(trigger, definition.ja, definition.en, outcome.accepted, dest, outcome.refusals)
            )
    finally:
        session.rollback()
    return options


def record_actions(
    *, session: Session, case_id: int, actor: Staff, machine: LifecycleMachine
) -> list[ActionSpec]:
    """The record actions (contact, consent, outreach …) `actor` may take on the case now."""
    allowed: list[ActionSpec] = []
    try:
        head = load_head(session, case_id, lock=False)
        for name in sorted(RECORD_ACTIONS):
            step = Step(ACTIONS[name], None)
            try:
                refuse_unless_allowed(machine, head, step, actor)
            except YorisoiError:
                continue
            allowed.append(step.spec)
    finally:
        session.rollback()
    return allowed


def late_entries(
    *, session: Session, case_id: int, actor: Staff, machine: LifecycleMachine
) -> list[ActionOption]:
    """On a closed case, the lifecycle actions `actor` may add dated inside its closed episode
    (後日入力), one trigger each; nothing on an open case."""
    lifecycle = machine.lifecycle
    options: list[ActionOption] = []
    try:
        head = load_head(session, case_id, lock=False)
        for name in sorted(LATE_ENTRY_ACTIONS - RECORD_ACTIONS):
            trigger = late_entry_trigger(lifecycle, head.stage, name)
            if trigger is None:
                continue
            try:
                refuse_unless_allowed(machine, head, Step(ACTIONS[name], trigger), actor)
            except YorisoiError:
                continue
            definition = lifecycle.triggers[trigger]
            options.append(ActionOption(trigger, definition.ja, definition.en, True, head.stage, ()))
    finally:
        session.rollback()
    return options
