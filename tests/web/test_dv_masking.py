"""A DV-protected address (DV等支援措置) appears in no page, no API answer and no export."""

from __future__ import annotations

import io
import zipfile

from fastapi.testclient import TestClient

from models.person import MASKED_ADDRESS
from tests.web.conftest import DV_ADDRESS, Web
from tests.web.helpers import intake, ok, to_planning


def _texts(answer_content: bytes, content_type: str) -> str:
    """Everything readable in a response: the body, or every file inside a zip/xlsx."""
    if content_type.startswith(("application/zip", "application/vnd.openxmlformats")):
        with zipfile.ZipFile(io.BytesIO(answer_content)) as archive:
            return "\n".join(archive.read(name).decode("utf-8", "replace") for name in archive.namelist())
    return answer_content.decode("utf-8")


def _fetch_all(client: TestClient, urls: list[str]) -> dict[str, str]:
    seen = {}
    for url in urls:
        answer = client.get(url)
        assert answer.status_code == 200, (url, answer.text[:500])
        seen[url] = _texts(answer.content, answer.headers.get("content-type", ""))
    return seen


def test_dv_address_never_leaves_the_database(web: Web) -> None:
    world = web.world
    coordinator = web.api_as(world.coordinator)
    number = intake(coordinator, world, dv=True, address=DV_ADDRESS)
    meeting_id = to_planning(coordinator, world, number)
    supervisor = web.api_as(world.supervisor)
    ok(
        supervisor.post(
            f"/api/cases/{number}/plans/approve", json={"meeting_id": meeting_id, "approved_on": "2025-06-25"}
        )
    )
    ok(
        coordinator.post(
            f"/api/cases/{number}/closure",
            json={
                "proposed_on": "2025-07-01",
                "reason": "moved_away",
                "evaluation": "転居先の窓口へ引き継いだ",
            },
        ),
        201,
    )
    # A household member opened as a case of their own shares the masked address.
    member = coordinator.post(
        "/api/cases",
        json={
            "person": {"name": "山田 花", "household_id": 1},
            "contact": {
                "contacted_on": "2025-06-03",
                "referrer": "family",
                "method": "phone",
                "topics": ["income"],
            },
        },
    )
    member_number = ok(member, 201)["number"]

    api_urls = [
        "/api/cases",
        "/api/due?days=366",
        f"/api/cases/{number}",
        f"/api/cases/{number}/timeline",
        f"/api/cases/{number}/actions",
        f"/api/cases/{member_number}",
        "/api/inbox",
        "/api/lifecycle",
        f"/api/audit/views?case={number}",
    ]
    exports = [
        f"/api/reports/annual?fiscal_year=R7&as_of=2025-12-31&format={fmt}" for fmt in ("json", "xlsx", "csv")
    ] + [
        f"/api/reports/trend?last=R7&as_of=2025-12-31&format={fmt}" for fmt in ("json", "svg", "xlsx", "csv")
    ]
    exports += [f"/api/audit?start=2025-04-01&end=2026-03-31&format={fmt}" for fmt in ("json", "xlsx", "csv")]
    pages = [
        "/",
        "/?scope=all",
        "/due?days=366",
        "/cases",
        f"/cases/{number}",
        f"/cases/{member_number}",
        f"/cases/{number}/do/give_consent",
        f"/cases/{number}/do/approve_closure",
        "/inbox",
        "/audit?start=2025-04-01&end=2026-03-31",
        "/reports?fiscal_year=R7&as_of=2025-12-31",
    ]
    seen = _fetch_all(supervisor, api_urls + exports)
    seen |= {f"page {url}": text for url, text in _fetch_all(web.page_as(world.supervisor), pages).items()}
    seen |= {
        f"coordinator {url}": text
        for url, text in _fetch_all(web.page_as(world.coordinator), pages[:6]).items()
    }
    leaked = [url for url, text in seen.items() if DV_ADDRESS in text or "秘匿町" in text]
    assert leaked == []
    # …and the pages say why the address is not shown.
    assert MASKED_ADDRESS in seen[f"page /cases/{number}"]
    assert MASKED_ADDRESS in seen[f"page /cases/{member_number}"]
    assert ok(supervisor.get(f"/api/cases/{number}"))["case"]["address"] == MASKED_ADDRESS
