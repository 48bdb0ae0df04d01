"""The scenario's vocabulary: a `Script` per person (how the case opens, then dated steps) and
the `Scenario` that writes them from one seeded random generator.

Nothing here touches the database; `yorisoi.demo.run` plays the scripts through the case
service.
"""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass, field
from typing import Any

from models import Agency, Staff
from yorisoi.demo.city import (
    AREAS,
    CITY,
    COMMON_TOPICS,
    FY_END,
    GIVEN_NAMES,
    METHOD_WEIGHTS,
    MONITORING_SUMMARIES,
    REFERRER_WEIGHTS,
    ROLES_BY_FIELD,
    SUPPORT_MEETING_TITLES,
    SURNAMES,
    World,
)


class _LastMeeting:
    """Stands for the id of the case's latest 重層的支援会議, known only when the demo runs."""


LAST_MEETING = _LastMeeting()


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
