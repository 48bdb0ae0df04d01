"""The case service: the one place that changes a case.

Every action — a lifecycle trigger (`fire`) or a record that leaves the stage as it is
(`add_contact`, `give_consent`, …) — checks the actor's permission, validates its input,
asks the lifecycle machine, writes its records, the stage, an audit event and an outbox
message, and commits: all of it, or nothing.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cache
from typing import Any

import pendulum
from pydantic import BaseModel
from sqlalchemy import update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from models import (
    Case,
    Consent,
    ConsentAgency,
    Household,
    OutreachActivity,
    Person,
    ProgramEnrolment,
    ProgramProvider,
    Staff,
)
from models.audit import event_hash
from models.case import GENESIS_HASH
from models.keys import key
from models.outreach import Program
from models.timestamps import utcnow
from states import LifecycleMachine, Role
from states.guards import Actor
from yorisoi.errors import (
    GuardFailed,
    InvalidInput,
    NotFound,
    PermissionDenied,
    TriggerNotAllowed,
    VersionConflict,
)
from yorisoi.jpdates import fiscal_year, fiscal_year_short
from yorisoi.service import effects
from yorisoi.service import inputs as i
from yorisoi.service.facts import DbCaseFacts
from yorisoi.service.journal import AppendedEvent, CaseHead, append_event, insert_event_rows, load_head
from yorisoi.service.numbering import next_serial
from yorisoi.service.prepared import connection, insert_row, insert_rows

_ACTION_DATE_FIELDS = ("held_on", "drafted_on", "approved_on", "proposed_on", "decided_on", "withdrawn_on")

_STAFF_ROLES = frozenset({Role.COORDINATOR, Role.SUPERVISOR})


@dataclass(frozen=True, slots=True)
class Fired:
    """What an action did: the case, its stage before and after, its new version."""

    case_id: int
    number: str
    action: str
    from_stage: str
    to_stage: str
    version: int

    @classmethod
    def of(cls, event: AppendedEvent) -> Fired:
        return cls(event.case_id, event.number, event.action, event.from_stage, event.to_stage, event.seq)


@contextmanager
def _transaction(session: Session) -> Iterator[None]:
    try:
        yield
        session.commit()
    except IntegrityError as exc:
        session.rollback()
        if _is_race(exc):
            raise VersionConflict(
                "同時に行われた別の更新と競合しました。やり直してください。",
                "This change collided with a concurrent one; try again.",
            ) from exc
        raise InvalidInput(
            "記録できませんでした: データの整合性の制約に反します（関連する記録が存在しない等）。",
            f"Not recorded: a database integrity constraint failed ({exc.orig}).",
        ) from exc
    except BaseException:
        session.rollback()
        raise


def _is_race(exc: IntegrityError) -> bool:
    """Only the uniqueness of a case's event sequence can be broken by a concurrent writer."""
    message = str(exc.orig)
    return (
        "uq_audit_event_case_seq" in message
        or "audit_event.case_id, audit_event.seq" in message
        or "idempotency_key" in message
    )


def _require_active(actor: Staff) -> None:
    if not actor.active:
        raise PermissionDenied(
            f"{actor.name} さんのアカウントは無効です。", f"{actor.login}'s account is deactivated."
        )


def _require_roles(actor: Staff, roles: frozenset[str], what: str) -> None:
    _require_active(actor)
    if not roles & set(actor.roles):
        raise PermissionDenied(
            f"{actor.name} さんには「{what}」の権限がありません（必要な役割: {', '.join(sorted(roles))}）。",
            f"{actor.login} may not {what} (needs one of: {', '.join(sorted(roles))}).",
        )


def refuse_unless_allowed(machine: LifecycleMachine, head: CaseHead, trigger: str, actor: Staff) -> None:
    """Refuse an unknown trigger, one the stage does not allow (naming those it does), or one the
    actor's roles do not allow. `fire` and the side-effect-free preview both ask this."""
    lifecycle = machine.lifecycle
    definition = lifecycle.triggers.get(trigger)
    if definition is None:
        known = ", ".join(sorted(lifecycle.triggers))
        raise InvalidInput(
            f"不明な操作です: {trigger}（使える操作: {known}）",
            f"Unknown action {trigger!r}; known actions: {known}.",
        )
    allowed = machine.triggers_from(head.stage)
    if trigger not in allowed:
        stage = lifecycle.stage_label(head.stage)
        labels = "、".join(lifecycle.triggers[t].ja for t in allowed) or "なし"
        raise TriggerNotAllowed(
            f"「{stage}」の段階では「{definition.ja}」はできません。できる操作: {labels}",
            f"'{trigger}' is not allowed from stage '{head.stage}'; allowed: {', '.join(allowed) or 'none'}.",
            allowed,
        )
    _require_roles(actor, definition.roles, definition.ja)


@cache
def _date_field(input_type: type[BaseModel]) -> str | None:
    """The field that dates an action of this input type, if it has one."""
    return next((f for f in _ACTION_DATE_FIELDS if f in input_type.model_fields), None)


def case_facts(session: Session, head: CaseHead, actor: Staff, parsed: BaseModel) -> DbCaseFacts:
    """The guards' view of the case, dated by the action's own date if its input has one
    (else the facts look up today when a guard asks)."""
    date_field = _date_field(type(parsed))
    assert actor.id is not None
    return DbCaseFacts(
        session,
        case_id=head.id,
        episode=head.episode,
        actor=Actor(actor.id, frozenset(actor.roles)),
        today=getattr(parsed, date_field) if date_field else None,
    )


def fire(
    *,
    session: Session,
    case_id: int,
    trigger: str,
    actor: Staff,
    machine: LifecycleMachine,
    expected_version: int | None = None,
    **data: Any,
) -> Fired:
    """Apply lifecycle `trigger` to a case as `actor`, in one transaction."""
    with _transaction(session):
        head = load_head(session, case_id)
        # A stale version first: whatever else the caller was told (the stage, what it allowed)
        # is out of date too, and "reload it" is the one answer that helps (a second
        # supervisor approving a plan the first just approved gets this, not "not allowed").
        if expected_version is not None and expected_version != head.version:
            raise VersionConflict(
                f"ケース {head.number} は表示後に更新されています（版 {expected_version} → "
                f"{head.version}）。最新の状態を確認してください。",
                f"Case {head.number} changed since version {expected_version} "
                f"(now {head.version}); reload it.",
            )
        refuse_unless_allowed(machine, head, trigger, actor)
        parsed = i.parse_input(i.TRIGGER_INPUTS.get(trigger, i.NoteInput), data, trigger)
        facts = case_facts(session, head, actor, parsed)
        outcome = machine.attempt(
            head.stage, trigger, facts, effects.guard_data(trigger, session, head, parsed)
        )
        if not outcome.accepted:
            raise GuardFailed(outcome.refusals)
        effect = effects.apply(
            trigger, effects.Action(session, head, actor, parsed, machine.lifecycle, outcome.stage)
        )
        event = append_event(
            session,
            head,
            action=trigger,
            to_stage=outcome.stage,
            actor_id=actor.id,
            payload=effect.payload,
            case_updates=effect.case_updates,
        )
    return Fired.of(event)


def _record(
    session: Session,
    case_id: int,
    actor: Staff,
    action: str,
    payload: dict[str, Any],
    machine: LifecycleMachine,
    *,
    open_only: bool = True,
    case_updates: dict[str, Any] | None = None,
) -> AppendedEvent:
    """Append a recorded-only action (no stage change) to a case's history."""
    head = load_head(session, case_id)
    if open_only and head.stage in machine.lifecycle.final_stages:
        raise TriggerNotAllowed(
            f"ケース {head.number} は終結しています。再開してから記録してください。",
            f"Case {head.number} is closed; reopen it first.",
            ("reopen",),
        )
    assert actor.id is not None
    return append_event(
        session,
        head,
        action=action,
        to_stage=head.stage,
        actor_id=actor.id,
        payload=payload,
        case_updates=case_updates,
    )


def open_case(*, session: Session, actor: Staff, machine: LifecycleMachine, **data: Any) -> Fired:
    """受付: create the person (and household), the case with its number, the first contact."""
    _require_roles(actor, _STAFF_ROLES, "ケースの受付")
    parsed = i.parse_input(i.OpenCaseInput, data, "open_case")
    with _transaction(session):
        effects.check_contact(session, parsed.contact)
        if parsed.coordinator_id is not None:
            _staff_with_role(session, parsed.coordinator_id, Role.COORDINATOR)
        household_id = parsed.person.household_id
        if household_id is None:
            household_id = insert_row(
                session, Household, address=parsed.person.address, dv_protected=parsed.person.dv_protected
            )
        elif session.get(Household, household_id) is None:
            raise NotFound(f"世帯 {household_id} は存在しません。", f"No household {household_id}.")
        person_id = insert_row(
            session,
            Person,
            household_id=household_id,
            name=parsed.person.name,
            kana=parsed.person.kana,
            birth_date=parsed.person.birth_date,
        )
        opened_on = parsed.contact.contacted_on
        fy = fiscal_year(opened_on)
        serial = next_serial(session, fy)
        assert actor.id is not None
        number = f"{fiscal_year_short(fy)}-{serial:04d}"
        stage = machine.lifecycle.initial
        case_id = insert_row(
            session,
            Case,
            number=number,
            fiscal_year=fy,
            serial=serial,
            person_id=person_id,
            stage=stage,
            version=1,  # the intake event below is the case's first
            episode=1,
            coordinator_id=parsed.coordinator_id or actor.id,
            desk_id=parsed.contact.desk_id,
            opened_on=opened_on,
        )
        contact_id = effects.add_contact_rows(session, case_id, actor.id, parsed.contact)
        moment = utcnow()
        payload = {"contact_id": contact_id, "person_id": person_id}
        digest = event_hash(
            prev_hash=GENESIS_HASH,
            case_id=case_id,
            seq=1,
            episode=1,
            action="open_case",
            from_stage="",
            to_stage=stage,
            actor_id=actor.id,
            occurred_at=moment,
            payload=payload,
        )
        # The intake event hashes the new case id, so the head is set after the insert.
        session.execute(update(Case).where(col(Case.id) == case_id).values(audit_head=digest))
        insert_event_rows(
            connection(session),
            case_id=case_id,
            number=number,
            seq=1,
            episode=1,
            action="open_case",
            from_stage="",
            to_stage=stage,
            actor_id=actor.id,
            occurred_at=moment,
            payload=payload,
            prev_hash=GENESIS_HASH,
            digest=digest,
        )
    return Fired(case_id, number, "open_case", "", stage, 1)


def add_contact(
    *, session: Session, case_id: int, actor: Staff, machine: LifecycleMachine, **data: Any
) -> Fired:
    """Record another consultation contact (相談延件数), also after closure (アフターフォロー)."""
    _require_roles(actor, _STAFF_ROLES, "相談の記録")
    parsed = i.parse_input(i.ContactInput, data, "add_contact")
    with _transaction(session):
        load_head(session, case_id)  # NotFound, not a foreign-key error, for an unknown case
        effects.check_contact(session, parsed)
        contact_id = effects.add_contact_rows(session, case_id, actor.id, parsed)
        event = _record(
            session, case_id, actor, "add_contact", {"contact_id": contact_id}, machine, open_only=False
        )
    return Fired.of(event)


def give_consent(
    *, session: Session, case_id: int, actor: Staff, machine: LifecycleMachine, **data: Any
) -> Fired:
    """本人同意: record the person's consent and the agencies it covers."""
    _require_roles(actor, _STAFF_ROLES, "本人同意の記録")
    parsed = i.parse_input(i.ConsentInput, data, "give_consent")
    with _transaction(session):
        load_head(session, case_id)
        effects.agency_refs(session, parsed.agency_ids)
        active = session.exec(
            select(Consent).where(Consent.case_id == case_id, col(Consent.withdrawn_on).is_(None))
        ).all()
        for old in active:  # a new consent replaces the previous one
            effects.check_consent_end(session, old, parsed.given_on)
            old.withdrawn_on = parsed.given_on
            old.withdrawn_by = actor.id
        consent_id = insert_row(
            session,
            Consent,
            case_id=case_id,
            given_on=parsed.given_on,
            method=parsed.method,
            recorded_by=key(actor),
            note=parsed.note,
        )
        insert_rows(
            session,
            ConsentAgency,
            ({"consent_id": consent_id, "agency_id": a} for a in dict.fromkeys(parsed.agency_ids)),
        )
        event = _record(
            session,
            case_id,
            actor,
            "give_consent",
            {
                "consent_id": consent_id,
                "agency_ids": sorted(set(parsed.agency_ids)),
                "replaced": [c.id for c in active],
            },
            machine,
        )
    return Fired.of(event)


def log_outreach(
    *, session: Session, case_id: int, actor: Staff, machine: LifecycleMachine, **data: Any
) -> Fired:
    """アウトリーチ: a home visit or attendance at a local meeting for this case."""
    _require_roles(actor, _STAFF_ROLES, "アウトリーチの記録")
    parsed = i.parse_input(i.OutreachInput, data, "log_outreach")
    with _transaction(session):
        load_head(session, case_id)
        outreach_id = insert_row(
            session,
            OutreachActivity,
            case_id=case_id,
            kind=parsed.kind,
            done_on=parsed.done_on,
            staff_id=key(actor),
            note=parsed.note,
        )
        event = _record(
            session,
            case_id,
            actor,
            "log_outreach",
            {"outreach_id": outreach_id, "kind": parsed.kind},
            machine,
        )
    return Fired.of(event)


def enrol_in_program(
    *, session: Session, case_id: int, actor: Staff, machine: LifecycleMachine, **data: Any
) -> Fired:
    """参加支援: enrol the person with a registered provider (短期宿泊 at most one month)."""
    _require_roles(actor, _STAFF_ROLES, "参加支援の登録")
    parsed = i.parse_input(i.EnrolmentInput, data, "enrol_in_program")
    with _transaction(session):
        load_head(session, case_id)
        provider = session.get(ProgramProvider, parsed.provider_id)
        if provider is None:
            raise NotFound(
                f"登録事業所 {parsed.provider_id} は存在しません。",
                f"No registered provider {parsed.provider_id}.",
            )
        if parsed.end_on < parsed.start_on:
            raise InvalidInput("終了日が開始日より前です。", "The end date is before the start date.")
        if provider.program == Program.SHORT_STAY and parsed.end_on > _one_month_after(parsed.start_on):
            raise InvalidInput(
                f"短期宿泊場所提供事業の利用は1か月以内です（{parsed.start_on} からは "
                f"{_one_month_after(parsed.start_on)} まで）。",
                "A short stay (短期宿泊) may last at most one month "
                f"(from {parsed.start_on}: until {_one_month_after(parsed.start_on)}).",
            )
        enrolment_id = insert_row(
            session,
            ProgramEnrolment,
            case_id=case_id,
            provider_id=key(provider),
            program=provider.program,
            start_on=parsed.start_on,
            end_on=parsed.end_on,
        )
        event = _record(
            session,
            case_id,
            actor,
            "enrol_in_program",
            {"enrolment_id": enrolment_id, "program": provider.program},
            machine,
        )
    return Fired.of(event)


def _one_month_after(day: dt.date) -> dt.date:
    return pendulum.Date(day.year, day.month, day.day).add(months=1)


def _staff_with_role(session: Session, staff_id: int, role: str) -> Staff:
    staff = session.get(Staff, staff_id)
    if staff is None or role not in staff.roles:
        raise InvalidInput(
            f"職員 {staff_id} は {role} ではありません。", f"Staff {staff_id} is not a {role}."
        )
    return staff
