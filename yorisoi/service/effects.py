"""What each trigger writes besides the stage: meetings, plans, monitoring, closures.

Each trigger has two steps. `guard_data` turns the validated input into what the guards
read (agencies resolved to names, unknown ids refused). `apply` runs only after the machine
accepted the transition, inside the same transaction, and returns the audit payload and the
case columns to update. A trigger from a municipality's own lifecycle with no entry here
simply changes the stage.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from pydantic import BaseModel
from sqlalchemy import func, update
from sqlmodel import Session, col, select

from models import (
    Agency,
    Closure,
    Consent,
    Contact,
    ContactTopic,
    ExternalPlanRef,
    Meeting,
    MeetingAttendee,
    MonitoringRecord,
    Plan,
    PlanGoal,
    RoleAssignment,
    Staff,
)
from models.closure import ClosureStatus
from models.keys import key
from models.plan import PlanStatus
from states import Lifecycle, MeetingKind
from states.guards import AgencyRef, Attendee
from yorisoi.errors import InvalidInput
from yorisoi.service import inputs as i
from yorisoi.service.journal import CaseHead
from yorisoi.service.prepared import insert_row, insert_rows
from yorisoi.settings import get_settings


@dataclass
class Action:
    """One accepted action, as `apply` functions see it."""

    session: Session
    head: CaseHead
    actor: Staff
    data: Any
    lifecycle: Lifecycle
    to_stage: str


@dataclass
class Effect:
    payload: dict[str, Any] = field(default_factory=dict)
    case_updates: dict[str, Any] = field(default_factory=dict)


def agency_refs(session: Session, ids: Iterable[int]) -> dict[int, AgencyRef]:
    """Resolve agency ids to names; refuse unknown ones."""
    wanted = set(ids)
    if not wanted:
        return {}
    found = {
        a_id: AgencyRef(a_id, name)
        for a_id, name in session.exec(select(Agency.id, Agency.name).where(col(Agency.id).in_(wanted))).all()
        if a_id is not None
    }
    missing = sorted(wanted - set(found))
    if missing:
        raise InvalidInput(f"登録されていない関係機関です: {missing}", f"Unknown agency id(s): {missing}")
    return found


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


def add_contact_rows(session: Session, case_id: int, actor_id: int | None, contact: i.ContactInput) -> int:
    contact_id = insert_row(
        session,
        Contact,
        case_id=case_id,
        contacted_on=contact.contacted_on,
        desk_id=contact.desk_id,
        referrer=contact.referrer,
        method=contact.method,
        staff_id=actor_id,
        note=contact.note,
    )
    insert_rows(session, ContactTopic, ({"contact_id": contact_id, "topic": t} for t in contact.topics))
    return contact_id


# --- guard data --------------------------------------------------------------------------


def _check_staff(session: Session, ids: Iterable[int]) -> None:
    """Refuse unknown staff ids here: at insert they would surface as a foreign-key error."""
    wanted = set(ids)
    if not wanted:
        return
    found = set(session.exec(select(Staff.id).where(col(Staff.id).in_(wanted))).all())
    missing = sorted(wanted - found)
    if missing:
        raise InvalidInput(f"登録されていない職員です: {missing}", f"Unknown staff id(s): {missing}")


def _meeting_guard_data(session: Session, head: CaseHead, data: i.MeetingInput) -> dict[str, Any]:
    refs = agency_refs(session, (a.agency_id for a in data.attendees if a.agency_id))
    _check_staff(session, (a.staff_id for a in data.attendees if a.staff_id is not None))
    attendees = [
        Attendee(a.name, refs[a.agency_id] if a.agency_id else None, a.acknowledged_confidentiality)
        for a in data.attendees
    ]
    return {"held_on": data.held_on, "attendees": attendees}


def _current_plan(session: Session, head: CaseHead, status: str) -> Plan | None:
    return session.exec(
        select(Plan)
        .where(Plan.case_id == head.id, Plan.episode == head.episode, Plan.status == status)
        .order_by(col(Plan.version).desc())
    ).first()


def _plan_agency_ids(session: Session, head: CaseHead, data: i.PlanInput) -> list[int]:
    if data.roles:
        return [r.agency_id for r in data.roles]
    approved = _current_plan(session, head, PlanStatus.APPROVED)
    if approved is None:
        return []
    return list(
        session.exec(select(RoleAssignment.agency_id).where(RoleAssignment.plan_id == approved.id)).all()
    )


def _plan_guard_data(session: Session, head: CaseHead, data: i.PlanInput) -> dict[str, Any]:
    refs = agency_refs(session, _plan_agency_ids(session, head, data))
    agency_refs(session, (e.agency_id for e in data.external_plans if e.agency_id is not None))
    return {"agencies": list(refs.values())}


class _InputView(Mapping[str, Any]):
    """The validated input as the guards' mapping, read field by field only if a guard asks."""

    __slots__ = ("_input",)

    def __init__(self, parsed: BaseModel) -> None:
        self._input = parsed

    def __getitem__(self, name: str) -> Any:
        if name not in type(self._input).model_fields:
            raise KeyError(name)
        return getattr(self._input, name)

    def __iter__(self) -> Iterator[str]:
        return iter(type(self._input).model_fields)

    def __len__(self) -> int:
        return len(type(self._input).model_fields)


def _as_mapping(session: Session, head: CaseHead, data: Any) -> Mapping[str, Any]:
    return _InputView(data)


# --- effects -----------------------------------------------------------------------------


def _hold_meeting(kind: str) -> Callable[[Action], Effect]:
    def apply(action: Action) -> Effect:
        data: i.MeetingInput = action.data
        meeting_id = insert_row(
            action.session,
            Meeting,
            case_id=action.head.id,
            kind=kind,
            held_on=data.held_on,
            title=data.title,
            decisions=data.decisions,
            recorded_by=key(action.actor),
        )
        insert_rows(
            action.session,
            MeetingAttendee,
            (
                {
                    "meeting_id": meeting_id,
                    "name": a.name,
                    "agency_id": a.agency_id,
                    "staff_id": a.staff_id,
                    "confidentiality_acknowledged": a.acknowledged_confidentiality,
                }
                for a in data.attendees
            ),
        )
        return Effect(
            {
                "meeting_id": meeting_id,
                "kind": kind,
                "held_on": str(data.held_on),
                "attendees": len(data.attendees),
            }
        )

    return apply


def _write_plan(action: Action, *, copy_from: Plan | None) -> Effect:
    data: i.PlanInput = action.data
    session, head = action.session, action.head
    for draft in session.exec(
        select(Plan).where(Plan.case_id == head.id, Plan.status == PlanStatus.DRAFT)
    ).all():
        draft.status = PlanStatus.SUPERSEDED
    last_version = max(session.exec(select(Plan.version).where(Plan.case_id == head.id)).all(), default=0)
    interval = (
        data.monitoring_interval_days
        or (copy_from.monitoring_interval_days if copy_from else None)
        or action.lifecycle.monitoring_interval_days
    )
    goals = [{"problem": g.problem, "goal": g.goal} for g in data.goals]
    roles = [{"agency_id": r.agency_id, "role": r.role, "is_lead": r.is_lead} for r in data.roles]
    refs = [{"kind": e.kind, "agency_id": e.agency_id, "note": e.note} for e in data.external_plans]
    if copy_from is not None:  # a revision keeps what it does not replace
        goals = goals or [
            {"problem": g.problem, "goal": g.goal}
            for g in session.exec(select(PlanGoal).where(PlanGoal.plan_id == copy_from.id)).all()
        ]
        roles = roles or [
            {"agency_id": r.agency_id, "role": r.role, "is_lead": r.is_lead}
            for r in session.exec(select(RoleAssignment).where(RoleAssignment.plan_id == copy_from.id)).all()
        ]
        refs = refs or [
            {"kind": e.kind, "agency_id": e.agency_id, "note": e.note}
            for e in session.exec(
                select(ExternalPlanRef).where(ExternalPlanRef.plan_id == copy_from.id)
            ).all()
        ]
    if not goals:
        raise InvalidInput("支援プランには目標が1つ以上必要です。", "A plan needs at least one goal.")
    if sum(bool(r["is_lead"]) for r in roles) > 1:
        raise InvalidInput("主担当の機関は1つだけ指定してください。", "Name at most one lead agency.")
    version = last_version + 1
    plan_id = insert_row(
        session,
        Plan,
        case_id=head.id,
        episode=head.episode,
        version=version,
        status=PlanStatus.DRAFT,
        author_id=key(action.actor),
        drafted_on=data.drafted_on,
        household_goal=data.household_goal or (copy_from.household_goal if copy_from else ""),
        monitoring_interval_days=interval,
    )
    for model, rows in ((PlanGoal, goals), (RoleAssignment, roles), (ExternalPlanRef, refs)):
        insert_rows(session, model, ({**row, "plan_id": plan_id} for row in rows))
    return Effect({"plan_id": plan_id, "version": version})


def _draft_plan(action: Action) -> Effect:
    return _write_plan(action, copy_from=None)


def _revise_plan(action: Action) -> Effect:
    current = _current_plan(action.session, action.head, PlanStatus.APPROVED)
    return _write_plan(action, copy_from=current)


def _approve_plan(action: Action) -> Effect:
    data: i.ApprovePlanInput = action.data
    session, head = action.session, action.head
    plan = _current_plan(session, head, PlanStatus.DRAFT)
    assert plan is not None  # the plan_drafted guard holds
    for old in session.exec(
        select(Plan).where(Plan.case_id == head.id, Plan.status == PlanStatus.APPROVED)
    ).all():
        old.status = PlanStatus.SUPERSEDED
    plan.status = PlanStatus.APPROVED
    plan.approved_by = action.actor.id
    plan.approved_on = data.approved_on
    plan.meeting_id = data.meeting_id
    next_on = data.approved_on + dt.timedelta(days=plan.monitoring_interval_days)
    return Effect(
        {
            "plan_id": plan.id,
            "version": plan.version,
            "meeting_id": data.meeting_id,
            "author_id": plan.author_id,
        },
        {"next_monitoring_on": next_on, "overdue": False},
    )


def _record_monitoring(action: Action) -> Effect:
    data: i.MonitoringInput = action.data
    session, head = action.session, action.head
    plan = _current_plan(session, head, PlanStatus.APPROVED)
    if plan is None:
        raise InvalidInput("承認済みの支援プランがありません。", "There is no approved plan.")
    if plan.approved_on is not None and data.held_on < plan.approved_on:
        raise InvalidInput(
            f"モニタリング実施日（{data.held_on}）が支援プラン第{plan.version}版の承認日"
            f"（{plan.approved_on}）より前です。",
            f"The monitoring date ({data.held_on}) is before plan version {plan.version} "
            f"was approved ({plan.approved_on}).",
        )
    next_on = data.next_on or data.held_on + dt.timedelta(days=plan.monitoring_interval_days)
    if next_on <= data.held_on:
        raise InvalidInput(
            "次回モニタリング日は実施日より後にしてください。",
            "The next monitoring date must come after this one.",
        )
    monitoring_id = insert_row(
        session,
        MonitoringRecord,
        case_id=head.id,
        plan_id=key(plan),
        held_on=data.held_on,
        summary=data.summary,
        next_on=next_on,
        recorded_by=key(action.actor),
    )
    return Effect(
        {"monitoring_id": monitoring_id, "next_on": str(next_on)},
        {"next_monitoring_on": next_on, "overdue": False},
    )


def check_consent_end(session: Session, consent: Consent, end_on: dt.date) -> None:
    """Refuse to end a consent (withdrawn or replaced) before a step that relied on it.

    A consent is active on day D when given_on <= D < end. Ending it on or before the day of a
    重層的支援会議 or plan step taken under it would leave that step, after the fact, without
    consent; ending it before it was given makes no sense at all.
    """
    if end_on < consent.given_on:
        raise InvalidInput(
            f"同意の終了日 {end_on} が同意日 {consent.given_on} より前です。",
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
                f"{consent.given_on} の本人同意に基づく{ja}（{last}）があるため、同意の終了日は"
                f" {last + dt.timedelta(days=1)} 以降にしてください。",
                f"The consent given on {consent.given_on} cannot end on {end_on}: {en} on {last}"
                f" relied on it; use {last + dt.timedelta(days=1)} or later.",
            )


def _withdraw_consent(action: Action) -> Effect:
    data: i.WithdrawConsentInput = action.data
    session, head = action.session, action.head
    active = col(Consent.case_id) == head.id, col(Consent.withdrawn_on).is_(None)
    for consent in session.exec(select(Consent).where(*active)).all():
        check_consent_end(session, consent, data.withdrawn_on)
    result = session.execute(
        update(Consent).where(*active).values(withdrawn_on=data.withdrawn_on, withdrawn_by=action.actor.id)
    )
    updates: dict[str, Any] = {}
    if action.to_stage != head.stage:
        updates = {"next_monitoring_on": None, "overdue": False}
    return Effect({"withdrawn_on": str(data.withdrawn_on), "consents": result.rowcount}, updates)  # type: ignore[attr-defined]


def _propose_closure(action: Action) -> Effect:
    data: i.ProposeClosureInput = action.data
    closure_id = insert_row(
        action.session,
        Closure,
        case_id=action.head.id,
        episode=action.head.episode,
        reason=data.reason,
        reason_text=data.reason_text,
        evaluation=data.evaluation,
        status=ClosureStatus.PROPOSED,
        proposed_by=key(action.actor),
        proposed_on=data.proposed_on,
    )
    return Effect({"closure_id": closure_id, "reason": data.reason})


def _decide_closure(status: str) -> Callable[[Action], Effect]:
    def apply(action: Action) -> Effect:
        data: i.DecideClosureInput = action.data
        closure = action.session.exec(
            select(Closure).where(
                Closure.case_id == action.head.id,
                Closure.episode == action.head.episode,
                Closure.status == ClosureStatus.PROPOSED,
            )
        ).one()
        closure.status = status
        closure.decided_by = action.actor.id
        closure.decided_on = data.decided_on
        closure.decision_note = data.note
        updates: dict[str, Any] = {}
        if status == ClosureStatus.APPROVED:
            updates = {"closed_on": data.decided_on, "next_monitoring_on": None, "overdue": False}
        return Effect(
            {"closure_id": closure.id, "reason": closure.reason, "proposed_by": closure.proposed_by}, updates
        )

    return apply


def _reopen(action: Action) -> Effect:
    data: i.ReopenInput = action.data
    check_contact(action.session, data.contact)
    contact_id = add_contact_rows(action.session, action.head.id, action.actor.id, data.contact)
    episode = action.head.episode + 1
    return Effect({"episode": episode, "contact_id": contact_id}, {"episode": episode, "closed_on": None})


def _nothing(action: Action) -> Effect:
    return Effect({"note": action.data.note} if getattr(action.data, "note", "") else {})


GuardDataBuilder = Callable[[Session, CaseHead, Any], Mapping[str, Any]]

GUARD_DATA: dict[str, GuardDataBuilder] = {
    "hold_support_meeting": _meeting_guard_data,
    "hold_multilayer_meeting": _meeting_guard_data,
    "draft_plan": _plan_guard_data,
    "revise_plan": _plan_guard_data,
}

APPLY: dict[str, Callable[[Action], Effect]] = {
    "hold_support_meeting": _hold_meeting(MeetingKind.SUPPORT),
    "hold_multilayer_meeting": _hold_meeting(MeetingKind.MULTILAYER),
    "draft_plan": _draft_plan,
    "revise_plan": _revise_plan,
    "approve_plan": _approve_plan,
    "record_monitoring": _record_monitoring,
    "withdraw_consent": _withdraw_consent,
    "propose_closure": _propose_closure,
    "reject_closure": _decide_closure(ClosureStatus.REJECTED),
    "approve_closure": _decide_closure(ClosureStatus.APPROVED),
    "reopen": _reopen,
}


def guard_data(trigger: str, session: Session, head: CaseHead, data: Any) -> Mapping[str, Any]:
    return GUARD_DATA.get(trigger, _as_mapping)(session, head, data)


def apply(trigger: str, action: Action) -> Effect:
    return APPLY.get(trigger, _nothing)(action)
