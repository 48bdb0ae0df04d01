"""Ask what an action would do, without doing it: the buttons a case page may show.

`preview` runs the checks `cases.fire` runs — known trigger, allowed from the stage, the
actor's roles, the input, the guards — and stops there; `available_actions` asks it for
every trigger of the case's stage and says why each blocked one is blocked. Nothing is
written or locked (the case's head is read with `lock=False`, so a page view never waits
for someone's save), and the transaction is rolled back at the end.

Some guards judge only what the person is about to type (attendees' 守秘義務, the closure
reason): `available_actions` leaves those to the form, so a button is offered when the case
itself allows the action.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlmodel import Session

from models import Staff
from models.caseload import meetings_of_kind
from states import LifecycleMachine, MeetingKind, Refusal
from states.guards import GUARDS
from yorisoi.errors import PermissionDenied
from yorisoi.service import effects
from yorisoi.service import inputs as i
from yorisoi.service.cases import case_facts, refuse_unless_allowed
from yorisoi.service.journal import CaseHead, load_head

# Guards about the form's own input, not the case: the form enforces them when submitted.
INPUT_GUARDS = frozenset(
    {"attendees_bound_to_confidentiality", "meeting_has_attendees", "closure_reason_complete"}
)


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


def _attempt(
    session: Session, machine: LifecycleMachine, head: CaseHead, trigger: str, actor: Staff, parsed: Any
) -> Preview:
    facts = case_facts(session, head, actor, parsed)
    outcome = machine.attempt(head.stage, trigger, facts, effects.guard_data(trigger, session, head, parsed))
    return Preview(trigger, outcome.accepted, outcome.stage, outcome.refusals)


def preview(
    *,
    session: Session,
    case_id: int,
    trigger: str,
    actor: Staff,
    machine: LifecycleMachine,
    **data: Any,
) -> Preview:
    """What `cases.fire` would answer for this action, without writing anything."""
    try:
        head = load_head(session, case_id, lock=False)
        refuse_unless_allowed(machine, head, trigger, actor)
        parsed = i.parse_input(i.TRIGGER_INPUTS.get(trigger, i.NoteInput), data, trigger)
        return _attempt(session, machine, head, trigger, actor, parsed)
    finally:
        session.rollback()


def check_trigger(
    *, session: Session, case_id: int, trigger: str, actor: Staff, machine: LifecycleMachine
) -> None:
    """Refuse, as `cases.fire` would and in its order, an action unknown, not allowed from the
    case's stage, or not the actor's to take, before its input is even read."""
    try:
        refuse_unless_allowed(machine, load_head(session, case_id, lock=False), trigger, actor)
    finally:
        session.rollback()


def _probe(session: Session, head: CaseHead, trigger: str) -> Any:
    """Input for asking the guards about the case alone: defaults, the newest meeting."""
    if trigger == "approve_plan":
        meetings = meetings_of_kind(session, head.id, MeetingKind.MULTILAYER)
        return i.ApprovePlanInput.model_construct(meeting_id=meetings[0].id if meetings else None)
    return i.TRIGGER_INPUTS.get(trigger, i.NoteInput).model_construct()


def _case_refusals(
    session: Session, machine: LifecycleMachine, head: CaseHead, trigger: str, actor: Staff
) -> tuple[str | None, tuple[Refusal, ...]]:
    """(destination, ()) when some transition of `trigger` holds for the case, else its refusals.

    Every guard is asked (the machine stops at the first that fails), and input-only
    guards are left out: the form checks those.
    """
    probe = _probe(session, head, trigger)
    facts = case_facts(session, head, actor, probe)
    data = effects.guard_data(trigger, session, head, probe)
    refusals: list[Refusal] = []
    for transition in machine.lifecycle.transitions:
        if transition.trigger != trigger or head.stage not in transition.sources:
            continue
        failed = [
            refusal
            for name in transition.guards
            if name not in INPUT_GUARDS and (refusal := GUARDS[name](facts, data)) is not None
        ]
        if not failed:
            return transition.dest or head.stage, ()
        refusals += [r for r in failed if r not in refusals]
    return None, tuple(refusals)


def available_actions(
    *, session: Session, case_id: int, actor: Staff, machine: LifecycleMachine
) -> list[ActionOption]:
    """Every action of the case's current stage, each allowed for `actor` or with its reasons."""
    lifecycle = machine.lifecycle
    options: list[ActionOption] = []
    try:
        head = load_head(session, case_id, lock=False)
        for trigger in machine.triggers_from(head.stage):
            definition = lifecycle.triggers[trigger]
            try:
                refuse_unless_allowed(machine, head, trigger, actor)
            except PermissionDenied as refusal:
                reason = Refusal("roles", refusal.ja, refusal.en)
                options.append(ActionOption(trigger, definition.ja, definition.en, False, None, (reason,)))
                continue
            dest, reasons = _case_refusals(session, machine, head, trigger, actor)
            options.append(ActionOption(trigger, definition.ja, definition.en, not reasons, dest, reasons))
    finally:
        session.rollback()
    return options
