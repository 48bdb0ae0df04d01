"""Outbox queries for reminders: enqueue, claim for delivery, finish, list, requeue.

None of these commit: the caller owns the transaction (the sweep enqueues inside its own,
the dispatcher commits after every claim and every finished message).

Claiming is what keeps two workers from handing the same message to Apprise. A claim turns
due rows into `sending` with a lease (`claimed_until`) and a token in one transaction:
on PostgreSQL the rows are selected `FOR UPDATE SKIP LOCKED`, so a second worker skips them
instead of waiting; on SQLite every transaction starts with BEGIN IMMEDIATE (see `models.db`),
so claims simply queue on the write lock. Finishing a message checks the token, so a worker
whose lease ran out cannot overwrite what the next owner did; and the dispatcher renews its
claim on each message (`renew_claim`, same check) right before handing it to Apprise, so a
worker whose lease ran out never sends a message another worker has taken over.
"""

from __future__ import annotations

import datetime as dt
import functools
import re
import secrets
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Dialect,
    Select,
    String,
    and_,
    bindparam,
    func,
    literal_column,
    or_,
    select,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session, col

from models.outbox import RECIPIENT_PREFIXES, OutboxMessage, OutboxStatus, ReminderTopic
from models.timestamps import utcnow
from notifications.templates import ALLOWED_FIELDS, CASE_LIST_FIELDS, STAGE_COUNT_FIELDS

# What a reminder may carry is what its message may show: no name, story or address can get
# into the outbox. The templates declare it (`notifications.templates`, stdlib only).
REMINDER_PAYLOAD_FIELDS = ALLOWED_FIELDS

_TOPICS = frozenset(ReminderTopic)

RECIPIENT_PATTERN = re.compile(r"^(staff|role):[A-Za-z0-9_.@-]{1,150}$")
"""One Apprise tag: no comma or space, which Apprise would read as several tags."""

MAX_BACKOFF = dt.timedelta(days=1)
ABANDONED_ERROR = "配信中に処理が中断されました（最終試行） / the worker stopped during its last attempt"


@dataclass(frozen=True, slots=True)
class Reminder:
    """One reminder to enqueue: what (topic) for which case, due when, to whom."""

    topic: str
    case_id: int | None
    recipient: str
    due_on: dt.date
    payload: Mapping[str, Any] = field(default_factory=dict)
    available_at: dt.datetime | None = None

    @property
    def idempotency_key(self) -> str:
        return reminder_key(self.topic, self.case_id, self.due_on, self.recipient)


def reminder_key(topic: str, case_id: int | None, due_on: dt.date, recipient: str) -> str:
    """`{topic}:{case_id}:{due_on}:{recipient}`; `-` stands for no case (e.g. the half-year list)."""
    return f"{topic}:{'-' if case_id is None else case_id}:{due_on.isoformat()}:{recipient}"


def _as_reminder(row: Reminder | Mapping[str, Any]) -> Reminder:
    if isinstance(row, Reminder):
        return row
    known = {"topic", "case_id", "recipient", "due_on", "payload", "available_at", "idempotency_key"}
    unknown = sorted(set(row) - known)
    if unknown:
        raise ValueError(f"リマインダーに不明な項目があります / unknown reminder field(s): {unknown}")
    due_on = row["due_on"]
    if isinstance(due_on, str):
        due_on = dt.date.fromisoformat(due_on)
    reminder = Reminder(
        topic=row["topic"],
        case_id=row.get("case_id"),
        recipient=row["recipient"],
        due_on=due_on,
        payload=row.get("payload") or {},
        available_at=row.get("available_at"),
    )
    given = row.get("idempotency_key")
    if given is not None and given != reminder.idempotency_key:
        raise ValueError(
            f"冪等キーは {reminder.idempotency_key!r} でなければなりません / "
            f"idempotency_key must be {reminder.idempotency_key!r}, not {given!r}"
        )
    return reminder


def validate_reminder(reminder: Reminder) -> None:
    """Refuse a reminder the dispatcher could not deliver or that would carry personal data."""
    if reminder.topic not in _TOPICS:
        raise ValueError(f"不明なリマインダーの種類です / unknown reminder topic: {reminder.topic!r}")
    if not RECIPIENT_PATTERN.match(reminder.recipient):
        raise ValueError(
            "宛先は staff:<ログイン名> または role:<役割> です / "
            f"recipient must be staff:<login> or role:<role>, not {reminder.recipient!r}"
        )
    extra = sorted(set(reminder.payload) - REMINDER_PAYLOAD_FIELDS)
    for entry in reminder.payload.get("cases") or []:
        extra += sorted(set(entry) - CASE_LIST_FIELDS)
    for entry in reminder.payload.get("stage_counts") or []:
        extra += sorted(set(entry) - STAGE_COUNT_FIELDS)
    if extra:
        raise ValueError(
            f"リマインダーに載せられない項目です（氏名・相談内容・住所は載せません）: {extra} / "
            f"reminder payload may not carry {extra}; allowed: {sorted(REMINDER_PAYLOAD_FIELDS)}"
        )
    if reminder.available_at is not None and reminder.available_at.tzinfo is None:
        raise ValueError("available_at にはタイムゾーンが必要です / available_at must be timezone-aware")


_outbox = OutboxMessage.__table__  # type: ignore[attr-defined]

# What every new message starts with, written into the statement as SQL literals: a sweep
# queues thousands of rows a batch, and values bound per row are converted per row.
_NEW_MESSAGE: dict[str, ColumnElement[Any]] = {
    "status": literal_column(f"'{OutboxStatus.PENDING.value}'"),
    "attempts": literal_column("0"),
    "last_error": literal_column("''"),
    "claim_token": literal_column("''"),
    "delivered_to": literal_column("'[]'"),
}
# SQLite stores DATETIME as text: each distinct moment of a batch (usually one) is converted
# once by the column type's own processor and bound as that text.
_ENQUEUE_SQLITE = (
    sqlite.insert(_outbox)
    .values(
        **_NEW_MESSAGE,
        available_at=bindparam("available_at", type_=String),
        created_at=bindparam("created_at", type_=String),
    )
    .on_conflict_do_nothing(index_elements=["idempotency_key"])
)
_ENQUEUE_POSTGRESQL = (
    postgresql.insert(_outbox)
    .values(**_NEW_MESSAGE)
    .on_conflict_do_nothing(index_elements=["idempotency_key"])
    .returning(_outbox.c.id)
)


def _moment_binder(dialect: Dialect) -> Callable[[dt.datetime], Any]:
    """How a moment is bound: on SQLite as its DATETIME text (converted once per distinct
    value, by the column type's own processor), elsewhere as it is."""
    if dialect.name != "sqlite":
        return _as_is
    processor = _outbox.c.created_at.type.dialect_impl(dialect).bind_processor(dialect)
    return functools.cache(processor) if processor is not None else _as_is


def _as_is(value: dt.datetime) -> dt.datetime:
    return value


def enqueue_reminders(
    session: Session, rows: Iterable[Reminder | Mapping[str, Any]], *, now: dt.datetime | None = None
) -> int:
    """Queue reminders; one already queued (same idempotency key) is skipped. Returns how many were new.

    INSERT … ON CONFLICT (idempotency_key) DO NOTHING: a sweep that runs twice, or two sweeps at
    once, can never queue the same reminder twice. Does not commit.
    """
    dialect = session.get_bind().dialect
    if dialect.name not in {"postgresql", "sqlite"}:
        raise NotImplementedError(f"enqueue_reminders supports PostgreSQL and SQLite, not {dialect.name}")
    created = now or utcnow()
    moment = _moment_binder(dialect)
    values: dict[str, dict[str, Any]] = {}
    for row in rows:
        reminder = _as_reminder(row)
        validate_reminder(reminder)
        key = reminder.idempotency_key
        values.setdefault(
            key,
            {
                "topic": reminder.topic,
                "case_id": reminder.case_id,
                "recipient": reminder.recipient,
                "idempotency_key": key,
                "payload": dict(reminder.payload),
                "available_at": moment(reminder.available_at or created),
                "created_at": moment(created),
            },
        )
    if not values:
        return 0
    # One single-row statement, executed for every row: SQLAlchemy compiles it once and hands
    # the rows to the driver's executemany. sqlite3 counts the rows an executemany inserted,
    # conflicts left out; psycopg does not, so on PostgreSQL RETURNING counts them.
    if dialect.name == "sqlite":
        return int(session.connection().execute(_ENQUEUE_SQLITE, list(values.values())).rowcount)
    return len(session.connection().execute(_ENQUEUE_POSTGRESQL, list(values.values())).all())


# --- delivery -----------------------------------------------------------------------------


def _for_apprise() -> Any:
    return or_(*(col(OutboxMessage.recipient).startswith(prefix) for prefix in RECIPIENT_PREFIXES))


@dataclass(frozen=True, slots=True)
class Claimed:
    """A message this worker holds until `claimed_until`, as plain values."""

    id: int
    topic: str
    recipient: str
    idempotency_key: str
    payload: dict[str, Any]
    attempts: int
    delivered_to: tuple[str, ...]
    claim_token: str
    claimed_until: dt.datetime


def claim_due(
    session: Session, *, now: dt.datetime, lease: dt.timedelta, limit: int, max_attempts: int
) -> list[Claimed]:
    """Claim up to `limit` due messages for this worker: pending ones whose time has come, and
    ones whose previous worker's lease ran out. Counts the attempt now, so a message that keeps
    crashing its worker still ends up failed.
    """
    if limit < 1:
        return []
    due = or_(
        and_(col(OutboxMessage.status) == OutboxStatus.PENDING, col(OutboxMessage.available_at) <= now),
        and_(
            col(OutboxMessage.status) == OutboxStatus.SENDING,
            col(OutboxMessage.claimed_until) <= now,
            col(OutboxMessage.attempts) < max_attempts,
        ),
    )
    m = OutboxMessage
    query = (
        select(
            col(m.id),
            col(m.topic),
            col(m.recipient),
            col(m.idempotency_key),
            col(m.payload),
            col(m.attempts),
            col(m.delivered_to),
        )
        .where(due, _for_apprise())
        .order_by(col(m.available_at), col(m.id))
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    rows = session.execute(query).all()
    if not rows:
        return []
    token = secrets.token_hex(16)
    until = now + lease
    session.execute(
        update(m)
        .where(col(m.id).in_([row.id for row in rows]))
        .values(
            status=OutboxStatus.SENDING, attempts=col(m.attempts) + 1, claimed_until=until, claim_token=token
        )
        .execution_options(synchronize_session=False)
    )
    return [
        Claimed(
            id=row.id,
            topic=row.topic,
            recipient=row.recipient,
            idempotency_key=row.idempotency_key,
            payload=dict(row.payload),
            attempts=row.attempts + 1,
            delivered_to=tuple(row.delivered_to or ()),
            claim_token=token,
            claimed_until=until,
        )
        for row in rows
    ]


def renew_claim(
    session: Session, claimed: Claimed, *, now: dt.datetime, lease: dt.timedelta
) -> Claimed | None:
    """Extend this worker's claim on one message to `now + lease`, if it still holds it.

    Called right before a delivery: a batch is claimed under one lease, and sending it may
    take longer than that. None when the claim is gone — another worker re-claimed the message
    after the lease ran out (the token changed), or it was marked failed — and then this worker
    must not send it. A claim whose lease ran out but that nobody took over is still this
    worker's (the token is the claim; a re-claim changes it), so it is renewed, not dropped.
    """
    until = now + lease
    result = session.execute(
        update(OutboxMessage)
        .where(
            col(OutboxMessage.id) == claimed.id,
            col(OutboxMessage.status) == OutboxStatus.SENDING,
            col(OutboxMessage.claim_token) == claimed.claim_token,
        )
        .values(claimed_until=until)
        .execution_options(synchronize_session=False)
    )
    if not result.rowcount:  # type: ignore[attr-defined]
        return None
    return replace(claimed, claimed_until=until)


def fail_abandoned(session: Session, *, now: dt.datetime, max_attempts: int) -> int:
    """Mark failed the messages whose worker vanished on their last allowed attempt.

    Whether such a message reached anyone is unknown, so it is not sent again by itself:
    it shows in `yorisoi outbox list --failed` and a person decides to `retry` it.
    """
    result = session.execute(
        update(OutboxMessage)
        .where(
            col(OutboxMessage.status) == OutboxStatus.SENDING,
            col(OutboxMessage.claimed_until) <= now,
            col(OutboxMessage.attempts) >= max_attempts,
            _for_apprise(),
        )
        .values(
            status=OutboxStatus.FAILED,
            claimed_until=None,
            claim_token="",
            last_error=ABANDONED_ERROR,
        )
        .execution_options(synchronize_session=False)
    )
    return int(result.rowcount)  # type: ignore[attr-defined]


def _finish(session: Session, claimed: Claimed, **values: Any) -> bool:
    result = session.execute(
        update(OutboxMessage)
        .where(
            col(OutboxMessage.id) == claimed.id,
            col(OutboxMessage.status) == OutboxStatus.SENDING,
            col(OutboxMessage.claim_token) == claimed.claim_token,
        )
        .values(claimed_until=None, claim_token="", **values)
        .execution_options(synchronize_session=False)
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


def mark_sent(session: Session, claimed: Claimed, *, now: dt.datetime, delivered_to: Sequence[str]) -> bool:
    """Record a delivery. False when this worker no longer holds the claim (its lease ran out)."""
    return _finish(
        session,
        claimed,
        status=OutboxStatus.SENT,
        sent_at=now,
        last_error="",
        delivered_to=sorted(set(delivered_to)),
    )


def backoff_delay(attempts: int, backoff_seconds: int) -> dt.timedelta:
    """`backoff_seconds × 2^(attempts-1)`, at most a day."""
    exponent = min(max(attempts - 1, 0), 30)
    return min(dt.timedelta(seconds=backoff_seconds * 2**exponent), MAX_BACKOFF)


def mark_attempt_failed(
    session: Session,
    claimed: Claimed,
    *,
    now: dt.datetime,
    error: str,
    delivered_to: Sequence[str],
    max_attempts: int,
    backoff_seconds: int,
    permanent: bool = False,
) -> str | None:
    """Schedule the next attempt with exponential back-off, or mark the message failed after the
    last one (or at once when retrying cannot help). Returns the new status, or None when this
    worker no longer holds the claim.
    """
    if permanent or claimed.attempts >= max_attempts:
        status, available_at = OutboxStatus.FAILED, None
    else:
        status, available_at = OutboxStatus.PENDING, now + backoff_delay(claimed.attempts, backoff_seconds)
    values: dict[str, Any] = {
        "status": status,
        "last_error": error[:2000],
        "delivered_to": sorted(set(delivered_to)),
    }
    if available_at is not None:
        values["available_at"] = available_at
    return status.value if _finish(session, claimed, **values) else None


def release(session: Session, claimed: Claimed) -> bool:
    """Give back a claimed message this worker never handed to Apprise (the attempt is not counted)."""
    return _finish(session, claimed, status=OutboxStatus.PENDING, attempts=col(OutboxMessage.attempts) - 1)


def defer_due(session: Session, *, now: dt.datetime, until: dt.datetime) -> int:
    """Move due pending messages to `until` (the next business morning). Returns how many moved."""
    result = session.execute(
        update(OutboxMessage)
        .where(
            col(OutboxMessage.status) == OutboxStatus.PENDING,
            col(OutboxMessage.available_at) <= now,
            _for_apprise(),
        )
        .values(available_at=until)
        .execution_options(synchronize_session=False)
    )
    return int(result.rowcount)  # type: ignore[attr-defined]


# --- reading and requeueing ---------------------------------------------------------------


def _messages(statuses: Collection[str] | None) -> Select[tuple[OutboxMessage]]:
    query = select(OutboxMessage).where(_for_apprise())
    if statuses:
        query = query.where(col(OutboxMessage.status).in_(list(statuses)))
    return query


def list_messages(
    session: Session, *, statuses: Collection[str] | None = None, limit: int = 200
) -> list[OutboxMessage]:
    """Reminders (not case events), newest first, optionally only those in `statuses`."""
    query = _messages(statuses).order_by(col(OutboxMessage.id).desc()).limit(limit)
    return list(session.execute(query).scalars())


def count_by_status(session: Session) -> dict[str, int]:
    rows = session.execute(
        select(col(OutboxMessage.status), func.count())
        .where(_for_apprise())
        .group_by(col(OutboxMessage.status))
    ).all()
    return {status: int(count) for status, count in rows}


def failed_ids(session: Session) -> list[int]:
    query = select(col(OutboxMessage.id)).where(
        col(OutboxMessage.status) == OutboxStatus.FAILED, _for_apprise()
    )
    return [int(i) for i in session.execute(query.order_by(col(OutboxMessage.id))).scalars()]


def not_failed(session: Session, ids: Collection[int]) -> dict[int, str | None]:
    """Which of `ids` are not failed reminders: id → its status, or None when there is no such reminder."""
    found: dict[int, str] = dict(
        session.execute(  # type: ignore[arg-type]
            select(col(OutboxMessage.id), col(OutboxMessage.status)).where(
                col(OutboxMessage.id).in_(list(ids)), _for_apprise()
            )
        ).all()
    )
    return {i: found.get(i) for i in ids if found.get(i) != OutboxStatus.FAILED}


def requeue_failed(session: Session, ids: Collection[int], *, now: dt.datetime) -> int:
    """Put failed messages back in the queue with a fresh set of attempts.

    Targets that already received a message (`delivered_to`) are still skipped on the retry.
    """
    if not ids:
        return 0
    result = session.execute(
        update(OutboxMessage)
        .where(
            col(OutboxMessage.id).in_(list(ids)),
            col(OutboxMessage.status) == OutboxStatus.FAILED,
            _for_apprise(),
        )
        .values(status=OutboxStatus.PENDING, attempts=0, available_at=now, claimed_until=None, claim_token="")
        .execution_options(synchronize_session=False)
    )
    return int(result.rowcount)  # type: ignore[attr-defined]
