"""The outbox dispatcher with real Apprise over HTTP: every reminder reaches its recipients once.

Time moves by passing `now`, never by sleeping. Every test runs on SQLite and PostgreSQL.
"""

from __future__ import annotations

import datetime as dt
import threading
import time
from collections import Counter
from collections.abc import Collection, Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine
from sqlmodel import Session, col, select

from models import OutboxMessage
from models.outbox import OutboxStatus
from models.outbox_queries import (
    ABANDONED_ERROR,
    Reminder,
    claim_due,
    enqueue_reminders,
    list_messages,
    requeue_failed,
)
from notifications import DeliveryResult, Notifier, read_sink
from tests.conftest import sqlite_engine
from tests.notifications.receiver import Receiver, apprise_yaml, receiver_fixture  # noqa: F401
from yorisoi.business_days import BusinessCalendar
from yorisoi.dispatch import DispatchReport, dispatch_outbox, notifier_for
from yorisoi.jpdates import TOKYO
from yorisoi.settings import Settings, get_settings

PEOPLE = {
    "tanaka": ["coordinator"],
    "kato": ["coordinator"],
    "sato": ["supervisor"],
    "suzuki": ["supervisor"],
}
LEASE = dt.timedelta(seconds=300)


def tokyo(year: int, month: int, day: int, hour: int = 10, minute: int = 0) -> dt.datetime:
    local = dt.datetime(year, month, day, hour, minute, tzinfo=TOKYO)
    return local.astimezone(dt.UTC)


MONDAY_10 = tokyo(2025, 6, 2)  # a business day, in business hours


def settings(**notifications: Any) -> Settings:
    values = {"max_attempts": 3, "backoff_seconds": 60, "lease_seconds": int(LEASE.total_seconds())}
    return Settings(notifications={**values, **notifications})


def reminder(
    n: int,
    recipient: str = "staff:tanaka",
    topic: str = "reminder.monitoring_due",
    available_at: dt.datetime = MONDAY_10,
) -> Reminder:
    return Reminder(
        topic=topic,
        case_id=None,
        recipient=recipient,
        due_on=dt.date(2025, 6, 2) + dt.timedelta(days=n),
        payload={"case_number": f"R7-{n:04d}", "due_on": dt.date(2025, 6, 2) + dt.timedelta(days=n)},
        available_at=available_at,
    )


def enqueue(engine: Engine, rows: list[Reminder]) -> int:
    with Session(engine) as session:
        inserted = enqueue_reminders(session, rows, now=MONDAY_10)
        session.commit()
    return inserted


def rows(engine: Engine) -> list[OutboxMessage]:
    with Session(engine) as session:
        return list(session.exec(select(OutboxMessage).order_by(col(OutboxMessage.id))).all())


def dispatch(engine: Engine, notifier: Any, now: dt.datetime, **kwargs: Any) -> DispatchReport:
    kwargs.setdefault("settings", settings())
    return dispatch_outbox(engine, notifier, now=now, **kwargs)


@pytest.fixture(name="sqlite")
def sqlite_fixture(tmp_path: Path) -> Iterator[Engine]:
    """For tests whose SQL is the same on both databases (the claim and enqueue tests use `engine`)."""
    engine = sqlite_engine(tmp_path / "yorisoi.db")
    yield engine
    engine.dispose()


@pytest.fixture(name="notifier")
def notifier_fixture(receiver: Receiver, tmp_path: Path) -> Notifier:
    config = tmp_path / "apprise.yaml"
    config.write_text(apprise_yaml(receiver, PEOPLE), "utf-8")
    return Notifier.from_config_file(config)


class Killed(BaseException):
    """Stands for the process dying: not an error the dispatcher may catch."""


class DiesOnSend:
    """A notifier that dies at send number `at` — before delivering, or just after."""

    def __init__(self, inner: Notifier, at: int, *, after_delivery: bool = False) -> None:
        self.inner, self.at, self.after_delivery, self.calls = inner, at, after_delivery, 0

    def send(
        self, recipient_tag: str, title: str, body: str, idempotency_key: str, *, skip: Collection[str] = ()
    ) -> DeliveryResult:
        self.calls += 1
        if self.calls == self.at and not self.after_delivery:
            raise Killed
        result = self.inner.send(recipient_tag, title, body, idempotency_key, skip=skip)
        if self.calls == self.at:
            raise Killed
        return result


# --- recipients and content -----------------------------------------------------------------


def test_dispatch_delivers_to_the_right_recipients(
    engine: Engine, notifier: Notifier, receiver: Receiver
) -> None:
    enqueue(
        engine,
        [
            reminder(1, "staff:tanaka"),
            reminder(2, "staff:sato", "escalation.monitoring_overdue"),
            reminder(3, "role:supervisor", "reminder.plan_review_due"),
        ],
    )
    with Session(engine) as session:  # a case event for the Prefect relay: not Apprise's business
        session.add(
            OutboxMessage(topic="yorisoi.case.updated", recipient="prefect-events", idempotency_key="e1")
        )
        session.commit()

    report = dispatch(engine, notifier, MONDAY_10)

    assert (report.sent, report.retried, report.failed, report.deferred) == (3, 0, 0, 0)
    got = {path: sorted(r.title for r in receiver.at(path)) for path in PEOPLE}
    assert got == {
        "tanaka": ["【モニタリング予定】R7-0001 期日 令和7年6月3日（火）"],
        "kato": [],
        "sato": [
            "【プラン見直し】R7-0003 見直し期日 令和7年6月5日（木）",
            "【要確認】R7-0002 のモニタリングが期限超過",
        ],
        "suzuki": ["【プラン見直し】R7-0003 見直し期日 令和7年6月5日（木）"],
    }
    assert "http://127.0.0.1:8000/cases/R7-0001" in receiver.at("tanaka")[0].message
    by_recipient = {r.recipient: r for r in rows(engine)}
    assert by_recipient["prefect-events"].status == OutboxStatus.PENDING
    assert all(
        r.status == OutboxStatus.SENT and r.sent_at == MONDAY_10 and r.attempts == 1
        for r in rows(engine)
        if r.recipient != "prefect-events"
    )


def test_dispatch_without_configuration_writes_local_sink(sqlite: Engine) -> None:
    enqueue(sqlite, [reminder(1, "staff:tanaka"), reminder(2, "role:supervisor")])
    current = get_settings()
    configured = current.model_copy(update={"notifications": settings().notifications})

    report = dispatch(sqlite, notifier_for(configured), MONDAY_10, settings=configured)

    assert report.sent == 2
    written = read_sink(current.data_dir / "notifications.jsonl")
    assert [(w["recipient"], w["title"]) for w in written] == [
        ("staff:tanaka", "【モニタリング予定】R7-0001 期日 令和7年6月3日（火）"),
        ("role:supervisor", "【モニタリング予定】R7-0002 期日 令和7年6月4日（水）"),
    ]
    assert [w["idempotency_key"] for w in written] == [r.idempotency_key for r in rows(sqlite)]


# --- failures, back-off, retry --------------------------------------------------------------


def test_flaky_endpoint_gets_each_message_once_after_retries(
    engine: Engine, notifier: Notifier, receiver: Receiver
) -> None:
    enqueue(engine, [reminder(1, "staff:tanaka"), reminder(2, "staff:kato")])
    receiver.fail_next("tanaka", 2)

    first = dispatch(engine, notifier, MONDAY_10)
    too_early = dispatch(engine, notifier, MONDAY_10 + dt.timedelta(seconds=59))
    second = dispatch(engine, notifier, MONDAY_10 + dt.timedelta(seconds=60))
    third = dispatch(engine, notifier, MONDAY_10 + dt.timedelta(seconds=60 + 120))

    assert (first.sent, first.retried) == (1, 1)
    assert (too_early.sent, too_early.retried) == (0, 0)
    assert (second.sent, second.retried) == (0, 1)  # back-off doubles: next try 120 s later
    assert (third.sent, third.retried, third.failed) == (1, 0, 0)
    assert receiver.refused["tanaka"] == 2
    assert len(receiver.at("tanaka")) == len(receiver.at("kato")) == 1
    tanaka = next(r for r in rows(engine) if r.recipient == "staff:tanaka")
    assert (tanaka.status, tanaka.attempts) == (OutboxStatus.SENT, 3)


def test_failed_after_max_attempts_then_listed_and_requeued(
    engine: Engine, notifier: Notifier, receiver: Receiver
) -> None:
    enqueue(engine, [reminder(1, "staff:tanaka")])
    receiver.fail_next("tanaka", 3)
    moment = MONDAY_10
    reports = []
    for delay in (0, 60, 120):
        moment += dt.timedelta(seconds=delay)
        reports.append(dispatch(engine, notifier, moment))

    assert [(r.retried, r.failed) for r in reports] == [(1, 0), (1, 0), (0, 1)]
    with Session(engine) as session:
        [failed] = list_messages(session, statuses=[OutboxStatus.FAILED])
        assert failed.attempts == 3 and "error=500" in failed.last_error
        assert failed.id is not None
        assert requeue_failed(session, [failed.id], now=moment) == 1
        session.commit()
    report = dispatch(engine, notifier, moment)

    assert report.sent == 1
    assert len(receiver.at("tanaka")) == 1
    assert rows(engine)[0].status == OutboxStatus.SENT


def test_message_without_a_service_fails_at_once(sqlite: Engine, notifier: Notifier) -> None:
    enqueue(sqlite, [reminder(1, "staff:nobody")])

    report = dispatch(sqlite, notifier, MONDAY_10)

    assert (report.sent, report.retried, report.failed) == (0, 0, 1)
    [row] = rows(sqlite)
    assert row.status == OutboxStatus.FAILED and "staff:nobody" in row.last_error


def test_message_that_cannot_be_rendered_fails_at_once(
    sqlite: Engine, notifier: Notifier, receiver: Receiver
) -> None:
    enqueue(sqlite, [Reminder("reminder.monitoring_due", None, "staff:tanaka", dt.date(2025, 6, 2), {})])

    report = dispatch(sqlite, notifier, MONDAY_10)

    assert report.failed == 1 and receiver.received == []
    assert "case_number" in rows(sqlite)[0].last_error


# --- concurrency and crashes ----------------------------------------------------------------


def test_two_dispatchers_deliver_every_message_once(
    engine: Engine, notifier: Notifier, receiver: Receiver
) -> None:
    recipients = ["staff:tanaka", "staff:kato", "staff:sato", "role:supervisor"]
    enqueue(engine, [reminder(n, recipients[n % 4]) for n in range(60)])
    start = threading.Barrier(2)
    reports: list[DispatchReport] = []
    errors: list[BaseException] = []

    def worker() -> None:
        try:
            start.wait()
            while (report := dispatch(engine, notifier, MONDAY_10, limit=10)).sent:
                reports.append(report)
        except BaseException as exc:  # surfaced below; a thread must not swallow it
            errors.append(exc)

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert errors == []
    assert sum(r.sent for r in reports) == 60
    counts = Counter((r.path, r.idempotency_key) for r in receiver.received)
    assert len(counts) == 75  # 45 to one person, 15 to the two supervisors
    assert set(counts.values()) == {1}
    assert {r.status for r in rows(engine)} == {OutboxStatus.SENT}


def test_batch_outlasting_its_lease_is_never_sent_twice(
    engine: Engine, notifier: Notifier, receiver: Receiver
) -> None:
    """The double delivery of issue 14, replayed: one batch of 20 under a 30 s lease, a receiver
    taking 3 s per message, and a second dispatcher (the next scheduled run, another worker)
    re-claiming what the first has not reached when the lease runs out.

    Deliveries are real HTTP; only the clock is sped up (30x: the receiver's 0.1 s are 3 s,
    the lease runs out after 1 s), so the scenario takes seconds instead of a minute.
    """
    enqueue(engine, [reminder(n) for n in range(20)])
    receiver.delay_seconds = 0.1
    started = time.monotonic()

    def clock() -> dt.datetime:
        return MONDAY_10 + dt.timedelta(seconds=(time.monotonic() - started) * 30)

    config = settings(lease_seconds=30)
    first: list[DispatchReport] = []
    errors: list[BaseException] = []

    def first_dispatcher() -> None:
        try:
            first.append(dispatch_outbox(engine, notifier, clock=clock, settings=config))
        except BaseException as exc:  # surfaced below
            errors.append(exc)

    thread = threading.Thread(target=first_dispatcher)
    thread.start()
    while not receiver.received and thread.is_alive():  # the first one holds the batch now
        time.sleep(0.005)
    second: list[DispatchReport] = []
    while thread.is_alive():  # the second one comes by every 6 s (simulated)
        second.append(dispatch_outbox(engine, notifier, clock=clock, settings=config))
        time.sleep(0.2)
    thread.join()
    second.append(dispatch_outbox(engine, notifier, clock=clock, settings=config))

    assert errors == []
    assert receiver.duplicates() == {}
    assert len(receiver.received) == 20
    [report] = first
    assert report.taken_over > 0 and sum(r.sent for r in second) > 0  # the scenario did happen
    assert report.sent + sum(r.sent for r in second) == 20
    assert {r.status for r in rows(engine)} == {OutboxStatus.SENT}


def test_dispatcher_killed_mid_batch_loses_and_duplicates_nothing(
    engine: Engine, notifier: Notifier, receiver: Receiver
) -> None:
    enqueue(engine, [reminder(n) for n in range(10)])

    with pytest.raises(Killed):
        dispatch(engine, DiesOnSend(notifier, at=4), MONDAY_10)
    assert len(receiver.received) == 3
    statuses = Counter(r.status for r in rows(engine))
    assert statuses == {OutboxStatus.SENT: 3, OutboxStatus.SENDING: 1, OutboxStatus.PENDING: 6}

    rerun = dispatch(engine, notifier, MONDAY_10)  # the released ones go now, the 4th waits out its lease
    after_lease = dispatch(engine, notifier, MONDAY_10 + LEASE)

    assert (rerun.sent, after_lease.sent) == (6, 1)
    assert sorted(Counter(receiver.keys()).values()) == [1] * 10
    assert {r.status for r in rows(engine)} == {OutboxStatus.SENT}
    assert max(r.attempts for r in rows(engine)) == 2  # only the one in flight used a second attempt


def test_claimed_message_of_a_vanished_worker_is_delivered_after_its_lease(
    engine: Engine, notifier: Notifier, receiver: Receiver
) -> None:
    enqueue(engine, [reminder(1), reminder(2)])
    with Session(engine) as session:  # a worker claims both and is never heard of again
        claim_due(session, now=MONDAY_10, lease=LEASE, limit=10, max_attempts=3)
        session.commit()

    during = dispatch(engine, notifier, MONDAY_10 + LEASE - dt.timedelta(seconds=1))
    after = dispatch(engine, notifier, MONDAY_10 + LEASE)

    assert (during.sent, after.sent) == (0, 2)
    assert sorted(Counter(receiver.keys()).values()) == [1, 1]


def test_worker_vanishing_on_last_attempt_leaves_message_failed(engine: Engine, notifier: Notifier) -> None:
    enqueue(engine, [reminder(1)])
    with Session(engine) as session:
        for attempt in range(3):
            claim_due(session, now=MONDAY_10 + attempt * LEASE, lease=LEASE, limit=10, max_attempts=3)
            session.commit()

    report = dispatch(engine, notifier, MONDAY_10 + 3 * LEASE)

    assert (report.sent, report.failed) == (0, 1)
    [row] = rows(engine)
    assert (row.status, row.attempts, row.last_error) == (OutboxStatus.FAILED, 3, ABANDONED_ERROR)


def test_crash_between_delivery_and_commit_repeats_with_the_same_key(
    engine: Engine, notifier: Notifier, receiver: Receiver
) -> None:
    """The documented at-least-once window: the repeat carries the key a receiver can drop it by."""
    enqueue(engine, [reminder(1)])

    with pytest.raises(Killed):
        dispatch(engine, DiesOnSend(notifier, at=1, after_delivery=True), MONDAY_10)
    dispatch(engine, notifier, MONDAY_10 + LEASE)

    [key] = [r.idempotency_key for r in rows(engine)]
    assert receiver.keys() == [key, key]
    assert rows(engine)[0].status == OutboxStatus.SENT


# --- quiet hours ----------------------------------------------------------------------------


def test_night_message_waits_for_the_next_business_morning(
    sqlite: Engine, notifier: Notifier, receiver: Receiver
) -> None:
    friday_night = tokyo(2025, 5, 2, 20, 0)  # Golden Week follows: 5/3–5/6 closed
    enqueue(sqlite, [reminder(n, available_at=friday_night - dt.timedelta(hours=2)) for n in (1, 2)])
    morning = tokyo(2025, 5, 7, 8, 30)

    night = dispatch(sqlite, notifier, friday_night)
    early = dispatch(sqlite, notifier, tokyo(2025, 5, 7, 8, 29))
    opening = dispatch(sqlite, notifier, morning)

    assert (night.sent, night.deferred, night.resumes_at) == (0, 2, morning)
    assert (early.sent, early.deferred) == (0, 0)  # already waiting for 08:30; nothing moves
    assert opening.sent == 2 and len(receiver.received) == 2
    assert {r.sent_at for r in rows(sqlite)} == {morning}


def test_closed_day_and_opening_hour_come_from_settings(sqlite: Engine, notifier: Notifier) -> None:
    enqueue(sqlite, [reminder(1)])
    configured = settings()
    configured = configured.model_copy(
        update={"calendar": configured.calendar.model_copy(update={"opens": dt.time(9, 15)})}
    )
    closed = BusinessCalendar([dt.date(2025, 6, 2)])  # a municipal closed day (閉庁日)

    report = dispatch(sqlite, notifier, MONDAY_10, settings=configured, calendar=closed)

    assert report.deferred == 1 and report.resumes_at == tokyo(2025, 6, 3, 9, 15)
    assert rows(sqlite)[0].available_at == tokyo(2025, 6, 3, 9, 15)


# --- the enqueue contract -------------------------------------------------------------------


def test_enqueue_twice_queues_once(engine: Engine) -> None:
    batch = [reminder(1), reminder(2), reminder(1)]

    assert enqueue(engine, batch) == 2
    assert enqueue(engine, batch) == 0
    assert [r.idempotency_key for r in rows(engine)] == [
        "reminder.monitoring_due:-:2025-06-03:staff:tanaka",
        "reminder.monitoring_due:-:2025-06-04:staff:tanaka",
    ]


def test_enqueued_rows_read_back_as_written(engine: Engine) -> None:
    later = MONDAY_10 + dt.timedelta(hours=3)
    flat = Reminder(
        "reminder.monitoring_due", None, "staff:kato", dt.date(2025, 6, 9), {"case_number": "R7-0009"}
    )
    assert enqueue(engine, [reminder(1), reminder(2, available_at=later), flat]) == 3

    first, second, third = rows(engine)
    assert first.payload == {"case_number": "R7-0001", "due_on": "2025-06-03"}  # the date as ISO text
    assert third.payload == {"case_number": "R7-0009"}
    assert (first.available_at, second.available_at, third.available_at) == (MONDAY_10, later, MONDAY_10)
    assert {
        (r.created_at, r.status, r.attempts, r.last_error, r.claim_token) for r in (first, second, third)
    } == {(MONDAY_10, OutboxStatus.PENDING, 0, "", "")}
    assert [r.delivered_to for r in (first, second, third)] == [[], [], []]
    assert (first.sent_at, first.claimed_until) == (None, None)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"payload": {"case_number": "R7-0001", "name": "山田 太郎"}}, "may not carry"),
        ({"payload": {"cases": [{"case_number": "R7-0001", "address": "山口市"}]}}, "may not carry"),
        ({"recipient": "tanaka"}, "staff:<login>"),
        ({"recipient": "staff:tanaka, role:supervisor"}, "staff:<login>"),
        ({"topic": "reminder.birthday"}, "unknown reminder topic"),
        ({"available_at": dt.datetime(2025, 6, 2, 10)}, "timezone-aware"),
        ({"idempotency_key": "made-up"}, "idempotency_key must be"),
    ],
)
def test_enqueue_refuses_bad_reminders(sqlite: Engine, change: dict[str, Any], message: str) -> None:
    row = {
        "topic": "reminder.monitoring_due",
        "case_id": None,
        "recipient": "staff:tanaka",
        "due_on": "2025-06-02",
        "payload": {"case_number": "R7-0001"},
        **change,
    }
    with Session(sqlite) as session, pytest.raises(ValueError, match=message):
        enqueue_reminders(session, [row])
    assert rows(sqlite) == []
