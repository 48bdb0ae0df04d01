"""Write the access log (閲覧記録): one row per view of a case record, granted or refused.

A view is logged in its own short write transaction, never in the transaction that read the
record. The web app reads in a read-only transaction (on SQLite a plain BEGIN, which never
waits for the write lock) and collects its views on the session (`collect_views`); when the
request's session is done, `AccessLogWriter.write` inserts them without waiting: on SQLite
a BEGIN IMMEDIATE that fails at once if a sweep or another user's save holds the write lock.
Then the rows are kept in memory and a background thread writes them as soon as the lock is
free (`flush` waits for that), so a page view never waits for anyone and no view goes
unlogged. What is still unwritten when the app stops after `close`'s wait is logged as an
error with the rows (ids only), not dropped silently.

Everything else (the CLI, tests) calls `record_view` on a plain session: it writes and commits
at once, as before.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Engine, insert
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from models import RecordView
from models.db import no_wait
from models.timestamps import utcnow

log = logging.getLogger(__name__)

PENDING_VIEWS = "yorisoi.pending_views"
"""Key in `Session.info` of the list a request collects its views in (see `collect_views`)."""

RETRY_PAUSE_SECONDS = 0.5
"""Between attempts of the background writer after one failed (past busy_timeout, a lost connection)."""


def record_view(
    session: Session, *, case_id: int, staff_id: int, what: str, channel: str, granted: bool = True
) -> None:
    """Log one view: collected for the request's writer if the session collects views
    (`collect_views`), else appended and committed at once (outside the case's audit chain: it
    changes no case)."""
    row: dict[str, Any] = {
        "case_id": case_id,
        "staff_id": staff_id,
        "viewed_at": utcnow(),
        "what": what,
        "channel": channel,
        "granted": granted,
    }
    pending: list[dict[str, Any]] | None = session.info.get(PENDING_VIEWS)
    if pending is not None:
        pending.append(row)
        return
    session.add(RecordView(**row))
    session.commit()


def collect_views(session: Session) -> list[dict[str, Any]]:
    """From now on `record_view` on this session collects rows in the returned list instead of
    writing them; the caller hands the list to `AccessLogWriter.write` when the session is done."""
    pending: list[dict[str, Any]] = session.info.setdefault(PENDING_VIEWS, [])
    return pending


class AccessLogWriter:
    """Writes collected views in their own transaction, without ever making the caller wait.

    One per web app (its engine). Thread-safe: request threads call `write`; at most one
    background thread retries what could not be written at once, oldest rows first.
    """

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._cond = threading.Condition()
        self._backlog: list[dict[str, Any]] = []
        self._in_flight = 0  # taken from the backlog by the background writer, not yet written
        self._retrying = False
        self._closing = False

    def write(self, rows: Sequence[dict[str, Any]]) -> None:
        """Insert `rows` now if the database lets us without waiting, else queue them. Never raises."""
        if not rows:
            return
        with self._cond:
            self._backlog.extend(rows)
            if self._retrying:  # the background writer takes them, after the older ones
                return
            batch, self._backlog = self._backlog, []
        try:
            self._insert(batch, wait=False)
        except IntegrityError:  # can never be written (no such case or staff): say so, loudly
            log.error("access log: %d view(s) refused by the database: %s", len(batch), _shown(batch))
        except Exception as exc:  # locked (SQLite), or the database is away: keep them for later
            log.info("access log: %d view(s) queued (%s)", len(batch), type(exc).__name__)
            with self._cond:
                self._backlog[:0] = batch
                self._start_retrying()

    @property
    def queued(self) -> int:
        """Views collected but not written yet."""
        with self._cond:
            return len(self._backlog) + self._in_flight

    def flush(self, timeout: float | None = None) -> bool:
        """Wait until every queued view is written (True), or `timeout` seconds pass (False)."""
        with self._cond:
            return self._cond.wait_for(lambda: not self._backlog and not self._retrying, timeout)

    def close(self, timeout: float = 30.0) -> None:
        """Write what is queued (waiting up to `timeout` s); log whatever still could not be."""
        with self._cond:
            self._closing = True
            if self._backlog and not self._retrying:
                self._start_retrying()
        if not self.flush(timeout):
            with self._cond:
                unwritten = list(self._backlog)
            log.error(
                "access log: %d view(s) could not be written before shutdown: %s",
                len(unwritten),
                _shown(unwritten),
            )

    def _start_retrying(self) -> None:
        self._retrying = True
        threading.Thread(target=self._retry, name="access-log-writer", daemon=True).start()

    def _retry(self) -> None:
        deadline: float | None = None
        while True:
            with self._cond:
                if not self._backlog:
                    self._retrying = False
                    self._cond.notify_all()
                    return
                batch, self._backlog = self._backlog, []
                self._in_flight = len(batch)
            try:
                self._insert(batch, wait=True)  # waits for the lock (busy_timeout), off the request path
            except IntegrityError:
                log.error("access log: %d view(s) refused by the database: %s", len(batch), _shown(batch))
            except Exception:
                log.warning("access log: writing %d view(s) failed; trying again", len(batch), exc_info=True)
                with self._cond:
                    self._in_flight = 0
                    self._backlog[:0] = batch
                    if self._closing:
                        deadline = deadline or time.monotonic() + 30
                        if time.monotonic() > deadline:
                            self._retrying = False
                            self._cond.notify_all()
                            return
                    self._cond.wait(RETRY_PAUSE_SECONDS)
                continue
            with self._cond:
                self._in_flight = 0
                self._cond.notify_all()

    def _insert(self, rows: list[dict[str, Any]], *, wait: bool) -> None:
        engine = self.engine if wait else no_wait(self.engine)
        with engine.begin() as connection:
            connection.execute(insert(RecordView.__table__), rows)  # type: ignore[attr-defined]


def _shown(rows: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{**r, "viewed_at": r["viewed_at"].isoformat()} for r in rows]
