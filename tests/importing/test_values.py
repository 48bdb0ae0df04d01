"""Cells as staff write them, read into what the case service takes (no database)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from yorisoi.importing import layout
from yorisoi.importing.values import CellProblem, read

CONTACTS = layout.CONTACTS


@pytest.mark.parametrize(
    ("key", "cell", "value"),
    [
        ("referrer", "本人", "self"),
        ("referrer", " 家族 ", "family"),  # a spelling of 家族・親族, stray spaces
        ("referrer", "ａｇｅｎｃｙ", "agency"),  # the code, full-width
        ("method", "ＴＥＬ", "phone"),
        ("method", "家庭訪問", "home_visit"),
        ("topics", "収入・生活費のこと、住まい", ["income", "housing"]),  # label, label without its tail
        ("topics", "介護に關すること\ndebt\n債務", ["care", "debt"]),  # 山口市's old 關, codes, duplicates
        ("topics", "収入", ["income"]),  # a shortening only one label fits
        ("outreach_visit", "○", True),
        ("outreach_visit", "いいえ", False),
        ("contacted_on", "令和6年4月1日（月）", dt.date(2024, 4, 1)),
        ("ref", "Ｙ－０００１", "Y-0001"),
        ("ref", 12.0, "12"),  # a number cell
        ("note", " 髙橋さんから（ｶﾅ） ", "髙橋さんから（ｶﾅ）"),  # a memo stays as written
    ],
)
def test_cells_read_as_staff_write_them(key: str, cell: Any, value: Any) -> None:
    assert read(CONTACTS.column(key), cell) == value


@pytest.mark.parametrize(
    ("key", "cell", "message"),
    [
        ("referrer", "友人", "「友人」は選べません（選べる値: 本人、家族・親族、地域、関係機関等）"),
        ("topics", "家、宇宙", "選べない値があります: 家、宇宙"),  # 家: fits several labels
        ("outreach_visit", "たぶん", "はい／いいえ で書いてください"),
        ("contacted_on", "R6.2.30", "存在しない日付です"),
    ],
)
def test_cells_that_cannot_be_read_say_why(key: str, cell: Any, message: str) -> None:
    with pytest.raises(CellProblem) as problem:
        read(CONTACTS.column(key), cell)
    assert message in problem.value.ja


def test_plan_goals_and_roles_are_read_line_by_line() -> None:
    goals = read(layout.PLANS.column("goals"), "ひきこもり：週1回外出できる\n家計を立て直す")
    assert goals == [("ひきこもり", "週1回外出できる"), ("", "家計を立て直す")]
    roles = read(layout.PLANS.column("roles"), "自立相談支援機関: 家計相談")
    assert roles == [("自立相談支援機関", "家計相談")]
    with pytest.raises(CellProblem):
        read(layout.PLANS.column("roles"), "家計相談")


def test_names_keep_their_kanji_and_lose_only_their_width() -> None:
    name = layout.CASES.column("name")
    assert read(name, "髙橋　ﾀﾛｳ ") == "髙橋 タロウ"
    assert read(layout.CASES.column("ref"), "Ａ－１２") == "A-12"
