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
) -> sa.Select[Any]:
    """`query` ordered by `keys` (all ascending, or all descending), starting after the row
    whose keys are `after`, at most `limit` rows (None: every row)."""
    if after is not None:
        if len(after) != len(keys):
            raise ValueError(f"a cursor of {len(keys)} values was expected, not {len(after)}")
        row = sa.tuple_(*keys)
        values = sa.tuple_(
            *(sa.literal(value, type_=key.type) for key, value in zip(keys, after, strict=True))
        )
        query = query.where(row < values if descending else row > values)
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
