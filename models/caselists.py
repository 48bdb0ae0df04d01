"""Bounded case lists for the web app: the board's columns, the due list, the case list, search.

Every list is a page of at most `limit` cases after a cursor (keyset paging: `id > last id`,
or `(monitoring date, id) > last` on the due list), never OFFSET, so the hundredth page costs
what the first does. Counts come from one grouped query. The viewer's scope is the one
`yorisoi.service.access.list_scope` decided, applied exactly as `models.caseload` does, but
written so that SQLite can answer from indexes: a team is resolved to its staff ids first, and
meetings attended become a subquery of case ids.

Nothing here writes, and no address is ever selected: a list names the number, the person,
the stage, the coordinator and whether the household is DV-protected (a badge), nothing else.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy import ColumnElement, Select, and_, false, func, or_, select
from sqlalchemy.orm import aliased
from sqlmodel import Session, col

from models.case import Case, monitoring_overdue
from models.caseload import ListScope
from models.meeting import Meeting, MeetingAttendee
from models.person import Household, Person
from models.search import FTS_TABLE
from models.staff import Agency, Staff


@dataclass(frozen=True, slots=True)
class CaseFilters:
    """What a list is narrowed to, beyond the viewer's scope. `overdue` is 期限超過 as
    `models.case.monitoring_overdue` defines it; `dv` the households under DV 支援措置."""

    stage: str | None = None
    coordinator_id: int | None = None
    team: str | None = None
    overdue: bool = False
    dv: bool = False
    fiscal_year: int | None = None


@dataclass(frozen=True, slots=True)
class ListCard:
    """One case on the board or in a list."""

    id: int
    number: str
    stage: str
    person_name: str
    coordinator_id: int | None
    coordinator: str | None
    desk: str | None
    opened_on: dt.date
    next_monitoring_on: dt.date | None
    overdue: bool
    dv: bool


@dataclass(frozen=True, slots=True)
class Page:
    """One page of a list and where the next one starts (None: this was the last)."""

    cards: tuple[ListCard, ...]
    next_after: int | None


@dataclass(frozen=True, slots=True)
class DuePage:
    cards: tuple[ListCard, ...]
    next_after: tuple[dt.date | None, int] | None


def _staff_of_team(session: Session, team: str) -> list[int]:
    return [int(i) for i in session.execute(select(col(Staff.id)).where(col(Staff.team) == team)).scalars()]


def scope_clause(session: Session, scope: ListScope) -> ColumnElement[bool]:
    """`models.caseload._scope_filter`'s rule, in index-friendly terms: the case's coordinator is
    the viewer or one of their team (ids read first), or the viewer attended one of its meetings
    (a 支援会議 only under 守秘義務)."""
    if scope.everything:
        return sa.true()
    coordinators: set[int] = set()
    if scope.coordinator_id is not None:
        coordinators.add(scope.coordinator_id)
    if scope.team is not None:
        coordinators.update(_staff_of_team(session, scope.team))
    clauses: list[ColumnElement[bool]] = []
    if coordinators:
        clauses.append(col(Case.coordinator_id).in_(sorted(coordinators)))
    if scope.attendee_staff_id is not None:
        attended = (
            select(col(Meeting.case_id))
            .join(MeetingAttendee, col(MeetingAttendee.meeting_id) == col(Meeting.id))
            .where(
                col(MeetingAttendee.staff_id) == scope.attendee_staff_id,
                or_(
                    col(Meeting.kind).not_in(scope.confidential_kinds),
                    col(MeetingAttendee.confidentiality_acknowledged),
                ),
            )
        )
        clauses.append(col(Case.id).in_(attended))
    return or_(*clauses) if clauses else false()


def _dv_persons() -> Select[Any]:
    return (
        select(col(Person.id))
        .join(Household, col(Household.id) == col(Person.household_id))
        .where(col(Household.dv_protected))
    )


def filter_clauses(
    session: Session,
    scope: ListScope,
    filters: CaseFilters,
    *,
    today: dt.date,
    monitoring_stages: Collection[str],
    exclude_stages: Collection[str] = (),
) -> list[ColumnElement[bool]]:
    """The WHERE terms of a list: the viewer's scope and the filters."""
    clauses = [scope_clause(session, scope)]
    if exclude_stages:
        clauses.append(col(Case.stage).not_in(list(exclude_stages)))
    if filters.stage is not None:
        clauses.append(col(Case.stage) == filters.stage)
    if filters.coordinator_id is not None:
        clauses.append(col(Case.coordinator_id) == filters.coordinator_id)
    if filters.team is not None:
        clauses.append(col(Case.coordinator_id).in_(_staff_of_team(session, filters.team)))
    if filters.fiscal_year is not None:
        clauses.append(col(Case.fiscal_year) == filters.fiscal_year)
    if filters.overdue:
        clauses.append(monitoring_overdue(today, monitoring_stages))
    if filters.dv:
        clauses.append(col(Case.person_id).in_(_dv_persons()))
    return clauses


def _card_query(today: dt.date, monitoring_stages: Collection[str]) -> Select[Any]:
    coordinator = aliased(Staff)
    return (
        select(
            col(Case.id),
            col(Case.number),
            col(Case.stage),
            col(Person.name),
            col(Case.coordinator_id),
            col(coordinator.name),
            col(Agency.name),
            col(Case.opened_on),
            col(Case.next_monitoring_on),
            monitoring_overdue(today, monitoring_stages),
            col(Household.dv_protected),
        )
        .join(Person, col(Person.id) == col(Case.person_id))
        .join(Household, col(Household.id) == col(Person.household_id))
        .outerjoin(coordinator, col(coordinator.id) == col(Case.coordinator_id))
        .outerjoin(Agency, col(Agency.id) == col(Case.desk_id))
    )


def _cards(session: Session, query: Select[Any]) -> list[ListCard]:
    return [
        ListCard(
            id=r[0],
            number=r[1],
            stage=r[2],
            person_name=r[3],
            coordinator_id=r[4],
            coordinator=r[5],
            desk=r[6],
            opened_on=r[7],
            next_monitoring_on=r[8],
            overdue=bool(r[9]),
            dv=bool(r[10]),
        )
        for r in session.execute(query)
    ]


def _paged(cards: list[ListCard], limit: int) -> Page:
    if len(cards) > limit:
        return Page(tuple(cards[:limit]), cards[limit - 1].id)
    return Page(tuple(cards), None)


def counts_by_stage(session: Session, clauses: Sequence[ColumnElement[bool]]) -> dict[str, int]:
    """How many cases each stage holds under `clauses`: one grouped query for every column."""
    rows = session.execute(
        select(col(Case.stage), func.count()).where(*clauses).group_by(col(Case.stage))
    ).all()
    return {str(stage): int(n) for stage, n in rows}


def count(session: Session, clauses: Sequence[ColumnElement[bool]]) -> int:
    return int(session.execute(select(func.count()).select_from(Case).where(*clauses)).scalar_one())


def page(
    session: Session,
    clauses: Sequence[ColumnElement[bool]],
    *,
    today: dt.date,
    monitoring_stages: Collection[str],
    after: int | None = None,
    limit: int = 20,
) -> Page:
    """The cases under `clauses` in registration order (case id), the first `limit` after `after`."""
    query = _card_query(today, monitoring_stages).where(*clauses)
    if after is not None:
        query = query.where(col(Case.id) > after)
    return _paged(_cards(session, query.order_by(col(Case.id)).limit(limit + 1)), limit)


def due_clause(today: dt.date, due_by: dt.date, monitoring_stages: Collection[str]) -> ColumnElement[bool]:
    """On the due list: 期限超過 (`monitoring_overdue`), or monitoring due by `due_by`.

    Written as `stage ∈ monitoring ∧ (overdue mark ∨ date ≤ due_by)`, which is exactly
    `monitoring_overdue(today) ∨ (stage ∈ monitoring ∧ date ≤ due_by)` for any `due_by` ≥ `today`
    (a date before today is before due_by): the form an index on the date can answer."""
    if due_by < today:
        raise ValueError("due_by is before today")
    return and_(
        col(Case.stage).in_(list(monitoring_stages)),
        or_(col(Case.overdue), col(Case.next_monitoring_on) <= due_by),
    )


def due_page(
    session: Session,
    clauses: Sequence[ColumnElement[bool]],
    *,
    today: dt.date,
    monitoring_stages: Collection[str],
    after: tuple[dt.date | None, int] | None = None,
    limit: int = 50,
) -> DuePage:
    """The due list's page: cases marked overdue without a date first, then the soonest
    monitoring date, then id; keyset on (date, id)."""
    day = col(Case.next_monitoring_on)
    ident = col(Case.id)
    query = _card_query(today, monitoring_stages).where(*clauses)
    if after is not None and after[0] is None:
        query = query.where(or_(day.is_not(None), and_(day.is_(None), ident > after[1])))
    elif after is not None:
        # The plain `>=` gives the index a lower bound; the OR only breaks ties within a date.
        query = query.where(day >= after[0], or_(day > after[0], and_(day == after[0], ident > after[1])))
    cards = _cards(session, query.order_by(day.nulls_first(), ident).limit(limit + 1))
    if len(cards) > limit:
        last = cards[limit - 1]
        return DuePage(tuple(cards[:limit]), (last.next_monitoring_on, last.id))
    return DuePage(tuple(cards), None)


# ---------------------------------------------------------------------------------------------
# Search

MAX_QUERY = 60
"""Longest search text accepted (a name and kana are at most 200, but nobody types more)."""

TRIGRAM = 3
"""The FTS5 trigram tokenizer matches substrings of three characters or more."""

SHORT_CAP = 1000
"""A 1–2 character search reads at most this many matching cases (in scope) by index order."""

_HYPHENS = "-‐‑‒–—―−ー－ｰ"
_NUMBER = re.compile(rf"^[A-Z]{{0,3}}[0-9]*[{_HYPHENS}]?[0-9]+$")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


class BadQuery(ValueError):
    """A search text that cannot be searched for, with the Japanese reason."""


@dataclass(frozen=True, slots=True)
class SearchTerms:
    """A search text folded the way the index is: NFKC, spaces removed; `variants` are the
    forms to look for (the text, its katakana and hiragana spellings); `number` a case number
    with any hyphen-like character as '-', when the text looks like one."""

    text: str
    variants: tuple[str, ...]
    number: str | None

    @property
    def short(self) -> bool:
        return len(self.text) < TRIGRAM


def _katakana(text: str) -> str:
    return "".join(chr(ord(ch) + 0x60) if "ぁ" <= ch <= "ゖ" else ch for ch in text)


def _hiragana(text: str) -> str:
    return "".join(chr(ord(ch) - 0x60) if "ァ" <= ch <= "ヶ" else ch for ch in text)


def search_terms(raw: str) -> SearchTerms | None:
    """The folded search text; None when nothing is left to search for; `BadQuery` when too long."""
    if len(raw) > MAX_QUERY * 4:
        raise BadQuery(f"検索語が長すぎます（{MAX_QUERY}文字まで）。")
    text = unicodedata.normalize("NFKC", _CONTROL.sub("", raw))
    text = "".join(text.split())
    if not text:
        return None
    if len(text) > MAX_QUERY:
        raise BadQuery(f"検索語が長すぎます（{MAX_QUERY}文字まで）。")
    upper = text.upper()
    number = None
    if _NUMBER.match(upper):
        number = "".join("-" if ch in _HYPHENS else ch for ch in upper)
    variants = tuple(dict.fromkeys((text, _katakana(text), _hiragana(text))))
    return SearchTerms(text, variants, number)


def _fts_phrase(text: str) -> str:
    return '"' + text.replace('"', '""') + '"'


def _like_escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _spaceless(column: Any) -> ColumnElement[str]:
    # The same expression as the PostgreSQL GIN indexes (models.search.PG_INDEXES), literally.
    return func.replace(
        func.replace(column, sa.literal_column("' '"), sa.literal_column("''")),
        sa.literal_column("'　'"),
        sa.literal_column("''"),
    )


def _match_clause(session: Session, terms: SearchTerms) -> ColumnElement[bool]:
    """Which cases the search text names (access aside)."""
    exact = [col(Case.number) == terms.number] if terms.number else []
    dialect = session.get_bind().dialect.name
    if terms.short:
        # Fewer than three characters: a prefix of the name or the kana, as B-tree ranges on the
        # indexed columns (ix_person_name, ix_person_kana), never a scan of every name.
        # On PostgreSQL a LIKE prefix (a range would follow the collation's order, not bytes).
        prefixes = []
        for variant in terms.variants:
            for column in (col(Person.name), col(Person.kana)):
                if dialect == "sqlite":
                    prefixes.append(and_(column >= variant, column < variant + "\U0010ffff"))
                else:
                    prefixes.append(column.like(f"{_like_escape(variant)}%", escape="\\"))
        persons = select(col(Person.id)).where(or_(*prefixes))
        return or_(*exact, col(Case.person_id).in_(persons))
    if dialect == "sqlite":
        # Raw SQL for MATCH: SQLAlchemy has no FTS5 construct. Any of the spellings, as phrases
        # (a phrase of trigrams is a substring), in number, name or kana.
        spellings = dict.fromkeys((*terms.variants, *((terms.number,) if terms.number else ())))
        expression = " OR ".join(_fts_phrase(v) for v in spellings)
        matched = sa.text(f"SELECT rowid FROM {FTS_TABLE} WHERE {FTS_TABLE} MATCH :fts").bindparams(
            fts=expression
        )
        return or_(*exact, col(Case.id).in_(matched))
    likes: list[ColumnElement[bool]] = []
    for variant in terms.variants:
        pattern = f"%{_like_escape(variant)}%"
        persons = select(col(Person.id)).where(
            or_(
                _spaceless(col(Person.name)).like(pattern, escape="\\"),
                _spaceless(col(Person.kana)).like(pattern, escape="\\"),
            )
        )
        likes.append(col(Case.person_id).in_(persons))
    if terms.number:
        likes.append(col(Case.number).like(f"%{_like_escape(terms.number)}%", escape="\\"))
    return or_(*exact, *likes)


def search(
    session: Session,
    scope: ListScope,
    terms: SearchTerms,
    *,
    today: dt.date,
    monitoring_stages: Collection[str],
    after: int | None = None,
    limit: int = 20,
) -> Page:
    """Cases the search text names that the viewer may open (the scope of `list_scope`, the one
    the case page's `access_to` also follows), newest first; keyset on the case id."""
    scope_terms = scope_clause(session, scope)
    matched = _match_clause(session, terms)
    if terms.short:
        # Bounded: at most SHORT_CAP matching cases in scope, then ordered and paged.
        ids = select(col(Case.id)).join(Person, col(Person.id) == col(Case.person_id))
        ids = ids.where(matched, scope_terms).limit(SHORT_CAP)
        matched = col(Case.id).in_(ids)
    query = _card_query(today, monitoring_stages).where(matched, scope_terms)
    if after is not None:
        query = query.where(col(Case.id) < after)
    cards = _cards(session, query.order_by(col(Case.id).desc()).limit(limit + 1))
    return _paged(cards, limit)
