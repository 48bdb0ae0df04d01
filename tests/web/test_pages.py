"""Pages through an HTTP client: sign-in, intake form, form errors, role-gated screens."""

from __future__ import annotations

from sqlmodel import select

from models import Case
from tests.web.conftest import DV_ADDRESS, Web, csrf_of
from tests.web.helpers import intake, ok, to_planning
from yorisoi.service import verification
from yorisoi.settings import get_settings


def test_signed_out_visitor_is_sent_to_sign_in(web: Web) -> None:
    answer = web.client().get("/cases?stage=intake")
    assert answer.status_code == 303
    assert answer.headers["location"] == "/login?next=/cases%3Fstage%3Dintake"
    assert "ログイン名" in web.client().get("/login").text


def test_intake_form_opens_a_case_and_refills_after_an_error(web: Web) -> None:
    page = web.page_as(web.world.coordinator)
    form = page.get("/cases/new")
    token = csrf_of(form.text)
    fields = {
        "csrf_token": token,
        "name": "佐々木 次郎",
        "address": "山口市中央1-1",
        "contacted_on": "2025-05-01",
        "referrer": "family",
        "method": "office_visit",
        "desk_id": str(web.world.desk.id),
        "note": "母から相談",
    }
    refused = page.post("/cases/new", data=fields)  # no 相談内容 chosen
    assert refused.status_code == 422
    assert "topics" in refused.text and 'value="佐々木 次郎"' in refused.text
    with web.session() as session:
        assert session.exec(select(Case)).all() == []
    opened = page.post("/cases/new", data={**fields, "topics": ["income", "housing"]})
    assert opened.status_code == 303 and opened.headers["location"] == "/cases/R7-0001?done=open_case"
    shown = page.get("/cases/R7-0001?done=open_case")
    assert "「受付（ケース作成）」を記録しました" in shown.text and "佐々木 次郎" in shown.text
    assert "アセスメント開始" in shown.text


def test_meeting_form_refuses_unacknowledged_attendees_and_keeps_input(web: Web) -> None:
    world = web.world
    number = intake(web.api_as(world.coordinator), world)
    page = web.page_as(world.coordinator)
    token = csrf_of(page.get(f"/cases/{number}/do/start_assessment").text)
    assert page.post(f"/cases/{number}/do/start_assessment", data={"csrf_token": token}).status_code == 303
    form = page.get(f"/cases/{number}/do/hold_support_meeting?rows=7")
    assert form.text.count('name="attendees-6-name"') == 1
    refused = page.post(
        f"/cases/{number}/do/hold_support_meeting",
        data={
            "csrf_token": csrf_of(form.text),
            "expected_version": "2",
            "attendees-0-name": "包括 担当者",
            "attendees-0-agency_id": str(world.elderly.id),
        },
    )
    assert refused.status_code == 422
    assert "守秘義務" in refused.text and 'value="包括 担当者"' in refused.text


def test_role_gated_pages(web: Web) -> None:
    world = web.world
    number = intake(web.api_as(world.coordinator), world)
    to_planning(web.api_as(world.coordinator), world, number)
    coordinator = web.page_as(world.coordinator)
    assert coordinator.get("/inbox").status_code == 403
    assert coordinator.get("/audit").status_code == 403
    assert coordinator.get("/reports").status_code == 200
    member = web.page_as(web.agency_member)
    assert member.get("/reports").status_code == 403
    assert member.get("/cases/new").status_code == 403
    auditor = web.page_as(world.auditor)
    audit = auditor.get("/audit?start=2025-04-01&end=2026-03-31")
    assert audit.status_code == 200 and "閲覧記録" in audit.text
    assert "監査記録の検証はまだ実行されていません" in audit.text  # shown, never run on a view
    supervisor = web.page_as(world.supervisor)
    inbox = supervisor.get("/inbox")
    assert number in inbox.text and "確認して承認" in inbox.text
    lifecycle = supervisor.get("/lifecycle")
    assert "重層的支援会議の開催" in lifecycle.text and "stateDiagram-v2" in lifecycle.text


def test_reports_api_gives_json_files_and_the_chart(web: Web) -> None:
    world = web.world
    number = intake(web.api_as(world.coordinator), world)
    to_planning(web.api_as(world.coordinator), world, number)
    client = web.api_as(world.supervisor)
    annual = ok(client.get("/api/reports/annual?fiscal_year=R7&as_of=2025-12-31"))
    assert annual["short"] == "R7" and annual["consultation"]["total"]["contacts"] == 1
    assert annual["meetings"]["support_meetings"] == 1 and annual["meetings"]["multilayer_meetings"] == 1
    xlsx = client.get("/api/reports/annual?fiscal_year=R7&format=xlsx")
    assert xlsx.status_code == 200 and xlsx.content[:2] == b"PK"
    svg = client.get("/api/reports/trend?last=R7&as_of=2025-12-31&format=svg")
    assert svg.headers["content-type"].startswith("image/svg+xml") and "相談件数" in svg.text
    assert ok(client.get("/api/audit?start=2025-04-01&end=2026-03-31"))["chain"] is None  # never verified
    verification.verify_and_record(web.engine, get_settings(), trigger="cli", by="test")
    audit = ok(client.get("/api/audit?start=2025-04-01&end=2026-03-31"))
    assert audit["chain"]["ok"] is True and audit["chain"]["cases"] == 1
    assert client.get("/api/reports/annual?fiscal_year=X30").status_code == 422
    heisei = ok(client.get("/api/reports/annual?fiscal_year=H30&as_of=2019-03-31"))
    assert heisei["label"] == "平成30年度" and heisei["short"] == "H30"
    assert web.api_as(web.agency_member).get("/api/reports/annual").status_code == 403
    assert web.api_as(world.coordinator).get("/api/audit").status_code == 403
    assert "stateDiagram-v2" in ok(client.get("/api/lifecycle"))["mermaid"]


def test_lifecycle_page_names_every_guard_in_japanese(web: Web) -> None:
    from states.guards import GUARDS
    from yorisoi import labels

    assert set(labels.GUARDS_JA) == set(GUARDS)
    shown = web.page_as(web.world.coordinator).get("/lifecycle").text
    assert "二者確認" in shown and "approver_is_not_plan_author" not in shown.split("<details>")[0]


def test_openapi_is_served_and_nothing_loads_from_a_cdn(web: Web) -> None:
    client = web.client()
    document = client.get("/openapi.json").json()
    assert "/api/cases/{number}/actions/{name}" in document["paths"]
    # Each action's own endpoint shows its input model, bounds included.
    approve = document["paths"]["/api/cases/{number}/plans/approve"]["post"]
    assert approve["operationId"] == "approve_plan"
    assert client.get("/docs").status_code == 404  # its scripts would come from a CDN
    page = web.page_as(web.world.coordinator).get("/")
    assert "https://" not in page.text and "http://" not in page.text
    assert client.get("/static/htmx.min.js").status_code == 200


def test_closed_case_takes_late_entries_by_form_and_api(web: Web) -> None:
    world = web.world
    api = web.api_as(world.coordinator)
    number = intake(api, world)
    closure = {"proposed_on": "2025-09-01", "reason": "goals_met", "evaluation": "安定"}
    ok(api.post(f"/api/cases/{number}/closure", json=closure), 201)
    ok(
        web.api_as(world.supervisor).post(
            f"/api/cases/{number}/closure/approve", json={"decided_on": "2025-09-05"}
        )
    )
    page = web.page_as(world.coordinator)
    shown = page.get(f"/cases/{number}").text
    assert "後日入力（2025年9月5日以前の記録を、再開せずに追加）" in shown
    assert f"/cases/{number}/do/hold_support_meeting" in shown and f"/cases/{number}/do/log_outreach" in shown
    form = page.get(f"/cases/{number}/do/hold_support_meeting")
    assert "その日以前の日付の記録は、再開せずに後日入力として追加されます" in form.text
    fields = {
        "csrf_token": csrf_of(form.text),
        "held_on": "2025-08-20",
        "attendees-0-name": "高橋",
        "attendees-0-agency_id": str(world.elderly.id),
        "attendees-0-acknowledged_confidentiality": "on",
    }
    assert page.post(f"/cases/{number}/do/hold_support_meeting", data=fields).status_code == 303
    visit = ok(
        api.post(f"/api/cases/{number}/outreach", json={"kind": "home_visit", "done_on": "2025-08-21"}), 201
    )
    assert (visit["late_entry"], visit["to_stage"]) == (True, "closed")
    too_late = api.post(f"/api/cases/{number}/outreach", json={"kind": "home_visit", "done_on": "2025-09-06"})
    assert too_late.status_code == 422 and "再開してから記録してください" in too_late.json()["message_ja"]
    timeline = page.get(f"/cases/{number}").text
    assert timeline.count("（後日入力）") == 2


def test_correction_form_and_api_keep_a_dv_address_out_of_sight(web: Web) -> None:
    world = web.world
    api = web.api_as(world.coordinator)
    number = intake(api, world, dv=True, address=DV_ADDRESS)
    page = web.page_as(world.coordinator)
    form = page.get(f"/cases/{number}/do/correct_details")
    assert form.status_code == 200 and 'value="山田 太郎"' in form.text and DV_ADDRESS not in form.text
    fields = {
        "csrf_token": csrf_of(form.text),
        "expected_version": "1",
        "name": "山田 太朗",
        "kana": "ヤマダ タロウ",
        "address": "",  # left empty: unchanged
        "dv_protected": "on",
        "note": "戸籍の表記",
    }
    assert page.post(f"/cases/{number}/do/correct_details", data=fields).status_code == 303
    stale = api.post(f"/api/cases/{number}/details", json={"address": "山口市新町1-1", "expected_version": 1})
    assert stale.status_code == 409
    moved = ok(
        api.post(f"/api/cases/{number}/details", json={"address": "山口市新町1-1", "expected_version": 2})
    )
    assert moved["version"] == 3
    timeline = ok(api.get(f"/api/cases/{number}/timeline"))
    assert timeline[1]["payload"]["changes"] == {"name": {"before": "山田 太郎", "after": "山田 太朗"}}
    assert "新町" not in str(timeline) and DV_ADDRESS not in page.get(f"/cases/{number}").text
