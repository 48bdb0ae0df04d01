"""The access policy as pure rules, and the list query built from the same decision."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Engine
from sqlmodel import Session

from models import caselists, caseload, queries
from models.caseload import AttendedMeeting, CaseAccessFacts
from tests.web.conftest import Web
from tests.web.helpers import attendees, intake, ok
from yorisoi.service.access import Access, Viewer, access_to, list_scope, redact

CASE = CaseAccessFacts(case_id=1, coordinator_id=10, coordinator_team="中央")


def viewer(*roles: str, id: int = 20, team: str | None = None, active: bool = True) -> Viewer:
    return Viewer(id, f"staff{id}", frozenset(roles), team, active)


def test_access_supervisors_and_auditors_see_every_case() -> None:
    assert access_to(viewer("supervisor"), CASE) is Access.FULL
    assert access_to(viewer("auditor"), CASE) is Access.FULL


def test_access_coordinator_sees_own_and_team_cases_only() -> None:
    assert access_to(viewer("coordinator", id=10), CASE) is Access.FULL
    assert access_to(viewer("coordinator", team="中央"), CASE) is Access.FULL
    assert access_to(viewer("coordinator", team="東部"), CASE) is Access.NONE
    assert access_to(viewer("coordinator"), CASE) is Access.NONE
    # A team is shared between coordinators, not conferred by agency membership.
    assert access_to(viewer("agency_member", team="中央"), CASE) is Access.NONE


def test_access_meeting_attendees_get_meeting_material_only() -> None:
    attended = CaseAccessFacts(1, 10, None, (AttendedMeeting(5, "multilayer_meeting", False),))
    assert access_to(viewer("agency_member"), attended) is Access.MEETING
    unbound = CaseAccessFacts(1, 10, None, (AttendedMeeting(5, "support_meeting", False),))
    assert access_to(viewer("agency_member"), unbound) is Access.NONE
    bound = CaseAccessFacts(1, 10, None, (AttendedMeeting(5, "support_meeting", True),))
    assert access_to(viewer("agency_member"), bound) is Access.MEETING


def test_access_deactivated_staff_see_nothing() -> None:
    assert access_to(viewer("supervisor", active=False), CASE) is Access.NONE


def test_redact_keeps_only_the_attended_meetings(web: Web) -> None:
    world = web.world
    coordinator = web.api_as(world.coordinator)
    number = intake(coordinator, world)
    ok(coordinator.post(f"/api/cases/{number}/actions/start_assessment", json={}))
    for kind, agency in (("support", world.elderly), ("support", world.poverty)):
        ok(
            coordinator.post(
                f"/api/cases/{number}/meetings/{kind}",
                json={"held_on": "2025-06-05", "attendees": attendees(agency)},
            ),
            201,
        )
    with web.session() as session:
        detail = queries.case_detail(session, 1)
    assert detail is not None and len(detail.meetings) == 2
    facts = CaseAccessFacts(1, 1, None, (AttendedMeeting(detail.meetings[1].id, "support_meeting", True),))
    shown = redact(detail, Access.MEETING, facts)
    assert [m.id for m in shown.meetings] == [detail.meetings[1].id]
    assert shown.contacts == () and shown.consents == () and shown.birth_date is None


def _walk_some_cases(web: Web) -> None:
    world = web.world
    mine = web.api_as(world.coordinator)
    other = web.api_as(world.coordinator2)
    intake(mine, world)
    theirs = intake(other, world)
    attended = intake(other, world)
    ok(other.post(f"/api/cases/{attended}/actions/start_assessment", json={}))
    ok(
        other.post(
            f"/api/cases/{attended}/meetings/support",
            json={
                "held_on": "2025-06-05",
                "attendees": attendees(world.elderly, staff_id=web.agency_member.id),
            },
        ),
        201,
    )
    del theirs


def test_list_scope_matches_access_to_for_every_viewer(web_on: Web) -> None:
    """Whatever the lists show is exactly what the case page would let the viewer open."""
    _walk_some_cases(web_on)
    world = web_on.world
    people = [
        world.coordinator,
        world.coordinator2,
        world.supervisor,
        world.auditor,
        web_on.agency_member,
        web_on.team_mate,
    ]
    engine: Engine = web_on.engine
    with Session(engine) as session:
        all_ids = listed_ids(session, viewer("auditor"))
        assert len(all_ids) == 3
        for staff in people:
            assert staff.id is not None
            who = Viewer(staff.id, staff.login, frozenset(staff.roles), staff.team, staff.active)
            listed = set(listed_ids(session, who))
            allowed = set()
            for case_id in all_ids:
                facts = caseload.access_facts(session, case_id, staff.id)
                assert facts is not None
                if access_to(who, facts) is not Access.NONE:
                    allowed.add(case_id)
            assert listed == allowed, staff.login
    # Spot checks of what that means.
    assert {c["number"] for c in ok(web_on.api_as(web_on.team_mate).get("/api/cases"))} == {"R7-0001"}
    assert [c["number"] for c in ok(web_on.api_as(web_on.agency_member).get("/api/cases"))] == ["R7-0003"]


_TODAY = dt.date(2025, 7, 1)


def listed_ids(session: Session, who: Viewer) -> list[int]:
    """Every case the lists show `who` (the pages and the API read them the same way)."""
    chosen = caselists.filter_clauses(
        session, list_scope(who), caselists.CaseFilters(), today=_TODAY, monitoring_stages=()
    )
    return [
        c.id for c in caselists.page(session, chosen, today=_TODAY, monitoring_stages=(), limit=1000).cards
    ]
