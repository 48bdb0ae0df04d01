"""Annual statistics (`yorisoi report annual`) over 1,000,000 cases and 5,000,000 events in SQLite.

Run:  .venv/bin/python bench/report.py [--fy R6] [--runs 3] [--rebuild]

Setup (untimed, cached): the fixture database is bulk-inserted with sqlite3 — not through the
case service, which would take hours — into `bench/out/report-<spec>.db`, and reused by later
runs while the data specification below is unchanged (`--rebuild` forces a new one). It is
built in a child process, so the peak RSS reported is that of the report (and of the
baseline beside it, which holds only a few grouped rows).

The data: ten desks (受付窓口); 1,000,000 cases, each with its person and household, opened
evenly over 令和3–7年度 (200,000 a 年度). The 5,000,000 events are the rows the statistics
read:

    contacts (相談)                   1,600,000   1 or 2 per case
    contact topics (相談内容)          2,400,000   1 or 2 per contact
    meetings (支援会議・重層的支援会議)    300,000
    approved plans                      150,000   each at its case's 重層的支援会議
    approved closures                   150,000
    outreach (訪問・会議等出席)           350,000
    programme enrolments (参加支援)        50,000

(Audit events and outbox rows are not generated: no statistic reads them.)

Timed: `yorisoi.reports.build.build_annual` for the 年度 (default R6: ~320,000 contacts,
~480,000 topic mentions), every table of the annual report, per desk and in total, with the
PDCA targets of the example file — the same call the CLI makes, in a read-only session as
the CLI opens it. It is run `--runs` times on a fresh engine each time; `report_s` is the
median wall time (`report_cpu_s` the median CPU time, which other processes on the machine
cannot inflate). Target (issue 4): < 2 s.

Beside it, in each run (after it in odd runs, before it in even ones), a hand-written
baseline with plain sqlite3 on the same database file (`raw_s`, `raw_cpu_s`, medians): a
fresh connection with the same settings (`models.db.SQLITE_PRAGMAS`), one read transaction,
and a dozen SQL statements written out by hand — contacts per desk × 相談者区分 × 相談方法, topic
mentions per desk, 相談実件数 per desk and in total (COUNT DISTINCT), meetings per kind, plan
approvals with the new ones (no earlier approved version), approved closures per reason,
多機関協働 cases (the union of meetings, plans drafted or approved and monitoring reviews),
outreach per kind, enrolments with distinct persons, new providers — then the same tables
arranged in Python, every known code shown with its zero. It is a fair yardstick: the same
data, the same indexes, the same figures — every run asserts the baseline's tables equal the
report's, desk by desk — and its SQL is as good as the product's (contacts and topics
grouped by day first, as there; a plain GROUP BY takes twice as long for contacts and would
flatter the product). It leaves out only what costs nothing here: the PDCA lines, a division
per target and none for R6. `ratio` = `report_s` / `raw_s`: what SQLAlchemy and the report's
assembly add over the bare SQL, whatever the machine's speed. Target: ratio <= 1.5.

Indexes: `ix_contact_stats` (contacted_on, desk_id, referrer, method, case_id) lets every
contact statistic read the index alone; the other tables use their date indexes.

The last line of output is one JSON object:
{"cases": …, "events": …, "report_s": …, "raw_s": …, "ratio": …, "peak_rss_mb": …, …}
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import random
import resource
import sqlite3
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

# bench/transitions.py is named like the `transitions` package the lifecycle machine imports;
# run as a script, this directory comes first on sys.path and would shadow that package.
_HERE = Path(__file__).resolve().parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != _HERE]

CASES = 1_000_000
FIRST_FY, YEARS = 2021, 5
DESKS = 10
SPEC = "v3"  # bump when the data or the schema changes, so a stale cache is never reused
OUT = Path(__file__).resolve().parent / "out"

REFERRERS = (["self", "family", "community", "agency"], [740, 226, 80, 756])
METHODS = (["office_visit", "phone", "home_visit", "other", "unrecorded"], [154, 1079, 421, 104, 44])
CLOSURE_REASONS = ["goals_met", "referred_single_agency", "moved_away", "died", "declined"]
STAMP = "2026-01-01 00:00:00.000000"  # created_at of every row (UTC, as SQLModel stores it)


def _opened_on(i: int) -> dt.date:
    per_year = CASES // YEARS
    fy = FIRST_FY + i // per_year
    return dt.date(fy, 4, 1) + dt.timedelta(days=(i % per_year) * 365 // per_year)


# --- setup -----------------------------------------------------------------------------------


def _rows_cases() -> Iterator[tuple[object, ...]]:
    serials: dict[int, int] = {}
    for i in range(CASES):
        opened = _opened_on(i)
        fy = opened.year if opened.month >= 4 else opened.year - 1
        serials[fy] = serials.get(fy, 0) + 1
        yield (
            i + 1, f"R{fy - 2018}-{serials[fy]:06d}", fy, serials[fy], i + 1, "intake", 1, 1, "0" * 64,
            1, i % DESKS + 1, opened.isoformat(), 0, STAMP, STAMP,
        )  # fmt: skip


def _rows_contacts(rng: random.Random) -> Iterator[tuple[object, ...]]:
    contact_id = 0
    for i in range(CASES):
        opened = _opened_on(i)
        days = [0] + ([i % 90 + 1] if i % 5 < 3 else [])
        for offset in days:
            contact_id += 1
            referrer = rng.choices(*REFERRERS)[0]
            method = rng.choices(*METHODS)[0]
            on = (opened + dt.timedelta(days=offset)).isoformat()
            yield (contact_id, i + 1, on, i % DESKS + 1, referrer, method, 1, "", STAMP)


def _rows_topics(rng: random.Random, contacts: int, codes: list[str]) -> Iterator[tuple[int, str]]:
    for contact_id in range(1, contacts + 1):
        for code in rng.sample(codes, 2 if contact_id % 2 == 0 else 1):
            yield (contact_id, code)


def _meeting_cases() -> Iterator[int]:
    return (i for i in range(CASES) if i % 10 < 3)


def _rows_meetings() -> Iterator[tuple[object, ...]]:
    for n, i in enumerate(_meeting_cases(), start=1):
        kind = "support_meeting" if i % 10 == 0 else "multilayer_meeting"
        yield (n, i + 1, kind, (_opened_on(i) + dt.timedelta(days=20)).isoformat(), "", "", 1, STAMP)


def _rows_plans() -> Iterator[tuple[object, ...]]:
    for i in range(CASES):
        if i % 20 in (1, 2, 11):
            meeting_id = (i // 10) * 3 + i % 10 + 1
            held = _opened_on(i) + dt.timedelta(days=20)
            yield (
                i + 1, 1, 1, "approved", 1, held.isoformat(), "", 90, 2,
                (held + dt.timedelta(days=3)).isoformat(), meeting_id, "", STAMP,
            )  # fmt: skip


def _rows_closures() -> Iterator[tuple[object, ...]]:
    for i in range(CASES):
        if i % 20 in (1, 2, 5):
            decided = (_opened_on(i) + dt.timedelta(days=120)).isoformat()
            reason = CLOSURE_REASONS[i % len(CLOSURE_REASONS)]
            yield (i + 1, 1, reason, "", "目標を達成", "approved", 1, decided, 2, decided, "", STAMP)


def _rows_outreach() -> Iterator[tuple[object, ...]]:
    for i in range(CASES):
        if i % 20 < 7:
            kind = "home_visit" if i % 2 else "meeting_attendance"
            yield (i + 1, kind, (_opened_on(i) + dt.timedelta(days=10)).isoformat(), 1, "", STAMP)


def _rows_enrolments() -> Iterator[tuple[object, ...]]:
    for i in range(CASES):
        if i % 20 == 3:
            provider = i % 10 + 1
            program = "program_type_b" if provider <= 5 else "program_short_stay"
            start = _opened_on(i) + dt.timedelta(days=30)
            yield (
                i + 1,
                provider,
                program,
                start.isoformat(),
                (start + dt.timedelta(days=20)).isoformat(),
                STAMP,
            )


def _inserter(db: sqlite3.Connection) -> Callable[[str, str, Iterable[tuple[object, ...]]], None]:
    def insert(table: str, columns: str, rows: Iterable[tuple[object, ...]]) -> None:
        names = columns.split()
        sql = f'INSERT INTO "{table}" ({", ".join(names)}) VALUES ({", ".join("?" * len(names))})'
        db.executemany(sql, rows)

    return insert


def build(path: Path) -> dict[str, int]:
    """Create the schema through SQLModel, then bulk-insert every row with sqlite3."""
    from sqlmodel import SQLModel

    from models.db import create_db_engine
    from yorisoi.vocabulary import DEFAULT_TOPICS

    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(".partial")
    partial.unlink(missing_ok=True)
    engine = create_db_engine(f"sqlite:///{partial}")
    SQLModel.metadata.create_all(engine)
    engine.dispose()
    rng = random.Random(2024)
    db = sqlite3.connect(partial, isolation_level=None)
    db.execute("PRAGMA journal_mode=OFF")
    db.execute("PRAGMA synchronous=OFF")
    db.execute("BEGIN")
    insert = _inserter(db)
    insert(
        "agency",
        "id name field is_desk created_at",
        [(n, f"ふくまる相談室 {n}", "community", 1, STAMP) for n in range(1, DESKS + 1)],
    )
    insert(
        "staff",
        "id login name roles active created_at",
        [
            (1, "tanaka", "田中 花子", '["coordinator"]', 1, STAMP),
            (2, "sato", "佐藤 一郎", '["supervisor"]', 1, STAMP),
        ],
    )
    insert(
        "program_provider",
        "id name program registered_on created_at",
        [
            (
                n,
                f"事業所 {n}",
                "program_type_b" if n <= 5 else "program_short_stay",
                f"{2020 + n // 2}-06-01",
                STAMP,
            )
            for n in range(1, 11)
        ],
    )
    insert(
        "household", "id address dv_protected created_at", ((i, "", 0, STAMP) for i in range(1, CASES + 1))
    )
    insert(
        "person", "id household_id name kana created_at", ((i, i, "", "", STAMP) for i in range(1, CASES + 1))
    )
    insert(
        "case",
        "id number fiscal_year serial person_id stage episode version audit_head coordinator_id desk_id"
        " opened_on overdue created_at updated_at",
        _rows_cases(),
    )
    insert(
        "contact",
        "id case_id contacted_on desk_id referrer method staff_id note created_at",
        _rows_contacts(rng),
    )
    contacts = db.execute("SELECT count(*) FROM contact").fetchone()[0]
    insert("contact_topic", "contact_id topic", _rows_topics(rng, contacts, list(DEFAULT_TOPICS)))
    insert("meeting", "id case_id kind held_on title decisions recorded_by created_at", _rows_meetings())
    insert(
        "plan",
        "case_id episode version status author_id drafted_on household_goal monitoring_interval_days"
        " approved_by approved_on meeting_id return_reason created_at",
        _rows_plans(),
    )
    insert(
        "closure",
        "case_id episode reason reason_text evaluation status proposed_by proposed_on decided_by decided_on"
        " decision_note created_at",
        _rows_closures(),
    )
    insert("outreach_activity", "case_id kind done_on staff_id note created_at", _rows_outreach())
    insert("program_enrolment", "case_id provider_id program start_on end_on created_at", _rows_enrolments())
    db.execute("COMMIT")
    counts = {
        table: db.execute(f'SELECT count(*) FROM "{table}"').fetchone()[0]
        for table in ("case", *EVENT_TABLES)
    }
    db.close()
    partial.rename(path)
    return counts


EVENT_TABLES = (
    "contact", "contact_topic", "meeting", "plan", "closure", "outreach_activity", "program_enrolment",
)  # fmt: skip


# --- the timed part --------------------------------------------------------------------------


def product_report(path: Path, fy: int) -> tuple[float, float, Any]:
    """`build_annual` as `yorisoi report annual` calls it: a read-only session on a fresh engine."""
    from importlib import resources

    from models.db import create_db_engine, read_only, session_scope
    from yorisoi.reports.build import build_annual
    from yorisoi.reports.targets import load_targets
    from yorisoi.vocabulary import DEFAULT_TOPICS

    targets = load_targets(Path(str(resources.files("yorisoi.reports").joinpath("example-targets.yaml"))))
    engine = create_db_engine(f"sqlite:///{path}")
    started, started_cpu = time.perf_counter(), time.process_time()
    with session_scope(read_only(engine)) as session:
        report = build_annual(
            session, fiscal_year=fy, as_of=dt.date(fy + 1, 3, 31), topics=DEFAULT_TOPICS, targets=targets
        )
    elapsed, cpu = time.perf_counter() - started, time.process_time() - started_cpu
    engine.dispose()
    return elapsed, cpu, report


# --- the hand-written baseline ---------------------------------------------------------------

_PERIOD = "BETWEEN :start AND :end"
# Contacts and topics are grouped by day first, then summed, as models.stats does: the day
# groups come out of the date-leading index in order, so only they are sorted (contacts: ~2x).
_RAW_CONTACTS = (
    "SELECT desk_id, referrer, method, sum(n) FROM (SELECT desk_id, referrer, method, count(*) AS n"
    f" FROM contact WHERE contacted_on {_PERIOD} GROUP BY contacted_on, desk_id, referrer, method)"
    " GROUP BY desk_id, referrer, method"
)
_RAW_TOPICS = (
    "SELECT desk_id, topic, sum(n) FROM (SELECT c.desk_id, t.topic, count(*) AS n FROM contact c"
    f" JOIN contact_topic t ON t.contact_id = c.id WHERE c.contacted_on {_PERIOD}"
    " GROUP BY c.contacted_on, c.desk_id, t.topic) GROUP BY desk_id, topic"
)
_RAW_DESK_CASES = (
    f"SELECT desk_id, count(DISTINCT case_id) FROM contact WHERE contacted_on {_PERIOD} GROUP BY desk_id"
)
_RAW_TOTAL_CASES = f"SELECT count(DISTINCT case_id) FROM contact WHERE contacted_on {_PERIOD}"
_RAW_DESKS = "SELECT id, name FROM agency WHERE is_desk ORDER BY id"
_RAW_MEETINGS = f"SELECT kind, count(*) FROM meeting WHERE held_on {_PERIOD} GROUP BY kind"
_RAW_PLANS = (  # a plan is new when no earlier version of its case and episode was ever approved
    "SELECT count(*), coalesce(sum(NOT EXISTS (SELECT 1 FROM plan e WHERE e.case_id = p.case_id"
    " AND e.episode = p.episode AND e.version < p.version AND e.approved_on IS NOT NULL)), 0)"
    f" FROM plan p WHERE p.approved_on {_PERIOD}"
)
_RAW_CLOSURES = (
    f"SELECT reason, count(*) FROM closure WHERE status = 'approved' AND decided_on {_PERIOD} GROUP BY reason"
)
_RAW_COORDINATED = (
    f"SELECT count(*) FROM (SELECT case_id FROM meeting WHERE held_on {_PERIOD}"
    f" UNION SELECT case_id FROM plan WHERE drafted_on {_PERIOD}"
    f" UNION SELECT case_id FROM plan WHERE approved_on {_PERIOD}"
    f" UNION SELECT case_id FROM monitoring_record WHERE held_on {_PERIOD})"
)
_RAW_OUTREACH = f"SELECT kind, count(*) FROM outreach_activity WHERE done_on {_PERIOD} GROUP BY kind"
_RAW_ENROLMENTS = (
    "SELECT program, count(*), count(DISTINCT case_id) FROM program_enrolment"
    f" WHERE start_on {_PERIOD} GROUP BY program"
)
_RAW_PROVIDERS = (
    f"SELECT program, count(*) FROM program_provider WHERE registered_on {_PERIOD} GROUP BY program"
)


def _consultation_row(
    desk: str, contacts: list[tuple[Any, ...]], topics: list[tuple[Any, ...]], cases: int, codes: Codes
) -> dict[str, Any]:
    """One line of 相談実績, every known code included (zeros too), as the published table has it."""
    referrers = dict.fromkeys(codes.referrers, 0)
    methods = dict.fromkeys(codes.methods, 0)
    unrecorded = total = 0
    for _, referrer, method, n in contacts:
        total += n
        referrers[referrer] = referrers.get(referrer, 0) + n
        if method == codes.unrecorded:
            unrecorded += n
        else:
            methods[method] = methods.get(method, 0) + n
    mentions = dict.fromkeys(codes.topics, 0)
    for _, topic, n in topics:
        mentions[topic] = mentions.get(topic, 0) + n
    return {
        "desk": desk,
        "referrers": referrers,
        "methods": methods,
        "unrecorded": unrecorded,
        "topics": mentions,
        "cases": cases,
        "contacts": total,
    }


@dataclass(frozen=True)
class Codes:
    """The code lists every published table shows in full (zeros included)."""

    referrers: list[str]
    methods: list[str]
    unrecorded: str
    topics: list[str]
    closure_reasons: list[str]
    programs: list[str]
    support: str
    multilayer: str
    home_visit: str
    meeting_attendance: str

    @classmethod
    def load(cls) -> Codes:
        from models.case import ContactMethod, Referrer
        from models.outreach import OutreachKind, Program
        from states.stages import ClosureReason, MeetingKind
        from yorisoi.vocabulary import DEFAULT_TOPICS

        return cls(
            referrers=[r.value for r in Referrer],
            methods=[m.value for m in ContactMethod if m is not ContactMethod.UNRECORDED],
            unrecorded=ContactMethod.UNRECORDED.value,
            topics=list(DEFAULT_TOPICS),
            closure_reasons=[r.value for r in ClosureReason],
            programs=[p.value for p in Program],
            support=MeetingKind.SUPPORT.value,
            multilayer=MeetingKind.MULTILAYER.value,
            home_visit=OutreachKind.HOME_VISIT.value,
            meeting_attendance=OutreachKind.MEETING_ATTENDANCE.value,
        )


def raw_report(path: Path, fy: int, codes: Codes) -> tuple[float, float, dict[str, Any]]:
    """Every figure of the annual report by hand: sqlite3, one read transaction, plain SQL."""
    from models.db import SQLITE_BUSY_TIMEOUT_MS, SQLITE_PRAGMAS

    period = {"start": dt.date(fy, 4, 1).isoformat(), "end": dt.date(fy + 1, 3, 31).isoformat()}
    started, started_cpu = time.perf_counter(), time.process_time()
    conn = sqlite3.connect(path, isolation_level=None, timeout=SQLITE_BUSY_TIMEOUT_MS / 1000)
    for pragma in SQLITE_PRAGMAS:
        conn.execute(pragma)
    conn.execute("BEGIN")  # one snapshot for every figure, and no write lock (as `read_only`)
    contacts = conn.execute(_RAW_CONTACTS, period).fetchall()
    topics = conn.execute(_RAW_TOPICS, period).fetchall()
    desk_cases = dict(conn.execute(_RAW_DESK_CASES, period).fetchall())
    (total_cases,) = conn.execute(_RAW_TOTAL_CASES, period).fetchone()
    desks = conn.execute(_RAW_DESKS).fetchall()
    meetings = dict(conn.execute(_RAW_MEETINGS, period).fetchall())
    plans, new_plans = conn.execute(_RAW_PLANS, period).fetchone()
    closures = dict.fromkeys(codes.closure_reasons, 0) | dict(conn.execute(_RAW_CLOSURES, period).fetchall())
    (coordinated,) = conn.execute(_RAW_COORDINATED, period).fetchone()
    outreach = dict(conn.execute(_RAW_OUTREACH, period).fetchall())
    enrolments = {program: (n, persons) for program, n, persons in conn.execute(_RAW_ENROLMENTS, period)}
    providers = dict(conn.execute(_RAW_PROVIDERS, period).fetchall())
    conn.execute("COMMIT")

    if None in desk_cases:
        desks.append((None, "受付窓口なし"))
    figures = {
        "desks": [
            _consultation_row(
                name,
                [row for row in contacts if row[0] == desk_id],
                [row for row in topics if row[0] == desk_id],
                desk_cases.get(desk_id, 0),
                codes,
            )
            for desk_id, name in desks
        ],
        "total": _consultation_row("合計", contacts, topics, total_cases, codes),
        "meetings": [
            meetings.get(codes.support, 0),
            meetings.get(codes.multilayer, 0),
            new_plans,
            plans - new_plans,
            sum(closures.values()),
        ],
        "closures": closures,
        "coordination": [
            coordinated,
            outreach.get(codes.home_visit, 0),
            outreach.get(codes.meeting_attendance, 0),
        ],
        "participation": [
            (program, *enrolments.get(program, (0, 0)), providers.get(program, 0))
            for program in codes.programs
        ],
    }
    elapsed, cpu = time.perf_counter() - started, time.process_time() - started_cpu
    conn.close()
    return elapsed, cpu, figures


def figures_of(report: Any) -> dict[str, Any]:
    """The product's report as the baseline's plain figures, to compare them."""

    def row(r: Any) -> dict[str, Any]:
        return {
            "desk": r.desk,
            "referrers": r.referrers,
            "methods": r.methods,
            "unrecorded": r.unrecorded_method,
            "topics": r.topics,
            "cases": r.cases,
            "contacts": r.contacts,
        }

    m, c = report.meetings, report.coordination
    return {
        "desks": [row(r) for r in report.consultation.desks],
        "total": row(report.consultation.total),
        "meetings": [m.support_meetings, m.multilayer_meetings, m.plans_new, m.plans_revised, m.closures],
        "closures": report.closures.by_reason,
        "coordination": [c.multi_agency_cases, c.home_visits, c.meeting_attendance],
        "participation": [
            (p.program, p.enrolments, p.persons, p.new_providers) for p in report.participation.rows
        ],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--fy", default="R6", help="年度 to report (default R6)")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--rebuild", action="store_true", help="regenerate the cached database")
    parser.add_argument("--build-only", type=Path, help=argparse.SUPPRESS)  # the child process
    args = parser.parse_args()
    if args.runs < 1:
        parser.error("need --runs >= 1")
    if args.build_only:
        print(json.dumps(build(args.build_only)))
        return

    from yorisoi.jpdates import parse_fiscal_year

    path = OUT / f"report-{SPEC}.db"
    if args.rebuild:
        path.unlink(missing_ok=True)
    if not path.exists():
        print(f"building {path} (once; cached for later runs) …", flush=True)
        started = time.perf_counter()
        subprocess.run([sys.executable, __file__, "--build-only", str(path)], check=True)
        print(f"built in {time.perf_counter() - started:.0f} s", flush=True)
    db = sqlite3.connect(path)
    counts = {t: db.execute(f'SELECT count(*) FROM "{t}"').fetchone()[0] for t in ("case", *EVENT_TABLES)}
    db.close()
    fy = parse_fiscal_year(args.fy)
    codes = Codes.load()
    timings, cpu, raw_timings, raw_cpu = [], [], [], []
    for run in range(1, args.runs + 1):
        # Turns about: whichever runs second finds SQLite's pages warmer in the OS cache.
        if run % 2:
            elapsed, used, report = product_report(path, fy)
            raw_elapsed, raw_used, raw = raw_report(path, fy, codes)
        else:
            raw_elapsed, raw_used, raw = raw_report(path, fy, codes)
            elapsed, used, report = product_report(path, fy)
        timings.append(elapsed)
        cpu.append(used)
        raw_timings.append(raw_elapsed)
        raw_cpu.append(raw_used)
        print(
            f"run {run}/{args.runs}: build_annual {elapsed:.3f} s (CPU {used:.3f} s)"
            f"   raw sqlite3 {raw_elapsed:.3f} s (CPU {raw_used:.3f} s)   ratio {elapsed / raw_elapsed:.2f}",
            flush=True,
        )
        # The baseline must have computed every figure, and the same, or its time means nothing.
        assert raw == figures_of(report), "the baseline's figures differ from the report's"
    total = report.consultation.total
    print(f"{args.fy}: 延件数 {total.contacts:,}, 実件数 {total.cases:,}, 相談内容 {total.topic_total:,}")
    print("check: every run, the baseline's figures equal the report's, table by table")
    peak_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    report_s, raw_s = statistics.median(timings), statistics.median(raw_timings)
    result = {
        "cases": counts["case"],
        "events": sum(counts[t] for t in EVENT_TABLES),
        "report_s": round(report_s, 3),
        "raw_s": round(raw_s, 3),
        "ratio": round(report_s / raw_s, 2),
        "peak_rss_mb": round(peak_kb / 1024, 1),
        "report_cpu_s": round(statistics.median(cpu), 3),  # what the machine's other load cannot inflate
        "raw_cpu_s": round(statistics.median(raw_cpu), 3),
        "first_run_s": round(timings[0], 3),
        "fiscal_year": args.fy,
        "contacts_in_year": total.contacts,
        "events_by_table": {t: counts[t] for t in EVENT_TABLES},
        "database_mb": round(path.stat().st_size / 2**20, 1),
    }
    print(json.dumps(result, ensure_ascii=False))


if __name__ == "__main__":
    main()
