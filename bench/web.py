"""The web app's pages on a city's five years in SQLite (1,000,000 cases): p95 latency per page.

Run:  .venv/bin/python bench/web.py [--cases 1000000] [--requests 50] [--db PATH] [--rebuild]
          [--warmup 3] [--page-seconds 120] [--request-timeout 300] [--verify]

Setup (untimed, cached): `bench/dataset.py` generates the city — 50 coordinators and 5
supervisors in five teams, ten desks and four partner agencies; `--cases` cases opened evenly
over the five 年度 up to today, each with a named person (name and kana), 1–3 contacts with
their 相談内容, the meetings, consents, plans and closures its stage needs, a hash-chained audit
trail (about five events a case) and three access-log rows (閲覧記録): with 1,000,000 cases the
audit trail and the access log hold millions of rows each. The file is cached in `bench/out/`
under a name keyed by the case count and today's date (stages and due dates are relative to
today), built in a child process, and `--rebuild` forces a new one; `--db` names another file.
Every run works on a fresh copy, so the cached file never holds a previous run's writes.
`--verify` first runs `yorisoi audit verify`'s check over the copy and stops on any problem
(use it on small sizes: it walks every chain).

Served: `yorisoi web` — uvicorn, one worker — on 127.0.0.1 in a process of its own, as it is
deployed; the client (httpx) runs here, so its own CPU time and the GIL never count in the app's
latency, and loopback HTTP adds well under a millisecond. Not in-process (TestClient): there the
client and the app share one interpreter and each slows the other.

Timed: signed in through the real sign-in form as a coordinator (`c000`) and as a supervisor
(`sv0`), each page gets `--warmup` untimed requests, then `--requests` timed ones (the full
response read), stopping early when one page has used `--page-seconds`; p95 is over the timed
ones. Pages: the board `/`, the due list `/due`, case pages `/cases/{number}` (a different case
each time: the coordinator's own, any for the supervisor), search `/search?q=…` (a case number,
the same number in full-width characters, a partial name, kana — only if the page answers 200
on this branch, else null), the audit page `/audit` (supervisors and auditors only: null for the
coordinator) and the statistics `/reports`. A page that answers anything but 200 is reported
with its status and counts as missing (null), and so is one that does not answer within
`--request-timeout` seconds — the server is then restarted, so the abandoned request's work does
not slow the pages measured after it.

`stats_cold_s`: a contact is recorded through the case service (a write that changes this
年度's figures), then the first `/reports` view is timed; three times, the median. Beside it,
in the same run on the same copy, `bench/report.py`'s own measuring function
(`product_report`: `build_annual` on a fresh engine) — `report_s`, the median of three. The
target: `stats_cold_s` no slower than `report_s`, and every p95 < 100 ms.

The last line of output is one JSON object:
{"cases": …, "board_p95_ms": …, "due_p95_ms": …, "case_p95_ms": …, "search_p95_ms": …,
"audit_p95_ms": …, "stats_p95_ms": …, "stats_cold_s": …, "report_s": …, "by_role": {…}, …}
(the headline p95 of a page is the slower of the two roles that may open it).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import shutil
import sqlite3
import statistics
import subprocess
import sys
import time
import unicodedata
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

# bench/transitions.py is named like the `transitions` package the lifecycle machine imports;
# run as a script, this directory comes first on sys.path and would shadow that package.
_HERE = Path(__file__).resolve().parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != _HERE]
sys.path.insert(0, str(_HERE.parent))  # bench.dataset, bench.report, bench.load

from bench.dataset import COORDINATORS, CitySpec, build_city  # noqa: E402
from bench.load import free_port, stop, wait_for_http  # noqa: E402

OUT = _HERE / "out"
PASSWORD = "bench-password-0123"
ROLES = {"coordinator": "c000", "supervisor": "sv0"}
SLOW_FIRST_S = 2.0  # a first view slower than this: no further warm-up requests
PAGES = ("board", "due", "case", "search", "stats", "audit")  # the audit page last: it may time out


def p95(values: list[float]) -> float:
    """The 95th percentile (inclusive method: defined for any sample of two or more)."""
    if len(values) < 2:
        return values[0] if values else 0.0
    return statistics.quantiles(values, n=100, method="inclusive")[94]


def today_tokyo() -> dt.date:
    from yorisoi.jpdates import today_tokyo as today

    return today()


# --- setup -----------------------------------------------------------------------------------


def build(path: Path, cases: int) -> None:
    """The child process: generate the city (production argon2 parameters for the password)."""
    from yorisoi.service.accounts import hash_password

    started = time.perf_counter()
    counts = build_city(
        path, CitySpec(cases=cases, today=today_tokyo()), password_hash=hash_password(PASSWORD)
    )
    print(json.dumps({"counts": counts, "seconds": round(time.perf_counter() - started, 1)}))


def fresh_copy(pristine: Path) -> Path:
    work = OUT / "web-work.db"
    for suffix in ("", "-wal", "-shm"):
        Path(f"{work}{suffix}").unlink(missing_ok=True)
    shutil.copyfile(pristine, work)
    return work


def verify(path: Path) -> int:
    """`yorisoi audit verify`'s check over every case; returns the number of problems."""
    from models.db import create_db_engine, read_only, session_scope
    from states import default_machine
    from yorisoi.service.audit import verify_chains

    engine = create_db_engine(f"sqlite:///{path}")
    with session_scope(read_only(engine)) as session:
        report = verify_chains(session, default_machine())
    engine.dispose()
    for problem in report.problems[:10]:
        print(f"  {problem.case_number} #{problem.seq}: {problem.ja}")
    for note in report.notes():
        print(f"  {note}")
    print(f"  {report.cases:,} cases, {report.events:,} events")
    return len(report.problems)


def samples(path: Path, n: int) -> dict[str, list[str]]:
    """Case numbers to open (the coordinator's own; anyone's) and search queries, spread over the file."""
    db = sqlite3.connect(path)
    total = int(db.execute('SELECT count(*) FROM "case"').fetchone()[0])
    step = max(total // n, 1)
    everyone = [r[0] for r in db.execute('SELECT number FROM "case" WHERE id % ? = 7 LIMIT ?', (step, n))]
    stride = max(total // COORDINATORS // n, 1) * COORDINATORS  # case i + 1 is coordinator i % 50 + 1's
    own = [
        r[0]
        for r in db.execute(
            'SELECT number FROM "case" WHERE coordinator_id = 1 AND id % ? = 1 LIMIT ?', (stride, n)
        )
    ]
    names = list(db.execute("SELECT name, kana FROM person WHERE id % ? = 3 LIMIT ?", (step, n)))
    db.close()
    queries: list[str] = []
    for k in range(n):
        number = everyone[k % len(everyone)]
        name, kana = names[k % len(names)]
        kind = k % 4
        if kind == 0:
            queries.append(number)
        elif kind == 1:  # Ｒ６－００１７: what a Japanese IME types
            queries.append(unicodedata.normalize("NFKC", number).translate(_FULL_WIDTH))
        elif kind == 2:
            queries.append(name.split()[0])  # the surname: a partial name
        else:
            queries.append(kana.split()[1])  # the given name in kana
    return {"own": own, "everyone": everyone, "queries": queries}


_FULL_WIDTH = {c: c + 0xFEE0 for c in range(0x21, 0x7F)}


# --- the timed part --------------------------------------------------------------------------


@dataclass
class PageResult:
    times_ms: list[float] = field(default_factory=list)
    status: int | None = None
    note: str = ""
    timed_out: bool = False

    @property
    def p95_ms(self) -> float | None:
        return round(p95(self.times_ms), 1) if self.times_ms and self.status == 200 else None


def sign_in(base: str, login: str, timeout_s: float) -> Any:
    """An httpx client signed in through the sign-in form, as a browser is."""
    import httpx

    client = httpx.Client(base_url=base, follow_redirects=False, timeout=timeout_s)
    form = client.get("/login").text
    marker = 'name="csrf_token" value="'
    start = form.index(marker) + len(marker)
    token = form[start : form.index('"', start)]
    answer = client.post(
        "/login", data={"login": login, "password": PASSWORD, "csrf_token": token, "next": "/"}
    )
    if answer.status_code != 303:
        raise RuntimeError(f"sign-in as {login} failed: {answer.status_code} {answer.text[:300]}")
    return client


def measure(client: Any, urls: list[str], requests: int, warmup: int, budget_s: float) -> PageResult:
    """Warm-up requests, then up to `requests` timed ones cycling through `urls`, until the
    timed ones have used `budget_s` (then the p95 is over fewer, and the note says so)."""
    import httpx

    result = PageResult()
    started = time.perf_counter()
    try:
        first = client.get(urls[0])
    except httpx.TimeoutException:
        result.note = f"no answer within {client.timeout.read:.0f} s (--request-timeout)"
        result.timed_out = True
        return result
    first_s = time.perf_counter() - started
    result.status = first.status_code
    if first.status_code != 200:
        result.note = f"HTTP {first.status_code}"
        return result
    # A page that takes seconds is warm after one view; more would only spend the time budget.
    for k in range(warmup if first_s < SLOW_FIRST_S else 0):
        client.get(urls[(k + 1) % len(urls)])
    spent = 0.0
    for k in range(requests):
        started = time.perf_counter()
        try:
            answer = client.get(urls[k % len(urls)])
        except httpx.TimeoutException:
            result.times_ms.clear()  # a p95 without the request that never came back would flatter
            result.note = (
                f"timed request {k + 1} not answered within {client.timeout.read:.0f} s"
                f" (the untimed first view took {first_s:.1f} s)"
            )
            result.timed_out = True
            return result
        elapsed = time.perf_counter() - started
        if answer.status_code != 200:
            result.status, result.note = (
                answer.status_code,
                f"HTTP {answer.status_code} on {urls[k % len(urls)]}",
            )
            return result
        result.times_ms.append(elapsed * 1000)
        spent += elapsed
        if spent > budget_s and k + 1 < requests:
            result.note = f"stopped after {k + 1} requests ({spent:.0f} s)"
            break
    return result


def record_contact(path: Path, case_number: str, login: str) -> None:
    """A write that changes this 年度's statistics: a contact, through the case service."""
    from sqlmodel import Session, select

    from models import Case, Staff
    from models.db import create_db_engine
    from states import default_machine
    from yorisoi.service import cases

    engine = create_db_engine(f"sqlite:///{path}")
    with Session(engine, expire_on_commit=False) as session:
        case = session.exec(select(Case).where(Case.number == case_number)).one()
        actor = session.exec(select(Staff).where(Staff.login == login)).one()
        assert case.id is not None
        cases.fire(
            session=session,
            case_id=case.id,
            action="add_contact",
            actor=actor,
            machine=default_machine(),
            contacted_on=today_tokyo(),
            referrer="self",
            method="phone",
            topics=["income"],
            desk_id=case.desk_id,
        )
    engine.dispose()


class Server:
    """`yorisoi web` on 127.0.0.1 in a process of its own; restarted after a request timed out,
    whose work would otherwise go on in the server and slow every page measured after it."""

    def __init__(self, work: Path) -> None:
        self.env = {
            **{k: v for k, v in os.environ.items() if not k.startswith("YORISOI_")},
            "YORISOI_DATABASE__URL": f"sqlite:///{work}",
            "YORISOI_DATA_DIR": str(OUT / "web-data"),
            "YORISOI_WEB__SECRET_KEY": "bench-" + uuid.uuid4().hex,
        }
        self.log = (OUT / "web-server.log").open("wb")
        self.process: subprocess.Popen[bytes] | None = None
        self.base = ""

    def start(self) -> str:
        port = free_port()
        self.base = f"http://127.0.0.1:{port}"
        yorisoi = str(Path(sys.executable).with_name("yorisoi"))
        self.process = subprocess.Popen(
            [yorisoi, "web", "--host", "127.0.0.1", "--port", str(port)],
            env=self.env,
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )
        wait_for_http(f"{self.base}/login", self.process, timeout=300)
        return self.base

    def stop(self) -> None:
        if self.process is not None:
            self.process.kill()  # mid-request after a timeout: no graceful wait for it
            self.process.wait(30)
            self.process = None

    def close(self) -> None:
        if self.process is not None:
            stop(self.process)
            self.process = None
        self.log.close()


def run(work: Path, args: argparse.Namespace) -> dict[str, Any]:
    from bench.report import product_report
    from yorisoi.jpdates import fiscal_year

    picked = samples(work, args.requests)
    server = Server(work)
    by_role: dict[str, dict[str, PageResult]] = {}
    cold: list[float] = []
    try:
        base = server.start()
        for role, login in ROLES.items():
            client = sign_in(base, login, args.request_timeout)
            own = picked["own"] if role == "coordinator" else picked["everyone"]
            urls = {
                "board": ["/"],
                "due": ["/due"],
                "case": [f"/cases/{n}" for n in own],
                "search": [f"/search?q={q}" for q in picked["queries"]],
                "audit": ["/audit"],
                "stats": ["/reports"],
            }
            results: dict[str, PageResult] = {}
            for page in PAGES:
                if page == "audit" and role == "coordinator":
                    results[page] = PageResult(note="supervisors and auditors only")
                    continue
                print(f"  {role}: {page} …", flush=True)
                results[page] = measure(client, urls[page], args.requests, args.warmup, args.page_seconds)
                if results[page].timed_out:
                    print(f"    {results[page].note}: restarting the server", flush=True)
                    client.close()
                    server.stop()
                    base = server.start()
                    client = sign_in(base, login, args.request_timeout)
                if page == "stats" and role == "supervisor":
                    print("  supervisor: stats after a write …", flush=True)
                    for round_ in range(3):
                        record_contact(work, picked["everyone"][round_], ROLES["coordinator"])
                        started = time.perf_counter()
                        answer = client.get("/reports")
                        cold.append(time.perf_counter() - started)
                        assert answer.status_code == 200, answer.status_code
            by_role[role] = results
            client.close()
    finally:
        server.close()
    fy = fiscal_year(today_tokyo())
    report_runs = [product_report(work, fy)[0] for _ in range(3)]
    return {"by_role": by_role, "cold": cold, "report": report_runs}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=1_000_000)
    parser.add_argument("--requests", type=int, default=50, help="timed requests per page and role")
    parser.add_argument("--warmup", type=int, default=3, help="untimed requests per page and role first")
    parser.add_argument("--page-seconds", type=float, default=120.0, help="stop timing a page after this")
    parser.add_argument(
        "--request-timeout",
        type=float,
        default=300.0,
        help="a page not answering within this is reported as missing (null), with the reason",
    )
    parser.add_argument("--db", type=Path, help="the generated database (default: cached in bench/out/)")
    parser.add_argument("--rebuild", action="store_true", help="generate the database again")
    parser.add_argument("--verify", action="store_true", help="check every audit chain and record first")
    parser.add_argument("--build-only", type=Path, help=argparse.SUPPRESS)  # the child process
    args = parser.parse_args()
    if args.cases < 1 or args.requests < 2:
        parser.error("need --cases >= 1 and --requests >= 2")
    if args.build_only:
        build(args.build_only, args.cases)
        return

    pristine = args.db or OUT / f"{CitySpec(cases=args.cases, today=today_tokyo()).key()}.db"
    if args.rebuild:
        pristine.unlink(missing_ok=True)
    generated_s: float | None = None
    if not pristine.exists():
        print(f"generating {pristine} ({args.cases:,} cases; cached for later runs) …", flush=True)
        started = time.perf_counter()
        child = subprocess.run(
            [sys.executable, __file__, "--cases", str(args.cases), "--build-only", str(pristine)],
            check=True,
            stdout=subprocess.PIPE,
            text=True,
        )
        generated_s = time.perf_counter() - started
        built = json.loads(child.stdout.splitlines()[-1])
        print(
            f"generated in {generated_s:.0f} s: "
            + ", ".join(f"{t} {n:,}" for t, n in built["counts"].items())
        )
    db = sqlite3.connect(pristine)
    counts = {
        t: int(db.execute(f'SELECT count(*) FROM "{t}"').fetchone()[0])
        for t in ("case", "audit_event", "record_view")
    }
    db.close()
    work = fresh_copy(pristine)
    if args.verify:
        print("verifying every audit chain and record …", flush=True)
        problems = verify(work)
        if problems:
            raise SystemExit(f"{problems} problems in the generated trail")
        print("  no problem")
    load_before = os.getloadavg()[0]
    outcome = run(work, args)
    load_after = os.getloadavg()[0]

    by_role: dict[str, dict[str, PageResult]] = outcome["by_role"]
    print()
    print(f"{'page':<8}" + "".join(f"{role + ' p95 ms':>20}" for role in by_role) + "  notes")
    for page in PAGES:
        cells, notes = "", []
        for role, results in by_role.items():
            r = results[page]
            cells += f"{'—' if r.p95_ms is None else f'{r.p95_ms:.1f} (n={len(r.times_ms)})':>20}"
            if r.note:
                notes.append(f"{role}: {r.note}")
        print(f"{page:<8}{cells}  {'; '.join(notes)}")
    stats_cold_s = statistics.median(outcome["cold"])
    report_s = statistics.median(outcome["report"])
    print(
        f"\nstats_cold_s {stats_cold_s:.3f} s (first /reports after a contact was recorded; rounds "
        + ", ".join(f"{c:.3f}" for c in outcome["cold"])
        + f")\nreport_s     {report_s:.3f} s (bench/report.py's product_report on this copy; runs "
        + ", ".join(f"{c:.3f}" for c in outcome["report"])
        + ")"
    )
    if max(load_before, load_after) > (os.cpu_count() or 1) / 2:
        print(
            f"note: load average {load_before:.1f} → {load_after:.1f} on {os.cpu_count()} CPUs:"
            " other work skews the times"
        )

    def worst(page: str) -> float | None:
        figures = [results[page].p95_ms for results in by_role.values()]
        known = [f for f in figures if f is not None]
        return max(known) if known else None

    result: dict[str, Any] = {
        "cases": counts["case"],
        **{f"{page}_p95_ms": worst(page) for page in PAGES},
        "stats_cold_s": round(stats_cold_s, 3),
        "report_s": round(report_s, 3),
        "by_role": {
            role: {f"{page}_p95_ms": r.p95_ms for page, r in results.items()}
            for role, results in by_role.items()
        },
        "missing": {
            f"{role}:{page}": r.note
            for role, results in by_role.items()
            for page, r in results.items()
            if r.p95_ms is None
        },
        "requests": args.requests,
        "audit_events": counts["audit_event"],
        "access_log_rows": counts["record_view"],
        "generated_s": None if generated_s is None else round(generated_s, 1),
        "database_mb": round(pristine.stat().st_size / 2**20, 1),
        "load_average": [round(load_before, 2), round(load_after, 2)],
    }
    print(json.dumps(result, ensure_ascii=False))


if __name__ == "__main__":
    main()
