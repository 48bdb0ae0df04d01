"""The case service: the one place that changes a case.

Every action — a trigger of the lifecycle, or a record that leaves the stage as it is (a
contact, a consent, outreach …) — goes through `fire`: it checks the actor's permission,
validates the input against the action's model, asks the lifecycle machine, writes the
action's records, the stage, an audit event and an outbox message, and commits: all of it,
or nothing. What each action takes and writes is declared once, in `registry.ACTIONS`.

Dates make sense or nothing is written: no business date in the future (the input models),
none before the case was opened (here), no reopening before the closure, no plan approved at
a meeting held before it was drafted (the effects and guards). A closed case takes a late
entry (後日入力) — a contact, outreach, a meeting, a monitoring record dated on or before its
closure — without being reopened: the stage stays, the action's own rules still hold, and the
audit event is marked `late_entry`. An imported record carries its provenance (`Source`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel
from sqlalchemy import Table, bindparam, select, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from models import Case, Household, Person, Staff
from models.audit import event_hash
from models.case import GENESIS_HASH
from models.db import connection
from models.timestamps import utcnow
from states import ACTION_RULES, GUARDS, Lifecycle, LifecycleMachine, Refusal, Role
from states.guards import Actor
from yorisoi.errors import (
    GuardFailed,
    InvalidInput,
    PermissionDenied,
    TriggerNotAllowed,
    VersionConflict,
)
from yorisoi.jpdates import fiscal_year, fiscal_year_short, western_date
from yorisoi.service import inputs as i
from yorisoi.service import provenance
from yorisoi.service.effects import Act, insert_row
from yorisoi.service.effects.contacts import add_contact_rows, check_contact
from yorisoi.service.facts import DbCaseFacts
from yorisoi.service.journal import (
    CASE_COLUMNS,
    CASE_FACTS,
    AppendedEvent,
    CaseHead,
    append_event,
    as_recorded,
    event_rows,
    insert_event_rows,
    load_head,
)
from yorisoi.service.numbering import next_serial
from yorisoi.service.provenance import Source
from yorisoi.service.registry import ACTIONS, ActionSpec, Step, label, resolve

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
    late_entry: bool = False
    """Added to a closed case without reopening it (後日入力)."""

    @classmethod
    def of(cls, event: AppendedEvent, *, late_entry: bool = False) -> Fired:
        return cls(
            event.case_id, event.number, event.action, event.from_stage, event.to_stage, event.seq, late_entry
        )


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
        message = str(exc.orig)
        if "imported_row" in message:
            raise VersionConflict(
                "この行はすでに取り込まれています（同じファイルの取込が同時に行われた可能性があります）。",
                "This row has been imported already (the same file was being imported at the same time).",
            ) from exc
        if "external_ref" in message:
            raise VersionConflict(
                "同じ台帳番号のケースが同時に作られました。やり直してください。",
                "A case with the same external reference was created at the same time; try again.",
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


def refuse_unless_allowed(machine: LifecycleMachine, head: CaseHead, step: Step, actor: Staff) -> None:
    """Refuse an action the case's stage does not allow (naming those it does) or the actor's
    roles do not allow. `fire` and the side-effect-free preview both ask this."""
    lifecycle = machine.lifecycle
    if head.stage in lifecycle.final_stages and step.spec.late_entry:
        # 後日入力: allowed when dated inside the closed episode, which `fire` checks once the
        # input is read (a contact dated after the closure is アフターフォロー).
        roles = lifecycle.triggers[step.trigger].roles if step.trigger else step.spec.roles
        _require_roles(actor, frozenset(roles), step.spec.ja)
        return
    if step.trigger is None:  # a record action
        if head.stage in lifecycle.final_stages and not step.spec.after_closure:
            raise TriggerNotAllowed(
                f"ケース {head.number} は終結しています。再開してから記録してください。",
                f"Case {head.number} is closed; reopen it first.",
                lifecycle.triggers_of("reopen"),
            )
        _require_roles(actor, step.spec.roles, step.spec.ja)
        return
    definition = lifecycle.triggers[step.trigger]
    allowed = machine.triggers_from(head.stage)
    if step.trigger not in allowed:
        stage = lifecycle.stage_label(head.stage)
        labels = "、".join(lifecycle.triggers[t].ja for t in allowed) or "なし"
        raise TriggerNotAllowed(
            f"「{stage}」の段階では「{definition.ja}」はできません。できる操作: {labels}",
            f"'{step.trigger}' is not allowed from stage '{head.stage}'; "
            f"allowed: {', '.join(allowed) or 'none'}.",
            allowed,
        )
    _require_roles(actor, definition.roles, definition.ja)


def name_for(session: Session, machine: LifecycleMachine, case_id: int, *actions: str) -> str:
    """What to fire for one of `actions` on the case now: a record action or a trigger by its
    own name, a lifecycle action (`approve_plan`) by the trigger the lifecycle offers for it
    from the case's stage — a municipality names its triggers. Refuses, naming what the stage
    does offer, when there is none."""
    lifecycle = machine.lifecycle
    if len(actions) == 1 and (actions[0] in lifecycle.triggers or actions[0] not in ACTION_RULES):
        return actions[0]
    head = load_head(session, case_id)
    session.rollback()
    trigger = machine.trigger_for(head.stage, *actions) or late_entry_trigger(lifecycle, head.stage, *actions)
    if trigger is not None:
        return trigger
    allowed = machine.triggers_from(head.stage)
    what = "・".join(ACTION_RULES[a].ja for a in actions if a in ACTION_RULES)
    offered = "、".join(lifecycle.triggers[t].ja for t in allowed) or "なし"
    raise TriggerNotAllowed(
        f"「{lifecycle.stage_label(head.stage)}」の段階では「{what}」はできません。できる操作: {offered}",
        f"{' / '.join(actions)} is not possible from stage '{head.stage}'; "
        f"allowed: {', '.join(allowed) or 'none'}.",
        allowed,
    )


def late_entry_trigger(lifecycle: Lifecycle, stage: str, *actions: str) -> str | None:
    """On a closed case, the trigger that adds one of `actions` as a late entry (後日入力)."""
    if stage not in lifecycle.final_stages:
        return None
    late = [a for a in actions if a in ACTIONS and ACTIONS[a].late_entry]
    return next(iter(lifecycle.triggers_of(*late)), None)


def _is_late_entry(
    lifecycle: Lifecycle, head: CaseHead, spec: ActionSpec, parsed: BaseModel, what: str
) -> bool:
    """Whether the action is a late entry (後日入力): a closed case, a record dated on or before
    its closure. Dated after it, only a contact may still be added (アフターフォロー)."""
    if head.stage not in lifecycle.final_stages or not spec.late_entry:
        return False
    on = spec.business_date(parsed)  # type: ignore[arg-type]
    if head.closed_on is not None and isinstance(on, dt.date) and on <= head.closed_on:
        return True
    if spec.after_closure:
        return False
    if head.closed_on is None:  # no closure date known (e.g. moved onto a final stage): as before
        raise TriggerNotAllowed(
            f"ケース {head.number} は終結しています。再開してから記録してください。",
            f"Case {head.number} is closed; reopen it first.",
            lifecycle.triggers_of("reopen"),
        )
    raise TriggerNotAllowed(
        f"ケース {head.number} は {western_date(head.closed_on)} に終結しています。"
        f"「{what}」（{western_date(on)}）は終結日より後のため、"
        "再開してから記録してください（終結日以前の記録は、再開せずに後日入力として追加できます）。",
        f"Case {head.number} was closed on {head.closed_on}; a record dated {on} is after the closure: "
        "reopen it first (records dated on or before the closure are added as late entries).",
        lifecycle.triggers_of("reopen"),
    )


def _late_entry_refusals(facts: DbCaseFacts, spec: ActionSpec, data: Mapping[str, Any]) -> list[Refusal]:
    """The rules the action keeps whatever the lifecycle says (`states.ACTION_RULES`): they hold
    for a late entry too (a 支援会議's 守秘義務, a 重層的支援会議's consent)."""
    rule = ACTION_RULES.get(spec.name)
    guards = sorted(rule.guards) if rule else []
    return [refusal for name in guards if (refusal := GUARDS[name](facts, data)) is not None]


def case_facts(
    session: Session, head: CaseHead, actor: Staff, spec: ActionSpec, parsed: BaseModel
) -> DbCaseFacts:
    """The guards' view of the case, dated by the action's own date if it has one (else the
    facts look up today when a guard asks)."""
    assert actor.id is not None
    return DbCaseFacts(
        session,
        case_id=head.id,
        episode=head.episode,
        actor=Actor(actor.id, frozenset(actor.roles)),
        today=spec.business_date(parsed),  # type: ignore[arg-type]
    )


def _check_version(head: CaseHead, expected_version: int | None) -> None:
    if expected_version is not None and expected_version != head.version:
        raise VersionConflict(
            f"ケース {head.number} は表示後に更新されています（版 {expected_version} → "
            f"{head.version}）。最新の状態を確認してください。",
            f"Case {head.number} changed since version {expected_version} (now {head.version}); reload it.",
        )


def _check_date(head: CaseHead, spec: ActionSpec, parsed: BaseModel, what: str) -> None:
    """Nothing is recorded as having happened before the case was opened."""
    on = spec.business_date(parsed)  # type: ignore[arg-type]
    if isinstance(on, dt.date) and head.opened_on is not None and on < head.opened_on:
        raise InvalidInput(
            f"「{what}」の日付（{western_date(on)}）がケース {head.number} の受付日"
            f"（{western_date(head.opened_on)}）より前です。"
            "受付日以降の日付にしてください。",
            f"The date of {spec.name} ({on}) is before case {head.number} was opened ({head.opened_on}).",
        )


def _payload(spec: ActionSpec, parsed: BaseModel, written: dict[str, Any]) -> dict[str, Any]:
    """The audit payload: what the effect wrote, the action's business date and its memo."""
    payload = dict(written)
    day = spec.business_date(parsed)  # type: ignore[arg-type]
    if isinstance(day, dt.date):
        payload["on"] = day.isoformat()
    memo = spec.memo_of(parsed)  # type: ignore[arg-type]
    if memo:
        payload["note"] = memo
    return payload


def fire(
    *,
    session: Session,
    case_id: int,
    action: str,
    actor: Staff,
    machine: LifecycleMachine,
    expected_version: int | None = None,
    input: BaseModel | None = None,
    source: Source | None = None,
    **data: Any,
) -> Fired:
    """Take `action` — a trigger of the lifecycle, or a record action — on a case as `actor`,
    in one transaction. The input is `input` (already an instance of the action's model, e.g.
    an API body) or the keyword arguments, validated here; `source` marks an imported row."""
    step = resolve(machine.lifecycle, action)
    spec = step.spec
    with _transaction(session):
        head = load_head(session, case_id)
        # A stale version first: whatever else the caller was told (the stage, what it allowed)
        # is out of date too, and "reload it" is the one answer that helps (a second
        # supervisor approving a plan the first just approved gets this, not "not allowed").
        _check_version(head, expected_version)
        refuse_unless_allowed(machine, head, step, actor)
        what = label(machine.lifecycle, action)
        parsed = i.parse_input(spec.input, input if input is not None else data, action, what)
        _check_date(head, spec, parsed, what)
        late = _is_late_entry(machine.lifecycle, head, spec, parsed, what)
        to_stage = head.stage
        if step.trigger is not None:
            facts = case_facts(session, head, actor, spec, parsed)
            if late:
                refusals = _late_entry_refusals(facts, spec, spec.facts(session, head, parsed))
                if refusals:
                    raise GuardFailed(refusals)
            else:
                outcome = machine.attempt(head.stage, step.trigger, facts, spec.facts(session, head, parsed))
                if not outcome.accepted:
                    raise GuardFailed(outcome.refusals)
                to_stage = outcome.stage
        effect = spec.effect(Act(session, head, actor, parsed, machine.lifecycle, to_stage))
        payload = _payload(spec, parsed, effect.payload)
        if late:  # the closed case stays as it is: no monitoring date, no episode change
            payload["late_entry"] = True
        if source is not None:
            payload["import"] = source.payload()
        event = append_event(
            session,
            head,
            action=action,
            to_stage=to_stage,
            actor_id=actor.id,
            payload=payload,
            case_updates={} if late else effect.case_updates,
        )
        if source is not None:
            provenance.remember(session, source, head.id, event.seq)
    return Fired.of(event, late_entry=late)


def open_case(
    *,
    session: Session,
    actor: Staff,
    machine: LifecycleMachine,
    input: BaseModel | None = None,
    source: Source | None = None,
    **data: Any,
) -> Fired:
    """受付: create the person (and household), the case with its number, the first contact;
    `source` marks the row of an import it came from."""
    _require_roles(actor, _STAFF_ROLES, "ケースの受付")
    parsed = i.parse_input(i.OpenCaseInput, input if input is not None else data, "open_case", "受付")
    with _transaction(session):
        check_contact(session, parsed.contact)
        if parsed.external_ref is not None:
            _refuse_taken_ref(session, parsed.external_ref)
        if parsed.coordinator_id is not None:
            _staff_with_role(session, parsed.coordinator_id, Role.COORDINATOR)
        household_id = parsed.person.household_id
        if household_id is None:
            household_id = insert_row(
                session, Household, address=parsed.person.address, dv_protected=parsed.person.dv_protected
            )
        elif not _may_join_household(session, actor, household_id):
            raise InvalidInput(
                f"世帯 {household_id} には追加できません（存在しないか、この世帯のケースを閲覧する権限が"
                "ありません。世帯への追加は、その世帯のケースの担当・チーム、またはスーパーバイザーのみ）。",
                f"Cannot join household {household_id}: it does not exist, or you may not see any of its "
                "cases (only their coordinators, their teams and supervisors may add to a household).",
            )
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
        case_values: dict[str, Any] = {
            "person_id": person_id,
            "opened_on": opened_on,
            "coordinator_id": parsed.coordinator_id or actor.id,
            "desk_id": parsed.contact.desk_id,
            "episode": 1,
            "lifecycle_version": machine.lifecycle.version or 1,
            "closed_on": None,
            "next_monitoring_on": None,
            "overdue": False,
        }
        case_id = insert_row(
            session,
            Case,
            number=number,
            fiscal_year=fy,
            serial=serial,
            stage=stage,
            version=1,  # the intake event below is the case's first
            external_ref=parsed.external_ref,
            **case_values,
        )
        contact_id = add_contact_rows(session, case_id, actor.id, parsed.contact, parsed.contact.desk_id)
        moment = utcnow()
        payload: dict[str, Any] = {
            "contact_id": contact_id,
            "person_id": person_id,
            "on": opened_on.isoformat(),
            # The case row as opened: `audit verify` replays it from here.
            CASE_FACTS: as_recorded({name: case_values[name] for name in CASE_COLUMNS}),
        }
        if parsed.contact.outreach_visit:
            payload["outreach_visit"] = True
        if source is not None:
            payload["import"] = source.payload()
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
        # The intake event hashes the new case's id: its head is set after the insert.
        connection(session).execute(_SET_AUDIT_HEAD, {"case_id": case_id, "digest": digest})
        opening = event_rows(
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
        insert_event_rows(connection(session), [opening])
        if source is not None:
            provenance.remember(session, source, case_id, 1)
    return Fired(case_id, number, "open_case", "", stage, 1)


def _may_join_household(session: Session, actor: Staff, household_id: int) -> bool:
    """A person joins an existing household (and sees its address) only through a case of it the
    actor may see in full, or by a supervisor. A missing household answers the same as a
    forbidden one, so walking ids tells nothing."""
    from models import caseload
    from yorisoi.service.access import Access, Viewer, access_to

    if session.get(Household, household_id) is None:
        return False
    if Role.SUPERVISOR in actor.roles:
        return True
    assert actor.id is not None
    viewer = Viewer(actor.id, actor.login, frozenset(actor.roles), actor.team, actor.active)
    for case_id in caseload.household_case_ids(session, household_id):
        facts = caseload.access_facts(session, case_id, actor.id)
        if facts is not None and access_to(viewer, facts) is Access.FULL:
            return True
    return False


_case_table: Table = Case.__table__  # type: ignore[attr-defined]
_SET_AUDIT_HEAD = (
    update(_case_table).where(_case_table.c.id == bindparam("case_id")).values(audit_head=bindparam("digest"))
)


_FIND_REF = select(_case_table.c.number).where(_case_table.c.external_ref == bindparam("ref"))


def _refuse_taken_ref(session: Session, ref: str) -> None:
    taken = connection(session).execute(_FIND_REF, {"ref": ref}).scalar()
    if taken is not None:
        raise InvalidInput(
            f"台帳番号 {ref} のケースはすでにあります（{taken}）。",
            f"A case with the external reference {ref} already exists ({taken}).",
        )


def _staff_with_role(session: Session, staff_id: int, role: str) -> Staff:
    staff = session.get(Staff, staff_id)
    if staff is None or role not in staff.roles:
        raise InvalidInput(
            f"職員 {staff_id} は {role} ではありません。", f"Staff {staff_id} is not a {role}."
        )
    return staff
