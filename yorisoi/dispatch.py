"""Deliver due reminders from the outbox through Apprise: at least once, one worker per message.

`dispatch_outbox` claims a small batch (status `sending`, a lease until `claimed_until`, attempt
counted), commits, then for each message renews its claim (`renew_claim`: still ours? then a
fresh lease), renders the Japanese text, hands it to the notifier and records the outcome in
its own commit: sent; or back to pending with exponential back-off; or failed after
`notifications.max_attempts` (or at once when retrying cannot help, e.g. no service is
configured for the recipient). Outside business hours and on closed days nothing is sent: due
messages move to the next business morning (`calendar.opens`/`closes`).

Plain Python, no Prefect: the `dispatch_notifications` flow and `yorisoi outbox dispatch` call it.

Why the claim is renewed per message. A batch is claimed under one lease; with slow services
(several channels per person, each waiting for its timeout) sending the batch can outlast it,
and another dispatcher — the next scheduled run, another worker — then re-claims the rest. A
dispatcher that kept sending regardless would deliver those twice. Renewing checks the claim
token, which a re-claim changes: a message another worker has taken over is skipped
(`DispatchReport.taken_over`), never sent. `notifications.lease_seconds` must still exceed the
slowest single delivery.

Stopping. Under `stop_on_signals()` (the CLI and the flow use it) SIGTERM or SIGINT lets the
message in flight finish, gives back every other claimed message at once (pending again,
the attempt not counted: no waiting out the lease) and then ends the process as the signal
would have. A second signal ends it at once.

What at-least-once leaves open. A message is marked sent in the commit right after Apprise
returns. If the worker dies in between — after the service accepted the message, before that
commit — the lease runs out and another worker sends it again. The same happens if a single
delivery outlasts the lease. Everything else cannot duplicate: two workers never hold the same
message (the claim), a worker sends only what it still holds (the renewal), a retry skips
services that already have it (`delivered_to`), a sweep never queues it twice (the idempotency
key), and a worker whose lease ran out cannot overwrite the next owner's result (the claim
token). The window is one message wide per crashed worker, and the repeat carries the same
`Idempotency-Key` (header, and `idempotency_key` in json:// payloads), so a receiver that keeps
the keys it has seen drops it. A message whose worker vanished on its last allowed attempt is
not sent again by itself: it is marked failed for a person to `retry`.
"""

from __future__ import annotations

import datetime as dt
import functools
import logging
import os
import signal
import threading
from collections.abc import Callable, Collection, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType
from typing import Protocol

from sqlalchemy import Engine
from sqlmodel import Session

from models.db import session_scope
from models.outbox_queries import (
    Claimed,
    claim_due,
    defer_due,
    fail_abandoned,
    mark_attempt_failed,
    mark_sent,
    release,
    renew_claim,
)
from models.timestamps import utcnow
from notifications import (
    DeliveryResult,
    NotificationConfigError,
    Notifier,
    TemplateError,
    build_notifier,
    render,
)
from yorisoi.business_days import BusinessCalendar
from yorisoi.errors import InvalidInput
from yorisoi.jpdates import japanese_date
from yorisoi.settings import Settings, get_settings

MESSAGE_DATES = functools.partial(japanese_date, weekday=True)
"""Dates in reminders: `令和7年6月2日（月）`."""

log = logging.getLogger(__name__)

CLAIM_CHUNK = 20
"""Messages claimed per transaction: small, so one lease covers sending all of them."""


class Deliverer(Protocol):
    """What the dispatcher needs from a notifier (`notifications.Notifier`, or a test double)."""

    def send(
        self,
        recipient_tag: str,
        title: str,
        body: str,
        idempotency_key: str,
        *,
        skip: Collection[str] = (),
    ) -> DeliveryResult: ...


@dataclass(frozen=True, slots=True)
class DispatchReport:
    """`retried`: failed this time, another attempt scheduled. `deferred`: waiting for business
    hours (`resumes_at`). `lost_claims`: delivered after this worker's lease had run out (one
    delivery outlasted the lease). `taken_over`: not sent, because another worker had re-claimed
    them by the time their turn came. `released`: given back unsent because a stop was asked
    for (`stopped`)."""

    sent: int = 0
    retried: int = 0
    failed: int = 0
    deferred: int = 0
    lost_claims: int = 0
    taken_over: int = 0
    released: int = 0
    stopped: bool = False
    sent_ids: tuple[int, ...] = ()
    resumes_at: dt.datetime | None = None


@dataclass
class _Tally:
    sent: list[int] = field(default_factory=list)
    retried: int = 0
    failed: int = 0
    deferred: int = 0
    lost: int = 0
    taken_over: int = 0
    released: int = 0
    stopped: bool = False
    resumes_at: dt.datetime | None = None

    def report(self) -> DispatchReport:
        return DispatchReport(
            sent=len(self.sent),
            retried=self.retried,
            failed=self.failed,
            deferred=self.deferred,
            lost_claims=self.lost,
            taken_over=self.taken_over,
            released=self.released,
            stopped=self.stopped,
            sent_ids=tuple(self.sent),
            resumes_at=self.resumes_at,
        )


def sink_file(settings: Settings) -> Path:
    """Where the local sink writes when no Apprise configuration is set."""
    return settings.data_dir / "notifications.jsonl"


def notifier_for(settings: Settings) -> Notifier:
    """The configured Apprise services, or the local sink `<data_dir>/notifications.jsonl`."""
    try:
        return build_notifier(settings.notifications.apprise_config, sink_file(settings))
    except NotificationConfigError as exc:
        raise InvalidInput(exc.ja, exc.en) from None


def _utc(moment: dt.datetime) -> dt.datetime:
    if moment.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    # pendulum's DateTime is a datetime subclass; store the plain type.
    return dt.datetime.fromtimestamp(moment.timestamp(), dt.UTC)


def dispatch_outbox(
    engine: Engine,
    notifier: Deliverer,
    *,
    now: dt.datetime | None = None,
    calendar: BusinessCalendar | None = None,
    settings: Settings | None = None,
    limit: int | None = None,
    clock: Callable[[], dt.datetime] | None = None,
    stop: threading.Event | None = None,
) -> DispatchReport:
    """Deliver up to `limit` due reminders (default `notifications.batch_size`).

    `now` fixes the clock (replays: `yorisoi outbox dispatch --now`, the flow's `now`); by
    default every step reads the real time. `clock` is a moving clock instead (tests that
    need leases to run out quickly). When `stop` is set, the message in flight is finished,
    the other claimed ones are released, and the report says `stopped`.
    """
    settings = settings or get_settings()
    calendar = calendar or BusinessCalendar(settings.calendar.closed_days)
    config = settings.notifications
    remaining = config.batch_size if limit is None else limit
    if clock is None:
        clock = (lambda: _utc(now)) if now is not None else utcnow
    stop = stop or threading.Event()
    tally = _Tally()
    with session_scope(engine) as session:
        tally.failed += fail_abandoned(session, now=clock(), max_attempts=config.max_attempts)
        session.commit()
        while remaining > 0 and not stop.is_set():
            moment = clock()
            hours = settings.calendar
            opening = _utc(calendar.next_delivery_time(moment, opens=hours.opens, closes=hours.closes))
            if opening > moment:
                tally.deferred += defer_due(session, now=moment, until=opening)
                tally.resumes_at = opening
                session.commit()
                break
            batch = claim_due(
                session,
                now=moment,
                lease=dt.timedelta(seconds=config.lease_seconds),
                limit=min(CLAIM_CHUNK, remaining),
                max_attempts=config.max_attempts,
            )
            session.commit()
            if not batch:
                break
            remaining -= len(batch)
            _deliver_batch(session, notifier, batch, clock, settings, tally, stop)
    tally.stopped = stop.is_set()
    return tally.report()


def _deliver_batch(
    session: Session,
    notifier: Deliverer,
    batch: list[Claimed],
    clock: Callable[[], dt.datetime],
    settings: Settings,
    tally: _Tally,
    stop: threading.Event,
) -> None:
    lease = dt.timedelta(seconds=settings.notifications.lease_seconds)
    untouched = list(batch)
    try:
        while untouched and not stop.is_set():
            held = renew_claim(session, untouched[0], now=clock(), lease=lease)
            session.commit()
            message = untouched.pop(0)
            if held is None:
                tally.taken_over += 1
                log.info("outbox message %s was re-claimed by another worker: not sending it", message.id)
                continue
            # From here until its outcome is committed the message is in flight: if this worker
            # dies now, only the lease brings it back.
            result = _deliver(notifier, held, settings.notifications.base_url)
            _record(session, held, result, clock(), settings, tally)
            session.commit()
    finally:
        if untouched:
            tally.released += _release(session, untouched)


def _deliver(notifier: Deliverer, message: Claimed, base_url: str) -> DeliveryResult:
    try:
        text = render(message.topic, message.payload, base_url=base_url, dates=MESSAGE_DATES)
    except TemplateError as exc:
        return DeliveryResult(False, str(exc), permanent=True)
    try:
        return notifier.send(
            message.recipient, text.title, text.body, message.idempotency_key, skip=message.delivered_to
        )
    except Exception as exc:  # a broken notifier counts as a failed attempt, not a crash
        log.exception("notifier failed on outbox message %s", message.id)
        return DeliveryResult(False, f"{type(exc).__name__}: {exc}")


def _record(
    session: Session,
    message: Claimed,
    result: DeliveryResult,
    moment: dt.datetime,
    settings: Settings,
    tally: _Tally,
) -> None:
    delivered = sorted({*message.delivered_to, *result.delivered})
    if result.ok:
        if mark_sent(session, message, now=moment, delivered_to=delivered):
            tally.sent.append(message.id)
        else:
            tally.lost += 1
            log.warning("outbox message %s was delivered after its lease ran out", message.id)
        return
    status = mark_attempt_failed(
        session,
        message,
        now=moment,
        error=result.error,
        delivered_to=delivered,
        max_attempts=settings.notifications.max_attempts,
        backoff_seconds=settings.notifications.backoff_seconds,
        permanent=result.permanent,
    )
    if status is None:
        tally.lost += 1
    elif status == "failed":
        tally.failed += 1
    else:
        tally.retried += 1


def _release(session: Session, messages: list[Claimed]) -> int:
    """Give back what was claimed but never handed to the notifier (stopped or interrupted)."""
    try:
        session.rollback()
        released = sum(release(session, message) for message in messages)
        session.commit()
    except Exception:  # the lease still brings them back
        log.exception("could not release %d claimed outbox messages", len(messages))
        return 0
    return released


STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT)


@contextmanager
def stop_on_signals(signals: Sequence[signal.Signals] = STOP_SIGNALS) -> Iterator[threading.Event]:
    """An event that SIGTERM/SIGINT set while inside, for `dispatch_outbox(stop=...)`.

    A process manager (systemd, a Prefect worker cancelling a run, Ctrl-C) stops a dispatcher
    with SIGTERM or SIGINT; without this they would kill it mid-batch and its claimed messages
    would wait out their lease (up to `lease_seconds`) before anyone sent them. Inside, the
    first signal only asks to stop; a second one is handled as usual at once. On the way out,
    a signal that arrived is handed to the handler that was there before (default: the process
    ends by that signal; Python's SIGINT handler: KeyboardInterrupt; Prefect's: its own
    termination), so the caller stops as it would have — only after the claims are given back.
    Signal handlers can only be set in the main thread; elsewhere this is a plain event.
    """
    stop = threading.Event()
    if threading.current_thread() is not threading.main_thread():
        yield stop
        return
    received: list[int] = []
    previous = {sig: signal.getsignal(sig) for sig in signals}

    def handler(signum: int, frame: FrameType | None) -> None:
        if stop.is_set():  # asked twice: no more waiting
            _deliver_signal(signum, previous[signal.Signals(signum)], frame)
            return
        received.append(signum)
        stop.set()

    for sig in signals:
        signal.signal(sig, handler)
    try:
        yield stop
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)
    if received:
        _deliver_signal(received[0], previous[signal.Signals(received[0])], None)


def _deliver_signal(signum: int, handler: object, frame: FrameType | None) -> None:
    if callable(handler):
        handler(signum, frame)
    elif handler == signal.SIG_DFL:
        signal.signal(signum, signal.SIG_DFL)
        os.kill(os.getpid(), signum)
