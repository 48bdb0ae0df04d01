"""Walk a case through the API as the tests' staff would."""

from __future__ import annotations

import datetime as dt
from typing import Any

from fastapi.testclient import TestClient

from tests.factories import World

ON = dt.date(2025, 6, 2)


def intake(client: TestClient, world: World, *, dv: bool = False, address: str = "山口市亀山町2-1") -> str:
    answer = client.post(
        "/api/cases",
        json={
            "person": {"name": "山田 太郎", "kana": "ヤマダ タロウ", "address": address, "dv_protected": dv},
            "contact": {
                "contacted_on": ON.isoformat(),
                "referrer": "self",
                "method": "phone",
                "topics": ["income", "hikikomori_school_refusal"],
                "desk_id": world.desk.id,
            },
        },
    )
    assert answer.status_code == 201, answer.text
    return str(answer.json()["number"])


def attendees(*agencies: Any, acknowledged: bool = True, staff_id: int | None = None) -> list[dict[str, Any]]:
    return [
        {
            "name": f"{a.name} 担当者",
            "agency_id": a.id,
            "staff_id": staff_id,
            "acknowledged_confidentiality": acknowledged,
        }
        for a in agencies
    ]


def ok(answer: Any, status: int = 200) -> Any:
    """The decoded JSON body, an object or a list as the endpoint answers, after checking the status."""
    assert answer.status_code == status, answer.text
    return answer.json()


def to_planning(client: TestClient, world: World, number: str) -> int:
    """Assessment → 支援会議 → consent → 重層的支援会議 → draft plan; returns the meeting id."""
    ok(client.post(f"/api/cases/{number}/actions/start_assessment", json={"data": {"note": "初回面談"}}))
    ok(
        client.post(
            f"/api/cases/{number}/meetings/support",
            json={"held_on": "2025-06-05", "attendees": attendees(world.elderly)},
        ),
        201,
    )
    ok(
        client.post(
            f"/api/cases/{number}/consents",
            json={"given_on": "2025-06-10", "agency_ids": [a.id for a in world.agencies]},
        ),
        201,
    )
    ok(
        client.post(
            f"/api/cases/{number}/meetings/multilayer",
            json={
                "held_on": "2025-06-20",
                "attendees": attendees(world.elderly, world.poverty),
            },
        ),
        201,
    )
    detail = ok(client.get(f"/api/cases/{number}"))
    meeting_id = int(detail["case"]["meetings"][-1]["id"])
    ok(
        client.post(
            f"/api/cases/{number}/plans",
            json={
                "drafted_on": "2025-06-20",
                "household_goal": "世帯が安定して暮らせる",
                "goals": [{"problem": "ひきこもり", "goal": "週1回外出できる"}],
                "roles": [
                    {"agency_id": world.elderly.id, "role": "母の介護調整"},
                    {"agency_id": world.poverty.id, "role": "家計相談", "is_lead": True},
                ],
                "monitoring_interval_days": 30,
            },
        ),
        201,
    )
    return meeting_id
