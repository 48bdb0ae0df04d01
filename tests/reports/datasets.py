"""Data sets whose true figures are known, built through the case service only.

`build_yamaguchi`: 山口市's 令和6年度 ふくまる相談室 table (1,802 contacts of 336 cases at ten
desks, 相談者 / 相談方法 / 相談内容 exactly as published, 支援会議 14, 重層的支援会議 5,
訪問 421, 会議等出席 360), plus records on 2024-03-31 and 2025-04-01 that must fall into R5 and
R7. `build_yurihonjo`: 由利本荘市's R4–R6 meetings, plans, closures and 参加支援 (and a few R7
records for the targets), with records in March 2025 that a 基準日 of 2025-02-28 must leave out.
"""

from __future__ import annotations

import datetime as dt
import random
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from sqlmodel import Session

from models import Agency, ProgramProvider, Staff
from states import LifecycleMachine
from tests.factories import World, attendees, build_world, latest_meeting_id
from yorisoi.service import cases, directory
from yorisoi.vocabulary import DEFAULT_TOPICS

# 山口市「重層的支援体制整備事業の取組」(令和7年11月), 令和6年度のふくまる相談室の相談実績, the 合計 row
# as published (tab-separated): 相談者 ×4 + 計, 相談方法 ×4 + 計, 相談内容 ×19 + 計, 相談実件数, 相談延件数.
# The extracted text lost two of the 19 相談内容 labels; the values are kept in the published order,
# which is the order of yorisoi.vocabulary.DEFAULT_TOPICS.
YAMAGUCHI_R6_ROW = (
    "合計\t740\t226\t80\t756\t1802\t154\t1079\t421\t104\t1758\t183\t44\t7\t215\t200\t171\t291\t49\t271"
    "\t65\t11\t48\t28\t21\t429\t110\t122\t20\t457\t2742\t336\t1802"
)
_VALUES = [int(v) for v in YAMAGUCHI_R6_ROW.split("\t")[1:]]
REFERRERS = dict(zip(["self", "family", "community", "agency"], _VALUES[0:4], strict=True))
METHODS = dict(zip(["office_visit", "phone", "home_visit", "other"], _VALUES[5:9], strict=True))
TOPICS = dict(zip(DEFAULT_TOPICS, _VALUES[10:29], strict=True))
CONTACTS, CASES, TOPIC_TOTAL = _VALUES[31], _VALUES[30], _VALUES[29]
UNRECORDED = CONTACTS - _VALUES[9]  # 1802 − 1758 = 44 contacts with no method recorded
SUPPORT_MEETINGS, MULTILAYER_MEETINGS, HOME_VISITS, MEETING_ATTENDANCE = 14, 5, 421, 360

DESK_NAMES = ["中央", "大殿", "白石", "湯田", "仁保", "小郡", "秋穂", "阿知須", "徳地", "社協本所"]
R6_START, R6_END = dt.date(2024, 4, 1), dt.date(2025, 3, 31)


@dataclass
class PlannedContact:
    case: int
    on: dt.date
    referrer: str
    method: str
    topics: list[str]


def yamaguchi_contacts() -> list[PlannedContact]:
    """The 1,802 R6 contacts: exact category totals, 1–2 distinct topics each, case `j % 336`."""
    rng = random.Random(6)
    referrers = [code for code, n in REFERRERS.items() for _ in range(n)]
    methods = [code for code, n in METHODS.items() for _ in range(n)] + ["unrecorded"] * UNRECORDED
    rng.shuffle(referrers)
    rng.shuffle(methods)
    # Topic mentions in a row; mention s goes to contact s mod 1802, so a contact gets mentions
    # s and s+1802, never the same topic twice (no topic has 1802 mentions).
    slots = [code for code, n in TOPICS.items() for _ in range(n)]
    topics: list[list[str]] = [[] for _ in range(CONTACTS)]
    for s, code in enumerate(slots):
        topics[s % CONTACTS].append(code)
    span = (R6_END - R6_START).days
    return [
        PlannedContact(
            case=j % CASES,
            on=R6_START + dt.timedelta(days=j * span // (CONTACTS - 1)),
            referrer=referrers[j],
            method=methods[j],
            topics=topics[j],
        )
        for j in range(CONTACTS)
    ]


def outreach_plan(planned: list[PlannedContact], count: int) -> tuple[list[dt.date], list[int]]:
    """`count` outreach days spread over R6, each on a case already opened that day (cases
    0–3 came in on 2024-03-31, case c ≥ 4 on its first planned contact)."""
    days = [R6_START + dt.timedelta(days=k * 364 // (count - 1)) for k in range(count)]
    on_cases = []
    for k, day in enumerate(days):
        opened = max(4, sum(1 for c in planned[:CASES] if c.on <= day))
        on_cases.append((k * 7) % opened)
    return days, on_cases


@dataclass
class Yamaguchi:
    world: World
    desks: list[Agency]
    case_ids: list[int]
    contacts: list[PlannedContact]
    support_meeting_days: list[dt.date] = field(default_factory=list)
    multilayer_meeting_days: list[dt.date] = field(default_factory=list)
    outreach_days: dict[str, list[dt.date]] = field(default_factory=dict)
    outreach_cases: dict[str, list[int]] = field(default_factory=dict)

    def desk_of(self, case: int) -> Agency:
        return self.desks[case % len(self.desks)]

    def contacts_until(self, day: dt.date) -> list[PlannedContact]:
        return [c for c in self.contacts if c.on <= day]


class _Service:
    """Short calls into the case service, as the world's coordinator and supervisors."""

    def __init__(self, session: Session, machine: LifecycleMachine, world: World) -> None:
        self.session, self.machine, self.world = session, machine, world

    def open(
        self, on: dt.date, desk: Agency, referrer: str = "self", method: str = "phone", **kw: Any
    ) -> int:
        return cases.open_case(
            session=self.session,
            actor=self.world.coordinator,
            machine=self.machine,
            person={"name": "相談 者", "address": "山口市亀山町2-1"},
            contact={
                "contacted_on": on,
                "referrer": referrer,
                "method": method,
                "topics": kw.get("topics", ["income"]),
                "desk_id": desk.id,
            },
        ).case_id

    def contact(
        self, case_id: int, on: dt.date, desk: Agency, referrer: str, method: str, topics: list[str]
    ) -> None:
        cases.fire(
            action="add_contact",
            session=self.session,
            case_id=case_id,
            actor=self.world.coordinator,
            machine=self.machine,
            contacted_on=on,
            referrer=referrer,
            method=method,
            topics=topics,
            desk_id=desk.id,
        )

    def fire(self, case_id: int, trigger: str, actor: Staff | None = None, **data: Any) -> None:
        cases.fire(
            session=self.session,
            case_id=case_id,
            action=trigger,
            actor=actor or self.world.coordinator,
            machine=self.machine,
            **data,
        )

    def outreach(self, case_id: int, kind: str, on: dt.date) -> None:
        cases.fire(
            action="log_outreach",
            session=self.session,
            case_id=case_id,
            actor=self.world.coordinator,
            machine=self.machine,
            kind=kind,
            done_on=on,
        )

    def consent(self, case_id: int, on: dt.date) -> None:
        cases.fire(
            action="give_consent",
            session=self.session,
            case_id=case_id,
            actor=self.world.coordinator,
            machine=self.machine,
            given_on=on,
            agency_ids=[a.id for a in self.world.agencies],
        )

    def support_meeting(self, case_id: int, on: dt.date) -> None:
        w = self.world
        self.fire(case_id, "hold_support_meeting", held_on=on, attendees=attendees(w.elderly, w.disability))

    def multilayer_meeting(self, case_id: int, on: dt.date) -> int:
        w = self.world
        self.fire(case_id, "hold_multilayer_meeting", held_on=on, attendees=attendees(w.elderly, w.poverty))
        return latest_meeting_id(self.session, case_id)

    def plan(self, case_id: int, meeting_on: dt.date, approved_on: dt.date, *, first: bool = True) -> None:
        """Draft (or revise) a plan at a 重層的支援会議 on `meeting_on`; a supervisor approves it."""
        w = self.world
        if not first:
            self.fire(case_id, "revise_plan", drafted_on=meeting_on)
            meeting_id = self.multilayer_meeting(case_id, meeting_on)
        else:
            meeting_id = self.multilayer_meeting(case_id, meeting_on)
            self.fire(
                case_id,
                "draft_plan",
                drafted_on=meeting_on,
                goals=[{"problem": "ひきこもり", "goal": "週1回外出できる"}],
                roles=[{"agency_id": w.poverty.id, "role": "家計相談・主担当", "is_lead": True}],
                monitoring_interval_days=60,
            )
        self.fire(case_id, "approve_plan", w.supervisor, meeting_id=meeting_id, approved_on=approved_on)

    def close(self, case_id: int, on: dt.date, reason: str = "goals_met") -> None:
        text = "転居先の窓口へ引継ぎ" if reason == "other" else ""
        self.fire(
            case_id,
            "propose_closure",
            proposed_on=on,
            reason=reason,
            reason_text=text,
            evaluation="目標を達成",
        )
        self.fire(case_id, "approve_closure", self.world.supervisor, decided_on=on)

    def enrol(self, case_id: int, provider: ProgramProvider, start: dt.date, days: int) -> None:
        cases.fire(
            action="enrol_in_program",
            session=self.session,
            case_id=case_id,
            actor=self.world.coordinator,
            machine=self.machine,
            provider_id=provider.id,
            start_on=start,
            end_on=start + dt.timedelta(days=days),
        )


def build_yamaguchi(session: Session, machine: LifecycleMachine) -> Yamaguchi:
    world = build_world(session)
    desks = [world.desk] + [
        directory.add_agency(session, name=f"ふくまる相談室 {name}", field="community", is_desk=True)
        for name in DESK_NAMES[1:]
    ]
    svc = _Service(session, machine, world)
    planned = yamaguchi_contacts()
    data = Yamaguchi(world, desks, [], planned)
    # Cases 0–3 came in on 2024-03-31 (R5): that first contact is not one of R6's 1,802.
    for case in range(CASES):
        first = planned[case]
        if case < 4:
            data.case_ids.append(svc.open(dt.date(2024, 3, 31), data.desk_of(case)))
            svc.contact(
                data.case_ids[case], first.on, data.desk_of(case), first.referrer, first.method, first.topics
            )
        else:
            data.case_ids.append(
                svc.open(first.on, data.desk_of(case), first.referrer, first.method, topics=first.topics)
            )
    for c in planned[CASES:]:
        svc.contact(data.case_ids[c.case], c.on, data.desk_of(c.case), c.referrer, c.method, c.topics)
    # R7 (2025-04-01): three more contacts on R6 cases and one new case; none may count in R6.
    for case in (10, 11, 12):
        svc.contact(data.case_ids[case], dt.date(2025, 4, 1), data.desk_of(case), "family", "phone", ["debt"])
    svc.open(dt.date(2025, 4, 1), desks[0], "agency", "other", topics=["care", "health"])

    ids = data.case_ids
    # 支援会議 14 in R6 (cases 20–29, four of them twice), plus one on 2024-03-31 for case 0 (R5).
    svc.fire(ids[0], "start_assessment")
    svc.support_meeting(ids[0], dt.date(2024, 3, 31))
    for n, case in enumerate([*range(20, 30), 20, 21, 22, 23]):
        if n < 10:
            svc.fire(ids[case], "start_assessment")
        day = dt.date(2024, 5, 1) + dt.timedelta(days=20 * n)
        svc.support_meeting(ids[case], day)
        data.support_meeting_days.append(day)
    # 重層的支援会議 5: plans for cases 30–32 (case 30 revised), a closure for case 33.
    for case, on in [(30, dt.date(2024, 6, 3)), (31, dt.date(2024, 9, 2)), (32, dt.date(2025, 1, 14))]:
        svc.fire(ids[case], "start_assessment")
        svc.consent(ids[case], on)
        svc.plan(ids[case], on, on + dt.timedelta(days=3))
        data.multilayer_meeting_days.append(on)
    svc.plan(ids[30], dt.date(2024, 12, 2), dt.date(2024, 12, 5), first=False)
    data.multilayer_meeting_days.append(dt.date(2024, 12, 2))
    svc.fire(ids[33], "start_assessment")
    svc.consent(ids[33], dt.date(2024, 10, 1))
    svc.multilayer_meeting(ids[33], dt.date(2024, 10, 7))
    data.multilayer_meeting_days.append(dt.date(2024, 10, 7))

    # アウトリーチ: 訪問 421 and 会議等出席 360 in R6, one of each just outside it.
    for kind, count in (("home_visit", HOME_VISITS), ("meeting_attendance", MEETING_ATTENDANCE)):
        days, on_cases = outreach_plan(planned, count)
        for case, day in zip(on_cases, days, strict=True):
            svc.outreach(ids[case], kind, day)
        data.outreach_days[kind] = days
        data.outreach_cases[kind] = on_cases
    svc.outreach(ids[1], "home_visit", dt.date(2024, 3, 31))
    svc.outreach(ids[1], "meeting_attendance", dt.date(2025, 4, 1))
    svc.close(ids[33], dt.date(2025, 2, 20), "referred_single_agency")
    svc.close(ids[21], dt.date(2025, 3, 31), "declined")
    return data


def topic_counts(contacts: list[PlannedContact]) -> Counter[str]:
    return Counter(t for c in contacts for t in c.topics)


# --- 由利本荘市 ---------------------------------------------------------------------------------

# (年度, 重層的支援会議, plans, closures, 支援会議) as of 2025-02-28; sums 16 / 13 / 11 / 18.
YURIHONJO_SPLIT = {2022: (4, 3, 2, 5), 2023: (5, 4, 4, 6), 2024: (7, 6, 5, 7)}
# 参加支援 延人数 and new provider registrations, R4–R6 (the plan's table) and R7 (our own actuals).
ENROLMENTS = {
    "program_type_b": {2022: 2, 2023: 1, 2024: 0, 2025: 1},
    "program_short_stay": {2022: 0, 2023: 1, 2024: 1, 2025: 1},
}
REGISTRATIONS = {
    "program_type_b": {2022: 1, 2023: 1, 2024: 2, 2025: 1},
    "program_short_stay": {2022: 3, 2023: 0, 2024: 0, 2025: 0},
}
AS_OF = dt.date(2025, 2, 28)


@dataclass
class Yurihonjo:
    world: World
    contact_days: list[dt.date]  # one contact (two topics) per case: the intake


def _day(fy: int, month: int, day: int) -> dt.date:
    return dt.date(fy if month >= 4 else fy + 1, month, day)


def build_yurihonjo(session: Session, machine: LifecycleMachine) -> Yurihonjo:
    world = build_world(session)
    svc = _Service(session, machine, world)
    data = Yurihonjo(world, [])

    def open_case(on: dt.date) -> int:
        data.contact_days.append(on)
        return svc.open(on, world.desk, "agency", "office_visit", topics=["income", "housing"])

    closable: list[int] = []  # plan cases in 支援・モニタリング, oldest first
    for fy, (multilayer, plans, closures, support) in YURIHONJO_SPLIT.items():
        for k in range(plans):  # each plan decided at its own 重層的支援会議
            on = _day(fy, 5 + k, 10)
            case_id = open_case(on - dt.timedelta(days=7))
            svc.fire(case_id, "start_assessment")
            svc.consent(case_id, on)
            svc.plan(case_id, on, on + dt.timedelta(days=5))
            closable.append(case_id)
        for k in range(multilayer - plans):  # a 重層的支援会議 that made no plan (yet)
            on = _day(fy, 11, 5 + k)
            case_id = open_case(on - dt.timedelta(days=7))
            svc.fire(case_id, "start_assessment")
            svc.consent(case_id, on)
            svc.multilayer_meeting(case_id, on)
        # 支援会議 on a case without consent, from 4/1 to 3/31 (R6: to 2/28, the 基準日).
        last = _day(fy, 2, 28) if fy == 2024 else _day(fy, 3, 31)
        support_case = open_case(_day(fy, 4, 1))
        svc.fire(support_case, "start_assessment")
        span = (last - _day(fy, 4, 1)).days
        for k in range(support):
            svc.support_meeting(support_case, _day(fy, 4, 1) + dt.timedelta(days=k * span // (support - 1)))
        for k in range(closures):
            svc.close(closable.pop(0), _day(fy, 2, 1 + k), ["goals_met", "referred_single_agency"][k % 2])

    # After the 基準日 2025-02-28 but still in R6: none of these may count as of 2025-02-28.
    late = open_case(dt.date(2025, 3, 3))
    svc.fire(late, "start_assessment")
    svc.consent(late, dt.date(2025, 3, 10))
    svc.plan(late, dt.date(2025, 3, 10), dt.date(2025, 3, 12))
    svc.close(closable.pop(0), dt.date(2025, 3, 14), "moved_away")
    late_support = open_case(dt.date(2025, 3, 4))
    svc.fire(late_support, "start_assessment")
    svc.support_meeting(late_support, dt.date(2025, 3, 5))

    # 参加支援: providers registered and enrolments started, R4–R7.
    providers: dict[str, ProgramProvider] = {}
    for program, years in REGISTRATIONS.items():
        for fy, n in years.items():
            for k in range(n):
                provider = directory.add_provider(
                    session, name=f"{program}-{fy}-{k}", program=program, registered_on=_day(fy, 4 + k, 1)
                )
                providers.setdefault(program, provider)
    directory.add_provider(
        session, name="late-registration", program="program_type_b", registered_on=dt.date(2025, 3, 1)
    )
    participant = open_case(dt.date(2022, 4, 1))
    for program, years in ENROLMENTS.items():
        for fy, n in years.items():
            for k in range(n):
                start = _day(fy, 4, 1) + dt.timedelta(days=60 * k)
                if (program, fy, k) == ("program_type_b", 2022, 1):
                    start = dt.date(2023, 3, 31)  # the last day of R4; R5's starts on 2023-04-01
                svc.enrol(participant, providers[program], start, 20)
    svc.enrol(participant, providers["program_short_stay"], dt.date(2025, 3, 1), 10)  # after the 基準日
    return data
