"""CSRF, sessions, and what a user may not see or do — refused with nothing leaked or written."""

from __future__ import annotations

from sqlmodel import select

from models import AuditEvent, RecordView
from tests.web.conftest import PASSWORD, Web, csrf_of
from tests.web.helpers import attendees, intake, ok
from yorisoi.service import accounts, directory


def _events(web: Web) -> int:
    with web.session() as session:
        return len(session.exec(select(AuditEvent)).all())


def test_api_write_without_csrf_header_is_refused(web: Web) -> None:
    client = web.api_as(web.world.coordinator)
    number = intake(client, web.world)
    before = _events(web)
    token = client.headers.pop("X-CSRF-Token")
    missing = client.post(f"/api/cases/{number}/actions/start_assessment", json={})
    client.headers["X-CSRF-Token"] = token + "x"
    wrong = client.post(f"/api/cases/{number}/actions/start_assessment", json={})
    for answer in (missing, wrong):
        assert answer.status_code == 403
        assert answer.json()["code"] == "csrf_refused"
        assert answer.json()["message_ja"]
    assert _events(web) == before


def test_page_form_without_csrf_token_is_refused(web: Web) -> None:
    number = intake(web.api_as(web.world.coordinator), web.world)
    page = web.page_as(web.world.coordinator)
    before = _events(web)
    missing = page.post(f"/cases/{number}/do/start_assessment", data={"note": "x"})
    wrong = page.post(f"/cases/{number}/do/start_assessment", data={"note": "x", "csrf_token": "forged"})
    for answer in (missing, wrong):
        assert answer.status_code == 403
        assert "不正な送信" in answer.text
    assert _events(web) == before
    # Sign-in and sign-out forms are protected too.
    anonymous = web.client()
    assert anonymous.post("/login", data={"login": "tanaka", "password": PASSWORD}).status_code == 403
    assert page.post("/logout", data={}).status_code == 403
    assert page.get("/").status_code == 200  # still signed in


def test_other_coordinators_case_is_refused_and_nothing_leaks(web: Web) -> None:
    world = web.world
    number = intake(web.api_as(world.coordinator), world, address="山口市非公開町1-1")
    other = web.api_as(world.coordinator2)
    before = _events(web)
    missing = number.split("-")[0] + "-9999"
    for url in (f"/api/cases/{number}", f"/api/cases/{number}/timeline", f"/api/cases/{number}/actions"):
        answer = other.get(url)
        assert answer.status_code == 404, url
        assert set(answer.json()) == {"code", "message_ja", "message_en"}
        assert "山田" not in answer.text and "非公開町" not in answer.text
        # The same answer as for a case that does not exist: no existence oracle.
        unknown = other.get(url.replace(number, missing))
        assert (unknown.status_code, unknown.json()["code"]) == (404, answer.json()["code"])
        assert unknown.json()["message_en"].replace(missing, number) == answer.json()["message_en"]
    fired = other.post(f"/api/cases/{number}/actions/start_assessment", json={})
    assert fired.status_code == 404
    unknown_fired = other.post(f"/api/cases/{missing}/actions/start_assessment", json={})
    assert unknown_fired.json()["message_ja"].replace(missing, number) == fired.json()["message_ja"]
    assert ok(other.get("/api/cases")) == []
    page = web.page_as(world.coordinator2)
    shown = page.get(f"/cases/{number}")
    unknown_page = page.get(f"/cases/{missing}")
    assert shown.status_code == unknown_page.status_code == 404
    assert shown.text.replace(number, missing) == unknown_page.text
    assert "山田" not in shown.text and "非公開町" not in shown.text
    assert page.get(f"/cases/{number}/do/start_assessment").status_code == 404
    assert "山田" not in page.get("/").text + page.get("/cases").text + page.get("/due").text
    assert _events(web) == before
    with web.session() as session:
        refused = session.exec(select(RecordView).where(RecordView.granted == False)).all()  # noqa: E712
    assert {r.staff_id for r in refused} == {world.coordinator2.id}
    assert other.get("/api/cases/R7-9999").status_code == 404


def test_team_mate_sees_the_case_and_agency_member_only_meeting_material(web: Web) -> None:
    world = web.world
    coordinator = web.api_as(world.coordinator)
    number = intake(coordinator, world)
    ok(coordinator.post(f"/api/cases/{number}/actions/start_assessment", json={}))
    member = web.api_as(web.agency_member)
    assert member.get(f"/api/cases/{number}").status_code == 404  # not at any meeting yet: nothing to see
    ok(
        coordinator.post(
            f"/api/cases/{number}/meetings/support",
            json={
                "held_on": "2025-06-05",
                "attendees": attendees(world.elderly, staff_id=web.agency_member.id),
            },
        ),
        201,
    )
    assert ok(web.api_as(web.team_mate).get(f"/api/cases/{number}"))["access"] == "full"
    seen = ok(member.get(f"/api/cases/{number}"))
    assert seen["access"] == "meeting"
    assert seen["case"]["contacts"] == [] and len(seen["case"]["meetings"]) == 1
    assert member.get(f"/api/cases/{number}/timeline").status_code == 403
    assert member.post(f"/api/cases/{number}/actions/propose_closure", json={}).status_code == 403
    page = web.page_as(web.agency_member).get(f"/cases/{number}")
    assert (
        page.status_code == 200
        and "出席した会議の資料のみ" in page.text
        and "いまできる操作" not in page.text
    )


def test_viewing_is_logged_without_changing_the_case_version(web: Web) -> None:
    client = web.api_as(web.world.coordinator)
    number = intake(client, web.world)
    version = ok(client.get(f"/api/cases/{number}"))["case"]["version"]
    for _ in range(3):
        client.get(f"/api/cases/{number}")
    web.page_as(web.world.coordinator).get(f"/cases/{number}")
    assert ok(client.get(f"/api/cases/{number}"))["case"]["version"] == version
    # The version the page showed is still good for an action: viewing is not an update.
    ok(client.post(f"/api/cases/{number}/actions/start_assessment", json={"expected_version": version}))
    views = ok(web.api_as(web.world.auditor).get(f"/api/audit/views?case={number}"))
    assert len(views) >= 6 and {v["what"] for v in views} >= {"case_detail"}
    assert {v["channel"] for v in views} == {"api", "web"}


def test_stale_version_is_409_and_writes_nothing(web: Web) -> None:
    client = web.api_as(web.world.coordinator)
    number = intake(client, web.world)
    ok(client.post(f"/api/cases/{number}/actions/start_assessment", json={"expected_version": 1}))
    before = _events(web)
    stale = client.post(
        f"/api/cases/{number}/closure",
        json={"expected_version": 1, "reason": "moved_away", "evaluation": "転出"},
    )
    assert stale.status_code == 409
    assert stale.json()["code"] == "version_conflict"
    assert _events(web) == before
    page = web.page_as(web.world.coordinator)
    form = page.get(f"/cases/{number}/do/propose_closure?v=1")
    answer = page.post(
        f"/cases/{number}/do/propose_closure",
        data={
            "csrf_token": csrf_of(form.text),
            "expected_version": "1",
            "reason": "moved_away",
            "evaluation": "転出",
        },
    )
    assert answer.status_code == 409 and "最新のケースを開き直す" in answer.text
    assert _events(web) == before


def test_sign_in_failures_look_alike_and_sessions_end(web: Web) -> None:
    client = web.client()
    wrong = client.post("/api/auth/login", json={"login": "tanaka", "password": "not the password"})
    unknown = client.post("/api/auth/login", json={"login": "nobody", "password": "not the password"})
    assert wrong.status_code == unknown.status_code == 401
    assert wrong.json() == unknown.json()

    expiring = web.api_as(web.world.coordinator)
    assert expiring.get("/api/auth/me").status_code == 200
    web.clock.now += 8 * 3600 + 1
    assert expiring.get("/api/auth/me").status_code == 401
    assert expiring.get("/", follow_redirects=False).headers["location"].startswith("/login")

    changed = web.api_as(web.world.coordinator2)
    with web.session() as session:
        accounts.set_password(session, "kato", "a brand new password")
    assert changed.get("/api/auth/me").status_code == 401

    deactivated = web.api_as(web.world.auditor)
    with web.session() as session:
        directory.set_staff_active(session, "ito", False)
    assert deactivated.get("/api/auth/me").status_code == 401

    out = web.api_as(web.world.supervisor)
    assert out.post("/api/auth/logout").status_code == 204
    assert out.get("/api/auth/me").status_code == 401


def test_sign_in_never_redirects_off_site(web: Web) -> None:
    client = web.client()
    token = csrf_of(client.get("/login").text)
    for target in ("//evil.example/x", "https://evil.example/", "/\\evil.example"):
        answer = client.post(
            "/login", data={"login": "tanaka", "password": PASSWORD, "csrf_token": token, "next": target}
        )
        assert answer.status_code == 303 and answer.headers["location"] == "/"
        token = csrf_of(client.get("/login").text)


def test_responses_are_not_cached_and_not_framed(web: Web) -> None:
    client = web.api_as(web.world.coordinator)
    number = intake(client, web.world)
    for answer in (
        client.get(f"/api/cases/{number}"),
        web.page_as(web.world.coordinator).get(f"/cases/{number}"),
    ):
        assert answer.headers["cache-control"] == "no-store"
        assert answer.headers["x-frame-options"] == "DENY"
        assert "frame-ancestors 'none'" in answer.headers["content-security-policy"]
