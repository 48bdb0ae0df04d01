"""Japanese municipal dates, defined once: Asia/Tokyo, 年度 (April–March) and 和暦.

The eras and their first days come from `japanera` (a maintained table of every Japanese era):
a date before 令和 is 平成 (or 昭和), as any municipal record carried over from earlier years
needs. Everything here that names an era goes through `era_of`; dates as staff write them in
spreadsheets (`R6.4.1`, `令和6年4月1日`, `H31.3.31`, `2024/4/1`, Excel serials, full-width
digits) are read by `parse_sheet_date`.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from dataclasses import dataclass

import pendulum
from japanera import EraDate
from japanera.japanera import ERA_DATA_GENERAL

from states.dates import western_date as western_date
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


def as_of_label(day: dt.date) -> str:
    """`令和7年3月31日現在`: the 基準日 as municipal documents title their figures (和暦)."""
    return f"{japanese_date(day)}現在"


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


# --- dates as spreadsheets hold them -------------------------------------------------------------

_MODERN_ERAS = {era.kanji: era for era in ERA_DATA_GENERAL if era.since.year >= 1868}
"""明治, 大正, 昭和, 平成, 令和 — and whatever era japanera knows next."""
_ERA_BY_NAME = {
    **_MODERN_ERAS,
    **{era.english_head: era for era in _MODERN_ERAS.values()},
    **{era.kanji[0]: era for era in _MODERN_ERAS.values()},  # 令6.4.1, 平31.3.31
}
_SEP = r"\s*[./\-]\s*"
_ERA_DATE = re.compile(
    rf"^(?P<era>[A-Za-z]|{'|'.join(_ERA_BY_NAME)})\.?\s*(?P<year>元|\d{{1,2}})"
    rf"(?:{_SEP}|\s*年\s*)(?P<month>\d{{1,2}})(?:{_SEP}|\s*月\s*)(?P<day>\d{{1,2}})\s*日?$"
)
_WESTERN_DATE = re.compile(
    rf"^(?P<year>\d{{4}})(?:{_SEP}|\s*年\s*)(?P<month>\d{{1,2}})(?:{_SEP}|\s*月\s*)(?P<day>\d{{1,2}})\s*日?$"
)
_COMPACT_DATE = re.compile(r"^(?P<year>\d{4})(?P<month>\d{2})(?P<day>\d{2})$")
_SERIAL = re.compile(r"^\d{5}(?:\.\d+)?$")
_TRAILER = re.compile(r"\s*(?:[(（][月火水木金土日][)）]|\s\d{1,2}:\d{2}(?::\d{2})?)\s*$")
_EXCEL_EPOCH = dt.date(1899, 12, 30)
_EXAMPLES_JA = "例: R6.4.1、令和6年4月1日、H31.3.31、2024/4/1"
_EXAMPLES_EN = "e.g. R6.4.1, 令和6年4月1日, H31.3.31, 2024/4/1"


def excel_serial_date(serial: float) -> dt.date:
    """The day an Excel date serial stands for (1 = 1900-01-01, with Excel's phantom 1900-02-29)."""
    days = int(serial)
    if not 1 <= days <= 2_958_465:
        raise ValueError(serial)
    return _EXCEL_EPOCH + dt.timedelta(days=days if days >= 61 else days + 1)


def parse_sheet_date(value: object) -> dt.date:
    """A date as a spreadsheet cell holds it: a date, an Excel serial, or text such as `R6.4.1`,
    `令和6年4月1日`, `令和元年5月1日`, `H31.3.31`, `平31.3.31`, `2024/4/1`, `2024-04-01`,
    `2024年4月1日` or `20240401`, full-width or not, with stray spaces, a weekday `（月）` or a
    time after it. An era year past the era's end is read within its last calendar year only
    (`H31.5.1` is 2019-05-01; `H32.1.1` is refused). Raises `InvalidInput` with examples."""
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, bool):
        raise _not_a_date(value)
    if isinstance(value, int | float):
        try:
            return excel_serial_date(value)
        except ValueError:
            raise _not_a_date(value) from None
    text = _TRAILER.sub("", unicodedata.normalize("NFKC", str(value)).strip())
    try:
        if _SERIAL.match(text):
            return excel_serial_date(float(text))
        found = _COMPACT_DATE.match(text) or _WESTERN_DATE.match(text)
        if found is not None:
            return dt.date(int(found["year"]), int(found["month"]), int(found["day"]))
        found = _ERA_DATE.match(text)
        if found is not None:
            return _era_day(found, value)
    except ValueError:
        raise _not_a_date(value, exists=False) from None
    raise _not_a_date(value)


def _era_day(found: re.Match[str], value: object) -> dt.date:
    name = found["era"]
    era = _ERA_BY_NAME.get(name) or _ERA_BY_NAME.get(name.upper())
    if era is None:
        raise _not_a_date(value)
    year = 1 if found["year"] == "元" else int(found["year"])
    western = era.since.year + year - 1
    last = (era.until - dt.timedelta(days=1)).year if era.until else None
    if year < 1 or (last is not None and western > last):
        years = f"元年〜{last - era.since.year + 1}年" if last else "元年から"
        span = f"{era.since.year}–{last}" if last else f"from {era.since.year}"
        raise InvalidInput(
            f"{era.kanji}{year}年はありません（{era.kanji}は{years}）: {value!r}",
            f"There is no year {year} of {era.english} ({span}): {value!r}",
        )
    return dt.date(western, int(found["month"]), int(found["day"]))


def _not_a_date(value: object, *, exists: bool = True) -> InvalidInput:
    if not exists:
        return InvalidInput(
            f"存在しない日付です: {value!r}（{_EXAMPLES_JA}）", f"No such date: {value!r} ({_EXAMPLES_EN})."
        )
    return InvalidInput(
        f"日付として読めません: {value!r}（{_EXAMPLES_JA}）", f"Not a date: {value!r} ({_EXAMPLES_EN})."
    )
