"""Keyset paging: the next page starts after the last row shown, never at an OFFSET.

An OFFSET makes the database read and throw away every earlier row — page 8,000 of a
400,000-row list reads 400,000 rows. A keyset page seeks the index to the key of the last
row shown (`(date, id) > (…, …)`, a row-value comparison both SQLite and PostgreSQL answer
from a composite index) and reads only the rows it returns. Rows inserted meanwhile are
neither repeated nor skipped, which OFFSET cannot promise either.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

import sqlalchemy as sa

T = TypeVar("T")


def keyset(
    query: sa.Select[Any],
    keys: Sequence[Any],
    after: Sequence[Any] | None,
    limit: int | None,
    *,
    descending: bool = False,
    low: Any = None,
    high: Any = None,
    high_open: bool = False,
) -> sa.Select[Any]:
    """`query` ordered by `keys` (all ascending, or all descending), starting after the row
    whose keys are `after`, at most `limit` rows (None: every row).

    `low` ≤ keys[0] ≤ `high` (`< high` with `high_open`) is the range the list covers (a
    period). It is given here, not by the caller, because the cursor must narrow that same
    bound: SQLite seeks the index with one bound per side, and given `a < :end AND a <= :cursor`
    it took the first and read every row from the period's end back to the cursor (600 ms for
    a page months deep in three million rows, instead of under 1 ms)."""
    first = keys[0]
    if after is not None:
        if len(after) != len(keys):
            raise ValueError(f"a cursor of {len(keys)} values was expected, not {len(after)}")
        if descending and (high is None or after[0] < high or (after[0] == high and not high_open)):
            high, high_open = after[0], False
        elif not descending and (low is None or after[0] > low):
            low = after[0]
        row = sa.tuple_(*keys)
        values = sa.tuple_(
            *(sa.literal(value, type_=key.type) for key, value in zip(keys, after, strict=True))
        )
        query = query.where(row < values if descending else row > values)
    if low is not None:
        query = query.where(first >= low)
    if high is not None:
        query = query.where(first < high if high_open else first <= high)
    query = query.order_by(*(key.desc() if descending else key for key in keys))
    return query if limit is None else query.limit(limit)


@dataclass(frozen=True, slots=True)
class Page(Generic[T]):
    """One page of a list; `next` is the key to continue after (None: this was the last page)."""

    rows: list[T]
    next: tuple[Any, ...] | None


def fetch_page(fetch: Callable[[int], list[T]], size: int, key: Callable[[T], tuple[Any, ...]]) -> Page[T]:
    """Ask `fetch` for one row more than `size`: whether it came tells if a next page exists,
    without counting the rest."""
    rows = fetch(size + 1)
    if len(rows) <= size:
        return Page(rows, None)
    shown = rows[:size]
    return Page(shown, key(shown[-1]))
