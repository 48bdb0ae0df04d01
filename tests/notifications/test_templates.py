"""Reminder texts: Japanese, from the allowed payload fields only, never personal details."""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Iterator, Mapping
from typing import Any

import pytest

from models.outbox import ReminderTopic
from notifications.templates import (
    ALLOWED_FIELDS,
    CASE_LIST_FIELDS,
    STAGE_COUNT_FIELDS,
    TEMPLATES,
    TemplateError,
    render,
)
from yorisoi.jpdates import japanese_date

DATES = functools.partial(japanese_date, weekday=True)
BASE_URL = "https://yorisoi.example.lg.jp"
SECRETS = {
    "name": "山田 太郎",
    "kana": "ヤマダ タロウ",
    "address": "山口市亀山町2-1",
    "story": "借金とひきこもりの相談",
    "note": "DV避難中",
}


class RecordingPayload(Mapping[str, Any]):
    """A payload that remembers which keys were read, and whether it was iterated whole."""

    def __init__(self, data: dict[str, Any]) -> None:
        self._data = data
        self.read: set[str] = set()

    def __getitem__(self, key: str) -> Any:
        self.read.add(key)
        return self._data[key]

    def __iter__(self) -> Iterator[str]:
        self.read.add("<every key>")
        return iter(self._data)

    def __len__(self) -> int:
        return len(self._data)


def full_payload() -> dict[str, Any]:
    return {
        "case_number": "R7-0012",
        "due_on": "2025-06-02",
        "days_overdue": 4,
        "stage_ja": "支援・モニタリング",
        "coordinator": "tanaka",
        "period_label": "令和7年度上期",
        "active_cases": 1,
        "stage_counts": [{"stage_ja": "支援・モニタリング", "count": 1, **SECRETS}],
        "cases": [
            {"case_number": "R7-0012", "stage_ja": "支援・モニタリング", "due_on": "2025-10-01", **SECRETS}
        ],
        **SECRETS,
    }


def test_every_reminder_topic_has_a_template() -> None:
    assert set(TEMPLATES) == {t.value for t in ReminderTopic}


@pytest.mark.parametrize("topic", sorted(TEMPLATES))
def test_render_reads_only_allowed_fields(topic: str) -> None:
    payload = RecordingPayload(full_payload())
    entry = RecordingPayload(payload._data["cases"][0])
    payload._data["cases"] = [entry]
    count = RecordingPayload(payload._data["stage_counts"][0])
    payload._data["stage_counts"] = [count]

    message = render(topic, payload, base_url=BASE_URL, dates=DATES)

    assert payload.read <= ALLOWED_FIELDS
    assert entry.read <= CASE_LIST_FIELDS
    assert count.read <= STAGE_COUNT_FIELDS
    text = message.title + "\n" + message.body
    for secret in SECRETS.values():
        assert secret not in text
    assert "令和7年6月2日（月）" in text


@pytest.mark.parametrize("topic", sorted(t for t in TEMPLATES if t != "report.half_year_progress"))
def test_case_reminder_names_case_due_date_and_link(topic: str) -> None:
    message = render(
        topic, {"case_number": "R7-0012", "due_on": "2025-06-02"}, base_url=BASE_URL + "/", dates=DATES
    )

    assert "R7-0012" in message.title
    assert f"{BASE_URL}/cases/R7-0012" in message.body
    assert "令和7年6月2日（月）" in message.body
    assert "{" not in message.title + message.body  # no field left unfilled
    assert "超過: " not in message.body  # the optional line is dropped, not printed empty


def test_overdue_reminder_shows_days_overdue() -> None:
    message = render(
        "reminder.monitoring_overdue",
        {"case_number": "R7-0012", "due_on": "2025-06-02", "days_overdue": 6},
        base_url=BASE_URL,
        dates=DATES,
    )

    assert message.title == "【モニタリング期限超過】R7-0012（6開庁日超過）"
    assert "超過: 6開庁日" in message.body


@pytest.mark.parametrize(
    ("topic", "unit"),
    [
        ("reminder.monitoring_overdue", "開庁日"),  # the sweep counts business days
        ("escalation.monitoring_overdue", "開庁日"),
        ("reminder.short_stay_overdue", "日"),  # calendar days: a stay runs over weekends
    ],
)
def test_lateness_is_told_in_the_unit_it_is_counted_in(topic: str, unit: str) -> None:
    message = render(
        topic,
        {"case_number": "R7-0012", "due_on": "2025-06-02", "days_overdue": 6},
        base_url=BASE_URL,
        dates=DATES,
    )

    assert f"超過: 6{unit}" in message.body.splitlines()
    assert f"6{unit}超過" in message.title


def test_half_year_progress_lists_cases() -> None:
    message = render(
        "report.half_year_progress",
        {
            "due_on": dt.date(2025, 9, 19),
            "period_label": "令和7年度上期",
            "active_cases": 2,
            "cases": [
                {"case_number": "R7-0001", "stage_ja": "支援・モニタリング", "due_on": "2025-10-01"},
                {"case_number": "R7-0002", "stage_ja": "支援プラン", "days_overdue": 3},
            ],
        },
        base_url=BASE_URL,
        dates=DATES,
    )

    assert message.title == "【半期進捗報告】令和7年度上期 全体会議 令和7年9月19日（金）"
    assert "・R7-0001 支援・モニタリング 次回期日 令和7年10月1日（水）" in message.body
    assert "・R7-0002 支援プラン 3開庁日超過" in message.body
    assert f"{BASE_URL}/cases" in message.body


def test_half_year_progress_counts_cases_per_stage_in_the_given_order() -> None:
    message = render(
        "report.half_year_progress",
        {
            "due_on": "2025-09-22",
            "active_cases": 15,
            "stage_counts": [
                {"stage_ja": "アセスメント", "count": 3},
                {"stage_ja": "支援・モニタリング", "count": 12},
            ],
            "cases": [{"case_number": "R7-0001", "stage_ja": "支援・モニタリング", "days_overdue": 3}],
        },
        base_url=BASE_URL,
        dates=DATES,
    )

    lines = message.body.splitlines()
    start = lines.index("支援中のケース: 15件")
    assert lines[start + 1 : start + 6] == [
        "段階別の内訳:",
        "・アセスメント 3件",
        "・支援・モニタリング 12件",
        "モニタリング期限を過ぎたケース:",
        "・R7-0001 支援・モニタリング 3開庁日超過",
    ]


def test_half_year_progress_with_no_overdue_case_says_so_under_its_heading() -> None:
    message = render(
        "report.half_year_progress",
        {"due_on": "2025-09-22", "active_cases": 3, "cases": []},
        base_url=BASE_URL,
        dates=DATES,
    )

    assert "モニタリング期限を過ぎたケース:\n（ありません）" in message.body
    assert "支援中のケースはありません" not in message.body  # 3 cases are in support


@pytest.mark.parametrize("stage_counts", [None, []])
def test_half_year_progress_without_stage_counts_has_no_breakdown(stage_counts: Any) -> None:
    message = render(
        "report.half_year_progress",
        {"due_on": "2025-09-22", "active_cases": 0, "stage_counts": stage_counts},
        base_url=BASE_URL,
        dates=DATES,
    )

    assert "支援中のケース: 0件" in message.body
    assert "段階別の内訳" not in message.body


@pytest.mark.parametrize(
    ("stage_counts", "message"),
    [
        ("アセスメント 3件", "stage_counts must be a list"),
        ({"stage_ja": "アセスメント", "count": 3}, "stage_counts must be a list"),
        (["アセスメント"], "needs a stage_ja and a count"),
        ([{"stage_ja": "アセスメント"}], "needs a stage_ja and a count"),
        ([{"count": 3}], "needs a stage_ja and a count"),
        ([{"stage_ja": "アセスメント", "count": "三"}], "stage_counts.count must be an integer"),
        ([{"stage_ja": "アセスメント", "count": 2.5}], "stage_counts.count must be an integer"),
        ([{"stage_ja": "アセスメント", "count": True}], "stage_counts.count must be an integer"),
    ],
)
def test_render_refuses_malformed_stage_counts(stage_counts: Any, message: str) -> None:
    payload = {"due_on": "2025-09-22", "active_cases": 3, "stage_counts": stage_counts}
    with pytest.raises(TemplateError, match=message):
        render("report.half_year_progress", payload, base_url=BASE_URL, dates=DATES)


def test_render_refuses_unknown_topic() -> None:
    with pytest.raises(TemplateError, match="no template"):
        render(
            "reminder.birthday",
            {"case_number": "R7-0001", "due_on": "2025-06-02"},
            base_url=BASE_URL,
            dates=DATES,
        )


def test_render_refuses_missing_case_number() -> None:
    with pytest.raises(TemplateError, match=r"case_number"):
        render("reminder.monitoring_due", {"due_on": "2025-06-02"}, base_url=BASE_URL, dates=DATES)


def test_render_refuses_malformed_date() -> None:
    with pytest.raises(TemplateError, match="YYYY-MM-DD"):
        render(
            "reminder.monitoring_due",
            {"case_number": "R7-0001", "due_on": "6/2"},
            base_url=BASE_URL,
            dates=DATES,
        )
