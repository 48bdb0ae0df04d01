"""Query parameters shared by the API and the pages: 年度 and bounded dates."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from fastapi import Query

from yorisoi.jpdates import parse_fiscal_year

DayParam = Annotated[
    dt.date | None, Query(ge=dt.date(1900, 1, 1), le=dt.date(2200, 12, 31), description="YYYY-MM-DD")
]
FiscalYearParam = Annotated[str | None, Query(max_length=20, description="年度: R7, 令和7年度 or 2025")]


def fiscal_year_param(text: str | None) -> int | None:
    """A 年度 as R7, 令和7年度, H30 or 2025; empty means none."""
    if text is None or not text.strip():
        return None
    return parse_fiscal_year(text)


IdParam = Annotated[int | None, Query(ge=1, le=2**62)]
"""A row id in a query string: a filter's staff member, or a keyset cursor (`after`)."""
TeamParam = Annotated[str | None, Query(max_length=100)]
StageParam = Annotated[str | None, Query(max_length=64)]
AfterOnParam = Annotated[dt.date | None, Query(ge=dt.date(1900, 1, 1), le=dt.date(2200, 12, 31))]
"""The due list's cursor date (with `after`, the id): where the previous page ended."""
