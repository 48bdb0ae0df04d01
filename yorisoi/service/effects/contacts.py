"""相談: consultation contacts (with the case's own desk unless another is named), and reopening."""

from __future__ import annotations

from sqlmodel import Session

from models import Agency, Contact, ContactTopic
from yorisoi.errors import InvalidInput
from yorisoi.service import inputs as i
from yorisoi.service.effects import Act, Effect, add_row
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
    contact_id = add_row(
        session,
        Contact(
            case_id=case_id,
            contacted_on=contact.contacted_on,
            desk_id=desk_id,
            referrer=contact.referrer,
            method=contact.method,
            staff_id=actor_id,
            note=contact.note,
        ),
    )
    session.add_all(ContactTopic(contact_id=contact_id, topic=t) for t in contact.topics)
    return contact_id


def _record(act: Act[i.ContactInput], contact: i.ContactInput) -> int:
    check_contact(act.session, contact)
    # A contact counts for the desk that took it; unnamed, that is the case's own desk, so it
    # stays in the per-desk tables.
    desk_id = contact.desk_id if contact.desk_id is not None else act.head.desk_id
    return add_contact_rows(act.session, act.head.id, act.actor_id, contact, desk_id)


def add_contact(act: Act[i.ContactInput]) -> Effect:
    return Effect({"contact_id": _record(act, act.data)})


def reopen(act: Act[i.ReopenInput]) -> Effect:
    contact_id = _record(act, act.data.contact)  # type: ignore[arg-type]
    episode = act.head.episode + 1
    return Effect({"episode": episode, "contact_id": contact_id}, {"episode": episode, "closed_on": None})
