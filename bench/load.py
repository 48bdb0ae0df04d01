"""Many staff at once on the real web app, on PostgreSQL and on SQLite, while a sweep and two
dispatchers run — latency, errors, lost updates and duplicate deliveries, measured.

Run:  .venv/bin/python bench/load.py [--backends postgresql sqlite] [--pg-users 50]
          [--sqlite-users 10] [--duration 60] [--max-requests 50000] [--think 3.0]
          [--web-workers 1]

Per backend, untimed setup: a fresh database (PostgreSQL: a database created on the server of
YORISOI_TEST_POSTGRES_URL, default 127.0.0.1:5432/test, dropped afterwards; SQLite: a file in
bench/out/), migrated, and a municipality built through the case service: teams of 8
coordinators and 2 supervisors (one team per 10 users), each coordinator with 10 cases — 2
whose monitoring is overdue, 2 in monitoring and not due, 4 with a plan awaiting approval, 2
in assessment. Every user gets the same password (hashed once with the production argon2
parameters). Then, as separate processes: `yorisoi web` (uvicorn on 127.0.0.1), a sweeper
that replays one business day after another from 2025-07-09 (`run_day(now=…)`, every 10 s),
and two dispatchers delivering through real Apprise to an HTTP receiver (its own process,
20 ms per message). Users sign in through the API and open their board and a case page
before the clock starts (a warm server, not its first seconds).

Timed: each user works until `--duration` seconds have passed or `--max-requests` requests
were sent (in all), waiting `--think` seconds on average (0.5×–1.5×) between steps, each
starting at a random moment of a first pause. The default, 3 s, is a peak hour and then some:
every one of the 50 staff clicking every 3 seconds for the whole window is ~1,200 requests
per person per hour, where a case worker makes a few hundred a day. `--think 1` finds where
this machine saturates (about 40 requests/s with one web process).

A coordinator's steps: the board (`/`, 25%), one of their case pages (`/cases/N`, 30%), the
case list filtered by stage (`/cases?stage=…`, there is no free-text search; 15%), a
consultation contact (POST /api/cases/N/contacts, 15%), a monitoring record on a case in
monitoring (GET the case for its version, then POST …/monitoring with expected_version; 15%).
A supervisor's: the board (25%), a case page (30%), the case list (20%), approvals (GET
/api/inbox, open a waiting plan's case, POST …/plans/approve with expected_version; 25%).
Supervisors see every team's inbox and pick among its first three plans, so two often approve
the same one: the second gets 409, as does a monitoring record racing the sweep's overdue
mark or a colleague's record — those are the "409s the clients expect", counted apart, never
as errors.
Everything else that is not 2xx (and every timeout or connection error) is an error.

After the window: the workers get SIGTERM (the dispatchers give their claims back), the web
app stops (its access log is flushed), the outbox is drained by one more dispatch, and the
results are checked against the database:
- lost_updates: a write a client was told succeeded (201/200 with a case version) that is not
  in the case's audit trail as that version and action, or whose contact / monitoring record
  (each carries a unique token) is missing or doubled; two successful writes given the same
  case version; a case whose audit sequence has a gap or disagrees with its version; a client
  that saw a case's version go backwards.
- duplicate_deliveries: messages the receiver got more than once (same recipient and
  idempotency key), over everything delivered during and after the window.
- p95_ms: 95th percentile of every timed request's latency (client side, on this machine);
  bench/out/load-<backend>/trace.jsonl has every request (seconds in, kind, status, ms), and
  the result the 1-minute load average before and after (the machine may be shared).

Targets (2-core machine): 50 users on PostgreSQL with p95 < 300 ms, 0 errors, 0 lost updates,
0 duplicate deliveries; 10 users on SQLite with the same zeros.

The last line of output is one JSON object with one entry per backend:
{"postgresql": {"users": …, "requests": …, "p95_ms": …, "errors": …, "lost_updates": …,
"duplicate_deliveries": …, …}, "sqlite": {…}}
(the line above it has each backend's details: conflicts_409, writes_ok, reminders_delivered,
p95 per kind of request, the lost-update checks one by one, the setup).
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import os
import random
import signal
import socket
import statistics
import subprocess
import sys
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

# bench/transitions.py is named like the `transitions` package the lifecycle machine imports;
# run as a script, this directory comes first on sys.path and would shadow that package.
_HERE = Path(__file__).resolve().parent
ROOT = _HERE.parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != _HERE]
sys.path.insert(0, str(ROOT))  # tests.notifications.receiver: the receiver the tests use

OUT = _HERE / "out"
PASSWORD = "bench-password-0123"
TEAM_COORDINATORS, TEAM_SUPERVISORS = 8, 2
FIRST_SWEEP_DAY = dt.date(2025, 7, 9)
SWEEP_EVERY_SECONDS = 10.0
RECEIVER_DELAY_SECONDS = 0.02
TOKYO_OFFSET = dt.timezone(dt.timedelta(hours=9))
DISPATCH_AT = dt.datetime(2025, 9, 30, 10, 0, tzinfo=TOKYO_OFFSET)  # after every replayed day, in hours
POSTGRES_ADMIN_URL = os.environ.get(
    "YORISOI_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
WEIGHTS = {
    "coordinator": {"board": 25, "case_page": 30, "case_list": 15, "contact": 15, "monitoring": 15},
    "supervisor": {"board": 25, "case_page": 30, "case_list": 20, "approval": 25},
}
STAGES_LISTED = ("monitoring", "planning", "assessment")


# --- setup -------------------------------------------------------------------------------------


@dataclass
class Person:
    login: str
    role: str  # coordinator | supervisor
    team: str


def people(users: int) -> list[Person]:
    teams = max(1, round(users / (TEAM_COORDINATORS + TEAM_SUPERVISORS)))
    found: list[Person] = []
    for t in range(1, teams + 1):
        found += [Person(f"c{t}-{i}", "coordinator", f"team{t}") for i in range(1, TEAM_COORDINATORS + 1)]
        found += [Person(f"s{t}-{i}", "supervisor", f"team{t}") for i in range(1, TEAM_SUPERVISORS + 1)]
    return found[:users] if len(found) >= users else found


def seed(database_url: str, staff: list[Person]) -> dict[str, int]:
    """The municipality, through the case service (see the module docstring)."""
    from sqlmodel import Session, update

    from models import Staff
    from models.caseload import meetings_of_kind
    from models.db import create_db_engine, migrate
    from states import MeetingKind, default_machine
    from yorisoi.service import accounts, cases, directory

    engine = create_db_engine(database_url)
    migrate(engine)
    machine = default_machine()
    counts: Counter[str] = Counter()
    with Session(engine, expire_on_commit=False) as session:
        desk = directory.add_agency(session, name="ふくまる相談室 中央", field="community", is_desk=True)
        elderly = directory.add_agency(session, name="地域包括支援センター中央", field="elderly")
        poverty = directory.add_agency(session, name="自立相談支援機関", field="poverty")
        members = {
            p.login: directory.add_staff(
                session, login=p.login, name=f"職員 {p.login}", roles=[p.role], team=p.team
            )
            for p in staff
        }
        session.execute(update(Staff).values(password_hash=accounts.hash_password(PASSWORD)))
        session.commit()

        def fire(case_id: int, action: str, actor: Staff, **data: Any) -> None:
            cases.fire(session=session, case_id=case_id, action=action, actor=actor, machine=machine, **data)

        supervisors = {p.team: members[p.login] for p in staff if p.role == "supervisor"}
        for person in (p for p in staff if p.role == "coordinator"):
            actor = members[person.login]
            for n in range(10):
                opened = cases.open_case(
                    session=session,
                    actor=actor,
                    machine=machine,
                    person={"name": f"相談者 {person.login}-{n}", "address": "山口市亀山町2-1"},
                    contact={
                        "contacted_on": dt.date(2025, 6, 2),
                        "referrer": "self",
                        "method": "phone",
                        "topics": ["income"],
                        "desk_id": desk.id,
                    },
                )
                case_id = opened.case_id
                fire(case_id, "start_assessment", actor)
                if n >= 8:
                    counts["assessment"] += 1
                    continue
                fire(
                    case_id,
                    "give_consent",
                    actor,
                    given_on=dt.date(2025, 6, 10),
                    agency_ids=[elderly.id, poverty.id],
                )
                fire(
                    case_id,
                    "hold_multilayer_meeting",
                    actor,
                    held_on=dt.date(2025, 6, 20),
                    attendees=[
                        {
                            "name": "包括 担当者",
                            "agency_id": elderly.id,
                            "acknowledged_confidentiality": True,
                        },
                        {
                            "name": "自立 担当者",
                            "agency_id": poverty.id,
                            "acknowledged_confidentiality": True,
                        },
                    ],
                )
                fire(
                    case_id,
                    "draft_plan",
                    actor,
                    drafted_on=dt.date(2025, 6, 20),
                    household_goal="世帯が安定して暮らせる",
                    goals=[{"problem": "就労", "goal": "週1回外出できる"}],
                    roles=[{"agency_id": poverty.id, "role": "家計相談・主担当", "is_lead": True}],
                    monitoring_interval_days=30,
                )
                if n >= 4:
                    counts["awaiting_approval"] += 1
                    continue
                [meeting, *_] = meetings_of_kind(session, case_id, MeetingKind.MULTILAYER)
                fire(
                    case_id,
                    "approve_plan",
                    supervisors[person.team],
                    meeting_id=meeting.id,
                    approved_on=dt.date(2025, 6, 25),
                )
                next_on = dt.date(2025, 7, 1) if n < 2 else dt.date(2025, 9, 30)
                fire(
                    case_id,
                    "record_monitoring",
                    actor,
                    held_on=dt.date(2025, 6, 30),
                    summary="初回モニタリング",
                    next_on=next_on,
                )
                counts["monitoring_overdue" if n < 2 else "monitoring"] += 1
    engine.dispose()
    return dict(counts)


@contextmanager
def database(backend: str) -> Iterator[str]:
    """A fresh yorisoi database URL for `backend`; removed afterwards (PostgreSQL)."""
    import sqlalchemy as sa

    if backend == "sqlite":
        OUT.mkdir(exist_ok=True)
        path = OUT / "load-sqlite.db"
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
        yield f"sqlite:///{path}"
        return
    name = f"yorisoi_load_{uuid.uuid4().hex[:8]}"
    admin = sa.create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    try:
        yield (
            sa.make_url(POSTGRES_ADMIN_URL)
            .set(drivername="postgresql", database=name)
            .render_as_string(hide_password=False)
        )
    finally:
        with admin.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def wait_for_http(url: str, process: subprocess.Popen[bytes], timeout: float = 60) -> None:
    import urllib.error
    import urllib.request

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the web app exited with {process.returncode}")
        try:
            with urllib.request.urlopen(url, timeout=2):
                return
        except (urllib.error.URLError, OSError):
            time.sleep(0.2)
    raise RuntimeError(f"{url} did not answer within {timeout:.0f} s")


def stop(process: subprocess.Popen[bytes], timeout: float = 30) -> int:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(10)
    return process.returncode


# --- the simulated staff -----------------------------------------------------------------------


@dataclass
class Tally:
    """What the clients saw, shared by all of them (one event loop: no locks needed)."""

    deadline: float
    budget: int
    latencies: list[float] = field(default_factory=list)
    by_kind_ms: dict[str, list[float]] = field(default_factory=dict)
    by_kind: Counter[str] = field(default_factory=Counter)
    conflicts: int = 0
    errors: Counter[str] = field(default_factory=Counter)
    writes: list[dict[str, Any]] = field(default_factory=list)
    regressions: int = 0
    started: float = 0.0
    trace: list[tuple[float, str, int, float]] = field(default_factory=list)

    def open(self) -> bool:
        return time.monotonic() < self.deadline and len(self.latencies) < self.budget


class User:
    def __init__(self, person: Person, base: str, tally: Tally, think: float, seed: int) -> None:
        import httpx

        self.person = person
        self.tally = tally
        self.think = think
        self.random = random.Random(seed)
        self.client = httpx.AsyncClient(base_url=base, timeout=30.0, follow_redirects=False)
        self.cases: list[str] = []
        self.seen: dict[str, int] = {}

    async def sign_in(self) -> None:
        answer = await self.client.post(
            "/api/auth/login", json={"login": self.person.login, "password": PASSWORD}
        )
        answer.raise_for_status()
        self.client.headers["X-CSRF-Token"] = answer.json()["csrf_token"]
        mine = "true" if self.person.role == "coordinator" else "false"
        listed = await self.client.get(f"/api/cases?mine={mine}&limit=500")
        listed.raise_for_status()
        self.cases = [c["number"] for c in listed.json()]

    async def request(self, kind: str, method: str, url: str, **kwargs: Any) -> Any:
        """One timed request; None unless it answered 2xx (409s and errors are counted here)."""
        import httpx

        if not self.tally.open():
            return None
        started = time.perf_counter()
        try:
            answer = await self.client.request(method, url, **kwargs)
        except httpx.HTTPError as exc:
            self.tally.latencies.append(time.perf_counter() - started)
            self.tally.errors[f"{kind}: {type(exc).__name__}"] += 1
            return None
        elapsed = time.perf_counter() - started
        self.tally.latencies.append(elapsed)
        at = round(time.monotonic() - self.tally.started, 3)
        self.tally.trace.append((at, kind, answer.status_code, round(elapsed * 1000, 1)))
        self.tally.by_kind_ms.setdefault(kind, []).append(elapsed * 1000)
        self.tally.by_kind[kind] += 1
        if answer.status_code == 409:
            self.tally.conflicts += 1
            return None
        if not 200 <= answer.status_code < 300:
            self.tally.errors[f"{kind}: {answer.status_code} {answer.text[:120]}"] += 1
            return None
        return answer

    def observe(self, number: str, version: int) -> None:
        if version < self.seen.get(number, 0):
            self.tally.regressions += 1
        self.seen[number] = max(version, self.seen.get(number, 0))

    async def warm_up(self) -> None:
        """Untimed: the pages a user opens first thing, so the clock starts on a warm server
        (templates compiled, statements cached), not on its first minute."""
        await self.client.get("/")
        if self.cases:
            await self.client.get(f"/cases/{self.cases[0]}")

    async def work(self) -> None:
        weights = WEIGHTS[self.person.role]
        steps, odds = list(weights), list(weights.values())
        # People do not all click in the same millisecond: each starts somewhere in a first pause.
        await asyncio.sleep(self.think * self.random.uniform(0, 1))
        while self.tally.open():
            step = self.random.choices(steps, odds)[0]
            await getattr(self, step)()
            await asyncio.sleep(self.think * self.random.uniform(0.5, 1.5))

    async def board(self) -> None:
        await self.request("board", "GET", "/")

    async def case_page(self) -> None:
        if self.cases:
            await self.request("case_page", "GET", f"/cases/{self.random.choice(self.cases)}")

    async def case_list(self) -> None:
        await self.request("case_list", "GET", f"/cases?stage={self.random.choice(STAGES_LISTED)}")

    async def _case(self, number: str) -> dict[str, Any] | None:
        answer = await self.request("case_json", "GET", f"/api/cases/{number}")
        if answer is None:
            return None
        case: dict[str, Any] = answer.json()["case"]
        self.observe(number, case["version"])
        return case

    def _written(self, kind: str, answer: Any, token: str | None) -> None:
        fired = answer.json()
        self.observe(fired["number"], fired["version"])
        self.tally.writes.append(
            {
                "kind": kind,
                "number": fired["number"],
                "version": fired["version"],
                "action": fired["action"],
                "token": token,
            }
        )

    async def contact(self) -> None:
        if not self.cases:
            return
        token = f"bench-{uuid.uuid4().hex}"
        body = {"referrer": "self", "method": "phone", "topics": ["income"], "note": token}
        answer = await self.request(
            "contact", "POST", f"/api/cases/{self.random.choice(self.cases)}/contacts", json=body
        )
        if answer is not None:
            self._written("contact", answer, token)

    async def monitoring(self) -> None:
        if not self.cases:
            return
        number = self.random.choice(self.cases)
        case = await self._case(number)
        if case is None or case["stage"] != "monitoring":
            return
        token = f"bench-{uuid.uuid4().hex}"
        body = {"summary": token, "expected_version": case["version"]}
        answer = await self.request("monitoring", "POST", f"/api/cases/{number}/monitoring", json=body)
        if answer is not None:
            self._written("monitoring", answer, token)

    async def approval(self) -> None:
        inbox = await self.request("inbox", "GET", "/api/inbox")
        if inbox is None:
            return
        waiting = [item["number"] for item in inbox.json() if item["kind"] == "plan"]
        if not waiting:
            return
        number = self.random.choice(waiting[:3])  # the top of the list: where colleagues look too
        case = await self._case(number)
        if case is None or case["stage"] != "planning":  # a colleague approved it meanwhile: on to the next
            return
        meetings = [m["id"] for m in case["meetings"] if m["kind"] == "multilayer_meeting"]
        body = {"meeting_id": max(meetings) if meetings else None, "expected_version": case["version"]}
        answer = await self.request("approval", "POST", f"/api/cases/{number}/plans/approve", json=body)
        if answer is not None:
            self._written("approval", answer, None)


async def drive(
    staff: list[Person], base: str, *, duration: float, budget: int, think: float, trace: Path
) -> Tally:
    """Sign everyone in, then let them work; every timed request is also written to `trace`
    (seconds since the start, kind, status, milliseconds) for looking at the tail."""
    tally = Tally(deadline=float("inf"), budget=budget)
    users = [User(p, base, tally, think, seed=n) for n, p in enumerate(staff)]
    signing_in = asyncio.Semaphore(4)  # argon2 at production cost: a few at a time

    async def sign_in(user: User) -> None:
        async with signing_in:
            await user.sign_in()
            await user.warm_up()

    await asyncio.gather(*(sign_in(u) for u in users))
    tally.deadline = time.monotonic() + duration
    started = tally.started = time.monotonic()
    await asyncio.gather(*(u.work() for u in users))
    tally.by_kind["_elapsed_s"] = round(time.monotonic() - started)
    trace.write_text("".join(json.dumps(t) + "\n" for t in tally.trace), "utf-8")
    await asyncio.gather(*(u.client.aclose() for u in users))
    return tally


# --- the checks --------------------------------------------------------------------------------


def lost_updates(database_url: str, writes: list[dict[str, Any]], regressions: int) -> dict[str, int]:
    """Every way a write the client was told succeeded can have been lost (see the docstring)."""
    from sqlalchemy import func, select

    from models import AuditEvent, Case, Contact, MonitoringRecord
    from models.db import create_db_engine

    engine = create_db_engine(database_url)
    with engine.connect() as conn:
        events = {
            (number, seq): action
            for number, seq, action in conn.execute(
                select(Case.number, AuditEvent.seq, AuditEvent.action).join(
                    Case, Case.id == AuditEvent.case_id
                )  # type: ignore[arg-type]
            )
        }
        versions = dict(conn.execute(select(Case.number, Case.version)).all())  # type: ignore[call-overload]
        per_case = dict(
            conn.execute(
                select(Case.number, func.count())
                .join(AuditEvent, AuditEvent.case_id == Case.id)
                .group_by(Case.number)
            ).all()  # type: ignore[arg-type]
        )
        contact_notes = Counter(
            n for (n,) in conn.execute(select(Contact.note).where(Contact.note.like("bench-%")))
        )  # type: ignore[attr-defined]
        summaries = Counter(
            s
            for (s,) in conn.execute(
                select(MonitoringRecord.summary).where(MonitoringRecord.summary.like("bench-%"))
            )
        )  # type: ignore[attr-defined]
    engine.dispose()
    found = Counter[str]()
    claimed = Counter((w["number"], w["version"]) for w in writes)
    found["version_given_twice"] = sum(n - 1 for n in claimed.values() if n > 1)
    for write in writes:
        if events.get((write["number"], write["version"])) != write["action"]:
            found["not_in_audit_trail"] += 1
        tokens = contact_notes if write["kind"] == "contact" else summaries
        if write["token"] is not None and tokens.get(write["token"]) != 1:
            found["record_missing_or_doubled"] += 1
    found["audit_gaps"] = sum(1 for number, version in versions.items() if per_case.get(number) != version)
    found["version_went_backwards"] = regressions
    return dict(found)


# --- one backend -------------------------------------------------------------------------------


def run_backend(backend: str, users: int, args: argparse.Namespace) -> dict[str, Any]:
    from models.db import create_db_engine, session_scope
    from models.outbox_queries import count_by_status
    from notifications.notifier import Notifier
    from yorisoi.dispatch import dispatch_outbox
    from yorisoi.settings import Settings

    staff = people(users)
    work = OUT / f"load-{backend}"
    work.mkdir(parents=True, exist_ok=True)
    here = str(Path(__file__).resolve())
    print(f"[{backend}] {len(staff)} users: setting up …", flush=True)
    received = work / "received.json"
    received.unlink(missing_ok=True)
    logs = {
        name: (work / f"{name}.log").open("wb")
        for name in ("web", "sweeper", "dispatcher-1", "dispatcher-2", "receiver")
    }
    # The receiver has a process of its own, so its work never delays the clients' clocks.
    receiver = subprocess.Popen(
        [sys.executable, here, "--worker", "receiver", "--received", str(received)],
        stdout=subprocess.PIPE,
        stderr=logs["receiver"],
    )
    assert receiver.stdout is not None
    receiver_port = int(receiver.stdout.readline())
    processes: list[subprocess.Popen[bytes]] = []
    try:
        with database(backend) as url:
            setup_started = time.monotonic()
            cases = seed(url, staff)
            setup_s = time.monotonic() - setup_started
            apprise = work / "apprise.yaml"
            apprise.write_text(apprise_config(receiver_port, staff), "utf-8")
            env = {
                **{k: v for k, v in os.environ.items() if not k.startswith("YORISOI_")},
                "YORISOI_DATABASE__URL": url,
                "YORISOI_DATA_DIR": str(work / "data"),
                "YORISOI_NOTIFICATIONS__APPRISE_CONFIG": str(apprise),
                "YORISOI_WEB__SECRET_KEY": "bench-" + uuid.uuid4().hex,
            }
            port = free_port()
            yorisoi = str(Path(sys.executable).with_name("yorisoi"))
            web = subprocess.Popen(
                [
                    yorisoi,
                    "web",
                    "--host",
                    "127.0.0.1",
                    "--port",
                    str(port),
                    "--workers",
                    str(args.web_workers),
                ],
                env=env,
                stdout=logs["web"],
                stderr=subprocess.STDOUT,
            )
            processes.append(web)
            wait_for_http(f"http://127.0.0.1:{port}/login", web)
            for role, log in (
                ("sweeper", "sweeper"),
                ("dispatcher", "dispatcher-1"),
                ("dispatcher", "dispatcher-2"),
            ):
                processes.append(
                    subprocess.Popen(
                        [sys.executable, here, "--worker", role],
                        env=env,
                        stdout=logs[log],
                        stderr=subprocess.STDOUT,
                    )
                )
            print(f"[{backend}] signing in and working for {args.duration:.0f} s …", flush=True)
            load_before = round(os.getloadavg()[0], 2)
            tally = asyncio.run(
                drive(
                    staff,
                    f"http://127.0.0.1:{port}",
                    duration=args.duration,
                    budget=args.max_requests,
                    think=args.think,
                    trace=work / "trace.jsonl",
                )
            )
            load_after = round(os.getloadavg()[0], 2)
            exit_codes = [stop(p) for p in reversed(processes)]  # the workers, then the web app
            settings = Settings(
                database={"url": url},  # type: ignore[arg-type]
                data_dir=work / "data",
                notifications={"apprise_config": apprise},  # type: ignore[arg-type]
            )
            engine = create_db_engine(url)
            drained = dispatch_outbox(
                engine, Notifier.from_config_file(apprise), now=DISPATCH_AT, settings=settings
            )
            with session_scope(engine) as session:
                left = count_by_status(session)
            engine.dispose()
            lost = lost_updates(url, tally.writes, tally.regressions)
    finally:
        for process in processes:
            stop(process)
        stop(receiver)
        for log in logs.values():
            log.close()
    deliveries = Counter(tuple(item) for item in json.loads(received.read_text("utf-8")))
    latencies = sorted(tally.latencies)
    return {
        "users": len(staff),
        "requests": len(latencies),
        "p95_ms": round(_p95([t * 1000 for t in latencies]), 1),
        "errors": sum(tally.errors.values()),
        "lost_updates": sum(lost.values()),
        "duplicate_deliveries": sum(n - 1 for n in deliveries.values()),
        "conflicts_409": tally.conflicts,
        "writes_ok": len(tally.writes),
        "p50_ms": round(statistics.median(latencies) * 1000, 1) if latencies else 0.0,
        "max_ms": round(latencies[-1] * 1000, 1) if latencies else 0.0,
        "reminders_delivered": sum(deliveries.values()),
        "reminders_left": {k: v for k, v in left.items() if k != "sent"},
        "drained_after": drained.sent,
        "by_kind": dict(tally.by_kind),
        "p95_ms_by_kind": {k: round(_p95(v), 1) for k, v in sorted(tally.by_kind_ms.items())},
        "error_kinds": dict(tally.errors.most_common(5)),
        "lost_update_checks": lost,
        "exit_codes": exit_codes,
        "setup": {
            "cases": cases,
            "seed_s": round(setup_s, 1),
            "web_workers": args.web_workers,
            "think_s": args.think,
        },
        "loadavg_1m": {"start": load_before, "end": load_after},
    }


def apprise_config(port: int, staff: list[Person]) -> str:
    """Every user's reminders to json://127.0.0.1:PORT/<login> (tests/notifications/receiver.py)."""
    lines = ["version: 1", "urls:"]
    for p in staff:
        lines += [f"  - json://127.0.0.1:{port}/{p.login}:", f"      - tag: staff:{p.login}, role:{p.role}"]
    return "\n".join(lines) + "\n"


def _p95(values: list[float]) -> float:
    return statistics.quantiles(values, n=100)[94] if len(values) >= 2 else (values[0] if values else 0.0)


# --- the background workers (run as `load.py --worker …`) --------------------------------------


def receive(received: Path) -> None:
    """The HTTP receiver (tests/notifications/receiver.py), until SIGTERM; then what it got,
    as [path, idempotency key] pairs, to `received`."""
    import threading

    from tests.notifications.receiver import running_receiver

    stopping = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stopping.set())
    with running_receiver() as receiver:
        receiver.delay_seconds = RECEIVER_DELAY_SECONDS
        print(receiver.port, flush=True)
        stopping.wait()
        got = [[r.path, r.idempotency_key] for r in receiver.received]
    received.write_text(json.dumps(got), "utf-8")


def worker(role: str) -> None:
    """The sweeper or a dispatcher, in its own process, until SIGTERM."""
    from models.db import create_db_engine
    from yorisoi import runtime
    from yorisoi.business_days import BusinessCalendar
    from yorisoi.dispatch import dispatch_outbox, notifier_for, stop_on_signals
    from yorisoi.settings import get_settings
    from yorisoi.sweeps import run_day

    settings = get_settings()
    engine = create_db_engine(settings.database_url())
    with stop_on_signals() as stopping:
        if role == "sweeper":
            calendar = BusinessCalendar(settings.calendar.closed_days)
            day = calendar.on_or_after(FIRST_SWEEP_DAY)
            while not stopping.is_set():
                moment = dt.datetime.combine(day, dt.time(8, 30), TOKYO_OFFSET)
                result = run_day(engine, settings, runtime.machine(settings).lifecycle, on=day, now=moment)
                print(f"swept {day}: {result.total_queued} queued", flush=True)
                day = calendar.add_business_days(day, 1)
                stopping.wait(SWEEP_EVERY_SECONDS)
        else:
            notifier = notifier_for(settings)
            while not stopping.is_set():
                report = dispatch_outbox(engine, notifier, now=DISPATCH_AT, settings=settings, stop=stopping)
                if report.sent:
                    print(f"sent {report.sent}, taken over {report.taken_over}", flush=True)
                else:
                    stopping.wait(0.5)
    engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--backends", nargs="+", choices=["postgresql", "sqlite"], default=["postgresql", "sqlite"]
    )
    parser.add_argument("--pg-users", type=int, default=50)
    parser.add_argument("--sqlite-users", type=int, default=10)
    parser.add_argument("--duration", type=float, default=60.0, help="timed seconds per backend")
    parser.add_argument(
        "--max-requests", type=int, default=50_000, help="timed requests per backend, at most"
    )
    parser.add_argument("--think", type=float, default=3.0, help="mean seconds between a user's steps")
    parser.add_argument("--web-workers", type=int, default=1, help="yorisoi web --workers")
    parser.add_argument("--worker", choices=["sweeper", "dispatcher", "receiver"], help=argparse.SUPPRESS)
    parser.add_argument("--received", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker == "receiver":
        receive(args.received)
        return
    if args.worker:
        worker(args.worker)
        return
    results: dict[str, Any] = {}
    for backend in args.backends:
        users = args.pg_users if backend == "postgresql" else args.sqlite_users
        result = run_backend(backend, users, args)
        results[backend] = result
        print(f"[{backend}] {json.dumps(result, ensure_ascii=False)}", flush=True)
    keys = ("users", "requests", "p95_ms", "errors", "lost_updates", "duplicate_deliveries", "conflicts_409")
    print(json.dumps({b: {k: r[k] for k in keys} | {"think_s": args.think} for b, r in results.items()}))


if __name__ == "__main__":
    main()
