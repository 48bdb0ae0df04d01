"""Municipal business days: not weekends, not national holidays, not 12/29–1/3, not the
municipality's own closed days. Times are Asia/Tokyo.

jpholiday knows 振替休日 and 国民の休日 but not 年末年始, so the year-end closure is handled here.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

import jpholiday
import pendulum

from yorisoi.jpdates import TOKYO

_SEARCH_LIMIT = 366  # no real calendar closes for a year; a bug would otherwise loop forever


def is_year_end_closure(day: dt.date) -> bool:
    """12/29–1/3, closed in every Japanese municipality (行政機関の休日に関する法律)."""
    return (day.month == 12 and day.day >= 29) or (day.month == 1 and day.day <= 3)


class BusinessCalendar:
    """Business-day arithmetic for one municipality."""

    def __init__(self, closed_days: Iterable[dt.date] = ()) -> None:
        self.closed_days = frozenset(closed_days)

    def closed_reason(self, day: dt.date) -> str | None:
        """Why `day` is not a business day (in Japanese), or None when it is one."""
        if day.weekday() == 5:
            return "土曜日"
        if day.weekday() == 6:
            return "日曜日"
        holiday = jpholiday.is_holiday_name(day)
        if holiday:
            return holiday
        if is_year_end_closure(day):
            return "年末年始"
        if day in self.closed_days:
            return "閉庁日"
        return None

    def is_business_day(self, day: dt.date) -> bool:
        return self.closed_reason(day) is None

    def on_or_after(self, day: dt.date) -> dt.date:
        """`day` itself if open, else the next business day (a due date on a holiday moves)."""
        for offset in range(_SEARCH_LIMIT):
            candidate = day + dt.timedelta(days=offset)
            if self.is_business_day(candidate):
                return candidate
        raise ValueError(f"no business day within a year after {day}")

    def add_business_days(self, day: dt.date, count: int) -> dt.date:
        """The business day `count` business days after (or before, if negative) `day`."""
        step = 1 if count >= 0 else -1
        remaining = abs(count)
        current = day
        for _ in range(_SEARCH_LIMIT * max(1, remaining)):
            if remaining == 0:
                return current
            current += dt.timedelta(days=step)
            if self.is_business_day(current):
                remaining -= 1
        raise ValueError(f"cannot move {count} business days from {day}")

    def business_days_between(self, start: dt.date, end: dt.date) -> int:
        """Business days in (start, end]; negative when end is before start."""
        if end < start:
            return -self.business_days_between(end, start)
        return sum(
            1
            for offset in range(1, (end - start).days + 1)
            if self.is_business_day(start + dt.timedelta(days=offset))
        )

    def next_delivery_time(
        self,
        moment: dt.datetime,
        *,
        opens: dt.time = dt.time(8, 30),
        closes: dt.time = dt.time(18, 0),
    ) -> dt.datetime:
        """`moment` if it is business hours on a business day, else the next opening (UTC)."""
        local = pendulum.instance(moment).in_timezone(TOKYO)
        day: dt.date = local.date()
        if self.is_business_day(day) and opens <= local.time() < closes:
            return moment
        if not (self.is_business_day(day) and local.time() < opens):
            day = self.on_or_after(day + dt.timedelta(days=1))
        opening = pendulum.datetime(day.year, day.month, day.day, opens.hour, opens.minute, tz=TOKYO)
        return opening.in_timezone("UTC")
