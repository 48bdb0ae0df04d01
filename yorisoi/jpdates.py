"""Japanese municipal dates: Asia/Tokyo, 年度 (April–March) and 和暦 (令和)."""

from __future__ import annotations

import datetime as dt

import pendulum

TOKYO = pendulum.timezone("Asia/Tokyo")
REIWA_START = dt.date(2019, 5, 1)


def today_tokyo() -> dt.date:
    return pendulum.now(TOKYO).date()


def fiscal_year(day: dt.date) -> int:
    """The 年度 (as the Western year it starts in) that `day` falls in."""
    return day.year if day.month >= 4 else day.year - 1


def reiwa_year(western_year: int) -> int:
    if western_year < 2019:
        raise ValueError(f"{western_year} 年度 is before 令和 (2019)")
    return western_year - 2018


def fiscal_year_short(fy: int) -> str:
    """`R7` for 2025年度."""
    return f"R{reiwa_year(fy)}"


def fiscal_year_label(fy: int) -> str:
    """`令和7年度`, with 元年 for the first year."""
    year = reiwa_year(fy)
    return f"令和{'元' if year == 1 else year}年度"


def parse_fiscal_year(text: str) -> int:
    """Read `R7`, `令和7年度`, `令和元年度` or `2025` as the Western year the 年度 starts in."""
    value = text.strip().removesuffix("年度")
    if value.startswith(("R", "r")):
        value = value[1:]
    elif value.startswith("令和"):
        value = value[2:]
    elif value.isdigit() and len(value) == 4:
        return int(value)
    value = "1" if value == "元" else value
    if not value.isdigit() or int(value) < 1:
        raise ValueError(f"年度を読み取れません: {text!r}（例: R7, 令和7年度, 2025）")
    return int(value) + 2018


def tokyo_datetime(moment: dt.datetime) -> pendulum.DateTime:
    return pendulum.instance(moment).in_timezone(TOKYO)
