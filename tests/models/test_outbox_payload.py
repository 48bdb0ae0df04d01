"""The outbox's own allow-list: a reminder payload carries counts and case numbers, never a person."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from sqlalchemy import Engine
from sqlmodel import Session, select

from models import OutboxMessage
from models.outbox_queries import Reminder, enqueue_reminders, validate_reminder

PROGRESS_PAYLOAD: dict[str, Any] = {
    "period_label": "令和7年度上期",
    "due_on": "2025-09-22",
    "active_cases": 3,
    "stage_counts": [{"stage_ja": "受付", "count": 1}, {"stage_ja": "支援・モニタリング", "count": 2}],
    "cases": [{"case_number": "R7-0001", "stage_ja": "支援・モニタリング", "due_on": "2025-09-01"}],
    "link": "https://yorisoi.example.lg.jp/cases",
}


def progress(payload: dict[str, Any]) -> Reminder:
    return Reminder(
        topic="report.half_year_progress",
        case_id=None,
        recipient="staff:sato",
        due_on=dt.date(2025, 9, 22),
        payload=payload,
    )


def test_half_year_progress_payload_is_accepted_and_kept(engine: Engine) -> None:
    with Session(engine) as session:
        assert enqueue_reminders(session, [progress(PROGRESS_PAYLOAD)]) == 1
        session.commit()
        stored = session.exec(select(OutboxMessage)).one().payload
    assert stored["stage_counts"] == PROGRESS_PAYLOAD["stage_counts"]


@pytest.mark.parametrize(
    ("change", "extra"),
    [
        ({"cases": [{"case_number": "R7-0001", "address": "山口市"}]}, "address"),
        ({"stage_counts": [{"stage_ja": "受付", "count": 1, "name": "山田 太郎"}]}, "name"),
    ],
)
def test_reminder_refuses_extra_keys_in_list_entries(change: dict[str, Any], extra: str) -> None:
    with pytest.raises(ValueError, match=rf"may not carry \['{extra}'\]"):
        validate_reminder(progress({**PROGRESS_PAYLOAD, **change}))
