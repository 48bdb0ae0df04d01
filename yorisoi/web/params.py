"""Query parameters shared by the API and the pages: 年度 and bounded dates."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from fastapi import Query

from yorisoi.errors import InvalidInput
from yorisoi.jpdates import parse_fiscal_year

FIRST_FISCAL_YEAR = 2019  # 令和元年度; the programme itself began in 2021

DayParam = Annotated[
    dt.date | None, Query(ge=dt.date(1900, 1, 1), le=dt.date(2200, 12, 31), description="YYYY-MM-DD")
]
FiscalYearParam = Annotated[str | None, Query(max_length=20, description="年度: R7, 令和7年度 or 2025")]


def fiscal_year_param(text: str | None) -> int | None:
    """A 年度 as R7, 令和7年度 or 2025; empty means none."""
    if text is None or not text.strip():
        return None
    try:
        year = parse_fiscal_year(text.strip())
    except ValueError:
        year = 0
    if not FIRST_FISCAL_YEAR <= year <= 2200:
        raise InvalidInput(
            f"年度は R7・令和7年度・2025 のように指定してください（令和以降）: {text!r}",
            f"A fiscal year is R7, 令和7年度 or 2025 (from 2019): {text!r}",
        )
    return year
