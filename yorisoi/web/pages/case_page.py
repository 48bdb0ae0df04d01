"""The case page: the record as the user may see it, and the actions open to them now; and the
print views of its support plans and meeting records (A4 from the browser).

The print views read the case exactly as the case page does (`viewing.view_case`: the same
per-case access, access-logged, the address masked where DV-protected), and show only a plan
or meeting that view holds: a meeting attendee prints the material they may read, no more.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from models.plan import PlanStatus
from models.queries import CaseDetail, PlanView
from yorisoi import labels
from yorisoi.errors import NotFound
from yorisoi.jpdates import era_of, today_tokyo
from yorisoi.service import preview, registry, viewing
from yorisoi.service.access import Access
from yorisoi.web.deps import CurrentUser, MachineDep, SessionDep, viewer_of
from yorisoi.web.templating import render

router = APIRouter()


@router.get("/cases/{number}")
def case_page(
    number: str,
    request: Request,
    session: SessionDep,
    user: CurrentUser,
    machine: MachineDep,
    done: Annotated[str | None, Query(max_length=64)] = None,
) -> Response:
    view = viewing.view_case(session, viewer_of(user), number, channel="web", with_timeline=True)
    detail = view.detail
    full = view.access is Access.FULL
    actions, records, late = [], [], []
    if full:
        late = preview.late_entries(session=session, case_id=detail.id, actor=user, machine=machine)
        actions = preview.available_actions(session=session, case_id=detail.id, actor=user, machine=machine)
        records = [
            spec
            for spec in preview.record_actions(
                session=session, case_id=detail.id, actor=user, machine=machine
            )
            if spec.form is not None
        ]
    draft = detail.current_plan(PlanStatus.DRAFT)
    in_force = detail.current_plan(PlanStatus.APPROVED)
    current = [p for p in (draft, in_force) if p is not None]
    context = {
        "view": view,
        "case": detail,
        "full": full,
        "allowed": [a for a in actions if a.allowed],
        "blocked": [a for a in actions if not a.allowed],
        "records": records,
        "late_entries": late,
        "current_plans": current,
        "older_plans": [p for p in reversed(detail.plans) if p not in current],
        "done_label": registry.label(machine.lifecycle, done) if done else None,
        "case_url": f"/cases/{detail.number}",
    }
    return render(request, "case.html", context)


_PLAN_KEY = re.compile(r"^(?P<episode>\d{1,4})-(?P<version>\d{1,4})$")


def _no_such(what_ja: str, what_en: str, number: str) -> NotFound:
    return NotFound(f"ケース {number} に{what_ja}はありません。", f"Case {number} has no such {what_en}.")


def _era_now() -> str:
    """The era a date written by hand on the printed sheet today falls in (`令和`)."""
    return era_of(today_tokyo()).kanji


def review_on(case: CaseDetail, plan: PlanView) -> dt.date | None:
    """The plan's next review (モニタリング) date: the case's own for the plan in force, else the
    approval date plus the plan's interval; None for a plan never approved."""
    in_force = case.current_plan(PlanStatus.APPROVED)
    if in_force is not None and (in_force.episode, in_force.version) == (plan.episode, plan.version):
        return case.next_monitoring_on
    if plan.approved_on is None:
        return None
    return plan.approved_on + dt.timedelta(days=plan.monitoring_interval_days)


@router.get("/cases/{number}/plans/{key}/print")
def print_plan(number: str, key: str, request: Request, session: SessionDep, user: CurrentUser) -> Response:
    """One support plan (`key` = `{episode}-{version}`, e.g. `1-2`) laid out for A4."""
    view = viewing.view_case(session, viewer_of(user), number, channel="web")
    case = view.detail
    found = _PLAN_KEY.match(key)
    plan = next(
        (
            p
            for p in case.plans
            if found is not None and (p.episode, p.version) == (int(found["episode"]), int(found["version"]))
        ),
        None,
    )
    if plan is None:
        raise _no_such("この支援プラン", "plan", case.number)
    context = {"case": case, "plan": plan, "review_on": review_on(case, plan), "era": _era_now()}
    return render(request, "print_plan.html", context)


@router.get("/cases/{number}/meetings/{meeting_id}/print")
def print_meeting(
    number: str, meeting_id: int, request: Request, session: SessionDep, user: CurrentUser
) -> Response:
    """One 支援会議 / 重層的支援会議 record laid out for A4, with the plans it decided."""
    view = viewing.view_case(session, viewer_of(user), number, channel="web")
    case = view.detail
    meeting = next((m for m in case.meetings if m.id == meeting_id), None)
    if meeting is None:
        raise _no_such("この会議の記録", "meeting", case.number)
    decided = [p for p in case.plans if p.meeting_id == meeting.id]
    context = {
        "case": case,
        "meeting": meeting,
        "kind": labels.MEETING_KINDS_JA.get(meeting.kind, meeting.kind),
        "decided": decided,
        "era": _era_now(),
    }
    return render(request, "print_meeting.html", context)
