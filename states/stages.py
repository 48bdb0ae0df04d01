"""The vocabularies the engine itself knows: roles, closure reasons, meeting kinds.

Stages and triggers are not here: they are the lifecycle file's, named by the municipality.
"""

from enum import StrEnum


class Role(StrEnum):
    COORDINATOR = "coordinator"
    SUPERVISOR = "supervisor"
    AGENCY_MEMBER = "agency_member"
    AUDITOR = "auditor"
    # Keeps the directory (staff, agencies, providers) and unlocks sign-ins; sees no case.
    ADMIN = "admin"


ROLE_LABELS_JA: dict[str, str] = {
    Role.COORDINATOR: "相談支援員（コーディネーター）",
    Role.SUPERVISOR: "スーパーバイザー",
    Role.AGENCY_MEMBER: "関係機関職員",
    Role.AUDITOR: "監査担当",
    Role.ADMIN: "管理者（職員・機関の登録）",
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
