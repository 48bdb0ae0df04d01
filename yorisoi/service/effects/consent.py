"""本人同意: a consent and the agencies it covers (replacing an earlier one), and its withdrawal."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import func, update
from sqlmodel import Session, col, select

from models import Consent, ConsentAgency, Meeting, Plan
from models.keys import key
from states import MeetingKind
from yorisoi.errors import InvalidInput
from yorisoi.jpdates import western_date
from yorisoi.service import inputs as i
from yorisoi.service.effects import Act, Effect, add_row, agency_refs


def check_consent_end(session: Session, consent: Consent, end_on: dt.date) -> None:
    """Refuse to end a consent (withdrawn or replaced) before a step that relied on it.

    A consent is active on day D when given_on <= D < end. Ending it on or before the day of a
    重層的支援会議 or plan step taken under it would leave that step, after the fact, without
    consent; ending it before it was given makes no sense at all.
    """
    if end_on < consent.given_on:
        raise InvalidInput(
            f"同意の終了日 {western_date(end_on)} が同意日 {western_date(consent.given_on)} より前です。",
            f"The consent cannot end ({end_on}) before it was given ({consent.given_on}).",
        )
    since = consent.given_on
    relied_on = [
        (
            "重層的支援会議",
            "a multi-layered support meeting",
            select(func.max(Meeting.held_on)).where(
                Meeting.case_id == consent.case_id,
                Meeting.kind == MeetingKind.MULTILAYER,
                col(Meeting.held_on) >= since,
            ),
        ),
        (
            "支援プランの作成",
            "a plan drafted",
            select(func.max(Plan.drafted_on)).where(
                Plan.case_id == consent.case_id, col(Plan.drafted_on) >= since
            ),
        ),
        (
            "支援プランの承認",
            "a plan approved",
            select(func.max(Plan.approved_on)).where(
                Plan.case_id == consent.case_id, col(Plan.approved_on) >= since
            ),
        ),
    ]
    for ja, en, query in relied_on:
        last = session.exec(query).one()  # type: ignore[call-overload]
        if last is not None and end_on <= last:
            raise InvalidInput(
                f"{western_date(consent.given_on)} の本人同意に基づく{ja}（{western_date(last)}）があるため、"
                "同意の終了日は"
                f" {western_date(last + dt.timedelta(days=1))} 以降にしてください。",
                f"The consent given on {consent.given_on} cannot end on {end_on}: {en} on {last}"
                f" relied on it; use {last + dt.timedelta(days=1)} or later.",
            )


def give(act: Act[i.ConsentInput]) -> Effect:
    """Record the consent; an active earlier one ends the day this one is given."""
    data, session, case_id = act.data, act.session, act.head.id
    agency_refs(session, data.agency_ids)
    active = session.exec(
        select(Consent).where(Consent.case_id == case_id, col(Consent.withdrawn_on).is_(None))
    ).all()
    for old in active:
        check_consent_end(session, old, data.given_on)
        old.withdrawn_on = data.given_on
        old.withdrawn_by = act.actor.id
    consent_id = add_row(
        session,
        Consent(
            case_id=case_id,
            given_on=data.given_on,
            method=data.method,
            recorded_by=key(act.actor),
            note=data.note,
        ),
    )
    session.add_all(ConsentAgency(consent_id=consent_id, agency_id=a) for a in dict.fromkeys(data.agency_ids))
    return Effect(
        {
            "consent_id": consent_id,
            "agency_ids": sorted(set(data.agency_ids)),
            "replaced": [c.id for c in active],
            "given_on": data.given_on.isoformat(),
            "method": data.method,
            "recorded_by": key(act.actor),
        }
    )


def withdraw(act: Act[i.WithdrawConsentInput]) -> Effect:
    data, session, head = act.data, act.session, act.head
    active = session.exec(
        select(Consent).where(col(Consent.case_id) == head.id, col(Consent.withdrawn_on).is_(None))
    ).all()
    for consent in active:
        check_consent_end(session, consent, data.withdrawn_on)
    ids = sorted(key(c) for c in active)
    if ids:
        session.execute(
            update(Consent)
            .where(col(Consent.id).in_(ids))
            .values(withdrawn_on=data.withdrawn_on, withdrawn_by=act.actor.id)
        )
    updates: dict[str, Any] = {}
    if act.to_stage != head.stage:
        updates = {"next_monitoring_on": None, "overdue": False}
    return Effect(
        {
            "consents": len(ids),
            "consent_ids": ids,
            "withdrawn_on": data.withdrawn_on.isoformat(),
            "withdrawn_by": act.actor_id,
        },
        updates,
    )
