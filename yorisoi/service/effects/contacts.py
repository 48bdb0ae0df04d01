"""相談: consultation contacts (with the case's own desk unless another is named), and reopening."""

from __future__ import annotations

from sqlmodel import Session

from models import Agency, Contact, ContactTopic
from yorisoi.errors import InvalidInput
from yorisoi.jpdates import western_date
from yorisoi.service import inputs as i
from yorisoi.service.effects import Act, Effect, insert_row, insert_rows
from yorisoi.settings import get_settings


def check_contact(session: Session, contact: i.ContactInput) -> None:
    """Refuse topics outside the configured 相談内容 and desks that are not registered."""
    topics = get_settings().topics()
    unknown = [t for t in contact.topics if t not in topics]
    if unknown:
        raise InvalidInput(
            f"不明な相談内容です: {unknown}（使える相談内容: {', '.join(topics)}）",
            f"Unknown topic(s) {unknown}; known: {', '.join(topics)}.",
        )
    if contact.desk_id is not None:
        desk = session.get(Agency, contact.desk_id)
        if desk is None or not desk.is_desk:
            raise InvalidInput(
                f"受付窓口 {contact.desk_id} は登録されていません。",
                f"{contact.desk_id} is not a registered desk.",
            )


def add_contact_rows(
    session: Session, case_id: int, actor_id: int | None, contact: i.ContactInput, desk_id: int | None
) -> int:
    """Insert the contact and its topics; `desk_id` is the desk it counts for."""
    contact_id = insert_row(
        session,
        Contact,
        case_id=case_id,
        contacted_on=contact.contacted_on,
        desk_id=desk_id,
        referrer=contact.referrer,
        method=contact.method,
        staff_id=actor_id,
        note=contact.note,
        outreach_visit=contact.outreach_visit,
    )
    insert_rows(session, ContactTopic, [{"contact_id": contact_id, "topic": t} for t in contact.topics])
    return contact_id


def _record(act: Act[i.ContactInput], contact: i.ContactInput) -> int:
    check_contact(act.session, contact)
    # A contact counts for the desk that took it; unnamed, that is the case's own desk, so it
    # stays in the per-desk tables.
    desk_id = contact.desk_id if contact.desk_id is not None else act.head.desk_id
    return add_contact_rows(act.session, act.head.id, act.actor_id, contact, desk_id)


def add_contact(act: Act[i.ContactInput]) -> Effect:
    payload: dict[str, object] = {"contact_id": _record(act, act.data)}
    if act.data.outreach_visit:
        payload["outreach_visit"] = True
    return Effect(payload)


def reopen(act: Act[i.ReopenInput]) -> Effect:
    """A new episode, starting with a contact on or after the day the last one was closed."""
    check_contact(act.session, act.data.contact)
    on, closed_on = act.data.contact.contacted_on, act.head.closed_on
    if closed_on is not None and on < closed_on:
        raise InvalidInput(
            f"再開の相談日（{western_date(on)}）が終結日（{western_date(closed_on)}）より前です。終結日以降の日付にしてください"
            f"（終結日以前の記録は、再開せずに後日入力として追加できます）。",
            f"The reopening contact ({on}) is dated before the closure ({closed_on}); records dated "
            "inside the closed episode are added as late entries, without reopening.",
        )
    contact_id = _record(act, act.data.contact)  # type: ignore[arg-type]
    episode = act.head.episode + 1
    return Effect({"episode": episode, "contact_id": contact_id}, {"episode": episode, "closed_on": None})
