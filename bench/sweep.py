"""The monitoring sweep over 1,000,000 open cases in SQLite, with and without Prefect.

Run:  .venv/bin/python bench/sweep.py [--rebuild] [--no-flow]

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
each) — on a fresh copy of the fixture. `sweep_s` is its wall time (`sweep_cpu_s` its CPU
time, which other processes on the machine cannot inflate), `peak_rss_mb` the process's
peak RSS (getrusage) right after it, before Prefect is imported. Target: < 3 s, < 300 MB.

Then the same sweep as a Prefect flow run (`flows.monitoring_due`) on another fresh copy,
under Prefect's temporary server, started beforehand by a warm-up flow run so that its start
is not counted: `flow_overhead_s` = flow wall time − `sweep_s`.

The last line of output is one JSON object:
{"cases": …, "due": …, "sweep_s": …, "peak_rss_mb": …, "flow_overhead_s": …}
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import resource
import shutil
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

# bench/transitions.py is named like the `transitions` package the lifecycle machine imports;
# run as a script, this directory comes first on sys.path and would shadow that package.
_HERE = Path(__file__).resolve().parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != _HERE]

CASES = 1_000_000
IN_MONITORING = 400_000
DUE_SOON, OVERDUE_RECENT, OVERDUE_LONG, NOT_YET_MARKED = 7_000, 1_500, 1_500, 500
TEAMS, COORDINATORS_PER_TEAM = 5, 10
SWEEP_DAY = dt.date(2025, 7, 9)  # a Wednesday
SPEC = "v2"  # bump when the data or the schema changes, so a stale cache is never reused
OUT = _HERE / "out"
STAMP = "2026-01-01 00:00:00.000000"
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
    """Create the schema through SQLModel, then bulk-insert every row with sqlite3."""
    from sqlmodel import SQLModel

    from models.db import create_db_engine

    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(".partial")
    partial.unlink(missing_ok=True)
    engine = create_db_engine(f"sqlite:///{partial}")
    SQLModel.metadata.create_all(engine)
    engine.dispose()
    db = sqlite3.connect(partial, isolation_level=None)
    db.execute("PRAGMA journal_mode=OFF")
    db.execute("PRAGMA synchronous=OFF")
    db.execute("BEGIN")
    staff = [
        (
            team * COORDINATORS_PER_TEAM + n + 1,
            f"c{team}{n:02d}",
            f"相談員 {team}-{n}",
            '["coordinator"]',
            f"t{team}",
        )
        for team in range(TEAMS)
        for n in range(COORDINATORS_PER_TEAM)
    ]
    first_supervisor = TEAMS * COORDINATORS_PER_TEAM + 1
    staff += [(first_supervisor + t, f"sv{t}", f"SV {t}", '["supervisor"]', f"t{t}") for t in range(TEAMS)]
    db.executemany(
        "INSERT INTO staff (id, login, name, roles, team, active, created_at) VALUES (?, ?, ?, ?, ?, 1, ?)",
        [(*row, STAMP) for row in staff],
    )
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
    db.execute("COMMIT")
    db.execute("ANALYZE")
    db.execute("PRAGMA journal_mode=WAL")  # as yorisoi's own databases are (models.db)
    count = int(db.execute('SELECT count(*) FROM "case"').fetchone()[0])
    db.close()
    partial.rename(path)
    return count


def fresh_copy(pristine: Path) -> Path:
    work = OUT / "sweep-work.db"
    for suffix in ("", "-wal", "-shm"):
        Path(f"{work}{suffix}").unlink(missing_ok=True)
    shutil.copyfile(pristine, work)
    return work


def reminders_in(path: Path) -> int:
    db = sqlite3.connect(path)
    count = int(
        db.execute("SELECT count(*) FROM outbox_message WHERE recipient LIKE 'staff:%'").fetchone()[0]
    )
    db.close()
    return count


# --- the timed parts -------------------------------------------------------------------------


def plain_sweep(path: Path) -> tuple[float, float, object]:
    from models.db import create_db_engine
    from states import default_machine
    from yorisoi.settings import Settings
    from yorisoi.sweeps import run_day

    engine = create_db_engine(f"sqlite:///{path}")
    started, started_cpu = time.perf_counter(), time.process_time()
    result = run_day(engine, Settings(), default_machine().lifecycle, on=SWEEP_DAY, names=["monitoring_due"])
    elapsed, cpu = time.perf_counter() - started, time.process_time() - started_cpu
    engine.dispose()
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
    parser.add_argument("--build-only", type=Path, help=argparse.SUPPRESS)  # the child process
    args = parser.parse_args()
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

    work = fresh_copy(pristine)
    sweep_s, sweep_cpu_s, result = plain_sweep(work)
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    monitoring = result.sweeps[0]  # type: ignore[attr-defined]
    due = DUE_SOON + OVERDUE_RECENT + OVERDUE_LONG
    assert monitoring.scanned == due, f"the sweep saw {monitoring.scanned} due cases, expected {due}"
    assert len(monitoring.marked) == NOT_YET_MARKED
    queued = reminders_in(work)
    by_topic = ", ".join(f"{topic} {count:,}" for topic, count in sorted(monitoring.queued.items()))
    print(f"plain sweep: {sweep_s:.3f} s (CPU {sweep_cpu_s:.3f} s), peak RSS {peak_mb:.0f} MB", flush=True)
    print(f"  {monitoring.scanned:,} due, {monitoring.batches} batches; {queued:,} reminders: {by_topic}")
    print(f"  {len(monitoring.marked)} cases marked overdue through the case service", flush=True)

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
                "peak_rss_mb": round(peak_mb, 1),
                "flow_overhead_s": None if flow_overhead is None else round(flow_overhead, 3),
                "sweep_cpu_s": round(sweep_cpu_s, 3),  # what other load on the machine cannot inflate
                "reminders": queued,
                "marked_overdue": len(monitoring.marked),
                "batches": monitoring.batches,
            }
        )
    )


if __name__ == "__main__":
    main()
