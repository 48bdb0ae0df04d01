"""Japanese municipal dates, defined once: Asia/Tokyo, 年度 (April–March) and 和暦.

The eras and their first days come from `japanera` (a maintained table of every Japanese era):
a date before 令和 is 平成 (or 昭和), as any municipal record carried over from earlier years
needs. Everything here that names an era goes through `era_of`.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from dataclasses import dataclass

import pendulum
from japanera import EraDate

from yorisoi.errors import InvalidInput

TOKYO = pendulum.timezone("Asia/Tokyo")
_WEEKDAYS = "月火水木金土日"


@dataclass(frozen=True, slots=True)
class Era:
    """A date's era: `令和`, `R`, and the year within it (1 for 元年)."""

    kanji: str
    letter: str
    year: int

    @property
    def year_ja(self) -> str:
        return "元" if self.year == 1 else str(self.year)


def era_of(day: dt.date) -> Era:
    found = EraDate.from_date(day)
    return Era(found.era.kanji, found.era.english_head, day.year - found.era.since.year + 1)


def today_tokyo() -> dt.date:
    return pendulum.now(TOKYO).date()


def tokyo_datetime(moment: dt.datetime) -> pendulum.DateTime:
    return pendulum.instance(moment).in_timezone(TOKYO)


def fiscal_year(day: dt.date) -> int:
    """The 年度 (as the Western year it starts in) that `day` falls in."""
    return day.year if day.month >= 4 else day.year - 1


def _fiscal_era(fy: int) -> Era:
    # A 年度 is named in the era that holds most of it: 2019年度 (May 2019 onwards 令和) is
    # 令和元年度, 1988年度 (平成 only from January 1989) is 昭和63年度. 1 October decides.
    return era_of(dt.date(fy, 10, 1))


def fiscal_year_label(fy: int) -> str:
    """`令和7年度`, `令和元年度`, `平成30年度`."""
    era = _fiscal_era(fy)
    return f"{era.kanji}{era.year_ja}年度"


def fiscal_year_short(fy: int) -> str:
    """`R7` for 2025年度, `H30` for 2018年度 (case numbers, file names)."""
    era = _fiscal_era(fy)
    return f"{era.letter}{era.year}"


def japanese_date(day: dt.date, *, weekday: bool = False) -> str:
    """`令和7年6月2日` (`（月）` with `weekday`), 元年 for an era's first year."""
    era = era_of(day)
    text = f"{era.kanji}{era.year_ja}年{day.month}月{day.day}日"
    return f"{text}（{_WEEKDAYS[day.weekday()]}）" if weekday else text


_FISCAL = re.compile(
    r"^(?:(?P<era>[A-Za-z]|明治|大正|昭和|平成|令和)(?P<year>元|\d{1,2})|(?P<western>\d{4}))(?:年度)?$"
)
_ERA_FIRST_YEAR = {"M": 1868, "T": 1912, "S": 1926, "H": 1989, "R": 2019}
_ERA_LETTERS = {"明治": "M", "大正": "T", "昭和": "S", "平成": "H", "令和": "R"}


def parse_fiscal_year(text: str) -> int:
    """Read `R7`, `令和7年度`, `令和元年度`, `H30`, `平成30年度` or `2025` as the Western year the
    年度 starts in; full-width digits and letters are read too."""
    value = unicodedata.normalize("NFKC", text).strip()
    found = _FISCAL.match(value)
    if found is None or not _valid_fiscal(found):
        raise InvalidInput(
            f"年度を読み取れません: {text!r}（例: R7、令和7年度、平成30年度、2025）",
            f"Cannot read the fiscal year {text!r} (e.g. R7, 令和7年度, H30, 2025).",
        )
    if found["western"]:
        return int(found["western"])
    letter = _ERA_LETTERS.get(found["era"], found["era"].upper())
    year = 1 if found["year"] == "元" else int(found["year"])
    return _ERA_FIRST_YEAR[letter] + year - 1


def _valid_fiscal(found: re.Match[str]) -> bool:
    if found["western"]:
        return 1900 <= int(found["western"]) <= 2200
    letter = _ERA_LETTERS.get(found["era"], found["era"].upper())
    return letter in _ERA_FIRST_YEAR and (found["year"] == "元" or int(found["year"]) >= 1)
