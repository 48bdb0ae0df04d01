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
from sqlalchemy import ColumnElement, Select, and_, func, or_, select
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


@dataclass(frozen=True, slots=True)
class Selection:
    """The cases a list selects, as disjoint parts (a case is in the list when it matches one
    part's terms): one part per coordinator whose cases the viewer sees, one for the meetings
    they attended, or a single part for a viewer who sees everything. Each part is a plain
    index range (coordinator, stage, id …); lists merge the parts' pages, counts add up."""

    parts: tuple[tuple[ColumnElement[bool], ...], ...]

    def where(self, *more: ColumnElement[bool]) -> Selection:
        return Selection(tuple((*part, *more) for part in self.parts))


def _attended(scope: ListScope) -> Select[Any]:
    return (
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


def selection(session: Session, scope: ListScope, coordinators: set[int] | None = None) -> Selection:
    """`models.caseload._scope_filter`'s rule — the case's coordinator is the viewer or one of
    their team, or the viewer attended one of its meetings (a 支援会議 only under 守秘義務), or
    the viewer sees everything — as disjoint parts, narrowed to `coordinators` when given."""
    coordinator = col(Case.coordinator_id)
    if scope.everything:
        if coordinators is None:
            return Selection(((),))
        return Selection(tuple((coordinator == c,) for c in sorted(coordinators)))
    own: set[int] = set()
    if scope.coordinator_id is not None:
        own.add(scope.coordinator_id)
    if scope.team is not None:
        own.update(_staff_of_team(session, scope.team))
    shown = own if coordinators is None else own & coordinators
    parts: list[tuple[ColumnElement[bool], ...]] = [(coordinator == c,) for c in sorted(shown)]
    if scope.attendee_staff_id is not None:
        others = or_(coordinator.is_(None), coordinator.not_in(sorted(own))) if own else sa.true()
        narrowed = (coordinator.in_(sorted(coordinators)),) if coordinators is not None else ()
        parts.append((col(Case.id).in_(_attended(scope)), others, *narrowed))
    return Selection(tuple(parts))


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
) -> Selection:
    """The cases of a list: the viewer's scope and the filters."""
    coordinators: set[int] | None = None
    if filters.coordinator_id is not None:
        coordinators = {filters.coordinator_id}
    if filters.team is not None:
        team = set(_staff_of_team(session, filters.team))
        coordinators = team if coordinators is None else coordinators & team
    clauses: list[ColumnElement[bool]] = []
    if exclude_stages:
        clauses.append(col(Case.stage).not_in(list(exclude_stages)))
    if filters.stage is not None:
        clauses.append(col(Case.stage) == filters.stage)
    if filters.fiscal_year is not None:
        clauses.append(col(Case.fiscal_year) == filters.fiscal_year)
    if filters.overdue:
        clauses.append(monitoring_overdue(today, monitoring_stages))
    if filters.dv:
        clauses.append(col(Case.person_id).in_(_dv_persons()))
    return selection(session, scope, coordinators).where(*clauses)


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


def counts_by_stage(session: Session, chosen: Selection) -> dict[str, int]:
    """How many cases each stage holds: one grouped query per part (one for a viewer who sees
    everything, one per coordinator of a team), never one per column."""
    counts: dict[str, int] = {}
    for part in chosen.parts:
        rows = session.execute(select(col(Case.stage), func.count()).where(*part).group_by(col(Case.stage)))
        for stage, n in rows:
            counts[str(stage)] = counts.get(str(stage), 0) + int(n)
    return counts


def count(session: Session, chosen: Selection) -> int:
    return sum(
        int(session.execute(select(func.count()).select_from(Case).where(*part)).scalar_one())
        for part in chosen.parts
    )


def _by_ids(
    session: Session, ids: Sequence[int], today: dt.date, monitoring_stages: Collection[str]
) -> list[ListCard]:
    if not ids:
        return []
    found = {
        c.id: c for c in _cards(session, _card_query(today, monitoring_stages).where(col(Case.id).in_(ids)))
    }
    return [found[i] for i in ids if i in found]


def page(
    session: Session,
    chosen: Selection,
    *,
    today: dt.date,
    monitoring_stages: Collection[str],
    after: int | None = None,
    limit: int = 20,
    descending: bool = False,
) -> Page:
    """The selected cases in registration order (case id; newest first when `descending`), the
    first `limit` after the case `after`: each part's first ids from its index, merged."""
    ident = col(Case.id)
    ids: set[int] = set()
    for part in chosen.parts:
        query = select(ident).where(*part)
        if after is not None:
            query = query.where(ident < after if descending else ident > after)
        query = query.order_by(ident.desc() if descending else ident).limit(limit + 1)
        ids.update(int(i) for i in session.execute(query).scalars())
    ordered = sorted(ids, reverse=descending)[: limit + 1]
    cards = _by_ids(session, ordered, today, monitoring_stages)
    if len(ordered) > limit:
        return Page(tuple(cards[:limit]), ordered[limit - 1])
    return Page(tuple(cards), None)


def due_selection(
    chosen: Selection, *, today: dt.date, due_by: dt.date, monitoring_stages: Collection[str]
) -> Selection:
    """On the due list: 期限超過 (`monitoring_overdue`), or monitoring due by `due_by`.

    That is `stage ∈ monitoring ∧ (date ≤ due_by ∨ overdue mark)` for any `due_by` ≥ `today`
    (a date before today is before due_by), split into two disjoint parts an index answers:
    a date range, and the few marked overdue whose date is later (or missing)."""
    if due_by < today:
        raise ValueError("due_by is before today")
    day = col(Case.next_monitoring_on)
    in_monitoring = col(Case.stage).in_(list(monitoring_stages))
    return Selection(
        tuple(
            (*part, in_monitoring, *extra)
            for part in chosen.parts
            for extra in ((day <= due_by,), (col(Case.overdue), or_(day.is_(None), day > due_by)))
        )
    )


def due_page(
    session: Session,
    chosen: Selection,
    *,
    today: dt.date,
    monitoring_stages: Collection[str],
    after: tuple[dt.date | None, int] | None = None,
    limit: int = 50,
) -> DuePage:
    """The due list's page: cases marked overdue without a date first, then the soonest
    monitoring date, then id; keyset on (date, id), each part's first rows merged."""
    day = col(Case.next_monitoring_on)
    ident = col(Case.id)
    keys: set[tuple[dt.date, int, dt.date | None]] = set()
    for part in chosen.parts:
        query = select(day, ident).where(*part)
        if after is not None and after[0] is None:
            query = query.where(or_(day.is_not(None), and_(day.is_(None), ident > after[1])))
        elif after is not None:
            # The plain `>=` gives the index a lower bound; the OR only breaks ties within a date.
            query = query.where(day >= after[0], or_(day > after[0], and_(day == after[0], ident > after[1])))
        query = query.order_by(day.nulls_first(), ident).limit(limit + 1)
        keys.update((d or dt.date.min, int(i), d) for d, i in session.execute(query))
    ordered = sorted(keys)[: limit + 1]
    cards = _by_ids(session, [i for _, i, _ in ordered], today, monitoring_stages)
    if len(ordered) > limit:
        _, last_id, last_day = ordered[limit - 1]
        return DuePage(tuple(cards[:limit]), (last_day, last_id))
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
    chosen = selection(session, scope)
    matched = _match_clause(session, terms)
    if terms.short:
        # Bounded: at most SHORT_CAP matching cases in scope, then ordered and paged.
        ident = col(Case.id)
        capped: list[int] = []
        for part in chosen.parts:
            rows = session.execute(select(ident).where(matched, *part).limit(SHORT_CAP)).scalars()
            capped.extend(int(i) for i in rows)
        matched = ident.in_(sorted(capped, reverse=True)[:SHORT_CAP])
    return page(
        session,
        chosen.where(matched),
        today=today,
        monitoring_stages=monitoring_stages,
        after=after,
        limit=limit,
        descending=True,
    )
