"""In real headless Chromium: an auditor starts the verification from the audit page, sees the
recorded result once it is done, and narrows the page to one case typed full-width. A
screenshot of the page is saved in tests/web/artifacts/."""

from __future__ import annotations

import time
from typing import Any

import pytest

from tests import factories
from tests.web.browser import ARTIFACTS, chromium_missing, serving
from tests.web.conftest import PASSWORD, Web

_MISSING = chromium_missing()
pytestmark = pytest.mark.skipif(_MISSING is not None, reason=_MISSING or "")


def test_auditor_verifies_from_the_page_and_filters_by_a_full_width_case_number(
    web: Web, browser: Any
) -> None:
    with web.session() as session:
        case = factories.open_case(session, web.world, web.machine)
        factories.to_monitoring(session, web.world, web.machine, case.case_id)
    typed = "".join(chr(ord(c) + 0xFEE0) if c.isalnum() else "－" for c in case.number)
    with serving(web.app) as base:
        page = browser.new_page(viewport={"width": 1280, "height": 900}, locale="ja-JP")
        page.set_default_timeout(10_000)
        page.goto(f"{base}/login")
        page.fill("#login", web.world.auditor.login)
        page.fill("#password", PASSWORD)
        page.click("button:has-text('ログイン')")
        page.wait_for_url(f"{base}/")
        page.goto(f"{base}/audit")
        assert "監査記録の検証はまだ実行されていません" in page.inner_text("#verification")
        page.click("button:has-text('今すぐ全ケースを検証する')")
        page.wait_for_url(f"{base}/audit#verification")
        deadline = time.monotonic() + 20
        while "異常なし" not in page.inner_text("#verification"):
            assert time.monotonic() < deadline, page.inner_text("#verification")
            time.sleep(0.2)
            page.reload()
        assert "1 ケース" in page.inner_text("#verification")
        page.fill("input[name='case']", typed)
        page.click("form.filters button:has-text('表示')")
        page.wait_for_selector(f"h1:has-text('ケース {case.number}')")
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "audit.png"), full_page=True)
        page.close()
