"""The stages and roles the engine itself knows by name.

A municipality's lifecycle file may add stages of its own; those are plain strings in the
database. The built-in ones are named here once, so no other module repeats the strings.
"""

from enum import StrEnum


class Stage(StrEnum):
    INTAKE = "intake"
    ASSESSMENT = "assessment"
    SUPPORT_MEETING = "support_meeting"
    MULTILAYER_MEETING = "multilayer_meeting"
    PLANNING = "planning"
    MONITORING = "monitoring"
    CLOSED = "closed"


class Role(StrEnum):
    COORDINATOR = "coordinator"
    SUPERVISOR = "supervisor"
    AGENCY_MEMBER = "agency_member"
    AUDITOR = "auditor"


ROLE_LABELS_JA: dict[str, str] = {
    Role.COORDINATOR: "相談支援員（コーディネーター）",
    Role.SUPERVISOR: "スーパーバイザー",
    Role.AGENCY_MEMBER: "関係機関職員",
    Role.AUDITOR: "監査担当",
}


class ClosureReason(StrEnum):
    GOALS_MET = "goals_met"
    REFERRED_SINGLE_AGENCY = "referred_single_agency"
    MOVED_AWAY = "moved_away"
    DIED = "died"
    DECLINED = "declined"
    OTHER = "other"


CLOSURE_REASON_LABELS_JA: dict[str, str] = {
    ClosureReason.GOALS_MET: "目標達成",
    ClosureReason.REFERRED_SINGLE_AGENCY: "単独機関での支援へ移行",
    ClosureReason.MOVED_AWAY: "転出",
    ClosureReason.DIED: "死亡",
    ClosureReason.DECLINED: "本人の辞退",
    ClosureReason.OTHER: "その他",
}


class MeetingKind(StrEnum):
    SUPPORT = "support_meeting"
    MULTILAYER = "multilayer_meeting"


MEETING_KIND_LABELS_JA: dict[str, str] = {
    MeetingKind.SUPPORT: "支援会議",
    MeetingKind.MULTILAYER: "重層的支援会議",
}
