"""和暦 and 年度, defined once in yorisoi.jpdates (eras from japanera): 平成 dates work too."""

from __future__ import annotations

import datetime as dt

import pytest

from yorisoi.errors import InvalidInput
from yorisoi.jpdates import (
    fiscal_year,
    fiscal_year_label,
    fiscal_year_short,
    japanese_date,
    parse_fiscal_year,
)


@pytest.mark.parametrize(
    ("day", "expected"),
    [
        (dt.date(2025, 6, 2), "令和7年6月2日（月）"),
        (dt.date(2019, 5, 1), "令和元年5月1日（水）"),
        (dt.date(2019, 4, 30), "平成31年4月30日（火）"),
        (dt.date(1989, 1, 8), "平成元年1月8日（日）"),
        (dt.date(1989, 1, 7), "昭和64年1月7日（土）"),
    ],
)
def test_japanese_date_names_the_era_of_the_day(day: dt.date, expected: str) -> None:
    assert japanese_date(day, weekday=True) == expected


@pytest.mark.parametrize(
    ("fy", "label", "short"),
    [
        (2025, "令和7年度", "R7"),
        (2019, "令和元年度", "R1"),  # 令和 from May: most of the 年度
        (2018, "平成30年度", "H30"),
        (1989, "平成元年度", "H1"),
        (1988, "昭和63年度", "S63"),  # 平成 only from January 1989
    ],
)
def test_fiscal_year_is_named_in_the_era_holding_most_of_it(fy: int, label: str, short: str) -> None:
    assert (fiscal_year_label(fy), fiscal_year_short(fy)) == (label, short)
    assert parse_fiscal_year(label) == parse_fiscal_year(short) == fy


@pytest.mark.parametrize(
    ("text", "fy"),
    [
        ("R7", 2025),
        ("令和元年度", 2019),
        ("Ｈ３０", 2018),
        ("平成30年度", 2018),
        ("2024", 2024),
        ("r6", 2024),
    ],
)
def test_parse_fiscal_year_reads_what_staff_write(text: str, fy: int) -> None:
    assert parse_fiscal_year(text) == fy


@pytest.mark.parametrize("text", ["R", "令和0年度", "Q7", "1899", "二〇二五", "R7-1"])
def test_parse_fiscal_year_refuses_what_it_cannot_read(text: str) -> None:
    with pytest.raises(InvalidInput, match="年度を読み取れません"):
        parse_fiscal_year(text)


def test_fiscal_year_starts_in_april() -> None:
    assert fiscal_year(dt.date(2019, 3, 31)) == 2018 and fiscal_year(dt.date(2019, 4, 1)) == 2019
