"""The monitoring sweep over 1,000,000 open cases in SQLite, with and without Prefect.

Run:  .venv/bin/python bench/sweep.py [--rebuild] [--no-flow] [--rounds 5]

Setup (untimed, cached): the fixture database is bulk-inserted with sqlite3 — not through the
case service, which would take hours — into `bench/out/sweep-<spec>.db` and reused while the
specification below is unchanged (`--rebuild` forces a new one). It is built in a child
process, so the peak RSS reported is the sweep's own. Cases have no audit events (nothing in
the sweep reads them); `yorisoi audit verify` would rightly complain about this file.

The data: 1,000,000 open cases, each with its household and person, 55 staff in five teams
(50 coordinators, 5 supervisors). 400,000 cases are in 支援・モニタリング with a next
monitoring date; the others are in earlier stages. The sweep runs for Wednesday 2025-07-09
with the default settings (notice 3 business days, escalation past 5), and about 1% is due:

    due within the notice window (7/9–7/14)     7,000   → reminder to the coordinator
    overdue, up to 5 business days (7/2–7/8)     1,500   → daily reminder to the coordinator
    overdue past 5 business days                 1,500   → daily reminder + escalation to
      of which not yet marked overdue              500      the team's supervisor; marked
    later dates (7/15 … +180 days)             390,000   → nothing

Timed: the real sweep, `yorisoi.sweeps.run_day(..., names=["monitoring_due"])` — the due
query in batches of `sweep.batch_size`, the reminders enqueued with INSERT … ON CONFLICT DO
NOTHING, the 500 escalated cases marked overdue through the case service (one audited action
each) — on a fresh copy of the fixture, with a fresh engine. It runs `--rounds` times, each
on a new copy; `sweep_s` is the median wall time (`sweep_cpu_s` the median CPU time, which
other processes on the machine cannot inflate), `peak_rss_mb` the process's peak RSS
(getrusage) right after the first, before Prefect is imported. Target: < 3 s, < 300 MB.

Beside it, in each round right after it, a hand-written baseline with plain sqlite3 on
another fresh copy (`raw_s`, `raw_cpu_s`, medians), connected with the very same settings
(`models.db.SQLITE_PRAGMAS`): the same due query (cases in the lifecycle's monitoring stages due on or
before the notice window's last day, overdue ones included, in keyset batches of
`sweep.batch_size`, one BEGIN IMMEDIATE transaction each), the same reminders — topic,
recipient (the coordinator, or the team's supervisors), idempotency key and payload,
escalations to the supervisors — inserted with INSERT … ON CONFLICT (idempotency_key) DO
NOTHING, and the same 500 overdue marks, each an UPDATE with the version check, a
hash-chained audit event and its outbox message. What it leaves out is only the product's
own checking: no reminder validation, no pre-check of the keys already queued (ON CONFLICT
covers a re-run). Business days come from the product's calendar (jpholiday), once per
distinct date, as in the sweep. It is a fair yardstick because it is the same work on the
same data with nothing skipped: after every round both copies must hold the same outbox
rows, audit events (every hash recomputed) and case changes, the clock's timestamps aside,
or the run fails. `ratio` = `sweep_s` / `raw_s`: what the product's layers cost over the
bare SQL, whatever the machine's speed. Target: ratio <= 3. Both sides connect inside their
timed part and leave the final close (which checkpoints the WAL) outside it; each copy is
fsynced before, so neither pays for writing back the other.

Then the same sweep as a Prefect flow run (`flows.monitoring_due`) on another fresh copy,
under Prefect's temporary server, started beforehand by a warm-up flow run so that its start
is not counted: `flow_overhead_s` = flow wall time − `sweep_s`.

The last line of output is one JSON object:
{"cases": …, "due": …, "sweep_s": …, "raw_s": …, "ratio": …, "peak_rss_mb": …, "flow_overhead_s": …, …}
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import resource
import shutil
import sqlite3
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

# bench/transitions.py is named like the `transitions` package the lifecycle machine imports;
# run as a script, this directory comes first on sys.path and would shadow that package.
_HERE = Path(__file__).resolve().parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != _HERE]
sys.path.insert(0, str(_HERE.parent))  # bench.dataset: the generator shared with bench/web.py

CASES = 1_000_000
IN_MONITORING = 400_000
DUE_SOON, OVERDUE_RECENT, OVERDUE_LONG, NOT_YET_MARKED = 7_000, 1_500, 1_500, 500
TEAMS, COORDINATORS_PER_TEAM = 5, 10
SWEEP_DAY = dt.date(2025, 7, 9)  # a Wednesday
SPEC = "v3"  # bump when the data or the schema changes, so a stale cache is never reused
OUT = _HERE / "out"
STAMP = "2026-01-01 00:00:00.000000"
_SQLITE_TIME = "%Y-%m-%d %H:%M:%S.%f"  # how SQLAlchemy stores a DateTime on SQLite
OTHER_STAGES = ("intake", "assessment", "support_meeting", "multilayer_meeting", "planning")


# --- setup -----------------------------------------------------------------------------------


def _next_monitoring(i: int) -> tuple[str | None, int]:
    """(next monitoring date, overdue flag) of case i (0-based); None for cases not in monitoring."""
    if i >= IN_MONITORING:
        return None, 0
    soon = [SWEEP_DAY + dt.timedelta(days=d) for d in (0, 1, 2, 5)]  # 7/9, 7/10, 7/11, 7/14
    recent = [SWEEP_DAY - dt.timedelta(days=d) for d in (1, 2, 5, 6, 7)]  # 7/8 … 7/2
    if i < DUE_SOON:
        return soon[i % len(soon)].isoformat(), 0
    i -= DUE_SOON
    if i < OVERDUE_RECENT:
        return recent[i % len(recent)].isoformat(), 0
    i -= OVERDUE_RECENT
    if i < OVERDUE_LONG:
        day = dt.date(2025, 6, 2) + dt.timedelta(days=i % 29)  # 6/2 … 6/30
        return day.isoformat(), 0 if i < NOT_YET_MARKED else 1
    i -= OVERDUE_LONG
    return (SWEEP_DAY + dt.timedelta(days=6 + i % 180)).isoformat(), 0


def _rows_cases() -> Iterator[tuple[object, ...]]:
    coordinators = TEAMS * COORDINATORS_PER_TEAM
    for i in range(CASES):
        next_on, overdue = _next_monitoring(i)
        stage = "monitoring" if next_on else OTHER_STAGES[i % len(OTHER_STAGES)]
        fy = 2021 + i * 5 // CASES
        serial = i % (CASES // 5) + 1
        yield (
            i + 1, f"R{fy - 2018}-{serial:06d}", fy, serial, i + 1, stage, 1, 1, "0" * 64,
            i % coordinators + 1, f"{fy}-06-01", next_on, overdue, STAMP, STAMP,
        )  # fmt: skip


def build(path: Path) -> int:
    """Create the schema through SQLModel, then bulk-insert every row with sqlite3 (bench/dataset.py)."""
    from bench.dataset import finish, insert_staff, inserter, new_database

    db, partial = new_database(path)
    insert_staff(inserter(db))
    db.executemany(
        "INSERT INTO household (id, address, dv_protected, created_at) VALUES (?, '', 0, ?)",
        ((i, STAMP) for i in range(1, CASES + 1)),
    )
    db.executemany(
        "INSERT INTO person (id, household_id, name, kana, created_at) VALUES (?, ?, '', '', ?)",
        ((i, i, STAMP) for i in range(1, CASES + 1)),
    )
    db.executemany(
        'INSERT INTO "case" (id, number, fiscal_year, serial, person_id, stage, episode, version, audit_head,'
        " coordinator_id, opened_on, next_monitoring_on, overdue, created_at, updated_at)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        _rows_cases(),
    )
    count = int(db.execute('SELECT count(*) FROM "case"').fetchone()[0])
    finish(db, partial, path)
    return count


def fresh_copy(pristine: Path, name: str = "work") -> Path:
    work = OUT / f"sweep-{name}.db"
    for suffix in ("", "-wal", "-shm"):
        Path(f"{work}{suffix}").unlink(missing_ok=True)
    shutil.copyfile(pristine, work)
    # On disk before the timed part: otherwise the kernel writes the copy back meanwhile.
    fd = os.open(work, os.O_RDONLY)
    os.fsync(fd)
    os.close(fd)
    return work


def reminders_in(path: Path) -> int:
    db = sqlite3.connect(path)
    count = int(
        db.execute("SELECT count(*) FROM outbox_message WHERE recipient LIKE 'staff:%'").fetchone()[0]
    )
    db.close()
    return count


def written(path: Path) -> dict[str, list[tuple[object, ...]]]:
    """What a sweep wrote, without the clock: outbox rows, audit events, changed cases.

    Every audit event's hash is recomputed from its stored fields, and every changed case's
    audit head must be its last event's hash.
    """
    from models.audit import event_hash

    db = sqlite3.connect(path)
    outbox = [
        (*row[:5], json.loads(row[5]), *row[6:])
        for row in db.execute(
            "SELECT id, topic, case_id, recipient, idempotency_key, payload, status, attempts, sent_at,"
            " last_error, claimed_until, claim_token, delivered_to FROM outbox_message ORDER BY id"
        )
    ]
    events = []
    for row in db.execute(
        "SELECT id, case_id, seq, episode, action, from_stage, to_stage, actor_id, payload, prev_hash,"
        " occurred_at, hash FROM audit_event ORDER BY id"
    ):
        *fields, occurred_at, digest = row
        payload = json.loads(fields[8])
        moment = dt.datetime.strptime(occurred_at, _SQLITE_TIME).replace(tzinfo=dt.UTC)
        names = ("case_id", "seq", "episode", "action", "from_stage", "to_stage", "actor_id")
        content = dict(zip(names, fields[1:8], strict=True))
        expected = event_hash(prev_hash=fields[9], occurred_at=moment, payload=payload, **content)
        assert digest == expected, f"{path.name}: audit event {fields[0]} has a wrong hash"
        events.append((*fields[:8], payload, fields[9]))
    cases = db.execute(
        'SELECT c.id, c.stage, c.version, c.overdue, c.audit_head = e.hash FROM "case" c'
        " LEFT JOIN audit_event e ON e.case_id = c.id AND e.seq = c.version"
        " WHERE c.version > 1 ORDER BY c.id"
    ).fetchall()
    db.close()
    assert all(row[-1] for row in cases), f"{path.name}: a case's audit head is not its last event"
    return {"outbox": outbox, "events": events, "cases": cases}


# --- the timed parts -------------------------------------------------------------------------


def plain_sweep(path: Path) -> tuple[float, float, object]:
    from models.db import create_db_engine
    from states import default_machine
    from yorisoi.settings import Settings
    from yorisoi.sweeps import run_day

    engine = create_db_engine(f"sqlite:///{path}")
    settings, lifecycle = Settings(), default_machine().lifecycle  # process set-up, as the baseline's
    started, started_cpu = time.perf_counter(), time.process_time()
    result = run_day(engine, settings, lifecycle, on=SWEEP_DAY, names=["monitoring_due"])
    elapsed, cpu = time.perf_counter() - started, time.process_time() - started_cpu
    engine.dispose()
    return elapsed, cpu, result


# --- the hand-written baseline ---------------------------------------------------------------

_DUE = (
    "SELECT c.id, c.number, c.stage, c.next_monitoring_on, c.overdue, s.login, s.active, s.team"
    ' FROM "case" c LEFT JOIN staff s ON s.id = c.coordinator_id'
    " WHERE c.next_monitoring_on <= ? AND c.stage IN ({stages}){after}"
    " ORDER BY c.next_monitoring_on, c.id LIMIT ?"
)
_AFTER = (
    " AND c.next_monitoring_on >= ? AND (c.next_monitoring_on > ? OR (c.next_monitoring_on = ? AND c.id > ?))"
)
_INSERT_REMINDER = (
    "INSERT INTO outbox_message (topic, case_id, recipient, idempotency_key, payload, status, attempts,"
    " available_at, created_at, last_error, claim_token, delivered_to)"
    " VALUES (?, ?, ?, ?, ?, 'pending', 0, ?, ?, '', '', '[]') ON CONFLICT (idempotency_key) DO NOTHING"
)
_HEADS = (
    'SELECT id, number, stage, version, episode, audit_head, next_monitoring_on FROM "case"'
    " WHERE id IN ({ids}) AND overdue = 0 AND stage IN ({stages}) ORDER BY id"
)
_MARK = (
    'UPDATE "case" SET audit_head = ?, overdue = 1, stage = ?, updated_at = ?, version = ?'
    " WHERE id = ? AND version = ?"
)
_INSERT_EVENT = (
    "INSERT INTO audit_event (case_id, seq, episode, action, from_stage, to_stage, actor_id,"
    " occurred_at, payload, prev_hash, hash) VALUES (?, ?, ?, ?, ?, ?, NULL, ?, ?, ?, ?)"
)
_INSERT_EVENT_MESSAGE = (
    "INSERT INTO outbox_message (topic, case_id, recipient, idempotency_key, payload, status, attempts,"
    " available_at, created_at, last_error, claim_token, delivered_to)"
    " VALUES (?, ?, ?, ?, ?, 'pending', 0, ?, ?, '', '', '[]')"
)


@dataclass
class RawSweep:
    scanned: int = 0
    batches: int = 0
    queued: int = 0
    marked: list[str] = field(default_factory=list)


def stage_labels() -> dict[str, str]:
    from states import default_machine

    return {stage.name: stage.ja for stage in default_machine().lifecycle.stages}


def raw_sweep(path: Path, stage_labels: dict[str, str]) -> tuple[float, float, RawSweep]:
    """The same sweep by hand with sqlite3: the same batches, rows, keys, payloads and marks.

    Business-day arithmetic uses the product's calendar (jpholiday), once per distinct date,
    as the sweep does; reminder validation and the existing-key pre-check are left out (the
    rows are built right here, and ON CONFLICT DO NOTHING skips a known key by itself).
    """
    from models.audit import event_hash
    from models.db import SQLITE_BUSY_TIMEOUT_MS, SQLITE_PRAGMAS
    from models.outbox import ReminderTopic
    from states import default_machine
    from yorisoi.business_days import BusinessCalendar
    from yorisoi.service.journal import CASE_UPDATED, EVENT_RELAY
    from yorisoi.service.monitoring import MARK_OVERDUE
    from yorisoi.settings import Settings

    settings = Settings()
    stages = sorted(default_machine().lifecycle.monitoring_stages)
    marks_in = ", ".join("?" * len(stages))
    first_batch = _DUE.format(stages=marks_in, after="")
    next_batch = _DUE.format(stages=marks_in, after=_AFTER)
    on, on_iso = SWEEP_DAY, SWEEP_DAY.isoformat()
    notice, escalation = settings.sweep.notice_business_days, settings.sweep.escalation_business_days
    limit, base = settings.sweep.batch_size, settings.notifications.base_url.rstrip("/")
    result = RawSweep()

    started, started_cpu = time.perf_counter(), time.process_time()
    conn = sqlite3.connect(path, isolation_level=None, timeout=SQLITE_BUSY_TIMEOUT_MS / 1000)
    for pragma in SQLITE_PRAGMAS:
        conn.execute(pragma)
    calendar = BusinessCalendar(settings.calendar.closed_days)
    until = calendar.add_business_days(on, notice).isoformat()
    now = dt.datetime.now(dt.UTC)
    created = now.strftime(_SQLITE_TIME)
    available = calendar.next_delivery_time(
        now, opens=settings.calendar.opens, closes=settings.calendar.closes
    )
    available_at = available.strftime(_SQLITE_TIME)
    supervisors = [
        (login, team)
        for login, team, roles in conn.execute(
            "SELECT login, team, roles FROM staff WHERE active = 1 ORDER BY login"
        )
        if "supervisor" in json.loads(roles)
    ]

    def supervisors_for(team: str | None) -> list[str]:
        same_team = [login for login, t in supervisors if team is not None and t == team]
        return same_team or [login for login, _ in supervisors]

    # Stored due date → (effective due date, business days overdue, still ahead, inside the notice)
    dates: dict[str, tuple[str, int, bool, bool]] = {}
    after: tuple[str, int] | None = None
    reminders: dict[str, tuple[object, ...]] = {}  # this batch's, by idempotency key
    while True:
        conn.execute("BEGIN IMMEDIATE")
        if after is None:
            rows = conn.execute(first_batch, (until, *stages, limit)).fetchall()
        else:
            keyset = (after[0], after[0], after[0], after[1])
            rows = conn.execute(next_batch, (until, *stages, *keyset, limit)).fetchall()
        reminders.clear()
        marks: dict[int, tuple[str, str, int]] = {}

        def add(topic: str, case_id: int, key_on: str, logins: list[str], payload: str) -> None:
            for login in logins:
                key = f"{topic}:{case_id}:{key_on}:staff:{login}"
                if key not in reminders:
                    reminders[key] = (topic, case_id, f"staff:{login}", key, payload, available_at, created)

        for case_id, number, stage, stored_on, overdue, login, active, team in rows:
            when = dates.get(stored_on)
            if when is None:
                due = calendar.on_or_after(dt.date.fromisoformat(stored_on))
                late = calendar.business_days_between(due, on) if due < on else 0
                ahead = due >= on
                when = dates[stored_on] = (
                    due.isoformat(),
                    late,
                    ahead,
                    ahead and calendar.business_days_between(on, due) <= notice,
                )
            due_iso, late, ahead, soon = when
            if ahead and not soon:
                continue
            payload = {
                "case_number": number,
                "due_on": due_iso,
                "days_overdue": late,
                "stage_ja": stage_labels.get(stage, stage),
                "link": f"{base}/cases/{number}",
            }
            owners = [login] if login and active else supervisors_for(team)
            if ahead:
                add(ReminderTopic.MONITORING_DUE, case_id, due_iso, owners, json.dumps(payload))
                continue
            add(ReminderTopic.MONITORING_OVERDUE, case_id, on_iso, owners, json.dumps(payload))
            if late > escalation:
                payload["coordinator"] = login or ""
                add(
                    ReminderTopic.MONITORING_ESCALATION,
                    case_id,
                    due_iso,
                    supervisors_for(team),
                    json.dumps(payload),
                )
                if not overdue:
                    marks[case_id] = (stored_on, due_iso, late)
        result.queued += conn.executemany(_INSERT_REMINDER, reminders.values()).rowcount

        if marks:
            heads = conn.execute(
                _HEADS.format(ids=", ".join("?" * len(marks)), stages=marks_in), (*marks, *stages)
            ).fetchall()
            for case_id, number, stage, version, episode, head, scheduled_on in heads:
                stored_on, due_iso, late = marks[case_id]
                if scheduled_on != stored_on:
                    continue
                seq = version + 1
                moment = dt.datetime.now(dt.UTC)
                stamp = moment.strftime(_SQLITE_TIME)
                event_payload = {
                    "due_on": due_iso,
                    "days_overdue": late,
                    "swept_on": on_iso,
                    "case": {"overdue": True},
                }
                digest = event_hash(
                    prev_hash=head,
                    case_id=case_id,
                    seq=seq,
                    episode=episode,
                    action=MARK_OVERDUE,
                    from_stage=stage,
                    to_stage=stage,
                    actor_id=None,
                    occurred_at=moment,
                    payload=event_payload,
                )
                if conn.execute(_MARK, (digest, stage, stamp, seq, case_id, version)).rowcount != 1:
                    raise RuntimeError(f"version conflict on case {case_id}")
                conn.execute(
                    _INSERT_EVENT,
                    (
                        case_id,
                        seq,
                        episode,
                        MARK_OVERDUE,
                        stage,
                        stage,
                        stamp,
                        json.dumps(event_payload),
                        head,
                        digest,
                    ),
                )
                message = {
                    "case_number": number,
                    "action": MARK_OVERDUE,
                    "from_stage": stage,
                    "to_stage": stage,
                    "seq": seq,
                }
                conn.execute(
                    _INSERT_EVENT_MESSAGE,
                    (
                        CASE_UPDATED,
                        case_id,
                        EVENT_RELAY,
                        f"case:{case_id}:event:{seq}",
                        json.dumps(message),
                        stamp,
                        stamp,
                    ),
                )
                result.marked.append(number)
        conn.execute("COMMIT")
        result.batches += 1
        result.scanned += len(rows)
        if len(rows) < limit:
            break
        after = (rows[-1][3], rows[-1][0])
    elapsed, cpu = time.perf_counter() - started, time.process_time() - started_cpu
    conn.close()  # untimed, like the sweep's engine.dispose(): the last close checkpoints the WAL
    return elapsed, cpu, result


def flow_sweep(path: Path) -> tuple[float, object]:
    """The same sweep as a flow run; the temporary server is started by a warm-up run first."""
    os.environ["YORISOI_DATABASE__URL"] = f"sqlite:///{path}"
    os.environ.setdefault("PREFECT_HOME", str(OUT / "prefect-home"))
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    os.environ.setdefault("DO_NOT_TRACK", "1")
    from prefect.settings import (
        PREFECT_FLOWS_HEARTBEAT_FREQUENCY,
        PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS,
        temporary_settings,
    )

    from flows.common import SweepParams
    from flows.monitoring_due import monitoring_due
    from yorisoi.settings import get_settings

    get_settings.cache_clear()
    updates = {PREFECT_FLOWS_HEARTBEAT_FREQUENCY: None, PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS: 120}
    with temporary_settings(updates=updates):
        started = time.perf_counter()
        monitoring_due(SweepParams(on=dt.date(2025, 7, 12)))  # a Saturday: starts the server, no work
        print(
            f"temporary Prefect server and warm-up flow run: {time.perf_counter() - started:.1f} s",
            flush=True,
        )
        started = time.perf_counter()
        outcome = monitoring_due(SweepParams(on=SWEEP_DAY))
        return time.perf_counter() - started, outcome


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rebuild", action="store_true", help="regenerate the cached database")
    parser.add_argument("--no-flow", action="store_true", help="skip the Prefect flow run")
    parser.add_argument("--rounds", type=int, default=5, help="sweep and baseline rounds (medians reported)")
    parser.add_argument("--build-only", type=Path, help=argparse.SUPPRESS)  # the child process
    args = parser.parse_args()
    if args.rounds < 1:
        parser.error("need --rounds >= 1")
    if args.build_only:
        print(json.dumps({"cases": build(args.build_only)}))
        return

    pristine = OUT / f"sweep-{SPEC}.db"
    if args.rebuild:
        pristine.unlink(missing_ok=True)
    if not pristine.exists():
        print(f"building {pristine} (once; cached for later runs) …", flush=True)
        started = time.perf_counter()
        subprocess.run([sys.executable, __file__, "--build-only", str(pristine)], check=True)
        print(f"built in {time.perf_counter() - started:.0f} s", flush=True)

    due = DUE_SOON + OVERDUE_RECENT + OVERDUE_LONG
    labels = stage_labels()
    ours: list[tuple[float, float]] = []
    theirs: list[tuple[float, float]] = []
    for r in range(1, args.rounds + 1):
        # Each side on a fresh copy with a fresh engine or connection: every round is a first run.
        work = fresh_copy(pristine)
        sweep_s, sweep_cpu_s, result = plain_sweep(work)
        ours.append((sweep_s, sweep_cpu_s))
        if r == 1:  # before the checks below read whole tables into this process
            peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        monitoring = result.sweeps[0]  # type: ignore[attr-defined]
        assert monitoring.scanned == due, f"the sweep saw {monitoring.scanned} due cases, expected {due}"
        assert len(monitoring.marked) == NOT_YET_MARKED
        queued = reminders_in(work)

        baseline = fresh_copy(pristine, "raw")
        raw_s, raw_cpu_s, raw = raw_sweep(baseline, labels)
        theirs.append((raw_s, raw_cpu_s))
        print(
            f"round {r}/{args.rounds}: sweep {sweep_s:.3f} s (CPU {sweep_cpu_s:.3f} s)"
            f"   raw sqlite3 {raw_s:.3f} s (CPU {raw_cpu_s:.3f} s)   ratio {sweep_s / raw_s:.2f}",
            flush=True,
        )
        # The baseline must have done the very same work, or its time means nothing.
        assert (raw.scanned, raw.batches) == (monitoring.scanned, monitoring.batches), raw
        assert raw.queued == monitoring.total_queued == queued, (raw.queued, monitoring.total_queued, queued)
        assert raw.marked == monitoring.marked, "the baseline marked other cases"
        assert written(baseline) == written(work), "the baseline wrote other rows than the sweep"
    sweep_s, sweep_cpu_s = (statistics.median(t[i] for t in ours) for i in (0, 1))
    raw_s, raw_cpu_s = (statistics.median(t[i] for t in theirs) for i in (0, 1))
    by_topic = ", ".join(f"{topic} {count:,}" for topic, count in sorted(monitoring.queued.items()))
    print(f"plain sweep: {sweep_s:.3f} s (CPU {sweep_cpu_s:.3f} s), peak RSS {peak_mb:.0f} MB (medians)")
    print(f"  {monitoring.scanned:,} due, {monitoring.batches} batches; {queued:,} reminders: {by_topic}")
    print(f"  {len(monitoring.marked)} cases marked overdue through the case service")
    print(f"raw sqlite3: {raw_s:.3f} s (CPU {raw_cpu_s:.3f} s); ratio sweep/raw {sweep_s / raw_s:.2f}")
    print("  check: each round, the same outbox rows, audit events (hashes verified) and case changes")
    load = os.getloadavg()[0]
    if load > (os.cpu_count() or 1) / 2:
        print(f"note: load average {load:.1f} on {os.cpu_count()} CPUs: other work skews the times")
    print(flush=True)

    flow_overhead: float | None = None
    if not args.no_flow:
        work = fresh_copy(pristine)
        flow_s, outcome = flow_sweep(work)
        assert reminders_in(work) == queued, "the flow run queued something else than the plain sweep"
        flow_overhead = flow_s - sweep_s
        print(f"flow run: {flow_s:.3f} s ({outcome.batches} task runs); overhead {flow_overhead:.3f} s")  # type: ignore[attr-defined]

    print(
        json.dumps(
            {
                "cases": CASES,
                "due": due,
                "sweep_s": round(sweep_s, 3),
                "raw_s": round(raw_s, 3),
                "ratio": round(sweep_s / raw_s, 2),
                "peak_rss_mb": round(peak_mb, 1),
                "flow_overhead_s": None if flow_overhead is None else round(flow_overhead, 3),
                "sweep_cpu_s": round(sweep_cpu_s, 3),  # what other load on the machine cannot inflate
                "raw_cpu_s": round(raw_cpu_s, 3),
                "reminders": queued,
                "marked_overdue": len(monitoring.marked),
                "batches": monitoring.batches,
                "rounds": args.rounds,
            }
        )
    )


if __name__ == "__main__":
    main()
