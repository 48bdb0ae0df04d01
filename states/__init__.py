"""The case lifecycle as data: stages, guards and one shared state machine.

Pure: no database, network or clock; the only file read is the lifecycle itself.
"""

from states.actions import ACTION_RULES, ActionRule, StageKind
from states.definition import Lifecycle, LifecycleError, load_lifecycle, parse_lifecycle
from states.guards import GUARDS, Refusal
from states.machine import LifecycleMachine, Outcome, default_machine
from states.stages import ClosureReason, MeetingKind, Role

__all__ = [
    "ACTION_RULES",
    "GUARDS",
    "ActionRule",
    "ClosureReason",
    "Lifecycle",
    "LifecycleError",
    "LifecycleMachine",
    "MeetingKind",
    "Outcome",
    "Refusal",
    "Role",
    "StageKind",
    "default_machine",
    "load_lifecycle",
    "parse_lifecycle",
]
