"""Deliver due reminders from the outbox through Apprise: at least once, one worker per message.

`dispatch_outbox` claims a small batch (status `sending`, a lease until `claimed_until`, attempt
counted), commits, then for each message renders the Japanese text, hands it to the notifier
and records the outcome in its own commit: sent; or back to pending with exponential back-off;
or failed after `notifications.max_attempts` (or at once when retrying cannot help, e.g. no
service is configured for the recipient). Outside business hours and on closed days nothing is
sent: due messages move to the next business morning (`calendar.opens`/`closes`).

Plain Python, no Prefect: the `dispatch_notifications` flow and `yorisoi outbox dispatch` call it.

What at-least-once leaves open. A message is marked sent in the commit right after Apprise
returns. If the worker dies in between — after the service accepted the message, before that
commit — the lease runs out and another worker sends it again. The same happens if a single
delivery outlasts the lease (`notifications.lease_seconds`, default 5 minutes, against Apprise
timeouts of seconds). Everything else cannot duplicate: two workers never hold the same message
(the claim), a retry skips services that already have it (`delivered_to`), a sweep never queues
it twice (the idempotency key), and a worker whose lease ran out cannot overwrite the next
owner's result (the claim token). The window is one message wide per crashed worker, and the
repeat carries the same `Idempotency-Key` (header, and `idempotency_key` in json:// payloads),
so a receiver that keeps the keys it has seen drops it. A message whose worker vanished on its
last allowed attempt is not sent again by itself: it is marked failed for a person to `retry`.
"""

from __future__ import annotations

import datetime as dt
import functools
import logging
from collections.abc import Callable, Collection
from dataclasses import dataclass, field
from pathlib import Path
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
    hours (`resumes_at`). `lost_claims`: delivered after this worker's lease had run out."""

    sent: int = 0
    retried: int = 0
    failed: int = 0
    deferred: int = 0
    lost_claims: int = 0
    sent_ids: tuple[int, ...] = ()
    resumes_at: dt.datetime | None = None


@dataclass
class _Tally:
    sent: list[int] = field(default_factory=list)
    retried: int = 0
    failed: int = 0
    deferred: int = 0
    lost: int = 0
    resumes_at: dt.datetime | None = None

    def report(self) -> DispatchReport:
        return DispatchReport(
            sent=len(self.sent),
            retried=self.retried,
            failed=self.failed,
            deferred=self.deferred,
            lost_claims=self.lost,
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
) -> DispatchReport:
    """Deliver up to `limit` due reminders (default `notifications.batch_size`).

    `now` fixes the clock (tests, replays); by default each batch reads the real time.
    """
    settings = settings or get_settings()
    calendar = calendar or BusinessCalendar(settings.calendar.closed_days)
    config = settings.notifications
    remaining = config.batch_size if limit is None else limit
    clock: Callable[[], dt.datetime] = (lambda: _utc(now)) if now is not None else utcnow
    tally = _Tally()
    with session_scope(engine) as session:
        tally.failed += fail_abandoned(session, now=clock(), max_attempts=config.max_attempts)
        session.commit()
        while remaining > 0:
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
            _deliver_batch(session, notifier, batch, clock, settings, tally)
    return tally.report()


def _deliver_batch(
    session: Session,
    notifier: Deliverer,
    batch: list[Claimed],
    clock: Callable[[], dt.datetime],
    settings: Settings,
    tally: _Tally,
) -> None:
    untouched = list(batch)
    try:
        while untouched:
            message = untouched.pop(0)
            # From here until its outcome is committed the message is in flight: if this worker
            # dies now, only the lease brings it back.
            result = _deliver(notifier, message, settings.notifications.base_url)
            _record(session, message, result, clock(), settings, tally)
            session.commit()
    finally:
        if untouched:
            _release(session, untouched)


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


def _release(session: Session, messages: list[Claimed]) -> None:
    """Give back what was claimed but never handed to the notifier (the run was interrupted)."""
    try:
        session.rollback()
        for message in messages:
            release(session, message)
        session.commit()
    except Exception:  # the lease still brings them back
        log.exception("could not release %d claimed outbox messages", len(messages))
