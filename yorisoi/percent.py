"""Percentages as municipal documents print them, defined once: 四捨五入 to one decimal.

Python's `round()` rounds half to even on binary floats (`round(6.25, 1)` is 6.2), while
Japanese official tables round half up (6.25 → 6.3, 0.05 → 0.1). Every percentage yorisoi
shows — on pages, in XLSX, CSV and JSON — goes through `percent` or `round_half_up`.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

PLACES = 1
"""Decimals a published percentage keeps (達成率 67.3%)."""


def round_half_up(value: Decimal | int | float | str, places: int = PLACES) -> Decimal:
    """`value` rounded 四捨五入 to `places` decimals. A float is read as it prints (`6.25`,
    not the binary 6.2499…), which is what the person reading the table sees."""
    exact = value if isinstance(value, Decimal) else Decimal(str(value))
    return exact.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)


def percent(part: int, whole: int, places: int = PLACES) -> float | None:
    """`part` of `whole` in percent, 四捨五入 to `places` decimals; None when `whole` is 0
    (no rate can be computed). Exact decimal arithmetic: 1 of 16 is 6.25 → 6.3."""
    if whole == 0:
        return None
    return float(round_half_up(Decimal(part) * 100 / Decimal(whole), places))
