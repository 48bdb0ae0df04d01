"""支援プラン: drafts and revisions (new versions), approval, sending back (差戻し), monitoring."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from sqlalchemy import update
from sqlmodel import Session, col, select

from models import ExternalPlanRef, MonitoringRecord, Plan, PlanGoal, RoleAssignment
from models.keys import key
from models.plan import PlanStatus, current_plan
from yorisoi.errors import InvalidInput
from yorisoi.jpdates import western_date
from yorisoi.service import inputs as i
from yorisoi.service.effects import Act, Effect, add_row, agency_refs
from yorisoi.service.journal import CaseHead


def _current(session: Session, head: CaseHead, status: str) -> Plan | None:
    return session.exec(current_plan(head.id, head.episode, status)).first()


def _supersede(session: Session, head: CaseHead, status: PlanStatus) -> list[int]:
    """Mark the case's plans with `status` superseded; their ids go into the audit payload."""
    rows = session.exec(select(Plan).where(Plan.case_id == head.id, Plan.status == status)).all()
    ids = sorted(key(p) for p in rows)
    if ids:
        session.execute(update(Plan).where(col(Plan.id).in_(ids)).values(status=PlanStatus.SUPERSEDED))
    return ids


def _plan_agency_ids(session: Session, head: CaseHead, data: i.PlanInput) -> list[int]:
    if data.roles:
        return [r.agency_id for r in data.roles]
    approved = _current(session, head, PlanStatus.APPROVED)
    if approved is None:
        return []
    return list(
        session.exec(select(RoleAssignment.agency_id).where(RoleAssignment.plan_id == approved.id)).all()
    )


def facts(session: Session, head: CaseHead, data: i.PlanInput) -> Mapping[str, Any]:
    """The guards read the agencies the plan gives roles to (a revision keeps the current ones)."""
    refs = agency_refs(session, _plan_agency_ids(session, head, data))
    agency_refs(session, (e.agency_id for e in data.external_plans if e.agency_id is not None))
    return {"agencies": list(refs.values())}


def _write(act: Act[i.PlanInput], *, copy_from: Plan | None) -> Effect:
    data, session, head = act.data, act.session, act.head
    superseded = _supersede(session, head, PlanStatus.DRAFT)
    last_version = max(session.exec(select(Plan.version).where(Plan.case_id == head.id)).all(), default=0)
    interval = (
        data.monitoring_interval_days
        or (copy_from.monitoring_interval_days if copy_from else None)
        or act.lifecycle.monitoring_interval_days
    )
    goals = [(g.problem, g.goal) for g in data.goals]
    roles = [(r.agency_id, r.role, r.is_lead) for r in data.roles]
    refs = [(e.kind, e.agency_id, e.note) for e in data.external_plans]
    if copy_from is not None:  # a revision keeps what it does not replace
        goals = goals or [
            (g.problem, g.goal)
            for g in session.exec(select(PlanGoal).where(PlanGoal.plan_id == copy_from.id)).all()
        ]
        roles = roles or [
            (r.agency_id, r.role, r.is_lead)
            for r in session.exec(select(RoleAssignment).where(RoleAssignment.plan_id == copy_from.id)).all()
        ]
        refs = refs or [
            (e.kind, e.agency_id, e.note)
            for e in session.exec(
                select(ExternalPlanRef).where(ExternalPlanRef.plan_id == copy_from.id)
            ).all()
        ]
    if not goals:
        raise InvalidInput("支援プランには目標が1つ以上必要です。", "A plan needs at least one goal.")
    if sum(is_lead for _agency, _role, is_lead in roles) > 1:
        raise InvalidInput("主担当の機関は1つだけ指定してください。", "Name at most one lead agency.")
    version = last_version + 1
    plan_id = add_row(
        session,
        Plan(
            case_id=head.id,
            episode=head.episode,
            version=version,
            status=PlanStatus.DRAFT,
            author_id=key(act.actor),
            drafted_on=data.drafted_on,
            household_goal=data.household_goal or (copy_from.household_goal if copy_from else ""),
            monitoring_interval_days=interval,
        ),
    )
    session.add_all(PlanGoal(plan_id=plan_id, problem=problem, goal=goal) for problem, goal in goals)
    session.add_all(
        RoleAssignment(plan_id=plan_id, agency_id=agency_id, role=role, is_lead=is_lead)
        for agency_id, role, is_lead in roles
    )
    session.add_all(
        ExternalPlanRef(plan_id=plan_id, kind=kind, agency_id=agency_id, note=note)
        for kind, agency_id, note in refs
    )
    return Effect(
        {
            "plan_id": plan_id,
            "version": version,
            "status": PlanStatus.DRAFT.value,
            "author_id": key(act.actor),
            "drafted_on": data.drafted_on.isoformat(),
            "monitoring_interval_days": interval,
            "superseded": superseded,
        }
    )


def draft(act: Act[i.PlanInput]) -> Effect:
    return _write(act, copy_from=None)


def revise(act: Act[i.PlanInput]) -> Effect:
    return _write(act, copy_from=_current(act.session, act.head, PlanStatus.APPROVED))


def approve(act: Act[i.ApprovePlanInput]) -> Effect:
    data, session, head = act.data, act.session, act.head
    plan = _current(session, head, PlanStatus.DRAFT)
    assert plan is not None  # the plan_drafted guard holds
    superseded = _supersede(session, head, PlanStatus.APPROVED)
    plan.status = PlanStatus.APPROVED
    plan.approved_by = act.actor.id
    plan.approved_on = data.approved_on
    plan.meeting_id = data.meeting_id
    next_on = data.approved_on + dt.timedelta(days=plan.monitoring_interval_days)
    return Effect(
        {
            "plan_id": plan.id,
            "version": plan.version,
            "meeting_id": data.meeting_id,
            "author_id": plan.author_id,
            "status": PlanStatus.APPROVED.value,
            "approved_by": act.actor_id,
            "approved_on": data.approved_on.isoformat(),
            "superseded": superseded,
        },
        {"next_monitoring_on": next_on, "overdue": False},
    )


def send_back(act: Act[i.ReturnPlanInput]) -> Effect:
    """差戻し: the draft goes back to its author with the reason; a new version is needed."""
    data, session = act.data, act.session
    plan = _current(session, act.head, PlanStatus.DRAFT)
    assert plan is not None  # the plan_drafted guard holds
    if data.returned_on < plan.drafted_on:
        raise InvalidInput(
            f"差戻し日（{western_date(data.returned_on)}）が支援プラン第{plan.version}版の作成日"
            f"（{western_date(plan.drafted_on)}）より前です。",
            f"The return date ({data.returned_on}) is before plan version {plan.version} was drafted "
            f"({plan.drafted_on}).",
        )
    plan.status = PlanStatus.RETURNED
    plan.returned_by = act.actor.id
    plan.returned_on = data.returned_on
    plan.return_reason = data.reason
    return Effect(
        {
            "plan_id": plan.id,
            "version": plan.version,
            "author_id": plan.author_id,
            "status": PlanStatus.RETURNED.value,
            "returned_by": act.actor_id,
            "returned_on": data.returned_on.isoformat(),
        }
    )


def record_monitoring(act: Act[i.MonitoringInput]) -> Effect:
    data, session, head = act.data, act.session, act.head
    plan = _current(session, head, PlanStatus.APPROVED)
    if plan is None:
        raise InvalidInput("承認済みの支援プランがありません。", "There is no approved plan.")
    if plan.approved_on is not None and data.held_on < plan.approved_on:
        raise InvalidInput(
            f"モニタリング実施日（{western_date(data.held_on)}）が支援プラン第{plan.version}版の承認日"
            f"（{western_date(plan.approved_on)}）より前です。",
            f"The monitoring date ({data.held_on}) is before plan version {plan.version} "
            f"was approved ({plan.approved_on}).",
        )
    next_on = data.next_on or data.held_on + dt.timedelta(days=plan.monitoring_interval_days)
    if next_on <= data.held_on:
        raise InvalidInput(
            "次回モニタリング日は実施日より後にしてください。",
            "The next monitoring date must come after this one.",
        )
    monitoring_id = add_row(
        session,
        MonitoringRecord(
            case_id=head.id,
            plan_id=key(plan),
            held_on=data.held_on,
            summary=data.summary,
            next_on=next_on,
            recorded_by=key(act.actor),
        ),
    )
    return Effect(
        {"monitoring_id": monitoring_id, "next_on": str(next_on)},
        {"next_monitoring_on": next_on, "overdue": False},
    )
