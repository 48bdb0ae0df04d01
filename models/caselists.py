"""Bounded case lists for the web app and its API: the board's columns, the due list, the case
list, search.

Every list is a page of at most `limit` cases after a cursor (keyset paging: `id > last id`,
or `(monitoring date, id) > last` on the due list), never OFFSET, so the hundredth page costs
what the first does. The viewer's scope is the one `yorisoi.service.access.list_scope`
decided — the case's coordinator is the viewer or one of their team, or the viewer attended
one of its meetings (a 支援会議 only under 守秘義務), or the viewer sees everything — as
disjoint parts an index answers on its own (`Selection`): one per coordinator whose cases the
viewer sees (a team is resolved to its staff ids first), one for the meetings they attended.
A page reads each part's first ids in index order and merges them; a count adds the parts'
counts (grouped by stage: one query per part, never one per column); the board's counts come
from `case_stage_tally`.

Nothing here writes, and no address is ever selected: a list names the number, the person,
the stage, the coordinator and whether the household is DV-protected (a badge), nothing else.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from typing import Any, cast

import sqlalchemy as sa
from sqlalchemy import ColumnElement, Select, and_, func, or_, select
from sqlalchemy.orm import aliased
from sqlmodel import Session, col

from models.case import Case, monitoring_overdue
from models.caseload import ListScope
from models.meeting import Meeting, MeetingAttendee
from models.person import Household, Person
from models.search import FTS_TABLE, CaseStageTally
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
    index range (coordinator, stage, id …); lists merge the parts' pages, counts add up.

    A part may have a driver: a subquery of the few case ids it can hold (the meetings
    attended), joined first, so that the database starts from those cases and not from an
    index over every case."""

    parts: tuple[tuple[ColumnElement[bool], ...], ...]
    drivers: tuple[Select[Any] | None, ...] = ()

    def _drivers(self) -> tuple[Select[Any] | None, ...]:
        return self.drivers or (None,) * len(self.parts)

    def where(self, *more: ColumnElement[bool]) -> Selection:
        return Selection(tuple((*part, *more) for part in self.parts), self._drivers())

    def split(self, *alternatives: tuple[ColumnElement[bool], ...]) -> Selection:
        """Each part once per alternative (the alternatives must not overlap)."""
        pairs = [
            ((*part, *alt), driver)
            for part, driver in zip(self.parts, self._drivers(), strict=True)
            for alt in alternatives
        ]
        return Selection(tuple(p for p, _ in pairs), tuple(d for _, d in pairs))

    def collapsed(self) -> Selection:
        """One part: the parts OR'ed. For a filter that selects few cases from its own index (DV),
        where one query driven by that index beats one query per part."""
        terms = [
            (*part, col(Case.id).in_(driver)) if driver is not None else part
            for part, driver in zip(self.parts, self._drivers(), strict=True)
        ]
        if len(terms) == 1:
            return Selection((terms[0],))
        if not terms:
            return self
        return Selection(((or_(*(and_(sa.true(), *t) for t in terms)),),))

    def queries(self, query: Select[Any]) -> list[Select[Any]]:
        """`query` (over "case") once per part, with the part's terms and driver."""
        found = []
        for part, driver in zip(self.parts, self._drivers(), strict=True):
            one = query
            if driver is not None:
                ids = driver.subquery()
                one = one.select_from(ids).join(Case, col(Case.id) == ids.c.case_id)
            found.append(one.where(*part))
        return found


def _attended(scope: ListScope) -> Select[Any]:
    """The cases whose meetings the viewer attended (a 支援会議 only under 守秘義務), once each."""
    return (
        select(col(Meeting.case_id).label("case_id"))
        .distinct()
        .join(MeetingAttendee, col(MeetingAttendee.meeting_id) == col(Meeting.id))
        .where(
            col(MeetingAttendee.staff_id) == scope.attendee_staff_id,
            or_(
                col(Meeting.kind).not_in(scope.confidential_kinds),
                col(MeetingAttendee.confidentiality_acknowledged),
            ),
        )
    )


def _own(session: Session, scope: ListScope) -> set[int]:
    """The coordinators whose cases the (not all-seeing) viewer sees whole: themselves, their team."""
    own: set[int] = set()
    if scope.coordinator_id is not None:
        own.add(scope.coordinator_id)
    if scope.team is not None:
        own.update(_staff_of_team(session, scope.team))
    return own


def _attended_part(
    scope: ListScope, own: set[int], coordinators: set[int] | None
) -> tuple[tuple[ColumnElement[bool], ...], Select[Any]] | None:
    """The cases the viewer sees through meetings attended, less those already seen whole: the
    terms, and the driver (those cases' ids)."""
    if scope.attendee_staff_id is None:
        return None
    coordinator = col(Case.coordinator_id)
    others = or_(coordinator.is_(None), coordinator.not_in(sorted(own))) if own else sa.true()
    narrowed = (coordinator.in_(sorted(coordinators)),) if coordinators is not None else ()
    return (others, *narrowed), _attended(scope)


def selection(session: Session, scope: ListScope, coordinators: set[int] | None = None) -> Selection:
    """The cases `scope` sees, as disjoint parts, narrowed to `coordinators` when given: the rule
    of the module docstring, the one `yorisoi.service.access.access_to` applies to a case."""
    coordinator = col(Case.coordinator_id)
    if scope.everything:
        if coordinators is None:
            return Selection(((),))
        return Selection(tuple((coordinator == c,) for c in sorted(coordinators)))
    own = _own(session, scope)
    shown = own if coordinators is None else own & coordinators
    parts: list[tuple[ColumnElement[bool], ...]] = [(coordinator == c,) for c in sorted(shown)]
    drivers: list[Select[Any] | None] = [None] * len(parts)
    attended = _attended_part(scope, own, coordinators)
    if attended is not None:
        parts.append(attended[0])
        drivers.append(attended[1])
    return Selection(tuple(parts), tuple(drivers))


def _coordinator_filter(session: Session, filters: CaseFilters) -> set[int] | None:
    """The coordinators the filters allow (None: any)."""
    coordinators: set[int] | None = None
    if filters.coordinator_id is not None:
        coordinators = {filters.coordinator_id}
    if filters.team is not None:
        team = set(_staff_of_team(session, filters.team))
        coordinators = team if coordinators is None else coordinators & team
    return coordinators


def board_counts(
    session: Session,
    scope: ListScope,
    filters: CaseFilters,
    *,
    today: dt.date,
    monitoring_stages: Collection[str],
    exclude_stages: Collection[str] = (),
) -> dict[str, int]:
    """How many cases each stage holds, as the board's columns show them.

    Filtered by stage, coordinator or team only, the counts come from `case_stage_tally` (a few
    rows per coordinator, kept by triggers) plus a grouped count of the cases seen through
    meetings attended; with any other filter, from one grouped query per part."""
    if filters.overdue or filters.dv or filters.fiscal_year is not None:
        chosen = filter_clauses(
            session,
            scope,
            filters,
            today=today,
            monitoring_stages=monitoring_stages,
            exclude_stages=exclude_stages,
        )
        return counts_by_stage(session, chosen)
    coordinators = _coordinator_filter(session, filters)
    query = select(col(CaseStageTally.stage), func.sum(col(CaseStageTally.n))).group_by(
        col(CaseStageTally.stage)
    )
    rest: tuple[tuple[ColumnElement[bool], ...], Select[Any]] | None = None
    if scope.everything:
        if coordinators is not None:
            query = query.where(col(CaseStageTally.coordinator_key).in_(sorted(coordinators)))
    else:
        own = _own(session, scope)
        shown = own if coordinators is None else own & coordinators
        query = query.where(col(CaseStageTally.coordinator_key).in_(sorted(shown)))
        rest = _attended_part(scope, own, coordinators)
    counts = {str(stage): int(n or 0) for stage, n in session.execute(query)}
    if rest is not None:
        for stage, n in counts_by_stage(session, Selection((rest[0],), (rest[1],))).items():
            counts[stage] = counts.get(stage, 0) + n
    return {
        stage: n
        for stage, n in counts.items()
        if n > 0 and stage not in exclude_stages and (filters.stage is None or stage == filters.stage)
    }


def _dv_cases() -> Select[Any]:
    """The cases of DV-protected households, from the partial index of those few households."""
    # Nested IN lists, not joins: SQLite then starts from the households, as intended.
    households = select(col(Household.id)).where(col(Household.dv_protected))
    persons = select(col(Person.id)).where(col(Person.household_id).in_(households))
    return select(col(Case.id)).where(col(Case.person_id).in_(persons))


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
    coordinators = _coordinator_filter(session, filters)
    clauses: list[ColumnElement[bool]] = []
    if exclude_stages:
        clauses.append(col(Case.stage).not_in(list(exclude_stages)))
    if filters.stage is not None:
        clauses.append(col(Case.stage) == filters.stage)
    if filters.fiscal_year is not None:
        clauses.append(col(Case.fiscal_year) == filters.fiscal_year)
    chosen = selection(session, scope, coordinators)
    if filters.dv:
        # Few households are DV-protected: one query driven from their index, scope checked per case.
        chosen = chosen.collapsed().where(col(Case.id).in_(_dv_cases()))
    if filters.overdue:
        chosen = chosen.where(monitoring_overdue(today, monitoring_stages)).split(*_overdue_ranges(today))
    return chosen.where(*clauses)


def _marked() -> ColumnElement[bool]:
    """The sweep's 期限超過 mark, as `monitoring_overdue` writes it (so ix_case_overdue_mark applies)."""
    return cast(ColumnElement[bool], col(Case.overdue))


def _overdue_ranges(today: dt.date) -> tuple[tuple[ColumnElement[bool], ...], ...]:
    """Two disjoint parts that together cover every case, added to `monitoring_overdue` (the one
    definition of 期限超過) only so an index answers each: dates before today, and the rest (a
    case in it is overdue by its mark). They narrow nothing the definition selects."""
    day = col(Case.next_monitoring_on)
    # In the second part only the mark can make a case overdue: saying so lets the partial index
    # of marked cases (ix_case_overdue_mark) answer it.
    return ((day < today,), (or_(day.is_(None), day >= today), _marked()))


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


def _rows(session: Session, queries: Sequence[Select[Any]]) -> list[Any]:
    """Every part's rows in one statement (UNION ALL of the parts, each kept whole in a
    subquery with its own ORDER BY and LIMIT, so each still walks its own index): one round
    trip and one compiled statement however many coordinators a team has."""
    if not queries:
        return []
    if len(queries) == 1:
        return list(session.execute(queries[0]))
    branches = [select(*q.subquery().c) for q in queries]
    return list(session.execute(sa.union_all(*branches)))


def counts_by_stage(session: Session, chosen: Selection) -> dict[str, int]:
    """How many cases each stage holds: one statement, a grouped count per part (one for a
    viewer who sees everything, one per coordinator of a team), never one per column."""
    counts: dict[str, int] = {}
    query: Select[Any] = select(col(Case.stage).label("stage"), func.count().label("n"))
    for stage, n in _rows(session, [q.group_by(col(Case.stage)) for q in chosen.queries(query)]):
        counts[str(stage)] = counts.get(str(stage), 0) + int(n)
    return counts


COUNT_CAP = 1_000
"""Counts of a list stop here (「1,000件以上」): past it the number helps nobody, and counting
a few hundred thousand overdue cases on every view would cost more than the page."""


@dataclass(frozen=True, slots=True)
class Count:
    """How many cases a list holds (`total`, at most `COUNT_CAP` + 1) and how many of them meet
    a condition; `capped`: there are more than `COUNT_CAP` (then `matching` is left out)."""

    total: int
    matching: int
    capped: bool


def count_where(
    session: Session, chosen: Selection, condition: ColumnElement[bool], *, cap: int | None = None
) -> Count:
    """How many cases are selected (up to `cap`), and how many of them meet `condition`: one
    statement that stops reading after `cap` + 1 rows."""
    cap = COUNT_CAP if cap is None else cap
    queries = chosen.queries(select(sa.case((condition, 1), else_=0).label("m")))
    if not queries:
        return Count(0, 0, False)
    rows = sa.union_all(*[select(*q.subquery().c) for q in queries]) if len(queries) > 1 else queries[0]
    bounded = rows.limit(cap + 1).subquery()
    n, m = session.execute(select(func.count(), func.sum(bounded.c.m))).one()
    capped = int(n) > cap
    return Count(min(int(n), cap + 1), 0 if capped else int(m or 0), capped)


def list_count(
    session: Session,
    scope: ListScope,
    filters: CaseFilters,
    *,
    today: dt.date,
    monitoring_stages: Collection[str],
    chosen: Selection,
) -> Count:
    """How many cases a list holds: exactly from the tally when only stage, coordinator or team
    filter it (`board_counts`), else counted up to `COUNT_CAP`."""
    if not (filters.overdue or filters.dv or filters.fiscal_year is not None):
        counts = board_counts(session, scope, filters, today=today, monitoring_stages=monitoring_stages)
        return Count(sum(counts.values()), 0, False)
    return count_where(session, chosen, sa.true())


def count(session: Session, chosen: Selection) -> int:
    """How many cases are selected, exactly (a filtered list's few)."""
    rows = _rows(session, chosen.queries(select(func.count(col(Case.id)).label("n"))))
    return sum(int(n) for (n,) in rows)


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
    queries = []
    for query in chosen.queries(select(ident)):
        if after is not None:
            query = query.where(ident < after if descending else ident > after)
        queries.append(query.order_by(ident.desc() if descending else ident).limit(limit + 1))
    ids.update(int(i) for (i,) in _rows(session, queries))
    ordered = sorted(ids, reverse=descending)[: limit + 1]
    cards = _by_ids(session, ordered, today, monitoring_stages)
    if len(ordered) > limit:
        return Page(tuple(cards[:limit]), ordered[limit - 1])
    return Page(tuple(cards), None)


def due_selection(
    chosen: Selection, *, today: dt.date, due_by: dt.date, monitoring_stages: Collection[str]
) -> Selection:
    """On the due list: 期限超過 (`monitoring_overdue`, the one definition), or in a monitoring
    stage with the monitoring date on or before `due_by` (≥ `today`).

    As two disjoint parts an index answers: in monitoring with a date up to `due_by` (every
    case overdue by its date is among them), and the cases `monitoring_overdue` selects whose
    date is later or missing (overdue by the sweep's mark)."""
    if due_by < today:
        raise ValueError("due_by is before today")
    day = col(Case.next_monitoring_on)
    in_monitoring = col(Case.stage).in_(list(monitoring_stages))
    return chosen.split(
        (in_monitoring, day <= due_by),
        # Past due_by only the mark makes a case overdue: saying so lets ix_case_overdue_mark answer.
        (monitoring_overdue(today, monitoring_stages), or_(day.is_(None), day > due_by), _marked()),
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
    queries = []
    for query in chosen.queries(select(day, ident)):
        if after is not None and after[0] is None:
            query = query.where(or_(day.is_not(None), and_(day.is_(None), ident > after[1])))
        elif after is not None:
            # The plain `>=` gives the index a lower bound; the OR only breaks ties within a date.
            query = query.where(day >= after[0], or_(day > after[0], and_(day == after[0], ident > after[1])))
        queries.append(query.order_by(day.nulls_first(), ident).limit(limit + 1))
    keys.update((d or dt.date.min, int(i), d) for d, i in _rows(session, queries))
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


def _prefixes(dialect: str, terms: SearchTerms) -> ColumnElement[bool]:
    """A 1–2 character search: a prefix of the name or the kana, as B-tree ranges on the indexed
    columns (ix_person_name, ix_person_kana) on SQLite; a LIKE prefix on PostgreSQL (a range
    there would follow the collation's order, not the bytes')."""
    prefixes: list[ColumnElement[bool]] = []
    for variant in terms.variants:
        for column in (col(Person.name), col(Person.kana)):
            if dialect == "sqlite":
                prefixes.append(and_(column >= variant, column < variant + "\U0010ffff"))
            else:
                prefixes.append(column.like(f"{_like_escape(variant)}%", escape="\\"))
    return or_(*prefixes)


def _pg_match(terms: SearchTerms) -> ColumnElement[bool]:
    """PostgreSQL: substrings by LIKE, answered by the pg_trgm GIN indexes on these expressions."""
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
    return or_(*likes)


def _fts_expression(terms: SearchTerms) -> str:
    """Any of the spellings, each as an FTS5 phrase (a phrase of trigrams is a substring), in
    the number, the name or the kana."""
    spellings = dict.fromkeys((*terms.variants, *((terms.number,) if terms.number else ())))
    return " OR ".join(_fts_phrase(v) for v in spellings)


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
    the case page's `access_to` also follows), newest first; keyset on the case id.

    One query driven by the search index: on SQLite the FTS5 table hands out matching case ids
    newest first and each is checked against the scope until a page is full; a 1–2 character
    search walks the name and kana indexes instead and reads at most SHORT_CAP cases in scope."""
    chosen = selection(session, scope).collapsed()
    if not chosen.parts:
        return Page((), None)
    allowed = chosen.parts[0]
    ident = col(Case.id)
    dialect = session.get_bind().dialect.name
    if terms.short:
        found = select(ident).join(Person, col(Person.id) == col(Case.person_id))
        found = found.where(_prefixes(dialect, terms), *allowed).limit(SHORT_CAP)
        candidates = {int(i) for i in session.execute(found).scalars()}
        if terms.number:
            exact = select(ident).where(col(Case.number) == terms.number, *allowed)
            candidates.update(int(i) for i in session.execute(exact).scalars())
        ids = [i for i in sorted(candidates, reverse=True) if after is None or i < after][: limit + 1]
    elif dialect == "sqlite":
        # Raw SQL for MATCH only: SQLAlchemy has no FTS5 construct.
        fts = sa.table(FTS_TABLE, sa.column("rowid"))
        query = (
            select(ident)
            .select_from(fts)
            .join(Case, ident == fts.c.rowid)
            .where(sa.text(f"{FTS_TABLE} MATCH :fts").bindparams(fts=_fts_expression(terms)), *allowed)
        )
        if after is not None:
            query = query.where(fts.c.rowid < after)
        ids = [int(i) for i in session.execute(query.order_by(fts.c.rowid.desc()).limit(limit + 1)).scalars()]
    else:
        query = select(ident).where(_pg_match(terms), *allowed)
        if after is not None:
            query = query.where(ident < after)
        ids = [int(i) for i in session.execute(query.order_by(ident.desc()).limit(limit + 1)).scalars()]
    cards = _by_ids(session, ids[: limit + 1], today, monitoring_stages)
    if len(ids) > limit:
        return Page(tuple(cards[:limit]), ids[limit - 1])
    return Page(tuple(cards), None)
