"""The case lifecycle, run by one shared `transitions` machine.

A case arrives at 受付 (intake) and is assessed. Whether the person has consented decides the
track: without consent the municipality holds a 支援会議 (members bound by 守秘義務, 法第106条の6);
with consent a 重層的支援会議, which decides a 支援プラン. A supervisor other than its author
approves the plan and support with monitoring begins; the plan may be revised (a new version,
approved again). Withdrawn consent sends the case back to the 支援会議 track. Any open case may
be proposed for 終結 (closure), which a supervisor other than the proposer approves; a closed
case can be reopened as a new episode.

`LifecycleMachine.attempt` asks the machine whether a trigger may fire from a stage given the
case's facts, and returns the new stage or the refusals; `explain` asks every guard of every
transition the trigger has from that stage (the machine stops at the first that fails) and is
what a preview of a case's actions shows. "Pure" here means no database, network or clock:
the one file the module reads is the lifecycle itself, when it is loaded. The case service
supplies the facts and writes the result.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from transitions import EventData, Machine

from states.definition import Lifecycle, load_lifecycle
from states.guards import GUARDS, CaseFacts, Refusal


@dataclass(frozen=True, slots=True)
class Outcome:
    """The result of asking the machine: `accepted` with the new stage, or refusals."""

    accepted: bool
    stage: str
    refusals: tuple[Refusal, ...] = ()


class _Token:
    """What the shared machine moves: a stage and the facts the guards read.

    Table rows are never attached to the machine (it adds attributes to its models).
    """

    def __init__(self, stage: str, facts: CaseFacts, data: Mapping[str, Any]) -> None:
        self.state = stage
        self.facts = facts
        self.data = data
        self.refusals: list[Refusal] = []


def _condition(name: str) -> Any:
    guard = GUARDS[name].check

    def check(event: EventData) -> bool:
        token = event.model
        assert isinstance(token, _Token)
        refusal = guard(token.facts, token.data)
        if refusal is not None:
            token.refusals.append(refusal)
        return refusal is None

    check.__name__ = name
    return check


class LifecycleMachine:
    """One `transitions.Machine` for every case; cases pass through it as tokens."""

    def __init__(self, lifecycle: Lifecycle) -> None:
        self.lifecycle = lifecycle
        self._machine = Machine(
            model=None,
            states=[s.name for s in lifecycle.stages],
            transitions=[
                {
                    "trigger": t.trigger,
                    "source": list(t.sources),
                    "dest": t.dest,
                    "conditions": [_condition(g) for g in t.guards],
                }
                for t in lifecycle.transitions
            ],
            initial=lifecycle.initial,
            auto_transitions=False,
            send_event=True,
        )
        self._triggers_from: dict[str, tuple[str, ...]] = {
            stage.name: tuple(sorted({t.trigger for t in lifecycle.transitions if stage.name in t.sources}))
            for stage in lifecycle.stages
        }

    def triggers_from(self, stage: str) -> tuple[str, ...]:
        """The triggers the lifecycle allows from `stage` (guards not yet considered)."""
        return self._triggers_from.get(stage, ())

    def changes_stage(self, stage: str, trigger: str) -> bool:
        return any(
            t.trigger == trigger and stage in t.sources and t.dest not in (None, stage)
            for t in self.lifecycle.transitions
        )

    def attempt(self, stage: str, trigger: str, facts: CaseFacts, data: Mapping[str, Any]) -> Outcome:
        """Fire `trigger` on a token at `stage`; the caller has checked it is allowed there."""
        token = _Token(stage, facts, data)
        accepted = self._machine.events[trigger].trigger(token)
        return Outcome(bool(accepted), token.state, tuple(token.refusals))

    def explain(
        self,
        stage: str,
        trigger: str,
        facts: CaseFacts,
        data: Mapping[str, Any],
        *,
        skip_input_guards: bool = False,
    ) -> Outcome:
        """Like `attempt`, without moving anything and without stopping at the first refusal.

        Each of the trigger's transitions from `stage` is asked in the machine's order, every
        guard of it; the first whose guards all hold gives the destination. Otherwise the
        refusals of all of them, each once. `skip_input_guards` leaves out the guards that
        judge only typed input (a form checks those on submit).
        """
        event = self._machine.events[trigger]
        token = _Token(stage, facts, data)
        event_data = EventData(self._machine.get_state(stage), event, self._machine, token, (), {})
        refusals: list[Refusal] = []
        for transition in event.transitions.get(stage, []):
            token.refusals = []
            for condition in transition.conditions:
                name = condition.func.__name__  # type: ignore[union-attr]
                if skip_input_guards and GUARDS[name].input_only:
                    continue
                condition.check(event_data)
            if not token.refusals:
                return Outcome(True, transition.dest or stage)
            refusals += [r for r in token.refusals if r not in refusals]
        return Outcome(False, stage, tuple(refusals))

    def trigger_for(self, stage: str, *actions: str) -> str | None:
        """The trigger of one of `actions` that the lifecycle allows from `stage`, if any."""
        allowed = self.triggers_from(stage)
        return next((t for t in self.lifecycle.triggers_of(*actions) if t in allowed), None)

    def is_valid_step(self, source: str, trigger: str, dest: str) -> bool:
        """Whether the lifecycle has a transition `source --trigger--> dest` (guards aside)."""
        return any(
            t.trigger == trigger and source in t.sources and (t.dest or source) == dest
            for t in self.lifecycle.transitions
        )


_default: LifecycleMachine | None = None


def default_machine() -> LifecycleMachine:
    """The machine for the lifecycle shipped with yorisoi, built once per process."""
    global _default
    if _default is None:
        _default = LifecycleMachine(load_lifecycle())
    return _default
