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
    parse_sheet_date,
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


@pytest.mark.parametrize(
    "cell",
    [
        "R6.4.1",
        "令和6年4月1日",
        "R06/04/01",
        "令6.4.1",
        " Ｒ６．４．１ ",  # full-width, stray spaces
        "2024/4/1",
        "２０２４／４／１",
        "2024-04-01",
        "2024年4月1日",
        "20240401",
        "令和6年4月1日（月）",  # with the weekday
        "2024/04/01 00:00:00",  # a date cell saved as text with its time
        45383,  # an Excel date serial
        "45383",  # …typed into a text cell
        dt.datetime(2024, 4, 1),  # what openpyxl gives for a date cell
    ],
)
def test_parse_sheet_date_reads_what_staff_write(cell: object) -> None:
    assert parse_sheet_date(cell) == dt.date(2024, 4, 1)


@pytest.mark.parametrize(
    ("cell", "day"),
    [
        ("H31.3.31", dt.date(2019, 3, 31)),
        ("平成31年4月30日", dt.date(2019, 4, 30)),
        ("令和元年5月1日", dt.date(2019, 5, 1)),
        ("H31.5.7", dt.date(2019, 5, 7)),  # pre-printed forms kept 平成 for a while in 2019
        ("S64.1.7", dt.date(1989, 1, 7)),
        ("昭和50年10月1日", dt.date(1975, 10, 1)),  # a birth date
    ],
)
def test_parse_sheet_date_reads_earlier_eras(cell: str, day: dt.date) -> None:
    assert parse_sheet_date(cell) == day


@pytest.mark.parametrize(
    ("cell", "message"),
    [
        ("R6.13.1", "存在しない日付です"),
        ("2024/2/30", "存在しない日付です"),
        ("来週", "日付として読めません"),
        ("X6.4.1", "日付として読めません"),
        ("H32.1.1", "平成32年はありません（平成は元年〜31年）"),
        ("R0.4.1", "令和0年はありません"),
        (True, "日付として読めません"),
    ],
)
def test_parse_sheet_date_refuses_with_examples(cell: object, message: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        parse_sheet_date(cell)
    assert message in refused.value.ja
    assert "R6.4.1" in refused.value.ja or "元年" in refused.value.ja
