"""支援会議 and 重層的支援会議: the meeting, its attendees and their 守秘義務 acknowledgements."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from sqlmodel import Session

from models import Meeting, MeetingAttendee
from models.keys import key
from states.guards import Attendee
from yorisoi.service import inputs as i
from yorisoi.service.effects import Act, Effect, add_row, agency_refs, check_staff
from yorisoi.service.journal import CaseHead


def facts(session: Session, head: CaseHead, data: i.MeetingInput) -> Mapping[str, Any]:
    """The guards read the attendees with their agencies (unknown ids refused) and the date."""
    refs = agency_refs(session, (a.agency_id for a in data.attendees if a.agency_id))
    check_staff(session, (a.staff_id for a in data.attendees if a.staff_id is not None))
    attendees = [
        Attendee(a.name, refs[a.agency_id] if a.agency_id else None, a.acknowledged_confidentiality)
        for a in data.attendees
    ]
    return {"held_on": data.held_on, "attendees": attendees}


def hold(kind: str) -> Callable[[Act[i.MeetingInput]], Effect]:
    """The effect of holding a meeting of `kind` (a `states.MeetingKind`)."""

    def apply(act: Act[i.MeetingInput]) -> Effect:
        data = act.data
        meeting_id = add_row(
            act.session,
            Meeting(
                case_id=act.head.id,
                kind=kind,
                held_on=data.held_on,
                title=data.title,
                decisions=data.decisions,
                recorded_by=key(act.actor),
            ),
        )
        act.session.add_all(
            MeetingAttendee(
                meeting_id=meeting_id,
                name=a.name,
                agency_id=a.agency_id,
                staff_id=a.staff_id,
                confidentiality_acknowledged=a.acknowledged_confidentiality,
            )
            for a in data.attendees
        )
        return Effect(
            {
                "meeting_id": meeting_id,
                "kind": kind,
                "attendees": len(data.attendees),
                "acknowledged": sum(a.acknowledged_confidentiality for a in data.attendees),
                "held_on": data.held_on.isoformat(),
                "recorded_by": key(act.actor),
            }
        )

    return apply
