"""What happens in the year: the multi-agency stories and the everyday cases.

The stories reproduce 由利本荘市's counts (18 支援会議, 16 重層的支援会議, 13 plans, 11 closures) and
leave at least one case in every stage of the default lifecycle; everyday cases are the many
consultations one desk or agency can handle (つなぎ), a few of them assessed.
"""

from __future__ import annotations

import datetime as dt

from yorisoi.demo.city import EVERYDAY_EXTRA_CONTACT_WEIGHTS, FY_END, FY_START, THEMES
from yorisoi.demo.scenario import Scenario, Script, Step

STORY_CASES = 31  # the cases `write_stories` opens; `run` checks it


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
