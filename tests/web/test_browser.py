"""In real headless Chromium: a coordinator takes a case from intake to a plan; a supervisor
approves it, the coordinator cannot. A login locked after ten failures and unlocked by a
supervisor; a copied cookie that stops working at sign-out; a password change that ends a
session at once. Screenshots of the board and the case page are saved in tests/web/artifacts/."""

from __future__ import annotations

import re
from typing import Any

import pytest

from models import Staff
from tests.web.browser import ARTIFACTS, chromium_missing, serving
from tests.web.conftest import PASSWORD, Web
from yorisoi.service import accounts
from yorisoi.web.sessions import COOKIE

_MISSING = chromium_missing()
pytestmark = pytest.mark.skipif(_MISSING is not None, reason=_MISSING or "")


def sign_in(browser: Any, base: str, staff: Staff) -> Any:
    page = browser.new_page(viewport={"width": 1280, "height": 900}, locale="ja-JP")
    page.set_default_timeout(10_000)
    page.goto(f"{base}/login")
    page.fill("#login", staff.login)
    page.fill("#password", PASSWORD)
    page.click("button:has-text('ログイン')")
    page.wait_for_url(f"{base}/")
    return page


def stage_of(page: Any) -> str:
    return str(page.locator("h1 .badge").first.inner_text())


def attendee(page: Any, row: int, name: str, agency: str, *, acknowledged: bool = True) -> None:
    page.fill(f"input[name='attendees-{row}-name']", name)
    page.select_option(f"select[name='attendees-{row}-agency_id']", label=agency)
    if acknowledged:
        page.check(f"input[name='attendees-{row}-acknowledged_confidentiality']")


def test_coordinator_walks_a_case_to_a_plan_and_a_supervisor_approves_it(web: Web, browser: Any) -> None:
    world = web.world
    ARTIFACTS.mkdir(exist_ok=True)
    with serving(web.app) as base:
        page = sign_in(browser, base, world.coordinator)

        page.click("nav >> text=新規受付")
        page.fill("#name", "山田 太郎")
        page.fill("#kana", "やまだ たろう")
        page.fill("#address", "山口市亀山町2-1")
        page.select_option("#desk_id", label=world.desk.name)
        page.check("input[name='topics'][value='income']")
        page.check("input[name='topics'][value='hikikomori_school_refusal']")
        page.click("button:has-text('受付する')")
        page.wait_for_url(re.compile(r"/cases/R\d+-\d{4}"))
        case_url = page.url.split("?")[0]
        assert stage_of(page) == "受付"

        page.click("a.button:has-text('アセスメント開始')")
        page.fill("#note", "本人・母と面談")
        page.click("button:has-text('記録する')")
        assert stage_of(page) == "アセスメント"

        # No consent yet: the 重層的支援会議 is blocked, and the page says why.
        assert page.locator("a.button:has-text('重層的支援会議の開催')").count() == 0
        page.click("summary:has-text('できない操作')")
        assert "有効な本人同意がありません" in page.locator("ul.blocked").inner_text()

        page.click("a.button:has-text('支援会議の開催')")
        attendee(page, 0, "包括 担当者", world.elderly.name)
        attendee(page, 1, "自立相談 担当者", world.poverty.name)
        page.fill("#decisions", "見守りを継続し、本人同意の取得を目指す")
        page.click("button:has-text('記録する')")
        assert stage_of(page) == "支援会議"

        page.click("a.button:has-text('本人同意の記録')")
        for agency in world.agencies:
            page.check(f"input[name='agency_ids'][value='{agency.id}']")
        page.click("button:has-text('記録する')")
        assert "「本人同意の記録」を記録しました" in page.inner_text("main")

        page.click("a.button:has-text('重層的支援会議の開催')")
        attendee(page, 0, "包括 担当者", world.elderly.name)
        attendee(page, 1, "自立相談 担当者", world.poverty.name)
        page.fill("#decisions", "役割分担を決定")
        page.click("button:has-text('記録する')")
        assert stage_of(page) == "重層的支援会議"

        page.click("a.button:has-text('支援プラン作成')")
        page.fill("#household_goal", "世帯が安定して暮らせる")
        page.fill("input[name='goals-0-problem']", "ひきこもり")
        page.fill("input[name='goals-0-goal']", "週1回外出できる")
        page.select_option("select[name='roles-0-agency_id']", label=world.poverty.name)
        page.fill("input[name='roles-0-role']", "家計相談")
        page.check("input[name='roles-0-is_lead']")
        page.select_option("select[name='roles-1-agency_id']", label=world.elderly.name)
        page.fill("input[name='roles-1-role']", "母の介護調整")
        page.fill("#monitoring_interval_days", "30")
        page.click("button:has-text('記録する')")
        assert stage_of(page) == "支援プラン"

        # The coordinator cannot approve: no button, the reason shown, the form refused.
        assert page.locator("a.button:has-text('支援プラン承認')").count() == 0
        page.screenshot(path=str(ARTIFACTS / "case.png"), full_page=True)
        page.click("summary:has-text('できない操作')")
        assert "支援プラン承認" in page.locator("ul.blocked").inner_text()
        page.goto(f"{case_url}/do/approve_plan")
        page.click("button:has-text('承認する')")
        assert "権限がありません" in page.inner_text("main")
        page.goto(f"{base}/")
        assert page.locator(".case-card").count() == 1
        page.screenshot(path=str(ARTIFACTS / "board.png"), full_page=True)
        page.click("button:has-text('ログアウト')")
        page.wait_for_url(f"{base}/login")

        supervisor = sign_in(browser, base, world.supervisor)
        supervisor.click("nav >> text=承認待ち")
        supervisor.click("a.button:has-text('確認して承認')")
        supervisor.click("button:has-text('承認する')")
        supervisor.wait_for_url(re.compile(r"done=approve_plan"))
        assert stage_of(supervisor) == "支援・モニタリング"
        assert "承認済み" in supervisor.inner_text("main")
        supervisor.screenshot(path=str(ARTIFACTS / "case-approved.png"), full_page=True)
    assert (ARTIFACTS / "board.png").stat().st_size > 10_000
    assert (ARTIFACTS / "case.png").stat().st_size > 10_000


def _try_sign_in(page: Any, base: str, login: str, password: str) -> str:
    page.goto(f"{base}/login")
    page.fill("#login", login)
    page.fill("#password", password)
    page.click("button:has-text('ログイン')")
    page.wait_for_load_state()
    return str(page.inner_text("main"))


def test_lockout_unlock_and_revoked_sessions_in_a_real_browser(web: Web, browser: Any) -> None:
    world = web.world
    with serving(web.app) as base:
        page = browser.new_page(locale="ja-JP")
        page.set_default_timeout(10_000)
        for _ in range(10):
            assert "ログイン名またはパスワードが違います" in _try_sign_in(
                page, base, "tanaka", "wrong password"
            )
            web.clock.now += 60  # past each delay: the tenth failure locks
        assert "ロックされています" in _try_sign_in(page, base, "tanaka", PASSWORD)
        assert page.url.startswith(f"{base}/login")

        supervisor = sign_in(browser, base, world.supervisor)
        supervisor.click("nav >> text=ロック解除")
        row = supervisor.locator("tr", has_text="tanaka").first
        assert "ロック" in row.inner_text()
        row.locator("button:has-text('解除する')").click()
        supervisor.wait_for_url(f"{base}/locks")
        assert "待機・ロック中のログインはありません" in supervisor.inner_text("main")
        assert "ロック解除" in supervisor.locator("table.sign-in-log").inner_text()

        signed_in = sign_in(browser, base, world.coordinator)  # unlocked: the right password works
        cookie = next(c for c in signed_in.context.cookies() if c["name"] == COOKIE)
        thief = browser.new_context()  # another browser holding a copy of the cookie
        thief.add_cookies([cookie])
        stolen = thief.new_page()
        stolen.goto(f"{base}/")
        assert "ボード" in stolen.title() or stolen.url == f"{base}/"
        signed_in.click("button:has-text('ログアウト')")
        signed_in.wait_for_url(f"{base}/login")
        stolen.goto(f"{base}/")
        assert stolen.url.startswith(f"{base}/login")  # the copy stopped working at sign-out

        again = sign_in(browser, base, world.coordinator)  # a password change ends it at once
        with web.session() as session:
            accounts.set_password(session, world.coordinator.login, "a brand new passphrase")
        again.goto(f"{base}/cases")
        assert again.url.startswith(f"{base}/login")
        assert "有効期限が切れました" in again.inner_text("main")
        thief.close()
