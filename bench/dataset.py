"""Bulk fixture databases for the benchmarks: the schema through the product, the rows with sqlite3.

Shared by `bench/sweep.py` (its 1,000,000 bare open cases) and `bench/web.py` (a city's five
years: persons with names and kana, contacts, meetings, consents, plans, closures, a hash-chained
audit trail and an access log). Rows are inserted with `executemany` inside one transaction with
journaling off — not through the case service, which would take hours for a million cases — but
every audit event is hashed with the product's own `models.audit.event_hash`, chained per case,
with the payloads the case service writes for the same actions, so `yorisoi audit verify` and
the audit page see a clean trail (checked by `bench/web.py --verify` on a small database).

Staff are the same for both: five teams (`t0` … `t4`) of ten coordinators (ids 1–50, logins
`c000` … `c409`) and one supervisor each (ids 51–55, logins `sv0` … `sv4`).
"""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

TEAMS, COORDINATORS_PER_TEAM = 5, 10
COORDINATORS = TEAMS * COORDINATORS_PER_TEAM
FIRST_SUPERVISOR = COORDINATORS + 1
STAMP = "2026-01-01 00:00:00.000000"
SQLITE_TIME = "%Y-%m-%d %H:%M:%S.%f"  # how SQLAlchemy stores a DateTime on SQLite

Insert = Callable[[str, str, Iterable[tuple[object, ...]]], None]


# --- shared by every fixture -----------------------------------------------------------------


def new_database(path: Path, *, migrate: bool = False) -> tuple[sqlite3.Connection, Path]:
    """An empty database with the product's schema at `path`'s `.partial` sibling, opened for
    bulk loading (journal off, one transaction begun). `migrate`: through Alembic, as `yorisoi
    init` makes it (the web app's database), instead of `create_all`."""
    from sqlmodel import SQLModel

    from models.db import create_db_engine
    from models.db import migrate as alembic_upgrade

    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(".partial")
    for suffix in ("", "-wal", "-shm"):
        Path(f"{partial}{suffix}").unlink(missing_ok=True)
    engine = create_db_engine(f"sqlite:///{partial}")
    if migrate:
        alembic_upgrade(engine)
    else:
        SQLModel.metadata.create_all(engine)
    engine.dispose()
    db = sqlite3.connect(partial, isolation_level=None)
    db.execute("PRAGMA journal_mode=OFF")
    db.execute("PRAGMA synchronous=OFF")
    # The indexes are filled row by row: with SQLite's default 2 MB page cache every insert
    # reads and writes index pages through the kernel (a 1,000,000-case city took 47 minutes).
    db.execute("PRAGMA cache_size=-4000000")  # 4 GB, in KiB
    db.execute("BEGIN")
    return db, partial


def finish(db: sqlite3.Connection, partial: Path, path: Path) -> None:
    """Commit, gather the planner's statistics, switch to WAL (as yorisoi's own databases are)
    and move the file in place: a half-built file is never taken for a cached one."""
    db.execute("COMMIT")
    db.execute("ANALYZE")
    db.execute("PRAGMA journal_mode=WAL")
    db.close()
    partial.rename(path)


def inserter(db: sqlite3.Connection) -> Insert:
    """`insert(table, "col col …", rows)`: one executemany."""

    def insert(table: str, columns: str, rows: Iterable[tuple[object, ...]]) -> None:
        names = columns.split()
        sql = f'INSERT INTO "{table}" ({", ".join(names)}) VALUES ({", ".join("?" * len(names))})'
        db.executemany(sql, rows)

    return insert


def team_of(coordinator_id: int) -> str:
    return f"t{(coordinator_id - 1) // COORDINATORS_PER_TEAM}"


def insert_staff(insert: Insert, *, password_hash: str | None = None) -> None:
    """The 50 coordinators and 5 supervisors (see the module docstring)."""
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
    staff += [(FIRST_SUPERVISOR + t, f"sv{t}", f"SV {t}", '["supervisor"]', f"t{t}") for t in range(TEAMS)]
    insert(
        "staff",
        "id login name roles team active password_hash created_at",
        [(*row, 1, password_hash, STAMP) for row in staff],
    )


# --- a city's five years, for the web app ----------------------------------------------------

DESKS = 10
PARTNERS = (("地域包括支援センター中央", "elderly"), ("障がい者相談支援センター", "disability"),
            ("自立相談支援機関", "poverty"), ("保健センター", "health"))  # fmt: skip
SURNAMES = (
    ("山田", "ヤマダ"), ("佐藤", "サトウ"), ("鈴木", "スズキ"), ("高橋", "タカハシ"), ("田中", "タナカ"),
    ("伊藤", "イトウ"), ("渡辺", "ワタナベ"), ("中村", "ナカムラ"), ("小林", "コバヤシ"), ("加藤", "カトウ"),
    ("吉田", "ヨシダ"), ("山本", "ヤマモト"), ("松本", "マツモト"), ("井上", "イノウエ"), ("木村", "キムラ"),
    ("林", "ハヤシ"), ("清水", "シミズ"), ("山口", "ヤマグチ"), ("森", "モリ"), ("池田", "イケダ"),
    ("橋本", "ハシモト"), ("阿部", "アベ"), ("石川", "イシカワ"), ("前田", "マエダ"), ("藤田", "フジタ"),
)  # fmt: skip
GIVEN = (
    ("太郎", "タロウ"), ("花子", "ハナコ"), ("健", "ケン"), ("恵子", "ケイコ"), ("翔太", "ショウタ"),
    ("美咲", "ミサキ"), ("大輔", "ダイスケ"), ("陽子", "ヨウコ"), ("誠", "マコト"), ("由美", "ユミ"),
    ("拓也", "タクヤ"), ("さくら", "サクラ"), ("浩二", "コウジ"), ("直美", "ナオミ"), ("蓮", "レン"),
    ("結衣", "ユイ"), ("茂", "シゲル"), ("幸子", "サチコ"), ("悠斗", "ユウト"), ("千尋", "チヒロ"),
)  # fmt: skip
TOWNS = (
    "亀山町",
    "中央",
    "湯田温泉",
    "小郡下郷",
    "大内御堀",
    "吉敷下東",
    "平井",
    "宮野下",
    "阿知須",
    "秋穂東",
)
OPEN_STAGES = ("intake", "assessment", "assessment", "support_meeting", "multilayer_meeting", "planning",
               "monitoring", "monitoring", "monitoring", "monitoring")  # fmt: skip
CLOSURE_REASONS = ("goals_met", "referred_single_agency", "moved_away", "declined")
REFERRERS = ("self", "family", "community", "agency", "self", "agency")
METHODS = ("phone", "office_visit", "phone", "home_visit", "other", "phone")
MONITORING_INTERVAL = 90
VIEWS_PER_CASE = 3
ATTENDED_EVERY = 20


@dataclass(frozen=True)
class CitySpec:
    """What to generate: `cases` opened evenly over the five years up to `today` (its 年度 and
    the four before). Cases opened more than a year ago are closed, nine in ten; the rest are
    open, spread over the stages (four in ten in 支援・モニタリング, their next monitoring date
    between 9 days overdue and 90 days ahead). The shares hold for each coordinator's own cases
    (case i + 1 is coordinator i % 50 + 1's), so every coordinator's board looks alike. One
    meeting in `ATTENDED_EVERY` is attended by a coordinator of the next team too (under 守秘義務),
    who then sees that case: about a thousand cases each beyond their own team's."""

    cases: int
    today: dt.date
    years: int = 5

    def key(self) -> str:
        return f"web-v3-{self.cases}-{self.today.isoformat()}"


@dataclass
class _Ids:
    contact: int = 0
    event: int = 0
    meeting: int = 0
    attendee: int = 0
    consent: int = 0
    plan: int = 0
    goal: int = 0
    role: int = 0
    closure: int = 0
    view: int = 0

    def next(self, name: str) -> int:
        value = getattr(self, name) + 1
        setattr(self, name, value)
        return value


@dataclass
class _Rows:
    """One chunk of rows per table, inserted together."""

    tables: dict[str, list[tuple[object, ...]]] = field(default_factory=dict)

    def add(self, table: str, row: tuple[object, ...]) -> None:
        self.tables.setdefault(table, []).append(row)


COLUMNS = {
    "household": "id address dv_protected created_at",
    "person": "id household_id name kana birth_date created_at",
    "case": "id number fiscal_year serial person_id stage episode version audit_head coordinator_id desk_id"
    " opened_on closed_on next_monitoring_on overdue lifecycle_version created_at updated_at",
    "contact": "id case_id contacted_on desk_id referrer method staff_id note outreach_visit created_at",
    "contact_topic": "contact_id topic",
    "meeting": "id case_id kind held_on title decisions recorded_by created_at",
    "meeting_attendee": "id meeting_id name agency_id staff_id confidentiality_acknowledged",
    "consent": "id case_id given_on method recorded_by withdrawn_on withdrawn_by note created_at",
    "consent_agency": "consent_id agency_id",
    "plan": "id case_id episode version status author_id drafted_on household_goal monitoring_interval_days"
    " approved_by approved_on meeting_id created_at returned_by returned_on return_reason",
    "plan_goal": "id plan_id problem goal",
    "role_assignment": "id plan_id agency_id role is_lead",
    "closure": "id case_id episode reason reason_text evaluation status proposed_by proposed_on decided_by"
    " decided_on decision_note created_at",
    "audit_event": "id case_id seq episode action from_stage to_stage actor_id occurred_at payload prev_hash"
    " hash",
    "record_view": "id case_id staff_id viewed_at what channel granted",
}


def fiscal_year_of(day: dt.date) -> int:
    return day.year if day.month >= 4 else day.year - 1


def case_number(fy: int, serial: int) -> str:
    """As the case service numbers cases (R7-0001; wider past 9,999 in a 年度)."""
    return f"R{fy - 2018}-{serial:04d}"


def person_of(i: int) -> tuple[str, str]:
    """(name, kana) of case i's person: 25 surnames × 20 given names, so a name search finds many."""
    surname, surname_kana = SURNAMES[i % len(SURNAMES)]
    given, given_kana = GIVEN[(i // len(SURNAMES)) % len(GIVEN)]
    return f"{surname} {given}", f"{surname_kana} {given_kana}"


class _Case:
    """One case's audit chain, written as the case service writes it."""

    def __init__(self, rows: _Rows, ids: _Ids, case_id: int, first: dt.date) -> None:
        self.rows, self.ids, self.case_id = rows, ids, case_id
        self.seq, self.head, self.stage = 0, "0" * 64, ""
        self.moment = dt.datetime.combine(first, dt.time(0, 30), dt.UTC) + dt.timedelta(
            seconds=case_id % 1800
        )

    def event(
        self, action: str, to_stage: str, actor: int, on: dt.date | None, payload: dict[str, Any]
    ) -> None:
        from models.audit import event_hash

        self.seq += 1
        if on is not None:  # entered on the day it happened, a little later each time
            self.moment = max(
                self.moment + dt.timedelta(minutes=7),
                dt.datetime.combine(on, dt.time(1, 0), dt.UTC) + dt.timedelta(seconds=self.case_id % 3600),
            )
        else:
            self.moment += dt.timedelta(minutes=7)
        digest = event_hash(
            prev_hash=self.head,
            case_id=self.case_id,
            seq=self.seq,
            episode=1,
            action=action,
            from_stage=self.stage,
            to_stage=to_stage,
            actor_id=actor,
            occurred_at=self.moment,
            payload=payload,
        )
        self.rows.add(
            "audit_event",
            (
                self.ids.next("event"), self.case_id, self.seq, 1, action, self.stage, to_stage, actor,
                self.moment.strftime(SQLITE_TIME), json.dumps(payload, ensure_ascii=False), self.head, digest,
            ),
        )  # fmt: skip
        self.head, self.stage = digest, to_stage


def _dates(first: dt.date, last: dt.date, steps: int) -> list[dt.date]:
    """`steps` dates from `first` to `last`, in order (equal ones when the span is short)."""
    span = max((last - first).days, 0)
    return [first + dt.timedelta(days=span * (k + 1) // (steps + 1)) for k in range(steps)]


def _city_case(i: int, spec: CitySpec, fy: int, serial: int, opened: dt.date, rows: _Rows, ids: _Ids) -> None:
    """Case i (0-based) with its person, contacts, records, audit chain and views."""
    from yorisoi.vocabulary import DEFAULT_TOPICS

    topics = list(DEFAULT_TOPICS)
    case_id = i + 1
    coordinator = i % COORDINATORS + 1
    supervisor = FIRST_SUPERVISOR + (coordinator - 1) // COORDINATORS_PER_TEAM
    desk = i % DESKS + 1
    name, kana = person_of(i)
    dv = i % 97 == 0
    rows.add(
        "household", (case_id, f"山口市{TOWNS[i % len(TOWNS)]}{i % 50 + 1}-{i % 13 + 1}", int(dv), STAMP)
    )
    birth = dt.date(1940 + i % 65, i % 12 + 1, i % 28 + 1).isoformat()
    rows.add("person", (case_id, case_id, name, kana, birth, STAMP))

    age = (spec.today - opened).days
    rank = i // COORDINATORS  # the case's place among its coordinator's: spreads what follows evenly
    closed = age > 365 and rank % 10 != 0
    if closed:
        stage = ("monitoring", "support_meeting", "assessment")[i % 3]
        last = opened + dt.timedelta(days=200 + i % 100)
    else:
        stage = OPEN_STAGES[(i // 7) % len(OPEN_STAGES)]
        last = spec.today - dt.timedelta(days=i % 7)
    order = ("intake", "assessment", "support_meeting", "multilayer_meeting", "planning", "monitoring")
    depth = order.index(stage)
    # The business dates of the steps: support meeting, consent, 重層的支援会議 and plan, approval.
    held, consented, multilayer, approved = _dates(opened, min(last, spec.today), 4)
    if stage == "monitoring" and not closed:
        # Approved 0–99 days ago: the next monitoring date runs from 9 days overdue to 90 ahead.
        approved = max(multilayer, spec.today - dt.timedelta(days=rank % 100))

    chain = _Case(rows, ids, case_id, opened)
    contact_days = [opened + dt.timedelta(days=7 * k) for k in range(1 + i % 3)]
    contact_ids = []
    for k, on in enumerate(contact_days):
        contact_id = ids.next("contact")
        contact_ids.append(contact_id)
        rows.add(
            "contact",
            (
                contact_id, case_id, on.isoformat(), desk, REFERRERS[(i + k) % len(REFERRERS)],
                METHODS[(i + 2 * k) % len(METHODS)], coordinator, "", 0, STAMP,
            ),
        )  # fmt: skip
        for code in {topics[(i + k) % len(topics)], topics[(i * 7 + k) % len(topics)]}:
            rows.add("contact_topic", (contact_id, code))
    case_values: dict[str, Any] = {
        "person_id": case_id, "opened_on": opened.isoformat(), "coordinator_id": coordinator,
        "desk_id": desk, "episode": 1, "lifecycle_version": 1, "closed_on": None,
        "next_monitoring_on": None, "overdue": False,
    }  # fmt: skip
    chain.event(
        "open_case",
        "intake",
        coordinator,
        opened,
        {"contact_id": contact_ids[0], "person_id": case_id, "on": opened.isoformat(), "case": case_values},
    )
    for contact_id, on in zip(contact_ids[1:], contact_days[1:], strict=True):
        chain.event(
            "add_contact",
            "intake",
            coordinator,
            on,
            {"contact_id": contact_id, "on": on.isoformat(), "case": {}},
        )
    if depth >= 1:
        chain.event("start_assessment", "assessment", coordinator, None, {"case": {}})
    partners = [DESKS + 1 + (i + k) % len(PARTNERS) for k in range(2)]
    if depth >= 2:
        _meeting(chain, "hold_support_meeting", "support_meeting", coordinator, held, partners)
    meeting_id = None
    if depth >= 3:
        consent_id = ids.next("consent")
        rows.add(
            "consent",
            (consent_id, case_id, consented.isoformat(), "written", coordinator, None, None, "", STAMP),
        )
        agency_ids = sorted(partners)
        for agency in agency_ids:
            rows.add("consent_agency", (consent_id, agency))
        chain.event(
            "give_consent",
            chain.stage,
            coordinator,
            consented,
            {
                "consent_id": consent_id, "agency_ids": agency_ids, "replaced": [],
                "given_on": consented.isoformat(), "method": "written", "recorded_by": coordinator,
                "on": consented.isoformat(), "case": {},
            },
        )  # fmt: skip
        meeting_id = _meeting(
            chain, "hold_multilayer_meeting", "multilayer_meeting", coordinator, multilayer, partners
        )
    plan_id = None
    if depth >= 4:
        plan_id = ids.next("plan")
        goal = "世帯が安定して暮らせる"
        status = "approved" if depth >= 5 else "draft"
        rows.add(
            "plan",
            (
                plan_id, case_id, 1, 1, status, coordinator, multilayer.isoformat(), goal,
                MONITORING_INTERVAL, supervisor if depth >= 5 else None,
                approved.isoformat() if depth >= 5 else None, meeting_id if depth >= 5 else None, STAMP,
                None, None, "",
            ),
        )  # fmt: skip
        rows.add("plan_goal", (ids.next("goal"), plan_id, "ひきこもり", "週1回外出できる"))
        for k, agency in enumerate(partners):
            rows.add(
                "role_assignment", (ids.next("role"), plan_id, agency, ("家計相談", "見守り")[k], int(k == 0))
            )
        chain.event(
            "draft_plan",
            "planning",
            coordinator,
            multilayer,
            {
                "plan_id": plan_id, "version": 1, "status": "draft", "author_id": coordinator,
                "drafted_on": multilayer.isoformat(), "monitoring_interval_days": MONITORING_INTERVAL,
                "superseded": [], "on": multilayer.isoformat(), "note": goal, "case": {},
            },
        )  # fmt: skip
    next_on: dt.date | None = None
    if depth >= 5:
        next_on = approved + dt.timedelta(days=MONITORING_INTERVAL)
        chain.event(
            "approve_plan",
            "monitoring",
            supervisor,
            approved,
            {
                "plan_id": plan_id, "version": 1, "meeting_id": meeting_id, "author_id": coordinator,
                "status": "approved", "approved_by": supervisor, "approved_on": approved.isoformat(),
                "superseded": [], "on": approved.isoformat(),
                "case": {"next_monitoring_on": next_on.isoformat(), "overdue": False},
            },
        )  # fmt: skip
    closed_on: dt.date | None = None
    if closed:
        closure_id = ids.next("closure")
        proposed, closed_on = last, last + dt.timedelta(days=3)
        reason = CLOSURE_REASONS[rank % len(CLOSURE_REASONS)]
        evaluation = "目標を達成した" if reason == "goals_met" else "関係機関へ引き継いだ"
        rows.add(
            "closure",
            (
                closure_id, case_id, 1, reason, "", evaluation, "approved", coordinator, proposed.isoformat(),
                supervisor, closed_on.isoformat(), "", STAMP,
            ),
        )  # fmt: skip
        chain.event(
            "propose_closure",
            chain.stage,
            coordinator,
            proposed,
            {
                "closure_id": closure_id, "reason": reason, "reason_text": "", "status": "proposed",
                "proposed_by": coordinator, "proposed_on": proposed.isoformat(), "on": proposed.isoformat(),
                "note": evaluation, "case": {},
            },
        )  # fmt: skip
        chain.event(
            "approve_closure",
            "closed",
            supervisor,
            closed_on,
            {
                "closure_id": closure_id, "reason": reason, "proposed_by": coordinator, "status": "approved",
                "decided_by": supervisor, "decided_on": closed_on.isoformat(), "on": closed_on.isoformat(),
                "case": {"closed_on": closed_on.isoformat(), "next_monitoring_on": None, "overdue": False},
            },
        )  # fmt: skip
        next_on = None
    updated = chain.moment.strftime(SQLITE_TIME)
    rows.add(
        "case",
        (
            case_id, case_number(fy, serial), fy, serial, case_id, chain.stage, 1, chain.seq, chain.head,
            coordinator, desk, opened.isoformat(), closed_on and closed_on.isoformat(),
            next_on and next_on.isoformat(), 0, 1, STAMP, updated,
        ),
    )  # fmt: skip
    for k in range(VIEWS_PER_CASE):  # the coordinator, then the supervisor, opened the case
        viewer = supervisor if k == 1 else coordinator
        seen = chain.moment + dt.timedelta(hours=2 + 5 * k)
        rows.add(
            "record_view",
            (ids.next("view"), case_id, viewer, seen.strftime(SQLITE_TIME), "case_detail", "web", 1),
        )


def _meeting(
    chain: _Case, action: str, kind: str, coordinator: int, held: dt.date, partners: list[int]
) -> int:
    rows, ids = chain.rows, chain.ids
    meeting_id = ids.next("meeting")
    rows.add(
        "meeting",
        (meeting_id, chain.case_id, kind, held.isoformat(), "", "役割分担を確認", coordinator, STAMP),
    )
    for agency in partners:
        rows.add(
            "meeting_attendee",
            (ids.next("attendee"), meeting_id, f"{PARTNERS[agency - DESKS - 1][0]} 担当者", agency, None, 1),
        )
    attendees = len(partners)
    if meeting_id % ATTENDED_EVERY == 0:  # a coordinator of the next team sits in
        guest = (coordinator - 1 + COORDINATORS_PER_TEAM) % COORDINATORS
        name = f"相談員 {guest // COORDINATORS_PER_TEAM}-{guest % COORDINATORS_PER_TEAM}"
        rows.add("meeting_attendee", (ids.next("attendee"), meeting_id, name, None, guest + 1, 1))
        attendees += 1
    chain.event(
        action,
        kind,
        coordinator,
        held,
        {
            "meeting_id": meeting_id, "kind": kind, "attendees": attendees, "acknowledged": attendees,
            "held_on": held.isoformat(), "recorded_by": coordinator, "on": held.isoformat(), "case": {},
        },
    )  # fmt: skip
    return meeting_id


def _openings(spec: CitySpec) -> Iterator[tuple[int, int, int, dt.date]]:
    """(i, 年度, serial, opened_on) of every case, evenly over the years, numbered per 年度."""
    first = dt.date(fiscal_year_of(spec.today) - spec.years + 1, 4, 1)
    span = (spec.today - first).days
    serials: dict[int, int] = {}
    for i in range(spec.cases):
        opened = first + dt.timedelta(days=i * span // spec.cases)
        fy = fiscal_year_of(opened)
        serials[fy] = serials.get(fy, 0) + 1
        yield i, fy, serials[fy], opened


def build_city(path: Path, spec: CitySpec, *, password_hash: str, chunk: int = 20_000) -> dict[str, int]:
    """Generate the city of `spec` into `path` (see `CitySpec` and the module docstring); every
    staff member gets `password_hash`. Returns the row count of each table."""
    db, partial = new_database(path, migrate=True)
    insert = inserter(db)
    insert(
        "agency",
        "id name field is_desk created_at",
        [(n, f"ふくまる相談室 {n}", "community", 1, STAMP) for n in range(1, DESKS + 1)]
        + [(DESKS + 1 + k, name, kind, 0, STAMP) for k, (name, kind) in enumerate(PARTNERS)],
    )
    insert_staff(insert, password_hash=password_hash)
    ids = _Ids()
    rows = _Rows()
    for i, fy, serial, opened in _openings(spec):
        _city_case(i, spec, fy, serial, opened, rows, ids)
        if (i + 1) % chunk == 0 or i + 1 == spec.cases:
            for table in COLUMNS:  # parents first: the order of COLUMNS
                insert(table, COLUMNS[table], rows.tables.get(table, []))
            rows = _Rows()
    counts = {table: int(db.execute(f'SELECT count(*) FROM "{table}"').fetchone()[0]) for table in COLUMNS}
    db.execute("INSERT INTO case_number_counter (fiscal_year, last_serial) SELECT fiscal_year, max(serial)"
               ' FROM "case" GROUP BY fiscal_year')  # fmt: skip
    finish(db, partial, path)
    return counts
