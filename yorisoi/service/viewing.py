"""Open a case record for a viewer: find it, apply the access policy, log the view.

Every entry point that shows or changes a case record goes through here, so the policy is
applied the same way everywhere and every view (and every refused attempt) is logged.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlmodel import Session

from models import caseload, queries
from models.caseload import CaseAccessFacts
from models.queries import CaseDetail, TimelineEntry
from yorisoi.errors import NotFound
from yorisoi.service.access import Access, Viewer, access_to, not_visible, redact, refused
from yorisoi.service.access_log import record_view
from yorisoi.service.journal import find_case_id


@dataclass(frozen=True, slots=True)
class CaseView:
    detail: CaseDetail
    access: Access
    facts: CaseAccessFacts
    timeline: tuple[TimelineEntry, ...] = ()


def _checked(
    session: Session, viewer: Viewer, number: str, what: str, channel: str, need_full: bool
) -> tuple[int, Access, CaseAccessFacts]:
    try:
        case_id = find_case_id(session, number.strip().upper())
    except NotFound:
        raise not_visible(number) from None
    facts = caseload.access_facts(session, case_id, viewer.id)
    if facts is None:  # deleted between the two reads
        raise not_visible(number)
    access = access_to(viewer, facts)
    if access is Access.NONE or (need_full and access is not Access.FULL):
        record_view(session, case_id=case_id, staff_id=viewer.id, what=what, channel=channel, granted=False)
        # An outsider gets the answer a missing case gets; a meeting attendee knows it exists.
        raise not_visible(number) if access is Access.NONE else refused(number)
    return case_id, access, facts


def view_case(
    session: Session, viewer: Viewer, number: str, *, channel: str, with_timeline: bool = False
) -> CaseView:
    """The part of case `number` the viewer may see (access-logged); refused: `not_visible` (the
    same NotFound as a missing case), or PermissionDenied for more than meeting material.

    `with_timeline` adds the audit trail where the viewer may see the whole record.
    """
    case_id, access, facts = _checked(session, viewer, number, "case_detail", channel, need_full=False)
    detail = queries.case_detail(session, case_id)
    if detail is None:
        raise NotFound(f"ケース番号 {number} は存在しません。", f"There is no case numbered {number}.")
    full = access is Access.FULL
    events = tuple(queries.timeline(session, case_id)) if full and with_timeline else ()
    record_view(
        session,
        case_id=case_id,
        staff_id=viewer.id,
        what="case_detail" if full else "meeting_material",
        channel=channel,
    )
    return CaseView(redact(detail, access, facts), access, facts, events)


def view_timeline(session: Session, viewer: Viewer, number: str, *, channel: str) -> list[TimelineEntry]:
    """The case's audit trail; only for viewers who may see the whole record."""
    case_id, _access, _facts = _checked(session, viewer, number, "timeline", channel, need_full=True)
    entries = queries.timeline(session, case_id)
    record_view(session, case_id=case_id, staff_id=viewer.id, what="timeline", channel=channel)
    return entries


def case_for_action(session: Session, viewer: Viewer, number: str, *, channel: str) -> int:
    """The id of case `number` if the viewer may act on it (the whole record in view)."""
    case_id, _access, _facts = _checked(session, viewer, number, "action", channel, need_full=True)
    return case_id
