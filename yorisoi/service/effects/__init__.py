"""What actions write besides the stage: one module per kind of record.

An effect runs only after the lifecycle machine accepted the action (or, for a record
action, after the roles and the case were checked), inside the same transaction, and
returns the audit payload and the case columns to update. A facts builder turns the
validated input into what the guards read (agencies resolved to names, unknown ids refused).
The registry (`yorisoi.service.registry`) names, per action, which of these it uses.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from functools import cache
from typing import Any, Generic, TypeVar

from pydantic import BaseModel
from sqlalchemy import Insert, Table, insert
from sqlmodel import Session, SQLModel, col, select

from models import Agency, Staff
from models.db import connection
from models.keys import key
from states import Lifecycle
from states.guards import AgencyRef
from yorisoi.errors import InvalidInput
from yorisoi.service.journal import CaseHead

In = TypeVar("In", bound=BaseModel)


@dataclass
class Act(Generic[In]):
    """One accepted action, as effects see it."""

    session: Session
    head: CaseHead
    actor: Staff
    data: In
    lifecycle: Lifecycle
    to_stage: str

    @property
    def actor_id(self) -> int:
        assert self.actor.id is not None
        return self.actor.id


@dataclass
class Effect:
    payload: dict[str, Any] = field(default_factory=dict)
    case_updates: dict[str, Any] = field(default_factory=dict)


def add_row(session: Session, row: SQLModel) -> int:
    """Insert `row` now (the ORM's INSERT … RETURNING) and give its id, for the rows that point to it."""
    session.add(row)
    session.flush([row])
    return key(row)  # type: ignore[arg-type]


@cache
def _insert_returning_id(table: Table) -> Insert:
    return insert(table).returning(table.c.id)


def insert_row(session: Session, model: type[SQLModel], **values: Any) -> int:
    """Insert one row with a Core INSERT … RETURNING id (its statement built once per table) and
    give its id: for the rows every intake and contact writes, where the ORM's unit of work
    costs several times the SQL. Columns left out take their defaults."""
    table: Table = model.__table__  # type: ignore[attr-defined]
    return int(connection(session).execute(_insert_returning_id(table), values).scalar_one())


def insert_rows(session: Session, model: type[SQLModel], rows: list[dict[str, Any]]) -> None:
    """Insert rows with one Core executemany (no ids needed)."""
    if rows:
        connection(session).execute(_insert(model.__table__), rows)  # type: ignore[attr-defined]


@cache
def _insert(table: Table) -> Insert:
    return insert(table)


def nothing(act: Act[Any]) -> Effect:
    """Actions that record only their date and memo (the service adds both to the payload)."""
    return Effect()


def agency_refs(session: Session, ids: Iterable[int]) -> dict[int, AgencyRef]:
    """Resolve agency ids to names; refuse unknown ones."""
    wanted = set(ids)
    if not wanted:
        return {}
    found = {
        a_id: AgencyRef(a_id, name)
        for a_id, name in session.exec(select(Agency.id, Agency.name).where(col(Agency.id).in_(wanted))).all()
        if a_id is not None
    }
    missing = sorted(wanted - set(found))
    if missing:
        raise InvalidInput(f"登録されていない関係機関です: {missing}", f"Unknown agency id(s): {missing}")
    return found


def check_staff(session: Session, ids: Iterable[int]) -> None:
    """Refuse unknown staff ids here: at insert they would surface as a foreign-key error."""
    wanted = set(ids)
    if not wanted:
        return
    found = set(session.exec(select(Staff.id).where(col(Staff.id).in_(wanted))).all())
    missing = sorted(wanted - found)
    if missing:
        raise InvalidInput(f"登録されていない職員です: {missing}", f"Unknown staff id(s): {missing}")


class InputView(Mapping[str, Any]):
    """The validated input as the guards' mapping, read field by field only if a guard asks."""

    __slots__ = ("_input",)

    def __init__(self, parsed: BaseModel) -> None:
        self._input = parsed

    def __getitem__(self, name: str) -> Any:
        if name not in type(self._input).model_fields:
            raise KeyError(name)
        return getattr(self._input, name)

    def __iter__(self) -> Iterator[str]:
        return iter(type(self._input).model_fields)

    def __len__(self) -> int:
        return len(type(self._input).model_fields)


def input_facts(session: Session, head: CaseHead, data: BaseModel) -> Mapping[str, Any]:
    """The default facts builder: the guards read the input itself."""
    return InputView(data)
