"""Primary keys of flushed rows. SQLModel types `id` as optional until the row is written."""

from __future__ import annotations

from typing import Protocol


class _HasId(Protocol):
    @property
    def id(self) -> int | None: ...


def key(row: _HasId) -> int:
    """The id of a row that has been flushed; a clear error instead of a silent None."""
    if row.id is None:
        raise ValueError(f"{type(row).__name__} has no id yet: add and flush it first")
    return row.id
