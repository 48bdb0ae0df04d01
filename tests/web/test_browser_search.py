"""In real headless Chromium: type in the header's search box, open a result; page a board
column with 「さらに表示」. Screenshots in tests/web/artifacts/."""

from __future__ import annotations

import re
from typing import Any

import pytest

from tests.web.browser import ARTIFACTS, chromium_missing, serving
from tests.web.conftest import Web
from tests.web.test_browser import sign_in
from tests.web.test_lists_search import open_case
from yorisoi.web.pages import board as board_page

_MISSING = chromium_missing()
pytestmark = pytest.mark.skipif(_MISSING is not None, reason=_MISSING or "")


def test_search_from_the_header_and_page_the_board(
    web: Web, browser: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(board_page, "BOARD_PAGE", 3)
    api = web.api_as(web.world.coordinator)
    numbers = [
        open_case(api, web, f"検索 {name}", "けんさく") for name in ("一子", "二子", "三子", "四子", "五子")
    ]
    ARTIFACTS.mkdir(exist_ok=True)
    with serving(web.app) as base:
        page = sign_in(browser, base, web.world.coordinator)
        column = page.locator("#col-intake")
        assert column.locator("a.case-card").count() == 3
        column.locator("a.more").click()
        page.wait_for_url(re.compile(r"col=intake"))
        cards = page.locator("#col-intake a.case-card")
        assert [cards.nth(i).locator(".number").inner_text() for i in range(cards.count())] == numbers[3:]
        page.screenshot(path=str(ARTIFACTS / "board-paged.png"), full_page=True)

        page.fill("header form.search input[name='q']", "検索四")
        page.press("header form.search input[name='q']", "Enter")
        page.wait_for_url(re.compile(r"/search\?q="))
        results = page.locator("main table a")
        assert results.count() == 1
        page.screenshot(path=str(ARTIFACTS / "search-results.png"), full_page=True)
        results.first.click()
        page.wait_for_url(f"{base}/cases/{numbers[3]}")
        assert "検索 四子" in page.locator("main").inner_text()
