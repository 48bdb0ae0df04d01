"""The default lifecycle's stage names, for tests that walk it (the product names no stage)."""

from enum import StrEnum


class Stage(StrEnum):
    INTAKE = "intake"
    ASSESSMENT = "assessment"
    SUPPORT_MEETING = "support_meeting"
    MULTILAYER_MEETING = "multilayer_meeting"
    PLANNING = "planning"
    MONITORING = "monitoring"
    CLOSED = "closed"
