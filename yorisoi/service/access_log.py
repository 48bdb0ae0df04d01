"""Write the access log (閲覧記録): one row per view of a case record, granted or refused."""

from __future__ import annotations

from sqlmodel import Session

from models import RecordView


def record_view(
    session: Session, *, case_id: int, staff_id: int, what: str, channel: str, granted: bool = True
) -> None:
    """Append one view and commit it (outside the case's audit chain: it changes no case)."""
    session.add(RecordView(case_id=case_id, staff_id=staff_id, what=what, channel=channel, granted=granted))
    session.commit()
