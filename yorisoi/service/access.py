"""Who may see which case: one policy for the API and the web pages alike.

Case records are 要配慮個人情報, so a viewer sees a case only for a reason the programme
recognises:

- supervisors and auditors: every case (they approve, and audit, all of them);
- the case's coordinator, and coordinators of the same team (Staff.team): the whole record;
- anyone who attended one of the case's 支援会議 / 重層的支援会議: that meeting's material
  only (a 支援会議 attendee must have acknowledged 守秘義務) — the person's name, the
  meetings they sat in, and the plans decided at a 重層的支援会議 they attended;
- nobody else, whatever their role.

The rules are pure: they judge facts that `models.caseload` read, so they can be tested
without a database and the list query can be built from the same decision (`list_scope`).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from enum import StrEnum

from models.caseload import AttendedMeeting, CaseAccessFacts, ListScope
from models.queries import CaseDetail
from states import MeetingKind, Role
from yorisoi.errors import NotFound, PermissionDenied


class Access(StrEnum):
    FULL = "full"
    MEETING = "meeting"  # the material of the meetings the viewer attended
    NONE = "none"


@dataclass(frozen=True, slots=True)
class Viewer:
    id: int
    login: str
    roles: frozenset[str]
    team: str | None
    active: bool = True


_SEE_ALL = frozenset({Role.SUPERVISOR, Role.AUDITOR})


def _shares_team(viewer: Viewer, facts: CaseAccessFacts) -> bool:
    return (
        Role.COORDINATOR in viewer.roles and viewer.team is not None and viewer.team == facts.coordinator_team
    )


def _material(facts: CaseAccessFacts) -> tuple[AttendedMeeting, ...]:
    """The meetings whose material the viewer may read (a 支援会議 only under 守秘義務)."""
    return tuple(m for m in facts.attended if m.kind != MeetingKind.SUPPORT or m.acknowledged_confidentiality)


def access_to(viewer: Viewer, facts: CaseAccessFacts) -> Access:
    if not viewer.active:
        return Access.NONE
    if _SEE_ALL & viewer.roles:
        return Access.FULL
    if facts.coordinator_id == viewer.id or _shares_team(viewer, facts):
        return Access.FULL
    if _material(facts):
        return Access.MEETING
    return Access.NONE


def list_scope(viewer: Viewer) -> ListScope:
    """The same rules as `access_to`, as a filter for case lists."""
    if not viewer.active:
        return ListScope(coordinator_id=-1)  # no staff id is negative: nothing matches
    if _SEE_ALL & viewer.roles:
        return ListScope(everything=True)
    team = viewer.team if Role.COORDINATOR in viewer.roles else None
    return ListScope(
        coordinator_id=viewer.id,
        team=team,
        attendee_staff_id=viewer.id,
        confidential_kinds=(MeetingKind.SUPPORT,),
    )


def may_act(viewer: Viewer, facts: CaseAccessFacts) -> bool:
    """Changing a case needs the whole record in view; the service checks the roles."""
    return access_to(viewer, facts) is Access.FULL


def not_visible(number: str) -> NotFound:
    """The one answer for a case that does not exist and for one the viewer may not see at all:
    case numbers are sequential, so two answers would tell outsiders which cases exist."""
    shown = number.strip().upper()[:32]
    return NotFound(
        f"ケース {shown} は見つかりません（存在しないか、閲覧の権限がありません。担当・チーム・"
        "出席した会議のケースのみ閲覧できます）。",
        f"No case {shown} that you may view (it does not exist, or only its coordinator, their "
        "team and the meetings' attendees may see it).",
    )


def refused(number: str) -> PermissionDenied:
    """The refusal for a viewer who sees only a case's meeting material and asks for more (they
    know the case exists); it names nothing but the number asked for."""
    return PermissionDenied(
        f"ケース {number} のこの記録を閲覧する権限がありません（出席した会議の資料のみ閲覧できます）。",
        f"You may not view this record of case {number} (only the material of meetings you attended).",
    )


def redact(detail: CaseDetail, access: Access, facts: CaseAccessFacts) -> CaseDetail:
    """The part of a case record `access` allows: all of it, or the meeting material."""
    if access is Access.FULL:
        return detail
    if access is Access.NONE:
        raise ValueError("redact() needs a viewer with access")
    material = {m.meeting_id for m in _material(facts)}
    multilayer = {m.meeting_id for m in _material(facts) if m.kind == MeetingKind.MULTILAYER}
    return dataclasses.replace(
        detail,
        birth_date=None,
        contacts=(),
        consents=(),
        meetings=tuple(m for m in detail.meetings if m.id in material),
        plans=tuple(p for p in detail.plans if p.meeting_id in multilayer),
        monitoring=(),
        closures=(),
        outreach=(),
        enrolments=(),
    )
