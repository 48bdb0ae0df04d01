"""Business days on real Japanese calendars: Golden Week, 年末年始, holidays, 年度 edges."""

from __future__ import annotations

import datetime as dt

import pendulum
import pytest

from yorisoi.business_days import BusinessCalendar
from yorisoi.errors import InvalidInput
from yorisoi.jpdates import (
    TOKYO,
    fiscal_year,
    fiscal_year_label,
    fiscal_year_short,
    parse_fiscal_year,
)

CAL = BusinessCalendar()


@pytest.mark.parametrize(
    ("day", "reason"),
    [
        (dt.date(2026, 4, 29), "昭和の日"),
        (dt.date(2026, 5, 4), "みどりの日"),
        (dt.date(2026, 5, 6), "憲法記念日 振替休日"),
        (dt.date(2026, 9, 22), "国民の休日"),
        (dt.date(2026, 12, 29), "年末年始"),
        (dt.date(2027, 1, 4), None),
        (dt.date(2027, 1, 2), "土曜日"),
        (dt.date(2026, 11, 23), "勤労感謝の日"),
    ],
)
def test_closed_reason_names_the_holiday(day: dt.date, reason: str | None) -> None:
    assert CAL.closed_reason(day) == reason


def test_golden_week_2026_skips_to_may_7() -> None:
    # Thu 4/30 and Fri 5/1 are open; 5/2–5/6 closed (Sat, Sun, three holidays + 振替休日).
    assert CAL.add_business_days(dt.date(2026, 4, 30), 2) == dt.date(2026, 5, 7)
    assert CAL.business_days_between(dt.date(2026, 5, 1), dt.date(2026, 5, 7)) == 1


def test_year_end_closure_moves_a_due_date_to_january_4() -> None:
    assert CAL.on_or_after(dt.date(2026, 12, 29)) == dt.date(2027, 1, 4)
    assert CAL.add_business_days(dt.date(2026, 12, 28), 1) == dt.date(2027, 1, 4)


def test_due_date_on_a_holiday_moves_to_the_next_business_day() -> None:
    assert CAL.on_or_after(dt.date(2026, 11, 23)) == dt.date(2026, 11, 24)
    assert CAL.on_or_after(dt.date(2026, 11, 24)) == dt.date(2026, 11, 24)


def test_municipal_closed_day_is_not_a_business_day() -> None:
    own = BusinessCalendar(closed_days=[dt.date(2026, 11, 24)])
    assert own.closed_reason(dt.date(2026, 11, 24)) == "閉庁日"
    assert own.on_or_after(dt.date(2026, 11, 23)) == dt.date(2026, 11, 25)


def test_business_days_backwards_and_between_are_symmetric() -> None:
    assert CAL.add_business_days(dt.date(2027, 1, 4), -1) == dt.date(2026, 12, 28)
    assert CAL.business_days_between(dt.date(2026, 12, 28), dt.date(2027, 1, 4)) == 1
    assert CAL.business_days_between(dt.date(2027, 1, 4), dt.date(2026, 12, 28)) == -1


def test_next_delivery_time_waits_for_the_next_business_morning() -> None:
    friday_night = pendulum.datetime(2026, 5, 1, 21, 0, tz=TOKYO)
    opening = CAL.next_delivery_time(friday_night)
    assert pendulum.instance(opening).in_timezone(TOKYO) == pendulum.datetime(2026, 5, 7, 8, 30, tz=TOKYO)
    early = pendulum.datetime(2026, 5, 7, 6, 0, tz=TOKYO)
    assert pendulum.instance(CAL.next_delivery_time(early)).in_timezone(TOKYO).hour == 8
    working = pendulum.datetime(2026, 5, 7, 10, 0, tz=TOKYO)
    assert CAL.next_delivery_time(working) == working


@pytest.mark.parametrize(
    ("day", "fy", "short", "label"),
    [
        (dt.date(2025, 3, 31), 2024, "R6", "令和6年度"),
        (dt.date(2025, 4, 1), 2025, "R7", "令和7年度"),
        (dt.date(2019, 4, 1), 2019, "R1", "令和元年度"),
        (dt.date(2020, 1, 15), 2019, "R1", "令和元年度"),
    ],
)
def test_fiscal_year_boundary_at_april_1(day: dt.date, fy: int, short: str, label: str) -> None:
    assert fiscal_year(day) == fy
    assert fiscal_year_short(fy) == short
    assert fiscal_year_label(fy) == label


@pytest.mark.parametrize(
    ("text", "fy"), [("R7", 2025), ("令和7年度", 2025), ("令和元年度", 2019), ("2024", 2024), ("r6", 2024)]
)
def test_parse_fiscal_year_reads_every_form(text: str, fy: int) -> None:
    assert parse_fiscal_year(text) == fy


def test_parse_fiscal_year_rejects_garbage_with_a_japanese_message() -> None:
    with pytest.raises(InvalidInput, match="年度を読み取れません"):
        parse_fiscal_year("平成")
