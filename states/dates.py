"""The Japanese date style of what staff read (`2026年4月1日`), defined here because the lifecycle's
own refusals (`states.guards`) use it too; `yorisoi.jpdates` adds 和暦 and 年度 on top."""

from __future__ import annotations

import datetime as dt


def western_date(day: dt.date) -> str:
    """`2026年4月1日`: the date style of the web pages, messages and working tables."""
    return f"{day.year}年{day.month}月{day.day}日"
