"""Transitions per second through the case service, next to hand-written sqlite3 doing the same writes.

Run:  .venv/bin/python bench/transitions.py [--cases N] [--rounds R] [--guarded G] [--profile]

Defaults: N = 5,000 transitions per round and side, R = 3 rounds (about a minute of untimed
setup, then several seconds per side). `--profile` adds one more yorisoi round under cProfile.

What is measured, in one run, each side on its own SQLite FILE database with the very same
connection settings (`models.db.SQLITE_PRAGMAS`: WAL, synchronous=NORMAL, foreign_keys=ON,
busy_timeout, wal_autocheckpoint) and BEGIN IMMEDIATE transactions:

* yorisoi: `yorisoi.service.cases.fire(session=..., case_id=..., action="start_assessment",
  actor=..., machine=...)` with the default lifecycle machine, on N cases in 受付 (intake). Each
  call does everything the service does — load the case head, the trigger/stage/permission/version
  checks, input validation, guards, effects, the stage/version/audit-head UPDATE with the
  optimistic version check, the hash-chained audit event, the outbox message — and commits once.
  One session from `models.db.session_scope` (the product's own: one connection for the
  session's life) serves the whole round, as in a worker; the actor is a `Staff` row loaded once.
* raw sqlite3: the same writes per transition in one transaction each, by hand: BEGIN IMMEDIATE,
  read the case's stage/version/episode/head, UPDATE case (stage, version, audit_head,
  updated_at) WHERE id AND version, INSERT audit_event (hash from `models.audit.event_hash`),
  INSERT outbox_message, COMMIT.

Both databases hold the same rows before the timed part: the cases are opened untimed through
`cases.open_case` on the yorisoi database, which is then copied (sqlite3 backup) to the raw
one. The rounds alternate yorisoi / raw, each on fresh cases; the medians are reported, with
the CPU time per transition (steadier than the rates when other work shares the machine).
After the run both databases' audit chains are checked with
`yorisoi.service.audit.verify_chains`, so the raw side provably wrote the same events.

An extra figure, `guarded_transitions_per_s`, fires `propose_closure` (two guards, one of them a
query, and a `Closure` row written by its effect) on G cases in アセスメント (default G = N).

Targets: >= 2,000 transitions/s on a quiet 2-core machine, and ratio (raw / yorisoi) <= 4 — the
service runs its statements through SQLAlchemy Core (cached compiled statements on the session's
connection), not on raw DBAPI cursors, and the ratio is the price of that.
The last line of output is one JSON object with the figures.
"""

# ruff: noqa: E402 - third-party imports must wait until sys.path is fixed (see below)

from __future__ import annotations

import argparse
import cProfile
import datetime as dt
import json
import os
import pstats
import sqlite3
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

# This file is named like the `transitions` package the lifecycle machine imports; run as a
# script, its own directory comes first on sys.path and would shadow that package.
_HERE = Path(__file__).resolve().parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != _HERE]

from sqlalchemy import Engine, func, select
from sqlmodel import Session, SQLModel

from models import AuditEvent, Case, OutboxMessage, Staff
from models.audit import event_hash
from models.db import SQLITE_BUSY_TIMEOUT_MS, SQLITE_PRAGMAS, create_db_engine, session_scope, sqlite_url
from states import LifecycleMachine, default_machine
from yorisoi.service import cases, directory
from yorisoi.service.audit import verify_chains
from yorisoi.service.journal import CASE_UPDATED, EVENT_RELAY, STAGE_CHANGED

TRIGGER = "start_assessment"
FROM_STAGE = "intake"
TO_STAGE = "assessment"


# --- setup (untimed) ---------------------------------------------------------------------


def _open_cases(engine: Engine, machine: LifecycleMachine, count: int) -> tuple[list[int], int]:
    """A desk, a coordinator and `count` cases in 受付, all through the service."""
    with Session(engine, expire_on_commit=False) as session:
        desk = directory.add_agency(session, name="ふくまる相談室 中央", field="community", is_desk=True)
        coordinator = directory.add_staff(
            session, login="tanaka", name="田中 花子", roles=["coordinator", "supervisor"]
        )
        assert coordinator.id is not None
        case_ids = [
            cases.open_case(
                session=session,
                actor=coordinator,
                machine=machine,
                person={"name": f"山田 太郎 {n}", "kana": "ヤマダ タロウ", "address": "山口市亀山町2-1"},
                contact={
                    "contacted_on": dt.date(2025, 6, 2),
                    "referrer": "self",
                    "method": "phone",
                    "topics": ["income"],
                    "desk_id": desk.id,
                },
            ).case_id
            for n in range(count)
        ]
    return case_ids, coordinator.id


def _copy_database(source: Path, target: Path) -> None:
    with sqlite3.connect(source) as src, sqlite3.connect(target) as dst:
        src.backup(dst)
    src.close()
    dst.close()


# --- the yorisoi side --------------------------------------------------------------------


@dataclass(frozen=True)
class Timing:
    """One timed round: transitions per second (wall clock) and CPU microseconds per transition.

    The CPU figure does not move when other processes share the machine; the rate does.
    """

    per_s: float
    cpu_us: float


def _timed(count: int, run: Callable[[], None]) -> Timing:
    wall, cpu = time.perf_counter(), time.process_time()
    run()
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    return Timing(count / wall, cpu / count * 1e6)


def _yorisoi_round(
    engine: Engine, machine: LifecycleMachine, actor_id: int, case_ids: list[int], trigger: str, **data: Any
) -> Timing:
    """Fire `trigger` on every case through the service."""
    with session_scope(engine) as session:
        actor = session.get(Staff, actor_id)
        assert actor is not None
        fire = cases.fire

        def run() -> None:
            for case_id in case_ids:
                fire(session=session, case_id=case_id, action=trigger, actor=actor, machine=machine, **data)

        return _timed(len(case_ids), run)


# --- the hand-written side ---------------------------------------------------------------

_READ = 'SELECT number, stage, version, episode, audit_head FROM "case" WHERE id = ?'
_UPDATE = (
    'UPDATE "case" SET stage = ?, version = ?, audit_head = ?, updated_at = ? WHERE id = ? AND version = ?'
)
_INSERT_EVENT = (
    "INSERT INTO audit_event (case_id, seq, episode, action, from_stage, to_stage, actor_id,"
    " occurred_at, payload, prev_hash, hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)
_OUTBOX_WRITTEN = (
    "topic, case_id, recipient, idempotency_key, payload, status, attempts, available_at,"
    " created_at, last_error"
)


def _outbox_insert_sql() -> str:
    """The outbox INSERT; NOT NULL columns it does not name get their model defaults as literals.

    (The outbox gains delivery columns over time; the service writes their defaults too.)
    """
    named = {c.strip() for c in _OUTBOX_WRITTEN.split(",")}
    columns, literals = [], []
    for column in OutboxMessage.__table__.columns:  # type: ignore[attr-defined]
        if column.name in named or column.name == "id" or column.nullable or column.default is None:
            continue
        value = column.default.arg
        value = value(None) if callable(value) else value
        columns.append(column.name)
        literals.append(f"'{json.dumps(value)}'" if isinstance(value, list | dict) else repr(value))
    extra_columns = "".join(f", {c}" for c in columns)
    extra_values = "".join(f", {v}" for v in literals)
    return (
        f"INSERT INTO outbox_message ({_OUTBOX_WRITTEN}{extra_columns})"
        f" VALUES (?, ?, ?, ?, ?, 'pending', 0, ?, ?, ''{extra_values})"
    )


_INSERT_OUTBOX = _outbox_insert_sql()
_SQLITE_TIME = "%Y-%m-%d %H:%M:%S.%f"  # how SQLAlchemy stores a DateTime on SQLite
_PAYLOAD: dict[str, Any] = {"case": {}}  # what the service records for an action that sets no case column
_PAYLOAD_JSON = json.dumps(_PAYLOAD)


def _raw_connection(path: Path) -> sqlite3.Connection:
    conn = sqlite3.connect(path, isolation_level=None, timeout=SQLITE_BUSY_TIMEOUT_MS / 1000)
    for pragma in SQLITE_PRAGMAS:  # exactly what models.db sets on the service's connections
        conn.execute(pragma)
    return conn


def _raw_transition(conn: sqlite3.Connection, case_id: int, actor_id: int) -> None:
    conn.execute("BEGIN IMMEDIATE")
    try:
        row = conn.execute(_READ, (case_id,)).fetchone()
        if row is None:
            raise LookupError(case_id)
        number, stage, version, episode, head = row
        if stage != FROM_STAGE:
            raise ValueError(f"case {case_id} is at {stage}")
        seq = version + 1
        moment = dt.datetime.now(dt.UTC)
        stamp = moment.strftime(_SQLITE_TIME)
        digest = event_hash(
            prev_hash=head,
            case_id=case_id,
            seq=seq,
            episode=episode,
            action=TRIGGER,
            from_stage=stage,
            to_stage=TO_STAGE,
            actor_id=actor_id,
            occurred_at=moment,
            payload=_PAYLOAD,
        )
        if conn.execute(_UPDATE, (TO_STAGE, seq, digest, stamp, case_id, version)).rowcount != 1:
            raise RuntimeError(f"version conflict on case {case_id}")
        conn.execute(
            _INSERT_EVENT,
            (case_id, seq, episode, TRIGGER, stage, TO_STAGE, actor_id, stamp, _PAYLOAD_JSON, head, digest),
        )
        outbox_payload = json.dumps(
            {"case_number": number, "action": TRIGGER, "from_stage": stage, "to_stage": TO_STAGE, "seq": seq}
        )
        conn.execute(
            _INSERT_OUTBOX,
            (
                STAGE_CHANGED if stage != TO_STAGE else CASE_UPDATED,
                case_id,
                EVENT_RELAY,
                f"case:{case_id}:event:{seq}",
                outbox_payload,
                stamp,
                stamp,
            ),
        )
        conn.execute("COMMIT")
    except BaseException:
        conn.execute("ROLLBACK")
        raise


def _raw_round(conn: sqlite3.Connection, actor_id: int, case_ids: list[int]) -> Timing:
    def run() -> None:
        for case_id in case_ids:
            _raw_transition(conn, case_id, actor_id)

    return _timed(len(case_ids), run)


# --- checks and reporting ----------------------------------------------------------------


def _check(engine: Engine, machine: LifecycleMachine, case_ids: list[int], label: str) -> tuple[int, int]:
    """Every fired case's chain verifies; returns the audit and outbox row counts."""
    with Session(engine) as session:
        report = verify_chains(session, machine, case_ids=case_ids)
        if not report.ok:
            raise SystemExit(f"{label}: audit chains broken: {report.problems[:3]}")
        stages = set(session.execute(select(Case.stage).where(Case.id.in_(case_ids))).scalars())  # type: ignore[union-attr]
        events = session.execute(select(func.count()).select_from(AuditEvent)).scalar_one()
        outbox = session.execute(select(func.count()).select_from(OutboxMessage)).scalar_one()
    if stages != {TO_STAGE}:
        raise SystemExit(f"{label}: fired cases are at {stages}, expected {{{TO_STAGE}}}")
    return events, outbox


def _profile(run: Callable[[], object], top: int) -> None:
    profiler = cProfile.Profile()
    profiler.enable()
    run()
    profiler.disable()
    stats = (
        pstats.Stats(profiler, stream=sys.stdout)
        .strip_dirs()
        .sort_stats(os.environ.get("PROFILE_SORT", "tottime"))
    )
    stats.print_stats(top)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--cases", type=int, default=5_000, help="transitions per round and side")
    parser.add_argument("--rounds", type=int, default=3, help="timed rounds per side (median reported)")
    parser.add_argument("--guarded", type=int, default=None, help="propose_closure transitions (default: N)")
    parser.add_argument("--profile", action="store_true", help="cProfile one extra yorisoi round")
    parser.add_argument("--dir", type=Path, default=None, help="keep the databases here")
    args = parser.parse_args(argv)
    n, rounds = args.cases, args.rounds
    guarded = n if args.guarded is None else args.guarded
    if n < 1 or rounds < 1 or guarded < 0 or guarded > n:
        parser.error("need --cases >= 1, --rounds >= 1, 0 <= --guarded <= --cases")

    with tempfile.TemporaryDirectory(prefix="yorisoi-bench-") as tmp:
        workdir = args.dir or Path(tmp)
        workdir.mkdir(parents=True, exist_ok=True)
        yorisoi_db, raw_db = workdir / "yorisoi.db", workdir / "raw.db"
        for path in (yorisoi_db, raw_db):
            for suffix in ("", "-wal", "-shm"):
                Path(f"{path}{suffix}").unlink(missing_ok=True)
        machine = default_machine()
        engine = create_db_engine(sqlite_url(yorisoi_db))
        SQLModel.metadata.create_all(engine)  # the schema the models define, as the tests use

        total = n * (rounds + (1 if args.profile else 0))
        print(f"setup: opening {total} cases through cases.open_case (untimed) …", flush=True)
        started = time.perf_counter()
        case_ids, actor_id = _open_cases(engine, machine, total)
        print(f"setup: {total} cases in {time.perf_counter() - started:.1f} s", flush=True)
        engine.dispose()  # checkpoints the WAL before the copy
        _copy_database(yorisoi_db, raw_db)
        engine = create_db_engine(sqlite_url(yorisoi_db))
        raw = _raw_connection(raw_db)

        batches = [case_ids[r * n : (r + 1) * n] for r in range(rounds)]
        ours: list[Timing] = []
        theirs: list[Timing] = []
        for r, batch in enumerate(batches, start=1):
            ours.append(_yorisoi_round(engine, machine, actor_id, batch, TRIGGER))
            theirs.append(_raw_round(raw, actor_id, batch))
            print(
                f"round {r}/{rounds}: yorisoi {ours[-1].per_s:6.0f}/s ({ours[-1].cpu_us:4.0f} µs CPU)"
                f"   raw sqlite3 {theirs[-1].per_s:6.0f}/s ({theirs[-1].cpu_us:4.0f} µs CPU)"
                f"   ratio {theirs[-1].per_s / ours[-1].per_s:.2f}",
                flush=True,
            )
        fired = [c for batch in batches for c in batch]

        guarded_rate = None
        if guarded:
            guarded_rate = _yorisoi_round(
                engine,
                machine,
                actor_id,
                batches[0][:guarded],
                "propose_closure",
                proposed_on=dt.date(2025, 9, 1),
                reason="goals_met",
                evaluation="週1回の外出が定着した",
            )
            print(
                f"guarded: propose_closure {guarded_rate.per_s:6.0f}/s ({guarded_rate.cpu_us:4.0f} µs CPU)"
                f" over {guarded} transitions"
            )

        if args.profile:
            extra = case_ids[rounds * n :]
            print(f"\nprofile: one more yorisoi round of {len(extra)} start_assessment, by own time")
            _profile(lambda: _yorisoi_round(engine, machine, actor_id, extra, TRIGGER), 30)
            fired += extra

        raw.close()
        raw_engine = create_db_engine(sqlite_url(raw_db))
        ours_rows = _check(engine, machine, fired[: n * rounds], "yorisoi")
        theirs_rows = _check(raw_engine, machine, fired[: n * rounds], "raw sqlite3")
        print(f"check: audit chains verify on both; audit/outbox rows yorisoi {ours_rows}, raw {theirs_rows}")
        engine.dispose()
        raw_engine.dispose()

    rate = statistics.median(t.per_s for t in ours)
    raw_rate = statistics.median(t.per_s for t in theirs)
    cpu = statistics.median(t.cpu_us for t in ours)
    raw_cpu = statistics.median(t.cpu_us for t in theirs)
    ratio = raw_rate / rate
    ok = rate >= 2_000 and ratio <= 4
    load = os.getloadavg()[0]
    print(
        f"\nyorisoi cases.fire: {rate:6.0f} transitions/s  {cpu:4.0f} µs CPU each"
        f" (median of {rounds} x {n})\n"
        f"raw sqlite3:        {raw_rate:6.0f} transitions/s  {raw_cpu:4.0f} µs CPU each\n"
        f"ratio raw/yorisoi:  {ratio:.2f}   target >= 2000/s and ratio <= 4: {'met' if ok else 'NOT met'}"
    )
    if load > (os.cpu_count() or 1) / 2:
        print(f"note: load average {load:.1f} on {os.cpu_count()} CPUs: other work skews the rates")
    result: dict[str, Any] = {
        "transitions_per_s": round(rate),
        "raw_sqlite3_per_s": round(raw_rate),
        "ratio": round(ratio, 2),
        "cpu_us_per_transition": round(cpu),
        "raw_cpu_us_per_transition": round(raw_cpu),
    }
    if guarded_rate is not None:
        result["guarded_transitions_per_s"] = round(guarded_rate.per_s)
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
