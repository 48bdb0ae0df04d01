"""In real headless Chromium: the drawn lifecycle, the case page on a 390 px phone and a 768 px
tablet (ログアウト on one line, the current stage highlighted), the statistics table, and the
support plan and the 重層的支援会議 record printed to A4 PDFs with a Japanese font embedded.

The PDFs, PNG renderings of their pages (where `pdftoppm` is installed) and screenshots are
saved under tests/web/artifacts/ to be looked at. Japanese needs a CJK font on the machine
(`fc-list :lang=ja`; Debian: `apt-get install fonts-noto-cjk`); without one the PDF test skips.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from typing import Any

import pytest

from tests.web.browser import ARTIFACTS, chromium_missing, serving
from tests.web.conftest import DV_ADDRESS, PASSWORD, Web
from tests.web.helpers import intake, ok, to_planning

_MISSING = chromium_missing()
pytestmark = pytest.mark.skipif(_MISSING is not None, reason=_MISSING or "")

A4_PORTRAIT_PT = (595, 842)  # 210 × 297 mm in PostScript points


def japanese_font_missing() -> str | None:
    fc_list = shutil.which("fc-list")
    if fc_list is None:
        return "fc-list not found: cannot tell whether a Japanese font is installed"
    found = subprocess.run([fc_list, ":lang=ja"], capture_output=True, text=True, check=False).stdout
    return None if found.strip() else "no Japanese font (apt-get install fonts-noto-cjk): PDF test skipped"


def sign_in(browser: Any, base: str, login: str, width: int = 1280) -> Any:
    page = browser.new_page(viewport={"width": width, "height": 900}, locale="ja-JP")
    page.set_default_timeout(10_000)
    page.goto(f"{base}/login")
    page.fill("#login", login)
    page.fill("#password", PASSWORD)
    page.click("button:has-text('ログイン')")
    page.wait_for_url(f"{base}/")
    return page


def line_boxes(page: Any, selector: str) -> int:
    """How many lines the element's text takes (1: it did not wrap)."""
    return int(
        page.eval_on_selector(
            selector,
            "el => { const r = document.createRange(); r.selectNodeContents(el);"
            " return new Set([...r.getClientRects()].map(b => Math.round(b.top))).size; }",
        )
    )


def walked_case(web: Web) -> tuple[str, int]:
    """A DV-protected case with an approved plan: (number, the 重層的支援会議's id)."""
    world = web.world
    api = web.api_as(world.coordinator)
    number = intake(api, world, dv=True, address=DV_ADDRESS)
    meeting_id = to_planning(api, world, number)
    ok(
        web.api_as(world.supervisor).post(
            f"/api/cases/{number}/plans/approve", json={"meeting_id": meeting_id, "approved_on": "2025-06-25"}
        )
    )
    return number, meeting_id


def pdf_pages(pdf: bytes) -> list[tuple[float, float]]:
    """The size in points of each page of a PDF Chromium wrote."""
    boxes = re.findall(rb"/MediaBox\s*\[\s*0 0 ([\d.]+) ([\d.]+)\s*\]", pdf)
    return [(float(w), float(h)) for w, h in boxes]


def test_lifecycle_drawn_and_case_page_on_phone_and_tablet(web: Web, browser: Any) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    number, _meeting = walked_case(web)
    with serving(web.app) as base:
        page = sign_in(browser, base, web.world.coordinator.login)
        errors: list[str] = []
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        page.goto(f"{base}/lifecycle")
        drawing = page.locator("figure svg.lifecycle-drawing")
        drawing.wait_for(state="visible")
        box = drawing.bounding_box()
        assert box is not None and box["width"] > 400 and box["height"] > 600
        assert page.locator("figure svg g.stage").count() == len(web.machine.lifecycle.stages)
        assert not errors  # no CSP violation, nothing failed to load
        page.screenshot(path=str(ARTIFACTS / "lifecycle.png"), full_page=True)

        page.goto(f"{base}/reports?fiscal_year=R7&as_of=2026-03-31")
        first = page.locator(".sheet-consultation tbody th.first").first
        assert line_boxes(page, ".sheet-consultation tbody th.first") == 1  # the desk name on one line
        scroller = page.locator(".sheet-consultation .table-scroll")
        scroller.evaluate("el => el.scrollLeft = el.scrollWidth")
        left = first.bounding_box()
        frame = scroller.bounding_box()
        assert left is not None and frame is not None and abs(left["x"] - frame["x"]) < 3  # stays put
        # scrolled back to the start, 相談実件数 / 相談延件数 still stand at the right edge, side by side
        scroller.evaluate("el => el.scrollLeft = 0")
        cases = page.locator(".sheet-consultation tbody tr:last-child td.pin-2").bounding_box()
        contacts = page.locator(".sheet-consultation tbody tr:last-child td.pin-1").bounding_box()
        assert cases is not None and contacts is not None
        assert abs(contacts["x"] + contacts["width"] - (frame["x"] + frame["width"])) < 4
        assert abs(cases["x"] + cases["width"] - contacts["x"]) < 2
        page.screenshot(path=str(ARTIFACTS / "reports.png"), full_page=True)
        printed = page.pdf(path=str(ARTIFACTS / "reports-print.pdf"), prefer_css_page_size=True)
        assert {(round(w), round(h)) for w, h in pdf_pages(printed)} == {A4_PORTRAIT_PT[::-1]}  # landscape
        page.close()

        for width in (390, 768):
            phone = sign_in(browser, base, web.world.coordinator.login, width=width)
            phone.goto(f"{base}/cases/{number}")
            assert line_boxes(phone, "header.top .who button") == 1, width
            logout = phone.locator("header.top .who button").bounding_box()
            assert logout is not None and logout["x"] + logout["width"] <= width
            wide = phone.evaluate(
                "w => [...document.querySelectorAll('body *')]"
                ".filter(e => e.getBoundingClientRect().right > w + 1)"
                ".map(e => e.tagName + '.' + e.className).slice(0, 8)",
                width,
            )
            assert phone.evaluate("document.documentElement.scrollWidth") <= width, wide  # no sideways page
            current = phone.locator(".stage-strip li[aria-current='step']")
            assert current.inner_text().startswith("支援・モニタリング") and current.is_visible()
            assert phone.locator("h1 .badge.dv").is_visible()
            phone.screenshot(path=str(ARTIFACTS / f"case-{width}.png"), full_page=False)
            phone.close()


def test_plan_and_meeting_record_print_on_a4(web: Web, browser: Any) -> None:
    reason = japanese_font_missing()
    if reason:
        pytest.skip(reason)
    ARTIFACTS.mkdir(exist_ok=True)
    number, meeting_id = walked_case(web)
    with serving(web.app) as base:
        page = sign_in(browser, base, web.world.coordinator.login)
        for name, url in (
            ("plan", f"/cases/{number}/plans/1-1/print"),
            ("meeting", f"/cases/{number}/meetings/{meeting_id}/print"),
        ):
            page.goto(base + url)
            page.emulate_media(media="print")
            assert not page.locator("header.top").is_visible()  # the app's header is not printed
            page.screenshot(path=str(ARTIFACTS / f"print-{name}.png"), full_page=True)
            path = ARTIFACTS / f"print-{name}.pdf"
            pdf = page.pdf(path=str(path), format="A4", print_background=True, prefer_css_page_size=True)
            sizes = pdf_pages(pdf)
            assert 1 <= len(sizes) <= 2, (name, sizes)
            assert all(abs(w - A4_PORTRAIT_PT[0]) < 2 and abs(h - A4_PORTRAIT_PT[1]) < 2 for w, h in sizes)
            assert re.search(rb"/FontName\s*/[A-Z]{6}\+Noto\w*CJK", pdf), "no Japanese font embedded"
            assert DV_ADDRESS.encode() not in pdf
            if shutil.which("pdftoppm"):
                subprocess.run(
                    ["pdftoppm", "-png", "-r", "60", str(path), str(ARTIFACTS / f"print-{name}")], check=True
                )
                text = subprocess.run(["pdftotext", str(path), "-"], capture_output=True, text=True).stdout
                assert DV_ADDRESS not in text
                if name == "plan":
                    assert "本人 署名" in text and "週1回外出できる" in text and "見直し予定日" in text
                else:
                    assert "重層的支援会議 会議録" in text and "確認済み" in text
