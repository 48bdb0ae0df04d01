"""The case lifecycle as data: stages, guards and one shared state machine. Pure: no I/O."""

from states.definition import Lifecycle, LifecycleError, load_lifecycle, parse_lifecycle
from states.guards import GUARDS, Refusal
from states.machine import LifecycleMachine, Outcome, default_machine
from states.stages import ClosureReason, MeetingKind, Role, Stage

__all__ = [
    "GUARDS",
    "ClosureReason",
    "Lifecycle",
    "LifecycleError",
    "LifecycleMachine",
    "MeetingKind",
    "Outcome",
    "Refusal",
    "Role",
    "Stage",
    "default_machine",
    "load_lifecycle",
    "parse_lifecycle",
]
