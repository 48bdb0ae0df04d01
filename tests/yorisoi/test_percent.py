"""Percentages are rounded 四捨五入 (half up), as Japanese official tables print them, and the
基準日 of a published table is written 「令和7年3月31日現在」: one definition each."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from yorisoi.jpdates import as_of_label
from yorisoi.percent import percent, round_half_up


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (6.25, "6.3"),  # round() gives 6.2 (half to even on a binary float)
        (0.05, "0.1"),  # round() gives 0.1 by luck of binary; 0.15 below does not
        (0.15, "0.2"),
        (2.675, "2.7"),
        (6.24, "6.2"),
        (99.95, "100.0"),
        ("12.35", "12.4"),
        (Decimal("0.25"), "0.3"),
        (7, "7.0"),
    ],
)
def test_round_half_up(value: float | str | Decimal, expected: str) -> None:
    assert str(round_half_up(value)) == expected


def test_python_round_would_disagree() -> None:
    """The reason for `round_half_up`: Python's own rounding gives 6.2 and 0.1 -> these differ."""
    assert round(6.25, 1) == 6.2
    assert round(0.15, 1) == 0.1
    assert str(round_half_up(6.25)) == "6.3"
    assert str(round_half_up(0.15)) == "0.2"


def test_percent_is_exact_and_rounds_half_up() -> None:
    assert percent(1, 16) == 6.3  # 6.25 %
    assert percent(1, 2000) == 0.1  # 0.05 %
    assert percent(1, 3) == 33.3
    assert percent(2, 3) == 66.7
    assert percent(5, 4) == 125.0
    assert percent(0, 7) == 0.0
    assert percent(3, 0) is None  # a target of 0 has no rate


def test_as_of_label_in_wareki() -> None:
    assert as_of_label(dt.date(2025, 3, 31)) == "令和7年3月31日現在"
    assert as_of_label(dt.date(2019, 5, 1)) == "令和元年5月1日現在"
    assert as_of_label(dt.date(2019, 4, 30)) == "平成31年4月30日現在"
