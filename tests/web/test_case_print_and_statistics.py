"""Issue 13 (case page, statistics, lifecycle, print): the published-table layout and 和暦
titles on the page, XLSX and CSV; 四捨五入 rates; the drawn lifecycle within the CSP; the case
page's stage highlight, DV badge, timeline business dates, one date style, empty-table rows;
the error page's real back link; the A4 print views of a plan and a meeting record."""

from __future__ import annotations

import csv
import io
import re
import zipfile
from html.parser import HTMLParser
from pathlib import Path

from openpyxl import load_workbook

from models.person import MASKED_ADDRESS
from tests.web.conftest import DV_ADDRESS, Web
from tests.web.helpers import attendees, intake, ok, to_planning
from yorisoi.reports.layout import Sheet
from yorisoi.web.templating import _templates

AS_OF = "2025-03-31"  # 令和6年度の末日
TITLE_DAY = "令和7年3月31日現在"
ISO = re.compile(r"\b\d{4}-\d{2}-\d{2}\b")


def _approve(web: Web, number: str, meeting_id: int) -> None:
    ok(
        web.api_as(web.world.supervisor).post(
            f"/api/cases/{number}/plans/approve", json={"meeting_id": meeting_id, "approved_on": "2025-06-25"}
        )
    )


class _Text(HTMLParser):
    """The text a reader sees: no scripts, styles or form fields (an input's value may be ISO)."""

    HIDDEN = frozenset({"script", "style", "textarea", "select", "title"})

    def __init__(self) -> None:
        super().__init__()
        self.parts: list[str] = []
        self.hidden = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.hidden += tag in self.HIDDEN

    def handle_endtag(self, tag: str) -> None:
        self.hidden -= tag in self.HIDDEN

    def handle_data(self, data: str) -> None:
        if not self.hidden:
            self.parts.append(data)


def _visible_text(page: str) -> str:
    parser = _Text()
    parser.feed(page)
    return " ".join(parser.parts)


def _between(page: str, start: str, end: str) -> str:
    """The part of `page` from the first `start` to the next `end` after it."""
    begin = page.index(start)
    return page[begin : page.index(end, begin)]


def test_statistics_titles_in_wareki_on_page_xlsx_and_csv(web: Web) -> None:
    client = web.page_as(web.world.supervisor)
    page = client.get(f"/reports?fiscal_year=R6&as_of={AS_OF}")
    assert page.status_code == 200
    assert f"令和6年度の統計（{TITLE_DAY}）" in page.text
    assert f"令和6年度 相談実績（全体） 令和6年4月1日〜令和7年3月31日（{TITLE_DAY}）" in page.text
    api = web.api_as(web.world.supervisor)
    xlsx = api.get(f"/api/reports/annual?fiscal_year=R6&as_of={AS_OF}&format=xlsx")
    book = load_workbook(io.BytesIO(xlsx.content))
    assert all(TITLE_DAY in str(book[name]["A1"].value) for name in book.sheetnames)
    archive = zipfile.ZipFile(
        io.BytesIO(api.get(f"/api/reports/annual?fiscal_year=R6&as_of={AS_OF}&format=csv").content)
    )
    for name in archive.namelist():
        first = next(csv.reader(io.StringIO(archive.read(name).decode("utf-8-sig"))))
        assert TITLE_DAY in first[0], name
    assert not ISO.search(_visible_text(page.text))


def test_consultation_table_has_desks_as_rows_totals_set_apart_and_pinned_columns(web: Web) -> None:
    world = web.world
    intake(web.api_as(world.coordinator), world)
    page = web.page_as(world.supervisor).get("/reports?fiscal_year=R7&as_of=2026-03-31")
    table = _between(page.text, "sheet-consultation", "</table>")
    head, body = _between(table, "<thead>", "</thead>"), _between(table, "<tbody>", "</tbody>")
    desks = re.findall(r'<th scope="row" class="first">([^<]*)</th>', body)
    assert desks == [world.desk.name, "合計"]  # one row per desk, the total last
    assert body.count('<tr class="total-row">') == 1 and body.rindex("total-row") > body.rindex(
        world.desk.name
    )
    assert ">収入・生活費のこと</th>" in head and ">来所</th>" in head  # topics and methods across
    assert head.count('class="total col"') == 3  # three 計 columns, set apart
    pinned = re.findall(r'class="[^"]*\bpin pin-\d[^"]*">([^<]*)</th>', head)
    assert pinned == ["相談実件数", "相談延件数"]
    first_row = _between(body, "<tr", "</tr>")
    assert first_row.count('class="total') == 3 and first_row.count('class="pin pin-') == 2
    # the sticky header and first column, and the print layout, are in the stylesheet
    css = web.client().get("/static/style.css").text
    assert "table.report thead { position: sticky" in css and ".first { position: sticky" in css
    assert (
        "@media print" in css
        and "@page wide { size: A4 landscape" in css
        and ".statistics { page: wide; }" in css
    )


def test_rate_rounds_half_up_and_chart_caption_follows_targets(web: Web, tmp_path: Path) -> None:
    world = web.world
    intake(web.api_as(world.coordinator), world)  # one case in R7: 相談実件数 1
    client = web.page_as(world.supervisor)
    plain = client.get("/reports?fiscal_year=R7&as_of=2026-03-31").text
    assert "推移（直近3年度）" in plain and "破線" not in plain
    targets = tmp_path / "targets.yaml"
    targets.write_text("targets:\n  consultation.cases: {R7: 16}\n", encoding="utf-8")
    web.app.state.settings.reports.targets_file = targets
    page = client.get("/reports?fiscal_year=R7&as_of=2026-03-31").text
    assert "推移（直近3年度・破線は目標）" in page
    row = _between(_between(page, "sheet-targets", "</table>"), "<tbody>", "</tr>")
    cells = re.findall(r"<t[hd][^>]*>([^<]*)</t[hd]>", row)
    assert cells == ["相談実件数", "件", "16", "1", "6.3"]  # 1 of 16 = 6.25 % → 6.3
    book = load_workbook(
        io.BytesIO(
            web.api_as(world.supervisor)
            .get("/api/reports/annual?fiscal_year=R7&as_of=2026-03-31&format=xlsx")
            .content
        )
    )
    assert [c.value for c in book["目標と実績"][4]] == ["相談実件数", "件", 16, 1, 6.3]


def test_empty_sheet_shows_a_no_records_row() -> None:
    sheet = Sheet("x", "空の表", "空の表", ["項目", "件数"], [])
    shown = _templates.env.get_template("_sheet.html").render(sheet=sheet)
    assert '<tr class="empty"><td colspan="2">記録はありません。</td></tr>' in shown


def test_lifecycle_is_drawn_as_svg_within_the_csp(web: Web) -> None:
    answer = web.page_as(web.world.coordinator).get("/lifecycle")
    csp = answer.headers["content-security-policy"]
    assert "default-src 'self'" in csp and "script-src" not in csp and "unsafe-eval" not in csp
    figure = _between(answer.text, "<figure", "</figure>")
    assert '<svg xmlns="http://www.w3.org/2000/svg" class="lifecycle-drawing"' in figure
    assert 'role="img"' in figure and "<title " in figure
    stages = re.findall(r'<g class="stage[^"]*" data-stage="([^"]+)">', figure)
    assert stages == [s.name for s in web.machine.lifecycle.stages]
    assert "終結の承認" in figure and "支援プラン見直し" in figure and "再開" in figure
    scripts = re.findall(r"<script[^>]*>", answer.text)
    # The drawing needs no script: only the app's own static files, nothing inline, no diagram library.
    assert scripts and all(re.fullmatch(r'<script src="/static/[a-z0-9.]+\.js" defer>', s) for s in scripts)
    assert not any("mermaid" in s for s in scripts)
    assert "段階ごとの操作と条件" in answer.text  # the tables remain, as the text alternative


def test_case_page_stage_badge_timeline_dates_and_wording(web: Web) -> None:
    world = web.world
    api = web.api_as(world.coordinator)
    number = intake(api, world, dv=True, address=DV_ADDRESS)
    plain = intake(api, world)
    to_planning(api, world, number)
    page = web.page_as(world.coordinator).get(f"/cases/{number}")
    h1 = _between(page.text, "<h1>", "</h1>")
    assert '<span class="badge dv"' in h1 and "DV等支援措置</span>" in h1
    strip = _between(page.text, 'class="stage-strip"', "</nav>")
    current = re.findall(r'<li class="current" aria-current="step">([^<]*)<', strip)
    assert current == ["支援プラン"] and strip.count("aria-current") == 1
    highlighted = re.findall(r'<g class="stage current" data-stage="([^"]+)">', page.text)
    assert highlighted == ["planning"]
    timeline = _visible_text(_between(page.text, '<table class="records timeline">', "</table>"))
    for shown in (
        "受付日 2025年6月2日",
        "開催日 2025年6月5日",
        "同意日 2025年6月10日",
        "開催日 2025年6月20日",
        "作成日 2025年6月20日",
    ):
        assert shown in timeline, shown
    assert "入力 " in timeline and "初回面談" in timeline  # entry time beside, and the memo
    assert "支援プラン 第1版（承認待ち、第1期）" in page.text
    assert "版 " not in page.text.replace("第1版", "")
    assert "四つの目" not in page.text and DV_ADDRESS not in page.text
    assert not ISO.search(_visible_text(page.text))
    other = web.page_as(world.coordinator).get(f"/cases/{plain}").text
    assert 'class="badge dv"' not in other
    link = re.findall(r'href="(/cases/[^"]+/do/[^"]+)"', page.text)[0].replace("&amp;", "&")
    form = web.page_as(world.coordinator).get(link)
    assert form.status_code == 200 and "DV等支援措置</span>" in form.text and "版 " not in form.text


def test_the_dv_badge_stands_by_the_name_in_the_inbox_and_on_the_board(web: Web) -> None:
    world = web.world
    api = web.api_as(world.coordinator)
    protected, plain = intake(api, world, dv=True, address=DV_ADDRESS), intake(api, world)
    for number in (protected, plain):
        to_planning(api, world, number)  # a draft plan: in the supervisor's inbox
    for url, who in (("/inbox", world.supervisor), ("/", world.coordinator)):
        text = web.page_as(who).get(url).text
        rows = {
            n: part
            for part in re.split(r"<tr>|<a class=\"case-card\"", text)
            for n in (protected, plain)
            if f"{n}<" in part
        }
        assert set(rows) == {protected, plain}, url
        assert 'class="badge dv"' in rows[protected] and 'class="badge dv"' not in rows[plain], url
        assert DV_ADDRESS not in text


def test_error_page_links_back_only_to_this_app(web: Web) -> None:
    client = web.page_as(web.world.coordinator)
    base = str(client.base_url).rstrip("/")
    same = client.get("/cases/R7-9999", headers={"Referer": f"{base}/due?x=1"})
    assert same.status_code == 404 and "javascript:" not in same.text
    assert '<a href="/due?x=1">前のページに戻る</a>' in same.text and '<a href="/">ホームへ</a>' in same.text
    foreign = client.get("/cases/R7-9999", headers={"Referer": "https://evil.example/due"})
    assert "前のページに戻る" not in foreign.text and "ホームへ" in foreign.text
    sneaky = client.get("/cases/R7-9999", headers={"Referer": f"{base}//evil.example/x"})
    assert "前のページに戻る" not in sneaky.text


def test_print_views_of_plan_and_meeting_follow_case_access(web: Web) -> None:
    world = web.world
    api = web.api_as(world.coordinator)
    number = intake(api, world, dv=True, address=DV_ADDRESS)
    meeting_id = to_planning(api, world, number)
    _approve(web, number, meeting_id)
    detail = ok(api.get(f"/api/cases/{number}"))["case"]
    support_id = next(m["id"] for m in detail["meetings"] if m["kind"] == "support_meeting")
    coordinator = web.page_as(world.coordinator)
    plan = coordinator.get(f"/cases/{number}/plans/1-1/print")
    assert plan.status_code == 200
    for shown in (
        "支援プラン",
        "世帯が安定して暮らせる",
        "週1回外出できる",
        "役割分担",
        "家計相談",
        "母の介護調整",
        "見直し予定日",
        "本人 署名",
        "相談支援員（コーディネーター） 署名",
        "令和7年6月20日",
        "令和7年6月25日",
        MASKED_ADDRESS,
        "DV等支援措置",
    ):
        assert shown in plan.text, shown
    assert DV_ADDRESS not in plan.text
    meeting = coordinator.get(f"/cases/{number}/meetings/{meeting_id}/print")
    assert meeting.status_code == 200
    for shown in (
        "重層的支援会議 会議録",
        "令和7年6月20日",
        "出席者（2 名）",
        "確認済み",
        "この会議で決定した支援プラン",
    ):
        assert shown in meeting.text, shown
    support = coordinator.get(f"/cases/{number}/meetings/{support_id}/print")
    assert "支援会議 会議録" in support.text and "社会福祉法第106条の6" in support.text
    assert DV_ADDRESS not in meeting.text + support.text
    case_page = coordinator.get(f"/cases/{number}").text
    assert f"/cases/{number}/plans/1-1/print" in case_page and f"/meetings/{meeting_id}/print" in case_page
    assert coordinator.get(f"/cases/{number}/plans/1-9/print").status_code == 404
    assert coordinator.get(f"/cases/{number}/plans/x/print").status_code == 404
    assert coordinator.get(f"/cases/{number}/meetings/99999/print").status_code == 404
    outsider = web.page_as(web.agency_member)  # attended nothing: the case does not exist for them
    assert outsider.get(f"/cases/{number}/plans/1-1/print").status_code == 404
    assert outsider.get(f"/cases/{number}/meetings/{meeting_id}/print").status_code == 404


def test_a_meeting_attendee_prints_only_the_material_they_may_read(web: Web) -> None:
    """An agency member who attended the 重層的支援会議 prints its record and the plan it decided,
    as the case page shows them; the 支援会議 they did not attend is not there for them."""
    world = web.world
    api = web.api_as(world.coordinator)
    number = intake(api, world)
    ok(api.post(f"/api/cases/{number}/actions/start_assessment", json={"data": {"note": "初回面談"}}))
    ok(
        api.post(
            f"/api/cases/{number}/meetings/support",
            json={"held_on": "2025-06-05", "attendees": attendees(world.poverty)},
        ),
        201,
    )
    ok(
        api.post(
            f"/api/cases/{number}/consents",
            json={"given_on": "2025-06-10", "agency_ids": [a.id for a in world.agencies]},
        ),
        201,
    )
    member = attendees(world.elderly, staff_id=web.agency_member.id)
    ok(
        api.post(
            f"/api/cases/{number}/meetings/multilayer", json={"held_on": "2025-06-20", "attendees": member}
        ),
        201,
    )
    meetings = ok(api.get(f"/api/cases/{number}"))["case"]["meetings"]
    support_id = next(m["id"] for m in meetings if m["kind"] == "support_meeting")
    multilayer_id = next(m["id"] for m in meetings if m["kind"] == "multilayer_meeting")
    ok(
        api.post(
            f"/api/cases/{number}/plans",
            json={
                "drafted_on": "2025-06-20",
                "household_goal": "地域で孤立せずに暮らす",
                "goals": [{"problem": "孤立", "goal": "サロンに月1回参加"}],
                "roles": [{"agency_id": world.elderly.id, "role": "見守り", "is_lead": True}],
                "monitoring_interval_days": 30,
            },
        ),
        201,
    )
    _approve(web, number, multilayer_id)
    reader = web.page_as(web.agency_member)
    meeting = reader.get(f"/cases/{number}/meetings/{multilayer_id}/print")
    assert meeting.status_code == 200 and "重層的支援会議 会議録" in meeting.text
    plan = reader.get(f"/cases/{number}/plans/1-1/print")
    assert plan.status_code == 200 and "サロンに月1回参加" in plan.text
    assert reader.get(f"/cases/{number}/meetings/{support_id}/print").status_code == 404
