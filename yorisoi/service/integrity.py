"""Compare the records with the audit events that made them.

The hash chains prove that no event was edited, deleted or reordered; this module proves that
the tables still say what the events say. Every action's effect writes the decisive facts of
the rows it made or changed into its hashed payload, under the rows' own column names (a plan's
`approved_by`, `approved_on`, `meeting_id`; a closure's `decided_by` …), and `append_event`
adds the case columns it set (`"case"`). Replaying a case's events in order gives what each of
its rows must hold now; `UPDATE plan SET approved_by = author_id` is then a difference,
reported with the case number and the event that says otherwise. A row no event made (inserted
around the service, or moved from another case) and a row an event made that is gone are
reported too.

Events written before the payloads carried these facts still say who acted (`actor_id`) and
on which day (`on`): for those actions that is the approver, the decider, the date. What an
old event does not carry at all (a closure's `reason_text`, which other plans an approval
superseded, the case columns it set) is not guessed: it is counted, per fact, as not compared.

What is compared, per record kind, is `KINDS` below; which action does what to which kind is
`HANDLERS`. Contacts, monitoring records, outreach and 参加支援 rows are not compared yet.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Select, Table, func, select
from sqlmodel import Session

from models import Closure, Consent, ConsentAgency, Meeting, MeetingAttendee, Plan, Staff
from models.closure import ClosureStatus
from models.plan import PlanStatus
from yorisoi.service.journal import CASE_COLUMNS, CASE_FACTS


@dataclass(frozen=True, slots=True)
class Kind:
    """A kind of record an action makes or changes, and the columns compared with its events."""

    name: str
    key: str
    """The payload key naming the row (`plan_id`)."""
    ja: str
    en: str
    table: Table
    columns: Mapping[str, str]
    """Compared column → its Japanese label."""
    empty_at_creation: tuple[str, ...] = ()
    """Columns a new row always has empty (set by a later action)."""
    episode: bool = False
    """The row carries the episode of the event that made it."""


def _table(model: Any) -> Table:
    return model.__table__  # type: ignore[no-any-return]


PLAN = Kind(
    "plan",
    "plan_id",
    "支援プラン",
    "plan",
    _table(Plan),
    {
        "episode": "期",
        "version": "版",
        "status": "状態",
        "author_id": "作成者",
        "drafted_on": "作成日",
        "monitoring_interval_days": "モニタリング間隔",
        "approved_by": "承認者",
        "approved_on": "承認日",
        "meeting_id": "承認した会議",
        "returned_by": "差戻しをした職員",
        "returned_on": "差戻し日",
    },
    empty_at_creation=("approved_by", "approved_on", "meeting_id", "returned_by", "returned_on"),
    episode=True,
)
CLOSURE = Kind(
    "closure",
    "closure_id",
    "終結",
    "closure",
    _table(Closure),
    {
        "episode": "期",
        "reason": "終結理由",
        "reason_text": "理由の記載",
        "status": "状態",
        "proposed_by": "提案者",
        "proposed_on": "提案日",
        "decided_by": "決定者",
        "decided_on": "決定日",
    },
    empty_at_creation=("decided_by", "decided_on"),
    episode=True,
)
CONSENT = Kind(
    "consent",
    "consent_id",
    "本人同意",
    "consent",
    _table(Consent),
    {
        "given_on": "同意日",
        "method": "同意の方法",
        "recorded_by": "記録者",
        "agency_ids": "同意の範囲（関係機関）",
        "withdrawn_on": "終了日（撤回・差替え）",
        "withdrawn_by": "終了を記録した職員",
    },
    empty_at_creation=("withdrawn_on", "withdrawn_by"),
)
MEETING = Kind(
    "meeting",
    "meeting_id",
    "会議",
    "meeting",
    _table(Meeting),
    {
        "kind": "種別",
        "held_on": "開催日",
        "recorded_by": "記録者",
        "attendees": "出席者数",
        "acknowledged": "守秘義務を確認した出席者数",
    },
)
KINDS: tuple[Kind, ...] = (PLAN, CLOSURE, CONSENT, MEETING)

CASE_LABELS: Mapping[str, str] = {
    "person_id": "本人",
    "opened_on": "受付日",
    "coordinator_id": "担当者",
    "desk_id": "受付窓口",
    "episode": "期",
    "lifecycle_version": "ライフサイクルの版",
    "closed_on": "終結日",
    "next_monitoring_on": "次回モニタリング日",
    "overdue": "期限超過の印",
}
"""The case columns replayed from the events (`journal.CASE_COLUMNS`), with their labels."""
assert tuple(CASE_LABELS) == CASE_COLUMNS
_CASE_SET_BY_ACTIONS = ("closed_on", "next_monitoring_on", "overdue")
"""Case columns an action may set: an event that does not say what it set leaves them unknown."""
_STAFF_COLUMNS = frozenset(
    {
        "author_id",
        "approved_by",
        "returned_by",
        "proposed_by",
        "decided_by",
        "recorded_by",
        "withdrawn_by",
        "coordinator_id",
    }
)


@dataclass(frozen=True, slots=True)
class Fact:
    """What an event says a column holds."""

    value: Any
    seq: int
    event_id: int | None


@dataclass(frozen=True, slots=True)
class Problem:
    """A row that disagrees with the events (`seq`: the event that says otherwise)."""

    seq: int | None
    event_id: int | None
    ja: str
    en: str


@dataclass(frozen=True, slots=True)
class Event:
    """What the comparison reads of an audit event; `action` is the registry's action name
    (a lifecycle trigger resolved to the action it is bound to)."""

    seq: int
    id: int | None
    action: str
    actor_id: int | None
    episode: int
    payload: Mapping[str, Any]

    @property
    def on(self) -> Any:
        return self.payload.get("on")


@dataclass
class _Row:
    facts: dict[str, Fact] = field(default_factory=dict)
    unknown: set[str] = field(default_factory=set)
    made_by: Fact | None = None


@dataclass
class Ledger:
    """One case's rows as its events, replayed in order, say they must be."""

    rows: dict[tuple[str, int], _Row] = field(default_factory=dict)
    case: dict[str, Fact] = field(default_factory=dict)

    def _row(self, kind: Kind, row_id: int) -> _Row:
        return self.rows.setdefault((kind.name, int(row_id)), _Row())

    def made(self, kind: Kind, row_id: Any, event: Event, facts: Mapping[str, Any]) -> None:
        if row_id is None:
            return
        row = self._row(kind, row_id)
        row.made_by = Fact(None, event.seq, event.id)
        values: dict[str, Any] = dict.fromkeys(kind.empty_at_creation)
        if kind.episode:
            values["episode"] = event.episode
        values.update(facts)
        row.facts = {name: Fact(v, event.seq, event.id) for name, v in values.items()}
        row.unknown = set(kind.columns) - set(row.facts)

    def set(self, kind: Kind, row_id: Any, event: Event, facts: Mapping[str, Any]) -> None:
        if row_id is None:
            return
        row = self._row(kind, row_id)
        for name, value in facts.items():
            row.facts[name] = Fact(value, event.seq, event.id)
            row.unknown.discard(name)

    def forget(self, kind: Kind, columns: Iterable[str], *, where: Callable[[_Row], bool]) -> None:
        """The event changed these columns of some rows without saying which (an old event)."""
        wanted = tuple(columns)
        for (name, _row_id), row in self.rows.items():
            if name == kind.name and where(row):
                for column in wanted:
                    row.facts.pop(column, None)
                    row.unknown.add(column)

    def known(self, kind: Kind, column: str, value: Any) -> list[int]:
        """Ids of the rows of `kind` whose `column` is known to hold `value`."""
        return [
            row_id
            for (name, row_id), row in self.rows.items()
            if name == kind.name and column in row.facts and row.facts[column].value == value
        ]

    def case_set(self, event: Event, values: Mapping[str, Any]) -> None:
        for name, value in values.items():
            if name in CASE_LABELS:
                self.case[name] = Fact(value, event.seq, event.id)


def _get(payload: Mapping[str, Any], name: str, fallback: Any) -> Any:
    return payload[name] if name in payload else fallback


def _carried(payload: Mapping[str, Any], *names: str) -> dict[str, Any]:
    return {name: payload[name] for name in names if name in payload}


# --- what each action does to the records (old events: from their actor and day) ---------


def _plan_written(ledger: Ledger, e: Event) -> None:
    """draft_plan / revise_plan: a new version; earlier drafts are superseded."""
    p = e.payload
    ledger.made(
        PLAN,
        p.get("plan_id"),
        e,
        {
            "status": PlanStatus.DRAFT.value,
            "author_id": _get(p, "author_id", e.actor_id),
            "drafted_on": _get(p, "drafted_on", e.on),
            **_carried(p, "version", "monitoring_interval_days"),
        },
    )
    _superseded(ledger, e)


def _superseded(ledger: Ledger, e: Event) -> None:
    if "superseded" in e.payload:
        for plan_id in e.payload["superseded"]:
            ledger.set(PLAN, plan_id, e, {"status": PlanStatus.SUPERSEDED.value})
        return
    # An old event: which other plans it superseded is not recorded.
    ledger.forget(PLAN, ["status"], where=lambda row: row.made_by is None or row.made_by.seq != e.seq)


def _plan_approved(ledger: Ledger, e: Event) -> None:
    p = e.payload
    _superseded(ledger, e)
    ledger.set(
        PLAN,
        p.get("plan_id"),
        e,
        {
            "status": PlanStatus.APPROVED.value,
            "approved_by": _get(p, "approved_by", e.actor_id),
            "approved_on": _get(p, "approved_on", e.on),
            **_carried(p, "meeting_id", "author_id", "version"),
        },
    )


def _plan_returned(ledger: Ledger, e: Event) -> None:
    p = e.payload
    ledger.set(
        PLAN,
        p.get("plan_id"),
        e,
        {
            "status": PlanStatus.RETURNED.value,
            "returned_by": _get(p, "returned_by", e.actor_id),
            "returned_on": _get(p, "returned_on", e.on),
            **_carried(p, "author_id", "version"),
        },
    )


def _closure_proposed(ledger: Ledger, e: Event) -> None:
    p = e.payload
    ledger.made(
        CLOSURE,
        p.get("closure_id"),
        e,
        {
            "status": ClosureStatus.PROPOSED.value,
            "proposed_by": _get(p, "proposed_by", e.actor_id),
            "proposed_on": _get(p, "proposed_on", e.on),
            **_carried(p, "reason", "reason_text"),
        },
    )


def _closure_decided(status: ClosureStatus) -> Callable[[Ledger, Event], None]:
    def decided(ledger: Ledger, e: Event) -> None:
        p = e.payload
        ledger.set(
            CLOSURE,
            p.get("closure_id"),
            e,
            {
                "status": _get(p, "status", status.value),
                "decided_by": _get(p, "decided_by", e.actor_id),
                "decided_on": _get(p, "decided_on", e.on),
                **_carried(p, "reason", "proposed_by"),
            },
        )

    return decided


def _consent_given(ledger: Ledger, e: Event) -> None:
    p = e.payload
    given_on = _get(p, "given_on", e.on)
    for replaced in p.get("replaced", ()):
        ledger.set(CONSENT, replaced, e, {"withdrawn_on": given_on, "withdrawn_by": e.actor_id})
    ledger.made(
        CONSENT,
        p.get("consent_id"),
        e,
        {
            "given_on": given_on,
            "recorded_by": _get(p, "recorded_by", e.actor_id),
            **_carried(p, "agency_ids", "method"),
        },
    )


def _consent_withdrawn(ledger: Ledger, e: Event) -> None:
    p = e.payload
    ended = {
        "withdrawn_on": _get(p, "withdrawn_on", e.on),
        "withdrawn_by": _get(p, "withdrawn_by", e.actor_id),
    }
    if "consent_ids" in p:
        ids = list(p["consent_ids"])
    else:
        # An old event says only how many consents it ended: every consent still active. If
        # the replay knows as many active ones, those are they; otherwise they stay unknown.
        ids = ledger.known(CONSENT, "withdrawn_on", None)
        if len(ids) != p.get("consents"):
            ledger.forget(CONSENT, list(ended), where=lambda row: True)
            return
    for consent_id in ids:
        ledger.set(CONSENT, consent_id, e, ended)


def _meeting_held(ledger: Ledger, e: Event) -> None:
    p = e.payload
    ledger.made(
        MEETING,
        p.get("meeting_id"),
        e,
        {
            "held_on": _get(p, "held_on", e.on),
            "recorded_by": _get(p, "recorded_by", e.actor_id),
            **_carried(p, "kind", "attendees", "acknowledged"),
        },
    )


HANDLERS: Mapping[str, Callable[[Ledger, Event], None]] = {
    "draft_plan": _plan_written,
    "revise_plan": _plan_written,
    "approve_plan": _plan_approved,
    "return_plan": _plan_returned,
    "propose_closure": _closure_proposed,
    "approve_closure": _closure_decided(ClosureStatus.APPROVED),
    "reject_closure": _closure_decided(ClosureStatus.REJECTED),
    "give_consent": _consent_given,
    "withdraw_consent": _consent_withdrawn,
    "hold_support_meeting": _meeting_held,
    "hold_multilayer_meeting": _meeting_held,
}
"""The actions that make or change a compared record. Every other action (and system event)
changes none of `KINDS` — `tests/service/test_integrity.py` keeps this list complete."""

OPEN_CASE = "open_case"
MIGRATE = "migrate_lifecycle"


def _case_row(ledger: Ledger, e: Event) -> None:
    """The case columns the event set; an old event's are unknown, except what is certain."""
    p = e.payload
    ledger.case_set(e, {"episode": e.episode})
    if CASE_FACTS in p:
        ledger.case_set(e, p[CASE_FACTS])
        return
    if e.action == OPEN_CASE:
        known = {"closed_on": None, "next_monitoring_on": None, "overdue": False}
        ledger.case_set(e, known | _carried(p, "person_id") | ({"opened_on": e.on} if e.on else {}))
        return
    for name in _CASE_SET_BY_ACTIONS:
        ledger.case.pop(name, None)
    if e.action == MIGRATE and "to_version" in p:
        ledger.case_set(e, {"lifecycle_version": p["to_version"]})


def replay(events: Iterable[Event]) -> Ledger:
    """What a case's rows must hold after `events` (in order)."""
    ledger = Ledger()
    for event in events:
        _case_row(ledger, event)
        handler = HANDLERS.get(event.action)
        if handler is not None:
            handler(ledger, event)
    return ledger


# --- the rows of a batch of cases ---------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Rows:
    """The compared rows of a batch of cases: kind name → case id → row id → column values."""

    by_kind: dict[str, dict[int, dict[int, dict[str, Any]]]]
    staff: Mapping[int, str]

    def of(self, kind: Kind, case_id: int) -> dict[int, dict[str, Any]]:
        return self.by_kind.get(kind.name, {}).get(case_id, {})


def staff_logins(session: Session) -> dict[int, str]:
    """Staff id → login, for naming people in the problems (staff lists are small)."""
    return {int(i): str(login) for i, login in session.execute(select(Staff.id, Staff.login))}  # type: ignore[call-overload]


def _within(
    query: Select[Any], column: Any, low: int, high: int, case_ids: Sequence[int] | None
) -> Select[Any]:
    query = query.where(column >= low, column <= high)
    return query.where(column.in_(case_ids)) if case_ids is not None else query


def load_rows(
    session: Session, low: int, high: int, case_ids: Sequence[int] | None, staff: Mapping[int, str]
) -> Rows:
    """The compared rows of the cases with ids in [low, high] (only `case_ids`, if given)."""
    by_kind: dict[str, dict[int, dict[int, dict[str, Any]]]] = {}
    for kind in KINDS:
        t = kind.table
        stored = [c for c in kind.columns if c in t.c]
        query = _within(
            select(t.c.id, t.c.case_id, *(t.c[c] for c in stored)), t.c.case_id, low, high, case_ids
        )
        found = by_kind[kind.name] = {}
        for values in session.execute(query):
            found.setdefault(values[1], {})[values[0]] = dict(zip(stored, values[2:], strict=True))
    consent, scope = _table(Consent), _table(ConsentAgency)
    scopes = _within(
        select(consent.c.case_id, scope.c.consent_id, scope.c.agency_id).join(
            consent, consent.c.id == scope.c.consent_id
        ),
        consent.c.case_id,
        low,
        high,
        case_ids,
    )
    for case_id, consent_id, agency_id in session.execute(scopes):
        given = by_kind[CONSENT.name].get(case_id, {}).get(consent_id)
        if given is not None:
            given.setdefault("agency_ids", []).append(agency_id)
    for rows in by_kind[CONSENT.name].values():
        for given in rows.values():
            given["agency_ids"] = sorted(given.get("agency_ids", []))
    meeting, attendee = _table(Meeting), _table(MeetingAttendee)
    counts = _within(
        select(
            meeting.c.case_id,
            meeting.c.id,
            func.count(attendee.c.id),
            func.count(attendee.c.id).filter(attendee.c.confidentiality_acknowledged.is_(True)),
        )
        .join(attendee, attendee.c.meeting_id == meeting.c.id)
        .group_by(meeting.c.case_id, meeting.c.id),
        meeting.c.case_id,
        low,
        high,
        case_ids,
    )
    for rows in by_kind[MEETING.name].values():
        for held in rows.values():
            held["attendees"] = held["acknowledged"] = 0
    for case_id, meeting_id, attendees, acknowledged in session.execute(counts):
        counted = by_kind[MEETING.name].get(case_id, {}).get(meeting_id)
        if counted is not None:
            counted["attendees"], counted["acknowledged"] = int(attendees), int(acknowledged)
    return Rows(by_kind, staff)


# --- the comparison -----------------------------------------------------------------------


def _recorded(value: Any) -> Any:
    """A column value as a payload records it (dates as YYYY-MM-DD, enums as their value)."""
    return value.isoformat() if isinstance(value, dt.date) else value


def _shown(column: str, value: Any, staff: Mapping[int, str]) -> str:
    if value is None:
        return "（空）"
    if column in _STAFF_COLUMNS and isinstance(value, int):
        return f"{staff.get(value, '?')} (#{value})"
    if isinstance(value, list):
        return "[" + ", ".join(str(v) for v in value) + "]"
    return str(value)


@dataclass
class Comparison:
    problems: list[Problem] = field(default_factory=list)
    not_compared: Counter[str] = field(default_factory=Counter)


def compare(case_id: int, case_row: Mapping[str, Any], events: Sequence[Event], rows: Rows) -> Comparison:
    """Replay the case's events and compare its row and its records with what they say."""
    ledger = replay(events)
    result = Comparison()
    staff = rows.staff

    def differs(label_ja: str, label_en: str, column: str, stored: Any, fact: Fact) -> None:
        result.problems.append(
            Problem(
                fact.seq,
                fact.event_id,
                f"{label_ja}が監査記録と違います（表: {_shown(column, stored, staff)}、"
                f"監査記録: {_shown(column, fact.value, staff)}）。",
                f"{label_en} is {stored!r} in the table but {fact.value!r} in the audit event",
            )
        )

    for column, label in CASE_LABELS.items():
        fact = ledger.case.get(column)
        if fact is None:
            result.not_compared[f"ケース・{label}"] += 1
            continue
        stored = _recorded(case_row[column])
        if stored != fact.value:
            differs(f"ケースの{label}", f"the case's {column}", column, stored, fact)
    for kind in KINDS:
        stored_rows = rows.of(kind, case_id)
        for (name, row_id), expected in ledger.rows.items():
            if name != kind.name:
                continue
            row = stored_rows.get(row_id)
            where = expected.made_by or next(iter(expected.facts.values()), None)
            if row is None:
                result.problems.append(
                    Problem(
                        where.seq if where else None,
                        where.event_id if where else None,
                        f"監査記録にある{kind.ja}（ID {row_id}）が表にありません（削除・移動の可能性）。",
                        f"{kind.en} {row_id} named by the audit events is not in the table "
                        "(deleted or moved?)",
                    )
                )
                continue
            if expected.made_by is None:
                result.problems.append(
                    Problem(
                        where.seq if where else None,
                        where.event_id if where else None,
                        f"{kind.ja}（ID {row_id}）を作成した監査記録がありません"
                        "（監査記録を経ずに追加・移動された可能性）。",
                        f"no audit event of this case made {kind.en} {row_id} (inserted or moved around "
                        "the service?)",
                    )
                )
                continue
            for column, fact in expected.facts.items():
                if column not in kind.columns:
                    continue
                stored = _recorded(row[column])
                if stored != fact.value:
                    differs(
                        f"{kind.ja}（ID {row_id}）の{kind.columns[column]}",
                        f"{kind.en} {row_id}: {column}",
                        column,
                        stored,
                        fact,
                    )
            for column in sorted(expected.unknown):
                result.not_compared[f"{kind.ja}・{kind.columns[column]}"] += 1
        for row_id in sorted(set(stored_rows) - {i for (n, i) in ledger.rows if n == kind.name}):
            result.problems.append(
                Problem(
                    None,
                    None,
                    f"{kind.ja}（ID {row_id}）を作成した監査記録がありません"
                    "（監査記録を経ずに追加・移動された可能性）。",
                    f"no audit event of this case made {kind.en} {row_id} (inserted or moved around the "
                    "service?)",
                )
            )
    return result
