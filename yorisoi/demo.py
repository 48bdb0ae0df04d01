"""A demo database: one 年度 (令和6年度) of みほん市, a made-up mid-size city.

The city has ten まるごと相談室 (consultation desks, like 山口市's ふくまる相談室: one at the
社会福祉協議会, nine at the 地域包括支援センター), ten agencies across fields, four coordinators and
two supervisors. Over the year a few hundred people consult the desks, most of them several
times (相談実件数 / 相談延件数 in the proportions 山口市 reports); some are assessed, and about
thirty go on to 支援会議 and 重層的支援会議, plans, monitoring, closures — in the numbers
由利本荘市 reports (18 支援会議, 16 重層的支援会議, 13 plans, 11 closures).

Every record is written by the real case service, in date order per case, so every guard
(consent, 守秘義務, four eyes, closure rules) is applied exactly as in production; a scenario
the lifecycle refuses stops the demo with the service's error. The random choices use a fixed
seed: the same command builds the same database. Names and places are fictional.
"""

from __future__ import annotations

import datetime as dt
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlmodel import Session

from models import Agency, ProgramProvider, Staff
from models.db import create_db_engine, migrate, session_scope, sqlite_url
from models.queries import (
    RecordCounts,
    action_counts,
    event_payload,
    household_id_of_case,
    record_counts,
    stage_counts,
)
from states import LifecycleMachine
from yorisoi import runtime
from yorisoi.errors import InvalidInput
from yorisoi.service import cases, directory
from yorisoi.service.audit import verify_chains
from yorisoi.settings import get_settings

DEFAULT_CASES = 336
STORY_CASES = 31  # the multi-agency cases `write_stories` writes; the rest are everyday cases
DEFAULT_SEED = 2024
FY_START = dt.date(2024, 4, 1)
FY_END = dt.date(2025, 3, 31)

CITY = "みほん市"
AREAS = ("東", "西", "南", "北", "湯ノ原", "川辺", "山手", "港", "丘の上")
SURNAMES = {
    "見本": "ミホン",
    "仮名": "カメイ",
    "例題": "レイダイ",
    "模擬": "モギ",
    "試作": "シサク",
    "架空": "カクウ",
    "想定": "ソウテイ",
    "空想": "クウソウ",
    "夢見": "ユメミ",
    "物語": "モノガタリ",
}
GIVEN_NAMES = {
    "太郎": "タロウ",
    "花子": "ハナコ",
    "一郎": "イチロウ",
    "次郎": "ジロウ",
    "さくら": "サクラ",
    "葵": "アオイ",
    "陽菜": "ヒナ",
    "蓮": "レン",
    "湊": "ミナト",
    "結衣": "ユイ",
    "健": "ケン",
    "誠": "マコト",
    "幸子": "サチコ",
    "和子": "カズコ",
    "正": "タダシ",
    "茂": "シゲル",
    "恵子": "ケイコ",
    "翔": "ショウ",
    "美咲": "ミサキ",
    "大和": "ヤマト",
}

# (key, name, field): the agencies besides the desks.
AGENCIES = (
    ("disability", f"{CITY} 障がい者基幹相談支援センター", "disability"),
    ("child", f"{CITY} こども家庭センター", "child"),
    ("poverty", f"{CITY} くらしサポートセンター（自立相談支援機関）", "poverty"),
    ("welfare_office", f"{CITY}役所 生活福祉課", "municipality"),
    ("health", f"{CITY} 保健センター", "health"),
    ("school", f"{CITY}教育委員会（スクールソーシャルワーカー）", "education"),
    ("housing", "NPO法人 みほん住まいネット（居住支援法人）", "housing"),
    ("volunteers", f"{CITY} 民生委員児童委員協議会", "community"),
    ("jobs", "みほん就労サポートステーション", "other"),
    ("activity", "地域活動支援センター こもれび", "disability"),
)
ROLES_BY_FIELD = {
    "elderly": "介護サービスの調整",
    "disability": "障害福祉サービスの利用支援",
    "child": "子育て支援・学校との連携",
    "poverty": "家計改善・就労準備の支援",
    "municipality": "生活保護の相談・申請支援",
    "health": "受診同行・健康相談",
    "education": "登校の支援",
    "housing": "住まいの確保",
    "community": "見守りと地域とのつながり",
    "other": "就労に向けた支援",
}

# Themes of the multi-agency cases: topics, agencies involved, and a goal per problem.
THEMES = (
    (
        ("care", "hikikomori_school_refusal", "income"),
        ("poverty", "health"),
        (("ひきこもり", "週1回は外出できる"), ("母の介護", "介護サービスを利用できる")),
    ),
    (
        ("debt", "household_finance", "rent_or_loan_payments"),
        ("poverty", "welfare_office", "housing"),
        (("多重債務", "債務整理の手続きを終える"), ("家計", "収入と支出の見通しが立つ")),
    ),
    (
        ("dv_abuse", "housing", "child_rearing"),
        ("child", "housing", "welfare_office"),
        (("DV", "安全な住まいで暮らす"), ("子育て", "子どもが安心して登校できる")),
    ),
    (
        ("mental_health", "job_seeking", "income"),
        ("health", "activity", "jobs"),
        (("こころの不調", "定期的に通院できる"), ("仕事", "日中の活動の場につながる")),
    ),
    (
        ("child_rearing", "hikikomori_school_refusal", "family_relations"),
        ("child", "school", "volunteers"),
        (("不登校", "週に数日は登校できる"), ("家族関係", "家族で相談できる場を持つ")),
    ),
    (
        ("housing", "no_food", "income"),
        ("housing", "poverty", "volunteers"),
        (("住まい", "安定した住まいに移る"), ("食料", "食料支援につながる")),
    ),
)

STAFF = (
    ("mihon.hanako", "見本 花子", "coordinator"),
    ("kamei.jiro", "仮名 次郎", "coordinator"),
    ("reidai.sachi", "例題 さち", "coordinator"),
    ("mogi.kenta", "模擬 健太", "coordinator"),
    ("shisaku.michiko", "試作 道子", "supervisor"),
    ("kasou.ichiro", "仮想 一郎", "supervisor"),
)
COMMON_TOPICS = (
    "income",
    "care",
    "health",
    "mental_health",
    "household_finance",
    "job_seeking",
    "family_relations",
    "debt",
)
SUPPORT_MEETING_TITLES = (
    "支援会議",
    "支援庁内連携会議（支援会議として開催）",
    "相談支援事業所連絡会（支援会議）",
)
MONITORING_SUMMARIES = (
    "目標に向けて取組が進んでいる",
    "状況は安定、支援を継続",
    "一部の目標を見直す必要がある",
)
# How many more contacts an everyday case has after the first (0 … 12): with the multi-agency
# cases this gives 相談延件数 ≈ 5.4 × 相談実件数, as in 山口市's table (1802 / 336).
EVERYDAY_EXTRA_CONTACT_WEIGHTS = (12, 11, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 2)

REFERRER_WEIGHTS = {"self": 740, "family": 226, "community": 80, "agency": 756}
METHOD_WEIGHTS = {"office_visit": 154, "phone": 1079, "home_visit": 421, "other": 104}


class _LastMeeting:
    """Stands for the id of the case's latest 重層的支援会議, known only when the demo runs."""


LAST_MEETING = _LastMeeting()


@dataclass
class World:
    desks: list[Agency]
    agencies: dict[str, Agency]
    coordinators: list[Staff]
    supervisors: list[Staff]
    short_stay: ProgramProvider


@dataclass(frozen=True, slots=True)
class Step:
    on: dt.date
    kind: str  # contact | trigger | consent | outreach | enrol
    data: dict[str, Any]
    trigger: str = ""
    by: int | None = None  # index of the supervisor acting; None = the case's coordinator


@dataclass
class Script:
    """One person's year: how the case opens, then every later step in date order."""

    opened_on: dt.date
    person: dict[str, Any]
    contact: dict[str, Any]
    coordinator: Staff
    desk: Agency
    profile: list[str]
    agencies: list[Agency] = field(default_factory=list)
    steps: list[Step] = field(default_factory=list)
    household_of: Script | None = None
    case_id: int | None = None
    number: str = ""
    meeting_id: int | None = None


@dataclass(frozen=True, slots=True)
class DemoReport:
    path: Path
    stages: dict[str, int]
    actions: dict[str, int]
    records: RecordCounts
    events: int
    audit_problems: int
    seconds: float
    examples: dict[str, str] = field(default_factory=dict)  # what to look at → case number


def build_world(session: Session) -> World:
    """The city's desks, agencies, staff and 参加支援 providers."""
    add_agency, add_staff = directory.add_agency, directory.add_staff
    desks = [add_agency(session, name="まるごと相談室 中央", field="community", is_desk=True)]
    desks += [
        add_agency(
            session,
            name=f"まるごと相談室 {area}",
            field="elderly",
            is_desk=True,
        )
        for area in AREAS
    ]
    agencies = {key: add_agency(session, name=name, field=kind) for key, name, kind in AGENCIES}
    staff = [
        add_staff(session, login=login, name=name, roles=[role], team="多機関協働")
        for login, name, role in STAFF
    ]
    add_provider = directory.add_provider
    add_provider(
        session,
        name="就労継続支援B型 みほん工房",
        program="program_type_b",
        registered_on=dt.date(2024, 6, 3),
    )
    add_provider(
        session, name="就労継続支援B型 ひだまり", program="program_type_b", registered_on=dt.date(2024, 10, 1)
    )
    short_stay = add_provider(
        session, name="短期宿泊所 あかり", program="program_short_stay", registered_on=dt.date(2022, 4, 15)
    )
    return World(desks, agencies, staff[:4], staff[4:], short_stay)


class Scenario:
    """Writes the scripts of the year, drawing every choice from one seeded generator."""

    def __init__(self, world: World, seed: int, topics: dict[str, str]) -> None:
        self.world = world
        self.rng = random.Random(seed)
        self.topics = list(topics)
        self.scripts: list[Script] = []
        self.examples: dict[str, Script] = {}
        self._approvals = 0

    # --- people and contacts ----------------------------------------------------------

    def name(self) -> tuple[str, str]:
        surname, given = self.rng.choice(list(SURNAMES)), self.rng.choice(list(GIVEN_NAMES))
        return f"{surname} {given}", f"{SURNAMES[surname]} {GIVEN_NAMES[given]}"

    def known(self, wanted: tuple[str, ...]) -> list[str]:
        """The wanted topics this municipality's vocabulary has (a random one if none)."""
        return [t for t in wanted if t in self.topics] or [self.rng.choice(self.topics)]

    def everyday_profile(self) -> list[str]:
        common = self.known(COMMON_TOPICS)
        pool = common * 3 + self.topics
        return list(dict.fromkeys(self.rng.choices(pool, k=self.rng.randint(2, 4))))

    def _pick(self, weights: dict[str, int]) -> str:
        return self.rng.choices(list(weights), weights=list(weights.values()))[0]

    def contact(self, on: dt.date, script_desk: Agency, profile: list[str]) -> dict[str, Any]:
        count = min(len(profile), self.rng.choices((1, 2, 3), weights=(55, 35, 10))[0])
        desk = script_desk if self.rng.random() > 0.1 else self.rng.choice(self.world.desks)
        return {
            "contacted_on": on,
            "referrer": self._pick(REFERRER_WEIGHTS),
            "method": self._pick(METHOD_WEIGHTS),
            "topics": self.rng.sample(profile, count),
            "desk_id": desk.id,
        }

    def new_script(
        self, opened_on: dt.date, profile: list[str], *, dv: bool = False, household_of: Script | None = None
    ) -> Script:
        index = self.rng.choices(range(len(self.world.desks)), weights=[4] + [1] * len(AREAS))[0]
        desk = self.world.desks[index]
        name, kana = self.name()
        born = dt.date(self.rng.randint(1938, 2010), self.rng.randint(1, 12), self.rng.randint(1, 28))
        area = self.rng.choice(AREAS)
        script = Script(
            opened_on=opened_on,
            person={
                "name": name,
                "kana": kana,
                "birth_date": born,
                "address": f"{CITY}{area}町{self.rng.randint(1, 5)}-{self.rng.randint(1, 30)}",
                "dv_protected": dv,
            },
            contact={**self.contact(opened_on, desk, profile), "desk_id": desk.id, "note": "初回相談"},
            coordinator=self.world.coordinators[index % len(self.world.coordinators)],
            desk=desk,
            profile=profile,
            household_of=household_of,
        )
        self.scripts.append(script)
        return script

    def follow_ups(self, script: Script, count: int, until: dt.date) -> None:
        """Later contacts before `until`; a home visit is also logged as アウトリーチ."""
        span = (min(until, FY_END) - script.opened_on).days - 1
        if span < 1:
            return
        for _ in range(count):
            on = script.opened_on + dt.timedelta(days=self.rng.randint(1, span))
            contact = self.contact(on, script.desk, script.profile)
            script.steps.append(Step(on, "contact", contact))
            if contact["method"] == "home_visit":
                script.steps.append(Step(on, "outreach", {"kind": "home_visit", "done_on": on}))
        if self.rng.random() < 0.2:
            on = script.opened_on + dt.timedelta(days=self.rng.randint(1, span))
            note = "地区の見守り会議に出席"
            script.steps.append(
                Step(on, "outreach", {"kind": "meeting_attendance", "done_on": on, "note": note})
            )

    # --- lifecycle steps ----------------------------------------------------------------

    def supervisor(self) -> int:
        self._approvals += 1
        return self._approvals % len(self.world.supervisors)

    def trigger(
        self, script: Script, on: dt.date, trigger: str, *, by: int | None = None, **data: Any
    ) -> None:
        script.steps.append(Step(on, "trigger", data, trigger, by))

    def assess(self, script: Script, on: dt.date) -> None:
        self.trigger(script, on, "start_assessment", note="関係機関と課題を整理")

    def consent(self, script: Script, on: dt.date) -> None:
        agency_ids = [a.id for a in script.agencies]
        script.steps.append(
            Step(on, "consent", {"given_on": on, "agency_ids": agency_ids, "method": "written"})
        )

    def attendees(self, script: Script) -> list[dict[str, Any]]:
        """One person from each agency of the case and the coordinator, all bound by 守秘義務."""
        people: list[dict[str, Any]] = [
            {"name": self.name()[0], "agency_id": a.id, "acknowledged_confidentiality": True}
            for a in script.agencies
        ]
        coordinator = script.coordinator
        people.append(
            {"name": coordinator.name, "staff_id": coordinator.id, "acknowledged_confidentiality": True}
        )
        return people

    def support_meeting(self, script: Script, on: dt.date) -> None:
        title = self.rng.choice(SUPPORT_MEETING_TITLES)
        decisions = "訪問による見守りを続け、本人の同意に向けて関係づくりを行う"
        self.trigger(
            script,
            on,
            "hold_support_meeting",
            held_on=on,
            title=title,
            decisions=decisions,
            attendees=self.attendees(script),
        )

    def multilayer_meeting(self, script: Script, on: dt.date) -> None:
        decisions = "役割分担と支援プランを協議・決定"
        self.trigger(
            script,
            on,
            "hold_multilayer_meeting",
            held_on=on,
            title="重層的支援会議",
            decisions=decisions,
            attendees=self.attendees(script),
        )

    def draft_plan(self, script: Script, on: dt.date, goals: tuple[tuple[str, str], ...]) -> None:
        lead = next((a for a in script.agencies if a.field == "poverty"), script.agencies[0])
        external = [{"kind": "ケアプラン", "agency_id": script.desk.id}] if "care" in script.profile else []
        roles = [
            {"agency_id": a.id, "role": ROLES_BY_FIELD[a.field], "is_lead": a is lead}
            for a in script.agencies
        ]
        self.trigger(
            script,
            on,
            "draft_plan",
            drafted_on=on,
            household_goal="世帯が地域の中で安心して暮らし続けられる",
            goals=[{"problem": p, "goal": g} for p, g in goals],
            roles=roles,
            external_plans=external,
            monitoring_interval_days=self.rng.choice((60, 90)),
        )

    def approve_plan(self, script: Script, on: dt.date) -> None:
        self.trigger(
            script, on, "approve_plan", by=self.supervisor(), meeting_id=LAST_MEETING, approved_on=on
        )

    def monitor(self, script: Script, on: dt.date) -> None:
        summary = self.rng.choice(MONITORING_SUMMARIES)
        self.trigger(script, on, "record_monitoring", held_on=on, summary=summary)

    def close(
        self,
        script: Script,
        on: dt.date,
        reason: str,
        evaluation: str,
        *,
        text: str = "",
        rejected: bool = False,
    ) -> dt.date:
        """Propose closure (first sent back once when `rejected`); a supervisor approves. Returns the date."""
        days = dt.timedelta
        if rejected:
            self.trigger(script, on, "propose_closure", proposed_on=on, reason=reason, evaluation=evaluation)
            self.trigger(
                script,
                on + days(4),
                "reject_closure",
                by=self.supervisor(),
                decided_on=on + days(4),
                note="もう一度モニタリングしてから判断する",
            )
            on += days(30)
        self.trigger(
            script,
            on,
            "propose_closure",
            proposed_on=on,
            reason=reason,
            reason_text=text,
            evaluation=evaluation,
        )
        decided = on + days(5)
        self.trigger(script, decided, "approve_closure", by=self.supervisor(), decided_on=decided)
        return decided


def _story(s: Scenario, theme: int, *, latest: dt.date = dt.date(2024, 6, 30), dv: bool = False) -> Script:
    """A multi-agency case of `theme`, opened by `latest` and assessed a week later."""
    topics, keys, _goals = THEMES[theme % len(THEMES)]
    opened = FY_START + dt.timedelta(days=s.rng.randint(0, (latest - FY_START).days))
    script = s.new_script(opened, s.known(topics), dv=dv)
    script.agencies = [s.world.agencies[k] for k in keys]
    s.assess(script, opened + dt.timedelta(days=7))
    return script


def _planned(
    s: Scenario, theme: int, *, via_support: bool = False, dv: bool = False
) -> tuple[Script, dt.date]:
    """Assessment, consent (after a 支援会議 when `via_support`), 重層的支援会議, plan approved, monitored."""
    days = dt.timedelta
    script = _story(s, theme, dv=dv)
    start = script.opened_on + days(14)
    if via_support:
        s.support_meeting(script, start)
        start += days(21)
    s.consent(script, start)
    approved = start + days(7)
    s.multilayer_meeting(script, approved)
    s.draft_plan(script, approved, THEMES[theme % len(THEMES)][2])
    s.approve_plan(script, approved)
    s.monitor(script, approved + days(60))
    return script, approved


def write_stories(s: Scenario) -> None:
    """The multi-agency cases, in 由利本荘市's numbers.

    18 支援会議, 16 重層的支援会議, 13 plans (one revised), 11 closures; every stage represented.
    """
    rng, days = s.rng, dt.timedelta
    # 13 plans. Four reach their goals (one proposal sent back first; one case reopens later) …
    for n in range(4):
        script, approved = _planned(s, n)
        closed = s.close(
            script, approved + days(120), "goals_met", "世帯の目標をおおむね達成した", rejected=n == 1
        )
        s.follow_ups(script, rng.randint(4, 10), closed)
        if n == 0:
            again = closed + days(30)
            s.trigger(script, again, "reopen", contact=s.contact(again, script.desk, script.profile))
            s.examples["reopened"] = script
    # … two end otherwise …
    for theme, reason in ((4, "referred_single_agency"), (5, "moved_away")):
        script, approved = _planned(s, theme)
        closed = s.close(script, approved + days(100), reason, "単独の機関で支援を続けられる見通しとなった")
        s.follow_ups(script, rng.randint(4, 10), closed)
    # … six stay in monitoring (three came through a 支援会議; one plan is revised; one short stay) …
    for n in range(6):
        script, approved = _planned(s, n, via_support=n < 3, dv=n == 2)
        s.monitor(script, approved + days(120))
        if n == 0:
            revised = approved + days(130)
            goal = {"problem": "ひきこもり", "goal": "就労体験に週1回参加できる"}
            s.trigger(script, revised, "revise_plan", drafted_on=revised, goals=[goal])
            s.multilayer_meeting(script, revised + days(7))
            s.approve_plan(script, revised + days(7))
            s.examples["revised"] = script
        if n == 5:
            start = approved + days(30)
            stay = {"provider_id": s.world.short_stay.id, "start_on": start, "end_on": start + days(20)}
            script.steps.append(Step(start, "enrol", stay))
        s.follow_ups(script, rng.randint(6, 14), FY_END)
        if n == 2:  # a child of the DV-protected household consults too: same (masked) address
            s.examples["dv"] = script
            child_topics = s.known(("child_rearing", "hikikomori_school_refusal"))
            child = s.new_script(script.opened_on + days(14), child_topics, household_of=script)
            s.assess(child, child.opened_on + days(10))
            s.follow_ups(child, rng.randint(2, 5), FY_END)
    # … and one person withdraws consent: back to the 支援会議 track.
    script, approved = _planned(s, 3)
    s.trigger(script, approved + days(75), "withdraw_consent", withdrawn_on=approved + days(75))
    s.support_meeting(script, approved + days(85))
    s.follow_ups(script, rng.randint(5, 10), FY_END)
    s.examples["withdrawn"] = script

    # A plan awaiting approval; a case just past its first 重層的支援会議.
    for theme, draft in ((1, True), (2, False)):
        script = _story(s, theme)
        s.consent(script, script.opened_on + days(14))
        s.multilayer_meeting(script, script.opened_on + days(21))
        if draft:
            s.draft_plan(script, script.opened_on + days(21), THEMES[theme][2])
        s.follow_ups(script, rng.randint(4, 8), FY_END)

    # The 支援会議 track without consent: six cases with one meeting, three with two, two that close.
    for meetings, count, reason in ((1, 6, ""), (2, 3, ""), (1, 1, "declined"), (1, 1, "died")):
        for _ in range(count):
            script = _story(s, rng.randrange(len(THEMES)), latest=dt.date(2024, 10, 31))
            for k in range(meetings):
                s.support_meeting(script, script.opened_on + days(14 + 30 * k))
            end = FY_END
            if reason:
                evaluation = (
                    "本人の意思を尊重して支援を終える" if reason == "declined" else "本人の逝去により終える"
                )
                end = s.close(script, script.opened_on + days(60), reason, evaluation)
            s.follow_ups(script, rng.randint(3, 8), end)

    # Closed without a meeting: two after assessment, one straight from intake.
    for reason, text in (("referred_single_agency", ""), ("other", "他市の支援機関へ引継ぎ")):
        script = _story(s, rng.randrange(len(THEMES)), latest=dt.date(2024, 12, 31))
        end = s.close(
            script, script.opened_on + days(30), reason, "関係機関へつなぎ、アフターフォローを実施", text=text
        )
        s.follow_ups(script, rng.randint(1, 4), end)
    script = s.new_script(FY_START + days(rng.randint(0, 300)), s.known(("housing",)))
    s.close(script, script.opened_on + days(10), "moved_away", "転出先の相談窓口を案内した")
    # Consent given during the assessment, then withdrawn.
    script = _story(s, 0, latest=dt.date(2024, 12, 31))
    s.consent(script, script.opened_on + days(14))
    s.trigger(
        script, script.opened_on + days(40), "withdraw_consent", withdrawn_on=script.opened_on + days(40)
    )
    s.follow_ups(script, rng.randint(2, 6), FY_END)


def write_everyday(s: Scenario, count: int) -> None:
    """Cases one desk or one agency can handle (つなぎ): several contacts, some assessed."""
    rng, days = s.rng, dt.timedelta
    for _ in range(count):
        opened = FY_START + days(rng.randint(0, (FY_END - FY_START).days - 5))
        script = s.new_script(opened, s.everyday_profile())
        weights = EVERYDAY_EXTRA_CONTACT_WEIGHTS
        contacts = rng.choices(range(len(weights)), weights=weights)[0]
        s.follow_ups(script, contacts, opened + days(rng.randint(14, 200)))
        assessed = opened + days(rng.randint(3, 30))
        if rng.random() < 0.3 and assessed <= FY_END:
            s.assess(script, assessed)


def run(
    path: Path,
    *,
    cases_count: int = DEFAULT_CASES,
    seed: int = DEFAULT_SEED,
    progress: Callable[[int, int], None] | None = None,
) -> DemoReport:
    """Build the demo database at `path` (replacing it) and return what it holds."""
    started = time.perf_counter()
    if cases_count < STORY_CASES:
        raise InvalidInput(
            f"デモには {STORY_CASES} 件以上のケースが必要です（指定: {cases_count}）。",
            f"The demo needs at least {STORY_CASES} cases (asked for {cases_count}).",
        )
    _refuse_configured_database(path)
    for suffix in ("", "-wal", "-shm", "-journal"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    path.parent.mkdir(parents=True, exist_ok=True)
    engine = create_db_engine(sqlite_url(path))
    try:
        migrate(engine)
        machine = runtime.machine_for(None)  # the scenario follows the default lifecycle
        with session_scope(engine) as session:
            scenario = Scenario(build_world(session), seed, get_settings().topics())
            write_stories(scenario)
            assert len(scenario.scripts) == STORY_CASES, "update STORY_CASES with the stories"
            write_everyday(scenario, cases_count - len(scenario.scripts))
            _play(session, machine, scenario, progress)
            chains = verify_chains(session, machine)
            return DemoReport(
                path=path,
                stages=stage_counts(session),
                actions=action_counts(session),
                records=record_counts(session),
                events=chains.events,
                audit_problems=len(chains.problems),
                seconds=time.perf_counter() - started,
                examples=_examples(scenario),
            )
    finally:
        engine.dispose()


def _examples(scenario: Scenario) -> dict[str, str]:
    found = {what: script.number for what, script in scenario.examples.items()}
    untouched = [s for s in scenario.scripts if not any(st.kind == "trigger" for st in s.steps)]
    if untouched:
        first = min(untouched, key=lambda s: s.opened_on)
        found["intake"] = first.number
        found["intake_coordinator"] = first.coordinator.login
    return found


def _refuse_configured_database(path: Path) -> None:
    configured = get_settings().database_url()
    if (
        configured.startswith("sqlite:///")
        and Path(configured.removeprefix("sqlite:///")).resolve() == path.resolve()
    ):
        raise InvalidInput(
            f"{path} は設定されたデータベースです。デモは別のファイルに作成してください。",
            f"{path} is the configured database; the demo must use another file.",
        )


def _play(
    session: Session,
    machine: LifecycleMachine,
    scenario: Scenario,
    progress: Callable[[int, int], None] | None,
) -> None:
    """Open every case in date order (so numbers follow dates), then play each case's steps."""
    scripts = sorted(scenario.scripts, key=lambda s: s.opened_on)
    total = len(scripts) + sum(len(s.steps) for s in scripts)
    done = 0
    for script in scripts:
        household = None
        if script.household_of is not None and script.household_of.case_id is not None:
            household = household_id_of_case(session, script.household_of.case_id)
        opened = cases.open_case(
            session=session,
            actor=script.coordinator,
            machine=machine,
            person={**script.person, "household_id": household},
            contact=script.contact,
        )
        script.case_id, script.number = opened.case_id, opened.number
        done += 1
        if progress:
            progress(done, total)
    for script in scripts:
        for step in sorted(script.steps, key=lambda st: st.on):
            _do(session, machine, scenario.world, script, step)
            done += 1
            if progress and done % 25 == 0:
                progress(done, total)
    if progress:
        progress(total, total)


def _do(session: Session, machine: LifecycleMachine, world: World, script: Script, step: Step) -> None:
    actor = script.coordinator if step.by is None else world.supervisors[step.by]
    assert script.case_id is not None
    case_id = script.case_id
    if step.kind == "contact":
        cases.add_contact(session=session, case_id=case_id, actor=actor, machine=machine, **step.data)
    elif step.kind == "consent":
        cases.give_consent(session=session, case_id=case_id, actor=actor, machine=machine, **step.data)
    elif step.kind == "outreach":
        cases.log_outreach(session=session, case_id=case_id, actor=actor, machine=machine, **step.data)
    elif step.kind == "enrol":
        cases.enrol_in_program(session=session, case_id=case_id, actor=actor, machine=machine, **step.data)
    else:
        data: dict[str, Any] = {
            k: script.meeting_id if v is LAST_MEETING else v for k, v in step.data.items()
        }
        fired = cases.fire(
            session=session, case_id=case_id, trigger=step.trigger, actor=actor, machine=machine, **data
        )
        if step.trigger == "hold_multilayer_meeting":
            script.meeting_id = event_payload(session, fired.case_id, fired.version)["meeting_id"]
