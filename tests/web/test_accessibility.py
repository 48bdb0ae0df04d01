"""Accessibility in real headless Chromium: axe-core on every page the browser walk visits, the main
path with the keyboard alone, and no sideways scrolling at 390 px (a phone) and 768 px (a tablet
on a home visit).

axe-core (tests/web/vendor, see tests/web/axe.py) runs as a coordinator and as a supervisor on the
sign-in page, the board, the due list, the case list, the intake form, statistics, the lifecycle,
the audit page, the import page, the sign-in locks, the approvals inbox, an error page, case pages
in every stage (a DV-protected one among them) and every form those case pages link to. A page
fails on any serious or critical violation (JIS X 8341-3 AA ≈ WCAG 2.x AA); all are collected
before the test fails, so one run lists every page's problems. Screenshots go to
tests/web/artifacts/ (ignored by git).
"""

from __future__ import annotations

import datetime as dt
import re
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import pytest

from models import Staff
from tests import factories as f
from tests.web.axe import assert_accessible, describe, new_context, serious, violations
from tests.web.browser import ARTIFACTS, chromium_missing, serving
from tests.web.conftest import PASSWORD, Web

_MISSING = chromium_missing()
pytestmark = pytest.mark.skipif(_MISSING is not None, reason=_MISSING or "")


@dataclass
class Cases:
    """Case numbers in the stages the walk needs, built through the case service."""

    intake: str
    dv_assessment: str
    planning: str
    monitoring: str
    closure_proposed: str
    closed: str

    def all(self) -> list[str]:
        return list(vars(self).values())


def build_cases(web: Web) -> Cases:
    world, machine = web.world, web.machine
    numbers: list[str] = []
    with web.session() as session:

        def opened(*, dv: bool = False) -> int:
            fired = f.open_case(session, world, machine, dv_protected=dv)
            numbers.append(fired.number)
            return fired.case_id

        opened()
        dv = opened(dv=True)
        f.fire(session, machine, dv, "start_assessment", world.coordinator)
        planning = opened()
        meeting = f.to_multilayer_meeting(session, world, machine, planning)
        assert meeting
        f.fire(session, machine, planning, "draft_plan", world.coordinator, **f.plan_data(world))
        monitoring = opened()
        f.to_monitoring(session, world, machine, monitoring)
        proposed = opened()
        f.fire(session, machine, proposed, "start_assessment", world.coordinator)
        closure = {"reason": "goals_met", "evaluation": "目標を達成した", "proposed_on": dt.date(2025, 7, 1)}
        f.fire(session, machine, proposed, "propose_closure", world.coordinator, **closure)
        closed = opened()
        f.fire(session, machine, closed, "start_assessment", world.coordinator)
        f.fire(session, machine, closed, "propose_closure", world.coordinator, **closure)
        f.fire(session, machine, closed, "approve_closure", world.supervisor, decided_on=dt.date(2025, 7, 3))
    return Cases(*numbers)


def sign_in(context: Any, base: str, staff: Staff) -> Any:
    page = context.new_page()
    page.set_default_timeout(15_000)
    page.goto(f"{base}/login")
    page.fill("#login", staff.login)
    page.fill("#password", PASSWORD)
    page.click("button:has-text('ログイン')")
    page.wait_for_url(f"{base}/")
    return page


@dataclass
class Audit:
    """Every page checked, and the serious or critical violations found, page by page."""

    checked: list[str] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)
    milder: Counter[str] = field(default_factory=Counter)

    def check(self, page: Any, where: str) -> None:
        self.checked.append(where)
        found = violations(page)
        bad = serious(found)
        if bad:
            self.failures.append(describe(bad, f"{where} ({page.url})"))
        for v in found:
            if v not in bad:
                self.milder[f"{v['id']} ({v['impact']})"] += len(v["nodes"])


def walk(page: Any, base: str, who: str, cases: Cases, audit: Audit, seen_forms: set[str]) -> None:
    """Every page of the navigation, the case pages, and each form linked from them once."""
    for link in page.locator("header nav a").all():
        href = str(link.get_attribute("href"))
        page.goto(f"{base}{href}")
        audit.check(page, f"{who} {href}")
    forms: list[tuple[str, str]] = []
    for number in cases.all():
        page.goto(f"{base}/cases/{number}")
        audit.check(page, f"{who} /cases/{number}")
        for link in page.locator("a[href*='/do/']").all():
            href = str(link.get_attribute("href"))
            action = re.sub(r"\?.*", "", href.rsplit("/do/", 1)[1])
            if action not in seen_forms:
                seen_forms.add(action)
                forms.append((action, href))
    for action, href in forms:
        page.goto(f"{base}{href}")
        audit.check(page, f"{who} form {action}")
    page.goto(f"{base}/cases/R99-9999")  # the error page
    audit.check(page, f"{who} error page")


def test_every_page_passes_axe_as_coordinator_and_supervisor(web: Web, browser: Any) -> None:
    world = web.world
    cases = build_cases(web)
    audit = Audit()
    seen_forms: set[str] = set()
    ARTIFACTS.mkdir(exist_ok=True)
    with serving(web.app) as base:
        context = new_context(browser)
        page = context.new_page()
        page.goto(f"{base}/login")
        audit.check(page, "signed out /login")
        for who, staff in (("coordinator", world.coordinator), ("supervisor", world.supervisor)):
            page = sign_in(context, base, staff)
            walk(page, base, who, cases, audit, seen_forms)
            page.click("button:has-text('ログアウト')")
            page.wait_for_url(f"{base}/login")
        context.close()
    print(f"axe: {len(audit.checked)} pages; milder violations (not failed): {dict(audit.milder)}")
    # The walk must have reached what the issue names, or a green run would mean little.
    assert len(audit.checked) >= 40, audit.checked
    for expected in ("/inbox", "/audit", "/import", "/locks", "/reports", "/lifecycle", "form approve_plan"):
        assert any(expected in where for where in audit.checked), (expected, audit.checked)
    assert not audit.failures, "\n".join(audit.failures)


def test_axe_helper_reports_a_serious_violation(web: Web, browser: Any) -> None:
    """The check can fail: an image without a text alternative and an unlabelled field are caught."""
    context = new_context(browser)
    page = context.new_page()
    page.set_content(
        '<!doctype html><html lang="ja"><head><title>t</title></head><body><main><h1>見出し</h1>'
        '<img src="data:image/gif;base64,R0lGODlhAQABAAAAACw="><input type="text"></main></body></html>'
    )
    with pytest.raises(AssertionError) as failure:
        assert_accessible(page, "bad page")
    message = str(failure.value)
    assert "image-alt" in message and "label" in message and "critical" in message
    context.close()


# --- the keyboard alone ----------------------------------------------------------------------------

_FOCUS_STATE = """() => {
  const e = document.activeElement;
  if (!e || e === document.body) return null;
  const r = e.getBoundingClientRect();
  const s = getComputedStyle(e);
  const outlined = s.outlineStyle !== 'none' && parseFloat(s.outlineWidth) >= 2;
  return {
    tag: e.tagName.toLowerCase(), id: e.id, href: e.getAttribute('href') || '',
    text: (e.innerText || e.value || e.getAttribute('aria-label') || '').trim().slice(0, 40),
    visible: r.width > 0 && r.height > 0 && s.visibility !== 'hidden'
      && r.bottom > 0 && r.right > 0 && r.top < innerHeight && r.left < innerWidth,
    outlined: outlined || (s.boxShadow && s.boxShadow !== 'none'),
    outline: `${s.outlineStyle} ${s.outlineWidth} ${s.outlineColor}; box-shadow ${s.boxShadow}`,
  };
}"""


def tab_to(page: Any, wanted: str, *, limit: int = 80) -> dict[str, Any]:
    """Press Tab until the focused element matches the CSS selector `wanted`; every element the
    focus lands on on the way must be on screen and visibly outlined."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        state = page.evaluate(_FOCUS_STATE)
        assert state is not None, f"Tab left the page's controls on {page.url}"
        where = f"{state['tag']}#{state['id']} {state['href']} 「{state['text']}」 on {page.url}"
        assert state["visible"], f"focus on an element not on screen: {where}"
        assert state["outlined"], f"focus without a visible outline ({state['outline']}): {where}"
        if page.evaluate("(s) => document.activeElement.matches(s)", wanted):
            return dict(state)
    raise AssertionError(f"{wanted} not reached with {limit} Tab presses on {page.url}")


def test_main_path_with_the_keyboard_alone(web: Web, browser: Any) -> None:
    """Sign in, skip to the content, open a case from the board, record a contact through its
    form and go back to the board: only Tab, typing and Enter."""
    world = web.world
    cases = build_cases(web)
    ARTIFACTS.mkdir(exist_ok=True)
    with serving(web.app) as base:
        context = browser.new_context(locale="ja-JP", viewport={"width": 1280, "height": 900})
        page = context.new_page()
        page.set_default_timeout(15_000)
        page.goto(f"{base}/login")
        skip = tab_to(page, "a.skip-link", limit=1)  # the first stop of every page
        assert skip["text"] == "本文へ移動"
        tab_to(page, "#login")
        page.keyboard.type(world.coordinator.login)
        tab_to(page, "#password", limit=1)
        page.keyboard.type(PASSWORD)
        page.keyboard.press("Enter")
        page.wait_for_url(f"{base}/")

        tab_to(page, "a.skip-link", limit=1)
        page.keyboard.press("Enter")  # to the content: the next Tab skips the menu
        assert page.evaluate("document.activeElement.id") == "main"
        page.keyboard.press("Tab")
        assert page.evaluate("document.activeElement.closest('header') === null")
        tab_to(page, f"a[href='/cases/{cases.intake}']")
        page.screenshot(path=str(ARTIFACTS / "keyboard-board.png"))
        page.keyboard.press("Enter")
        page.wait_for_url(f"{base}/cases/{cases.intake}")

        tab_to(page, "a[href*='/do/add_contact']")
        page.keyboard.press("Enter")
        page.wait_for_url(re.compile(r"/do/add_contact"))
        # Each group of choices is named by its caption, so a screen reader says what it asks.
        for group in ("相談者区分", "相談方法"):
            assert page.get_by_role("group", name=group, exact=True).count() == 1, group
        tab_to(page, "input[name='topics'][value='income']")
        page.keyboard.press("Space")
        tab_to(page, "#note")
        page.keyboard.type("電話で近況を確認")
        tab_to(page, "button[type='submit']")
        page.screenshot(path=str(ARTIFACTS / "keyboard-contact-form.png"))
        page.keyboard.press("Enter")
        page.wait_for_url(re.compile(rf"/cases/{cases.intake}\?done=add_contact"))
        assert "電話で近況を確認" in page.inner_text("main")

        tab_to(page, "header nav a[href='/']")
        page.keyboard.press("Enter")
        page.wait_for_url(f"{base}/")
        context.close()


# --- small screens -------------------------------------------------------------------------------

_OVERFLOW = """() => {
  const width = window.innerWidth;
  const scrolls = (e) => {
    for (let p = e.parentElement; p && p !== document.body; p = p.parentElement) {
      const x = getComputedStyle(p).overflowX;
      if (x === 'auto' || x === 'scroll' || x === 'hidden') return true;
    }
    return false;
  };
  const offenders = [];
  for (const e of document.body.querySelectorAll('*')) {
    const r = e.getBoundingClientRect();
    if (r.right > width + 1 && r.width > 0 && !scrolls(e)) {
      const classes = typeof e.className === 'string' ? e.className.trim().split(/\\s+/).join('.') : '';
      offenders.push(e.tagName.toLowerCase() + (e.id ? '#' + e.id : '') + (classes ? '.' + classes : ''));
    }
  }
  return {scrollWidth: document.documentElement.scrollWidth, width, offenders: offenders.slice(0, 8)};
}"""


def test_no_page_scrolls_sideways_on_phones_and_tablets(web: Web, browser: Any) -> None:
    """At 390 px (a phone) and 768 px (a tablet) the page body is never wider than the screen;
    wide tables scroll inside their own box (allowed: that is what the box is for), and at 390 px
    axe finds every such box reachable with the keyboard on the pages with tables."""
    world = web.world
    cases = build_cases(web)
    wide: list[str] = []
    checked = 0
    ARTIFACTS.mkdir(exist_ok=True)
    with serving(web.app) as base:
        for width in (390, 768):
            context = new_context(browser, viewport={"width": width, "height": 900})  # axe at 390 px
            page = context.new_page()
            page.set_default_timeout(15_000)
            page.goto(f"{base}/login")
            state = page.evaluate(_OVERFLOW)
            if state["scrollWidth"] > width:
                wide.append(f"{width} px /login: body {state['scrollWidth']} px, wider: {state['offenders']}")
            page.fill("#login", world.supervisor.login)
            page.fill("#password", PASSWORD)
            page.click("button:has-text('ログイン')")
            page.wait_for_url(f"{base}/")
            paths = [str(a.get_attribute("href")) for a in page.locator("header nav a").all()]
            paths += [f"/cases/{n}" for n in cases.all()]
            with_tables = {"/due", "/cases", "/inbox", "/audit", "/locks", f"/cases/{cases.monitoring}"}
            paths += [
                f"/cases/{cases.monitoring}/do/record_monitoring",
                f"/cases/{cases.intake}/do/hold_support_meeting",
                f"/cases/{cases.planning}/do/approve_plan",
                "/cases/R99-9999",
            ]
            for path in paths:
                page.goto(f"{base}{path}")
                checked += 1
                state = page.evaluate(_OVERFLOW)
                if state["scrollWidth"] > width:
                    wide.append(
                        f"{width} px {path}: body {state['scrollWidth']} px, wider: {state['offenders']}"
                    )
                if width == 390 and path in with_tables:  # tables that scroll must stay reachable
                    bad = serious(violations(page))
                    if bad:
                        wide.append(describe(bad, f"{width} px {path}"))
            for path, name in (
                ("/", "board"),
                (f"/cases/{cases.monitoring}", "case"),
                ("/reports", "reports"),
            ):
                page.goto(f"{base}{path}")
                page.screenshot(path=str(ARTIFACTS / f"{name}-{width}px.png"), full_page=True)
            context.close()
    assert checked >= 30
    assert not wide, "pages wider than the screen:\n" + "\n".join(wide)
