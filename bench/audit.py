"""The audit page on a big database: every list's query plan, its time, and the page's time.

Run:  .venv/bin/python bench/audit.py [--scale 1.0] [--postgres] [--rebuild]

Setup (untimed, cached for SQLite in `bench/out/audit-<scale>.db`): the schema through
SQLModel, then rows bulk-inserted with SQLAlchemy Core — not through the case service, which
would take hours. At scale 1: 1,000,000 cases (400,000 in 支援・モニタリング and overdue today,
the rest in earlier stages), 300,000 plans approved and 150,000 closures decided over the last
two years (one in 25 with a finding: approved by its own author), 100,000 consents withdrawn,
3,000,000 access-log rows over two years (one in 30 refused), 55 staff.

Timed, for each list of the audit page (`yorisoi.service.audit_page.list_page`): the first
page of this 年度, a page deep in the list (a cursor months in), one case's page, and for the
access log one staff member's and the refused attempts. Each statement's plan is printed
(`EXPLAIN QUERY PLAN` on SQLite, `EXPLAIN` on PostgreSQL); a plan that scans a whole table
or sorts the rows before the LIMIT is flagged. Then the real page (`GET /audit`, signed in as
a supervisor through the sign-in form) is fetched and its median time and size printed.

The last line is one JSON object: {"backend": …, "cases": …, "views": …, "worst_list_ms": …,
"page_ms": …, "page_kb": …, "flagged_plans": […]}.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import re
import statistics
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, SQLModel, col

REPO = Path(__file__).resolve().parent.parent
sys.path[0] = str(REPO)  # not bench/ (its transitions.py would shadow the library)

from models import Case, Closure, Consent, Household, Meeting, Person, Plan, RecordView, Staff  # noqa: E402
from models.db import create_db_engine, read_only  # noqa: E402
from states import default_machine  # noqa: E402
from yorisoi.jpdates import today_tokyo  # noqa: E402
from yorisoi.service import audit_page  # noqa: E402

TODAY = today_tokyo()
STAMP = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
NOW = dt.datetime.now(dt.UTC)
CHUNK = 20_000
PASSWORD = "bench-password-audit"
TEAMS, PER_TEAM = 5, 10


def _sizes(scale: float) -> dict[str, int]:
    return {
        "cases": int(1_000_000 * scale),
        "overdue": int(400_000 * scale),
        "plans": int(300_000 * scale),
        "closures": int(150_000 * scale),
        "consents": int(100_000 * scale),
        "views": int(3_000_000 * scale),
    }


def _insert(connection: sa.Connection, model: Any, rows: Iterator[dict[str, Any]]) -> None:
    table = model.__table__
    batch: list[dict[str, Any]] = []
    for row in rows:
        batch.append(row)
        if len(batch) >= CHUNK:
            connection.execute(table.insert(), batch)
            batch = []
    if batch:
        connection.execute(table.insert(), batch)


def build(engine: sa.Engine, sizes: dict[str, int]) -> None:
    """The schema, then every row (see the module docstring)."""
    SQLModel.metadata.create_all(engine)
    cases, overdue = sizes["cases"], sizes["overdue"]
    coordinators = TEAMS * PER_TEAM
    day = dt.timedelta(days=1)
    with engine.begin() as c:
        _insert(
            c,
            Staff,
            (
                {
                    "id": i + 1,
                    "login": f"c{i:02d}" if i < coordinators else f"sv{i - coordinators}",
                    "name": f"職員 {i}",
                    "roles": ["coordinator"] if i < coordinators else ["supervisor"],
                    "team": f"t{i % TEAMS}",
                    "active": True,
                    "created_at": STAMP,
                }
                for i in range(coordinators + TEAMS)
            ),
        )
        _insert(
            c, Household, ({"id": 1, "address": "", "dv_protected": False, "created_at": STAMP} for _ in [0])
        )
        _insert(
            c,
            Person,
            ({"id": 1, "household_id": 1, "name": "", "kana": "", "created_at": STAMP} for _ in [0]),
        )
        stages = ("intake", "assessment", "support_meeting", "multilayer_meeting", "planning")
        _insert(
            c,
            Case,
            (
                {
                    "id": i + 1,
                    "number": f"R{(i % 5) + 3}-{i // 5 + 1:06d}",
                    "fiscal_year": 2021 + i % 5,
                    "serial": i // 5 + 1,
                    "person_id": 1,
                    "stage": "monitoring" if i < overdue else stages[i % len(stages)],
                    "episode": 1,
                    "version": 1,
                    "audit_head": "0" * 64,
                    "coordinator_id": i % coordinators + 1,
                    "opened_on": dt.date(2021 + i % 5, 6, 1),
                    "next_monitoring_on": TODAY - day * (1 + i % 300) if i < overdue else None,
                    "overdue": i < overdue and i % 300 > 5,
                    "lifecycle_version": 1,
                    "created_at": STAMP,
                    "updated_at": STAMP,
                }
                for i in range(cases)
            ),
        )
        supervisor = coordinators + 1
        _insert(
            c,
            Meeting,
            (
                {
                    "id": i + 1,
                    "case_id": i * 3 % cases + 1,
                    "kind": "multilayer_meeting",
                    "held_on": TODAY - day * (730 - i * 730 // sizes["plans"]) - day,
                    "recorded_by": 1,
                    "title": "",
                    "decisions": "",
                    "created_at": STAMP,
                }
                for i in range(sizes["plans"])
            ),
        )
        _insert(
            c,
            Plan,
            (
                {
                    "id": i + 1,
                    "case_id": i * 3 % cases + 1,
                    "episode": 1,
                    "version": 1,
                    "status": "approved",
                    "author_id": i % coordinators + 1,
                    "drafted_on": TODAY - day * (760 - i * 730 // sizes["plans"]),
                    "household_goal": "",
                    "monitoring_interval_days": 30,
                    "approved_by": i % coordinators + 1 if i % 25 == 0 else supervisor,
                    "approved_on": TODAY - day * (730 - i * 730 // sizes["plans"]),
                    "meeting_id": i + 1,
                    "return_reason": "",
                    "created_at": STAMP,
                }
                for i in range(sizes["plans"])
            ),
        )
        _insert(
            c,
            Closure,
            (
                {
                    "id": i + 1,
                    "case_id": i * 7 % cases + 1,
                    "episode": 1,
                    "reason": "goals_met",
                    "reason_text": "",
                    "evaluation": "",
                    "status": "approved",
                    "proposed_by": 1,
                    "proposed_on": TODAY - day * 800,
                    "decided_by": 1 if i % 25 == 0 else supervisor,
                    "decided_on": TODAY - day * (730 - i * 730 // sizes["closures"]),
                    "decision_note": "",
                    "created_at": STAMP,
                }
                for i in range(sizes["closures"])
            ),
        )
        _insert(
            c,
            Consent,
            (
                {
                    "id": i + 1,
                    "case_id": i * 11 % cases + 1,
                    "given_on": TODAY - day * 800,
                    "method": "written",
                    "recorded_by": 1,
                    "withdrawn_on": TODAY - day * (730 - i * 730 // sizes["consents"]),
                    "withdrawn_by": 1,
                    "note": "",
                    "created_at": STAMP,
                }
                for i in range(sizes["consents"])
            ),
        )
        seconds = 730 * 86_400
        _insert(
            c,
            RecordView,
            (
                {
                    "id": i + 1,
                    "case_id": i * 13 % cases + 1,
                    "staff_id": i % coordinators + 1,
                    "viewed_at": NOW - dt.timedelta(seconds=seconds - i * seconds // sizes["views"]),
                    "what": "case_detail",
                    "channel": "web",
                    "granted": i % 30 != 0,
                }
                for i in range(sizes["views"])
            ),
        )


class Statements:
    """The statements a block of code ran, with their parameters, to EXPLAIN them afterwards."""

    def __init__(self, engine: sa.Engine) -> None:
        self.engine = engine
        self.seen: list[tuple[str, Any]] = []

    def __enter__(self) -> Statements:
        sa.event.listen(self.engine, "before_cursor_execute", self._record)
        return self

    def __exit__(self, *exc: object) -> None:
        sa.event.remove(self.engine, "before_cursor_execute", self._record)

    def _record(
        self, conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, many: bool
    ) -> None:
        if statement.lstrip().upper().startswith("SELECT"):
            self.seen.append((statement, parameters))


def explain(connection: sa.Connection, statement: str, parameters: Any) -> list[str]:
    """The plan of one statement as the database would run it (EXPLAIN needs the raw SQL);
    on SQLite a step inside a subquery is indented."""
    if connection.dialect.name == "sqlite":
        rows = connection.exec_driver_sql("EXPLAIN QUERY PLAN " + statement, parameters).all()
        return [("" if row[1] == 0 else "  ") + str(row[-1]) for row in rows]
    return [str(row[0]) for row in connection.exec_driver_sql("EXPLAIN " + statement, parameters).all()]


BIG_TABLES = ("case", "plan", "closure", "consent", "record_view", "meeting")


def suspicious(plan: list[str], dialect: str) -> bool:
    """A whole-table scan of a big table, or a sort of the matching rows before the LIMIT (on
    SQLite a top-level temp B-tree; on PostgreSQL a Sort expecting over 1,000 rows) — except
    one case's few rows (searched by case_id), which may be sorted."""
    if dialect == "sqlite":
        top = [line for line in plan if not line.startswith(" ")]
        one_case = any("case_id=?)" in line for line in top)
        return any(
            (line.startswith("USE TEMP B-TREE FOR ORDER BY") and not one_case)
            or any(line.startswith(f"SCAN {t}") and "USING" not in line for t in BIG_TABLES)
            for line in top
        )
    seq = any(
        f"Seq Scan on {t} " in line or line.rstrip().endswith(f"Seq Scan on {t}")
        for line in plan
        for t in BIG_TABLES
    )
    sorts = [
        int(found.group(1)) for line in plan if (found := re.search(r"-> +Sort +\(cost=\S+ rows=(\d+)", line))
    ]
    return seq or any(rows > 1_000 for rows in sorts)


def measure(engine: sa.Engine, repeat: int = 3) -> tuple[list[dict[str, Any]], list[str]]:
    machine = default_machine()
    results: list[dict[str, Any]] = []
    flagged: list[str] = []
    with Session(read_only(engine)) as session:
        some_case = session.execute(sa.select(col(Case.number)).where(col(Case.id) == 3)).scalar_one()
        deep_day = TODAY - dt.timedelta(days=120)
        deep = {
            "approvals": (deep_day, 0),
            "closures": (deep_day, 0),
            "plan_findings": (deep_day, 0),
            "closure_findings": (deep_day, 0),
            "withdrawn": (deep_day, 0),
            "overdue": (TODAY - dt.timedelta(days=150), ""),
            "log": (NOW - dt.timedelta(days=120), 0),
        }
        default = audit_page.audit_filter(session, today=TODAY)
        variants: list[tuple[str, audit_page.AuditFilter, str]] = [
            (name, default, "first") for name in audit_page.CURSORS
        ]
        variants += [(name, default, "deep") for name in audit_page.CURSORS]
        one_case = audit_page.audit_filter(session, today=TODAY, case=some_case)
        variants += [(name, one_case, "case") for name in audit_page.CURSORS]
        variants.append(("log", audit_page.audit_filter(session, today=TODAY, staff="c07"), "staff"))
        variants.append(("log", audit_page.audit_filter(session, today=TODAY, outcome="refused"), "refused"))
        variants.append(
            (
                "log",
                audit_page.audit_filter(session, today=TODAY, staff="c07", outcome="refused"),
                "staff+refused",
            )
        )
        for name, where, how in variants:
            after = deep[name] if how == "deep" else None
            times = []
            with Statements(engine) as ran:
                for _ in range(repeat):
                    started = time.perf_counter()
                    page = audit_page.list_page(session, machine, where, name, after)
                    times.append((time.perf_counter() - started) * 1000)
            statement, parameters = ran.seen[-1]
            with read_only(engine).connect() as connection:
                plan = explain(connection, statement, parameters)
            bad = suspicious(plan, engine.dialect.name)
            label = f"{name}/{how}"
            if bad:
                flagged.append(label)
            results.append({"list": label, "ms": round(statistics.median(times), 1), "rows": len(page.rows)})
            flag = "  <-- FLAGGED" if bad else ""
            print(f"--- {label}: {statistics.median(times):.1f} ms, {len(page.rows)} rows{flag}")
            for line in plan[:16]:
                print("    " + line)
    return results, flagged


def page_time(engine: sa.Engine, repeat: int = 3) -> tuple[float, int, dict[str, float]]:
    """GET /audit as a supervisor through the real app (signed in through the form)."""
    from argon2 import PasswordHasher
    from fastapi.testclient import TestClient

    from yorisoi.service import accounts
    from yorisoi.settings import get_settings
    from yorisoi.web.app import create_app
    from yorisoi.web.config import WebSettings

    accounts._hasher = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)  # the bench's own account
    with Session(engine) as session:
        accounts.set_password(session, "sv0", PASSWORD)
        session.commit()
    app = create_app(get_settings(), engine=engine, web=WebSettings(secret_key="bench-secret"))
    with TestClient(app) as client:
        form = client.get("/login").text
        marker = 'name="csrf_token" value="'
        token = form[form.index(marker) + len(marker) :].split('"')[0]
        signed = client.post(
            "/login",
            data={"login": "sv0", "password": PASSWORD, "csrf_token": token, "next": "/"},
            follow_redirects=False,
        )
        assert signed.status_code == 303, signed.text
        other: dict[str, float] = {}
        times = []
        size = 0
        for _ in range(repeat):
            started = time.perf_counter()
            answer = client.get("/audit")
            times.append((time.perf_counter() - started) * 1000)
            assert answer.status_code == 200, answer.text[:500]
            size = len(answer.content)
        for label, url in (
            ("case", "/audit?case=R5-000003"),
            ("log_refused", "/audit?log_outcome=refused&log_staff=c07"),
        ):
            started = time.perf_counter()
            assert client.get(url).status_code == 200
            other[label] = round((time.perf_counter() - started) * 1000, 1)
    return statistics.median(times), size, other


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--postgres", action="store_true", help="on PostgreSQL (a new schema, dropped after)")
    parser.add_argument("--rebuild", action="store_true")
    parser.add_argument("--no-page", action="store_true", help="skip GET /audit")
    args = parser.parse_args()
    sizes = _sizes(args.scale)
    schema = None
    if args.postgres:
        url = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
        schema = f"bench_audit_{uuid.uuid4().hex[:8]}"
        admin = sa.create_engine(url)
        with admin.begin() as c:
            c.exec_driver_sql(f'CREATE SCHEMA "{schema}"')
        engine = create_db_engine(url, connect_args={"options": f"-csearch_path={schema}"})
        started = time.perf_counter()
        build(engine, sizes)
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as c:
            c.exec_driver_sql("ANALYZE")
        print(f"built in {time.perf_counter() - started:.0f} s", flush=True)
    else:
        path = REPO / "bench" / "out" / f"audit-{args.scale:g}.db"
        if args.rebuild or not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            partial = path.with_suffix(".partial")
            partial.unlink(missing_ok=True)
            started = time.perf_counter()
            building = create_db_engine(f"sqlite:///{partial}")
            build(building, sizes)
            with building.connect() as c:
                c.exec_driver_sql("ANALYZE")
            building.dispose()
            partial.rename(path)
            print(f"built in {time.perf_counter() - started:.0f} s", flush=True)
        engine = create_db_engine(f"sqlite:///{path}")
    try:
        results, flagged = measure(engine)
        page_ms, page_bytes, other = (0.0, 0, {}) if args.no_page else page_time(engine)
    finally:
        engine.dispose()
        if schema is not None:
            with admin.begin() as c:
                c.exec_driver_sql(f'DROP SCHEMA "{schema}" CASCADE')
            admin.dispose()
    summary = {
        "backend": "postgresql" if args.postgres else "sqlite",
        "cases": sizes["cases"],
        "views": sizes["views"],
        "worst_list_ms": max(r["ms"] for r in results),
        "page_ms": round(page_ms, 1),
        "page_kb": round(page_bytes / 1024, 1),
        "other_pages_ms": other,
        "flagged_plans": flagged,
    }
    print(json.dumps(summary, ensure_ascii=False))


if __name__ == "__main__":
    main()
