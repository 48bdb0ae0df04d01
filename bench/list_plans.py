"""Query plans and timings of the bounded lists and search at scale (issue 13).

Run:  .venv/bin/python bench/list_plans.py [--cases 1000000] [--rebuild]

Builds (cached in bench/out/lists-<cases>.db) a SQLite database through SQLModel's schema —
the search index included — bulk-filled with sqlite3: `cases` open cases, each with its person
(names and kana from small pools, so common names match many cases) and household (1% DV),
55 staff in five teams (50 coordinators, 5 supervisors), 40% in monitoring with dates around
the day, some cases' meetings attended by a coordinator outside their team. The search index
is filled the way migration 0005 fills it (`models.search.install(fill=True)`), timed.

Then, for a coordinator and a supervisor: the board's grouped count and one column's pages,
the due list with its counts, the case list, search (a full number in full-width, a name
fragment, kana, a 2-character prefix). Each query's EXPLAIN QUERY PLAN and its median time over
5 runs are printed; the last line is a JSON object of the medians in ms.
"""

# ruff: noqa: E501 - data tables and timing lines read better unbroken
from __future__ import annotations

import argparse
import datetime as dt
import json
import sqlite3
import statistics
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

_HERE = Path(__file__).resolve().parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != _HERE]

DAY = dt.date(2025, 7, 9)
STAMP = "2026-01-01 00:00:00.000000"
TEAMS, PER_TEAM = 5, 10
STAGES = ("intake", "assessment", "support_meeting", "multilayer_meeting", "planning")
FAMILY = [
    ("山田", "ヤマダ"),
    ("佐藤", "サトウ"),
    ("鈴木", "スズキ"),
    ("高橋", "タカハシ"),
    ("田中", "タナカ"),
    ("伊藤", "イトウ"),
    ("渡辺", "ワタナベ"),
    ("山本", "ヤマモト"),
    ("中村", "ナカムラ"),
    ("小林", "コバヤシ"),
    ("加藤", "カトウ"),
    ("吉田", "ヨシダ"),
    ("山口", "ヤマグチ"),
    ("松本", "マツモト"),
    ("井上", "イノウエ"),
    ("木村", "キムラ"),
    ("林", "ハヤシ"),
    ("斎藤", "サイトウ"),
    ("清水", "シミズ"),
    ("山崎", "ヤマザキ"),
]
GIVEN = [("太郎", "タロウ"), ("花子", "ハナコ"), ("一郎", "イチロウ"), ("美咲", "ミサキ"), ("健太", "ケンタ"),
         ("陽菜", "ヒナ"), ("翔", "ショウ"), ("結衣", "ユイ"), ("大輔", "ダイスケ"), ("さくら", "サクラ"),
         ("悠斗", "ユウト"), ("葵", "アオイ"), ("蓮", "レン"), ("凛", "リン"), ("湊", "ミナト")]  # fmt: skip


def _name(i: int) -> tuple[str, str]:
    f, fk = FAMILY[(i * 7919) % len(FAMILY)]
    g, gk = GIVEN[(i * 104729 // 7) % len(GIVEN)]
    # A rarer family name now and then, so a distinctive search finds few.
    if i % 997 == 0:
        f, fk = f"{f}{i % 89}", fk
    return f"{f} {g}", f"{fk} {gk}"


def _cases(n: int) -> Iterator[tuple[object, ...]]:
    coordinators = TEAMS * PER_TEAM
    for i in range(n):
        monitoring = i % 5 < 2
        next_on = (DAY + dt.timedelta(days=(i % 400) - 20)).isoformat() if monitoring else None
        stage = "monitoring" if monitoring else STAGES[i % len(STAGES)]
        fy = 2021 + i * 5 // n
        serial = i % (n // 5) + 1
        overdue = 1 if monitoring and (i % 400) < 5 else 0
        yield (i + 1, f"R{fy - 2018}-{serial:04d}" if serial < 10000 else f"R{fy - 2018}-{serial}", fy, serial,
               i + 1, stage, (i // 5) % coordinators + 1, f"{fy}-06-01", next_on, overdue, STAMP, STAMP)  # fmt: skip


def build(path: Path, n: int) -> float:
    from sqlmodel import SQLModel

    from models import search
    from models.db import create_db_engine

    path.parent.mkdir(parents=True, exist_ok=True)
    path.unlink(missing_ok=True)
    engine = create_db_engine(f"sqlite:///{path}")
    SQLModel.metadata.create_all(engine)
    with engine.begin() as conn:
        search.uninstall(conn)  # bulk-load first, then index as migration 0005 does
    engine.dispose()
    db = sqlite3.connect(path, isolation_level=None)
    db.execute("PRAGMA journal_mode=OFF")
    db.execute("PRAGMA synchronous=OFF")
    db.execute("BEGIN")
    staff = [(t * PER_TEAM + k + 1, f"c{t}{k:02d}", f"相談員 {t}-{k}", '["coordinator"]', f"t{t}")
             for t in range(TEAMS) for k in range(PER_TEAM)]  # fmt: skip
    staff += [
        (TEAMS * PER_TEAM + t + 1, f"sv{t}", f"SV {t}", '["supervisor"]', f"t{t}") for t in range(TEAMS)
    ]
    db.executemany(
        "INSERT INTO staff (id, login, name, roles, team, active, created_at) VALUES (?, ?, ?, ?, ?, 1, ?)",
        [(*row, STAMP) for row in staff],
    )
    db.executemany(
        "INSERT INTO household (id, address, dv_protected, created_at) VALUES (?, ?, ?, ?)",
        ((i, f"山口市亀山町{i}", 1 if i % 100 == 0 else 0, STAMP) for i in range(1, n + 1)),
    )
    db.executemany(
        "INSERT INTO person (id, household_id, name, kana, created_at) VALUES (?, ?, ?, ?, ?)",
        ((i, i, *_name(i), STAMP) for i in range(1, n + 1)),
    )
    db.executemany(
        'INSERT INTO "case" (id, number, fiscal_year, serial, person_id, stage, episode, version, audit_head,'
        " coordinator_id, opened_on, next_monitoring_on, overdue, created_at, updated_at)"
        f" VALUES (?, ?, ?, ?, ?, ?, 1, 1, '{'0' * 64}', ?, ?, ?, ?, ?, ?)",
        _cases(n),
    )
    # Coordinator 1 attended 300 meetings of other teams' cases (acknowledged 守秘義務).
    db.executemany(
        "INSERT INTO meeting (id, case_id, kind, held_on, title, decisions, recorded_by, created_at)"
        " VALUES (?, ?, 'support', ?, '', '', 2, ?)",
        ((m, m * 3001 % n + 1, DAY.isoformat(), STAMP) for m in range(1, 301)),
    )
    db.executemany(
        "INSERT INTO meeting_attendee (meeting_id, name, staff_id, confidentiality_acknowledged)"
        " VALUES (?, '相談員', 1, 1)",
        ((m,) for m in range(1, 301)),
    )
    db.execute("COMMIT")
    db.close()
    engine = create_db_engine(f"sqlite:///{path}")
    started = time.perf_counter()
    with engine.begin() as conn:
        search.install(conn, fill=True)
    took = time.perf_counter() - started
    engine.dispose()
    return took


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--cases", type=int, default=1_000_000)
    parser.add_argument("--rebuild", action="store_true")
    parser.add_argument("--analyze", action="store_true", help="run ANALYZE first (the app does not)")
    args = parser.parse_args()
    path = _HERE / "out" / f"lists-{args.cases}.db"
    results: dict[str, Any] = {"cases": args.cases}
    if args.rebuild or not path.exists():
        started = time.perf_counter()
        results["fill_search_index_s"] = round(build(path, args.cases), 1)
        print(f"built {path} in {time.perf_counter() - started:.0f} s", file=sys.stderr)

    from sqlalchemy import func, select
    from sqlmodel import col

    from models import Case, caselists
    from models.case import monitoring_overdue
    from models.caselists import CaseFilters
    from models.db import create_db_engine, read_only, session_scope
    from yorisoi.service.access import Viewer, list_scope

    engine = create_db_engine(f"sqlite:///{path}")
    if args.analyze:
        with engine.begin() as conn:
            conn.exec_driver_sql("ANALYZE")
    mon = ("monitoring",)
    viewers = {
        "coordinator": Viewer(1, "c000", frozenset({"coordinator"}), "t0"),
        "supervisor": Viewer(51, "sv0", frozenset({"supervisor"}), "t0"),
    }
    with session_scope(read_only(engine)) as session:
        plans: dict[str, list[str]] = {}

        def timed(name: str, run: Callable[[], object]) -> None:
            samples = []
            for _ in range(5):
                started = time.perf_counter()
                run()
                samples.append((time.perf_counter() - started) * 1000)
            results[name] = round(statistics.median(samples), 1)

        def plan(name: str, chosen: caselists.Selection) -> None:
            """The plan of each part's grouped count (first two and last two parts)."""
            queries = chosen.queries(select(col(Case.stage), func.count()))
            shown = list(enumerate(queries))
            for n, statement in shown[:2] + shown[-2:] if len(shown) > 4 else shown:
                grouped = statement.group_by(col(Case.stage))
                sql = str(grouped.compile(dialect=engine.dialect, compile_kwargs={"literal_binds": True}))
                rows = session.connection().exec_driver_sql("EXPLAIN QUERY PLAN " + sql).all()
                plans[f"{name} (part {n + 1} of {len(queries)})"] = [r[-1] for r in rows]

        def whole_board(scope: Any, filters: CaseFilters) -> None:
            """What the board page reads: the counts, then each non-empty column's first 20 cards."""
            counts = caselists.board_counts(
                session, scope, filters, today=DAY, monitoring_stages=mon, exclude_stages=("closed",)
            )
            chosen = caselists.filter_clauses(
                session, scope, filters, today=DAY, monitoring_stages=mon, exclude_stages=("closed",)
            )
            for stage in counts:
                caselists.page(
                    session, chosen.where(col(Case.stage) == stage), today=DAY, monitoring_stages=mon
                )

        def lists(who: str, scope: Any, mine: CaseFilters) -> dict[str, Callable[[], object]]:
            def chosen(filters: CaseFilters, exclude: tuple[str, ...] = ("closed",)) -> caselists.Selection:
                return caselists.filter_clauses(
                    session, scope, filters, today=DAY, monitoring_stages=mon, exclude_stages=exclude
                )

            board = chosen(mine)
            intake = board.where(col(Case.stage) == "intake")
            first = caselists.page(session, intake, today=DAY, monitoring_stages=mon)
            due = caselists.due_selection(chosen(mine), today=DAY, due_by=DAY + dt.timedelta(days=14),
                                          monitoring_stages=mon)  # fmt: skip
            plan(f"{who} board counts", board)
            plan(f"{who} due count", due)
            plan(f"{who} overdue count", chosen(CaseFilters(overdue=True)))
            plan(f"{who} DV", chosen(CaseFilters(dv=True)))
            runs: dict[str, Callable[[], object]] = {
                "board_counts": lambda: caselists.board_counts(
                    session, scope, mine, today=DAY, monitoring_stages=mon, exclude_stages=("closed",)
                ),
                "board_all_columns": lambda: whole_board(scope, mine),
                "board_column_page2": lambda: caselists.page(
                    session, intake, today=DAY, monitoring_stages=mon, after=first.next_after
                ),
                "board_team_counts": lambda: caselists.board_counts(
                    session, scope, CaseFilters(team="t0"), today=DAY, monitoring_stages=mon, exclude_stages=("closed",)
                ),
                "board_team_all_columns": lambda: whole_board(scope, CaseFilters(team="t0")),
                "overdue_count": lambda: caselists.count(session, chosen(CaseFilters(overdue=True))),
                "dv_page": lambda: caselists.page(session, chosen(CaseFilters(dv=True)), today=DAY,
                                                  monitoring_stages=mon),
                "due_page": lambda: caselists.due_page(session, due, today=DAY, monitoring_stages=mon),
                "due_count": lambda: caselists.count_where(session, due, monitoring_overdue(DAY, mon)),
                "cases_page": lambda: caselists.page(session, chosen(mine, ()), today=DAY, monitoring_stages=mon),
                "cases_count": lambda: caselists.list_count(
                    session, scope, mine, today=DAY, monitoring_stages=mon, chosen=chosen(mine, ())
                ),
            }  # fmt: skip
            for label, text in (("number", "Ｒ６－００１７"), ("name", "田中花"), ("kana", "やまだは"),
                                ("rare", "山田13"), ("short", "山")):  # fmt: skip
                terms = caselists.search_terms(text)
                assert terms is not None
                runs[f"search_{label}"] = lambda terms=terms: caselists.search(
                    session, scope, terms, today=DAY, monitoring_stages=mon
                )
            return runs

        for who, viewer in viewers.items():
            mine = CaseFilters(coordinator_id=1) if who == "coordinator" else CaseFilters()
            for name, run in lists(who, list_scope(viewer), mine).items():
                timed(f"{who}_{name}_ms", run)
    for name, steps in plans.items():
        print(f"-- {name}", *steps, sep="\n   ")
    print(json.dumps(results, ensure_ascii=False))


if __name__ == "__main__":
    main()
