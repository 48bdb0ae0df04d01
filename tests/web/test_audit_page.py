"""The audit page at scale: every list bounded and keyset-paged, filtered by period (default:
this 年度), case (typed full-width too) and, for the access log, staff and outcome; the whole
period in files; the chain verification recorded by a run (button, flow, CLI), never on a view.

Rows are written straight into the tables where a list only reads them (hundreds of approvals
through the case service would take minutes); the verification test walks a real case.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import time
import unicodedata
from collections.abc import Callable
from typing import Any

import openpyxl
import pytest
import sqlalchemy as sa
from sqlmodel import col, select

from models import Case, ChainVerification, Closure, Consent, Meeting, Plan, RecordView, Staff
from models.stats import Period
from models.verification import VerificationStatus
from states import default_machine
from tests import factories
from tests.web.conftest import Web, csrf_of
from yorisoi.jpdates import fiscal_year, today_tokyo
from yorisoi.reports.audit import plan_findings
from yorisoi.service import audit_page, verification
from yorisoi.service.verification import VerificationRunning
from yorisoi.settings import get_settings

TODAY = today_tokyo()
FY = Period.fiscal_year(fiscal_year(TODAY))
APPROVALS = 130  # more than two pages of 50
VIEWS = 120


def _full_width(text: str) -> str:
    """`R7-0001` as a Japanese IME types it: `Ｒ７－０００１`."""
    return "".join(chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else c for c in text)


def _day(n: int) -> dt.date:
    """The n-th day of this 年度, at most today (records are never in the future)."""
    return min(FY.start + dt.timedelta(days=n % 40), TODAY)


def _seed(web: Web) -> dict[str, Any]:
    """Two real cases, then many rows of the period written straight into the tables."""
    world, machine = web.world, web.machine
    with web.session() as session:
        first = factories.open_case(session, world, machine)
        second = factories.open_case(session, world, machine)
        author, approver, reader = world.coordinator.id, world.supervisor.id, world.coordinator2.id
        assert author is not None and approver is not None and reader is not None
        multilayer = Meeting(
            case_id=first.case_id, kind="multilayer_meeting", held_on=FY.start, recorded_by=author
        )
        support = Meeting(case_id=first.case_id, kind="support_meeting", held_on=FY.start, recorded_by=author)
        other = Meeting(
            case_id=second.case_id, kind="multilayer_meeting", held_on=FY.start, recorded_by=author
        )
        session.add_all([multilayer, support, other])
        session.flush()
        kinds: list[tuple[int | None, int | None]] = [
            (approver, multilayer.id),  # clean
            (approver, multilayer.id),  # clean
            (author, multilayer.id),  # four-eyes
            (approver, None),  # no meeting
            (None, multilayer.id),  # no approver
            (approver, support.id),  # a 支援会議
            (approver, other.id),  # another case's meeting
        ]
        for n in range(APPROVALS):
            by, meeting = kinds[n % len(kinds)]
            case_id = first.case_id if n % 3 else second.case_id
            on = _day(n // 4)  # four approvals a day: the id breaks the ties
            session.add(
                Plan(
                    case_id=case_id, version=n + 1, status="approved", author_id=author,
                    drafted_on=FY.start, monitoring_interval_days=30, approved_by=by,
                    approved_on=on, meeting_id=meeting,
                )
            )  # fmt: skip
        session.add(
            Plan(
                case_id=first.case_id,
                version=999,
                status="approved",
                author_id=author,
                drafted_on=FY.start,
                monitoring_interval_days=30,
                approved_by=approver,
                approved_on=FY.start - dt.timedelta(days=1),
                meeting_id=multilayer.id,
            )
        )  # fmt: skip  — last 年度: outside the default period
        for n in range(60):
            session.add(
                Closure(
                    case_id=first.case_id if n % 2 else second.case_id, episode=1, reason="goals_met",
                    evaluation="目標を達成した", status="approved", proposed_by=author,
                    proposed_on=FY.start, decided_by=author if n % 5 == 0 else approver, decided_on=_day(n),
                )
            )  # fmt: skip
            session.add(
                Consent(
                    case_id=first.case_id, given_on=FY.start, method="written",
                    recorded_by=author, withdrawn_on=_day(n), withdrawn_by=author,
                )
            )  # fmt: skip
        person_id = session.get(Case, first.case_id).person_id  # type: ignore[union-attr]
        for n in range(70):  # overdue cases: many on the same day (the number breaks the ties)
            session.add(
                Case(
                    number=f"Z9-{n:04d}", fiscal_year=1900, serial=n, person_id=person_id,
                    stage="monitoring", opened_on=FY.start, coordinator_id=author,
                    next_monitoring_on=TODAY - dt.timedelta(days=1 + n // 10),
                )
            )  # fmt: skip
        start = dt.datetime(FY.start.year, FY.start.month, FY.start.day, tzinfo=dt.UTC)
        for n in range(VIEWS):
            session.add(
                RecordView(
                    case_id=first.case_id if n % 2 else second.case_id,
                    staff_id=reader if n % 3 == 0 else author,
                    viewed_at=start + dt.timedelta(hours=n // 2),  # pairs share a moment
                    what="case_detail", channel="web", granted=n % 3 != 0,
                )
            )  # fmt: skip
        session.add(
            RecordView(
                case_id=first.case_id,
                staff_id=author,
                what="case_detail",
                channel="web",
                viewed_at=start - dt.timedelta(days=3),
            )
        )  # fmt: skip — before the period
        session.commit()
    return {"first": first.number, "second": second.number}


def _walk(fetch: Callable[[str, tuple[Any, ...] | None], Any], name: str) -> list[Any]:
    """Every row of list `name`, following its cursor (through its URL text) page to page."""
    kind = audit_page.CURSORS[name]
    after: tuple[Any, ...] | None = None
    rows: list[Any] = []
    for _ in range(100):
        listed = fetch(name, after)
        rows += listed.rows
        if listed.next is None:
            return rows
        after = kind.decode(kind.encode(listed.next))
    raise AssertionError("the cursor did not advance")


def test_every_list_pages_by_keyset_and_returns_each_row_once(web_on: Web) -> None:
    web = web_on
    _seed(web)
    machine = default_machine()
    with web.session() as session:
        where = audit_page.audit_filter(session, today=TODAY)

        def page(name: str, after: tuple[Any, ...] | None) -> Any:
            return audit_page.list_page(session, machine, where, name, after, size=9)

        everything = audit_page.audit_page(session, machine, where, {}, size=100_000)
        for name in audit_page.CURSORS:
            walked = _walk(page, name)
            whole = getattr(everything, name).rows
            assert walked == whole and len(walked) > 9, name
        assert len(everything.approvals.rows) == APPROVALS  # last 年度's approval left out
        assert len(everything.log.rows) == VIEWS  # the view before the period left out
        assert len(everything.overdue.rows) == 70
        # The findings the SQL picks are exactly the rows the audit's rules find something on.
        judged = [(r, f) for r, f in everything.plan_findings.rows]
        assert all(found for _row, found in judged)
        flagged = {r.plan_id for r in everything.approvals.rows if plan_findings(r)}
        assert {r.plan_id for r, _found in judged} == flagged and 0 < len(flagged) < APPROVALS
        assert {r.closure_id for r, _f in everything.closure_findings.rows} == {
            r.closure_id for r in everything.closures.rows if r.decider_id == r.proposer_id
        }
        # Newest first, ties broken by id; oldest overdue first, ties by number.
        keys = [(v.viewed_at, v.id) for v in everything.log.rows]
        assert keys == sorted(keys, reverse=True)
        overdue = [(r.due_on, r.number) for r in everything.overdue.rows]
        assert overdue == sorted(overdue)


def test_the_page_shows_one_page_per_list_and_its_links_walk_the_rest(web: Web) -> None:
    numbers = _seed(web)
    client = web.page_as(web.world.auditor)
    page = client.get("/audit")
    assert page.status_code == 200
    # This 年度 by default, whatever day it is.
    assert f'name="start" value="{FY.start.isoformat()}"' in page.text
    assert f'name="end" value="{FY.end.isoformat()}"' in page.text
    seen: list[str] = []
    url: str | None = "/audit"
    while url is not None:
        text = client.get(url).text
        section = text[text.index('id="approvals"') : text.index('id="closures"')]
        seen += [line for line in section.splitlines() if "<tr><td>" in line]
        marker = 'href="/audit?'
        found = [part for part in section.split(marker)[1:] if "次の 50 件" in part.split("</a>")[0]]
        url = ("/audit?" + found[0].split('"')[0].replace("&amp;", "&")) if found else None
        assert len(seen) <= APPROVALS
    assert len(seen) == APPROVALS and len(set(seen)) == APPROVALS
    assert numbers["first"] in page.text
    broken = client.get("/audit?approvals_after=yesterday")
    assert broken.status_code == 422 and "ページ位置" in broken.text


def test_case_filter_accepts_full_width_input_and_refuses_unknown_cases(web: Web) -> None:
    numbers = _seed(web)
    client = web.api_as(web.world.supervisor)
    typed = _full_width(numbers["second"]).replace("-", "－")
    assert unicodedata.normalize("NFKC", typed) == numbers["second"] and typed != numbers["second"]
    page = web.page_as(web.world.supervisor).get("/audit", params={"case": typed})
    assert page.status_code == 200 and f"ケース {numbers['second']}" in page.text
    section = page.text[page.text.index('id="approvals"') : page.text.index('id="closures"')]
    assert numbers["second"] in section and numbers["first"] not in section
    whole = client.get("/api/audit", params={"case": typed})
    assert whole.status_code == 200
    cases = {r["case_number"] for r in whole.json()["plan_approvals"]}
    assert cases == {numbers["second"]}
    missing = web.page_as(web.world.supervisor).get("/audit?case=R1-9999")
    assert missing.status_code == 404 and "R1-9999 は存在しません" in missing.text
    garbage = client.get("/api/audit?case=hello")
    assert garbage.status_code == 422 and "ケース番号" in garbage.json()["message_ja"]


def test_access_log_filters_by_case_staff_period_and_outcome(web: Web) -> None:
    numbers = _seed(web)
    machine = default_machine()
    kato = web.world.coordinator2.login
    with web.session() as session:

        def log(**filters: Any) -> list[Any]:
            where = audit_page.audit_filter(session, today=TODAY, **filters)
            return audit_page.audit_page(session, machine, where, {}, size=1000).log.rows

        refused = log(outcome="refused")
        assert len(refused) == VIEWS // 3 and not any(v.granted for v in refused)
        assert {v.staff_login for v in refused} == {kato}
        assert all(v.granted for v in log(outcome="granted"))
        assert {v.staff_login for v in log(staff=kato)} == {kato}
        one_case = log(case=numbers["first"])
        assert len(one_case) == VIEWS // 2 and {v.case_number for v in one_case} == {numbers["first"]}
        assert len(log(start=FY.start - dt.timedelta(days=5))) == VIEWS + 1
        assert log(start=FY.start - dt.timedelta(days=5), end=FY.start - dt.timedelta(days=1))[0].granted
        with pytest.raises(Exception, match="職員は登録されていません"):
            log(staff="nobody")
    page = web.page_as(web.world.auditor).get(
        "/audit", params={"log_staff": kato, "log_outcome": "refused", "case": numbers["second"]}
    )
    section = page.text[page.text.index('id="log"') :]
    assert section.count('<span class="badge warn">拒否</span>') == VIEWS // 6
    assert '<span class="badge ok">' not in section
    bad = web.page_as(web.world.auditor).get("/audit?log_outcome=maybe")
    assert bad.status_code == 422 and "閲覧記録の結果" in bad.text


def test_outsiders_see_no_audit_and_start_no_verification(web: Web) -> None:
    _seed(web)
    for staff in (web.world.coordinator, web.agency_member, web.team_mate):
        page = web.page_as(staff)
        assert page.get("/audit").status_code == 403
        form = page.get("/cases").text
        assert page.post("/audit/verify", data={"csrf_token": csrf_of(form)}).status_code == 403
        api = web.api_as(staff)
        for url in ("/api/audit", "/api/audit/export.xlsx", "/api/audit/export/access_log.csv"):
            assert api.get(url).status_code == 403, url
    auditor = web.page_as(web.world.auditor)
    assert auditor.post("/audit/verify", data={"csrf_token": "forged"}).status_code == 403
    with web.session() as session:
        assert session.exec(select(ChainVerification)).all() == []


def _csv_rows(body: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))


def test_exports_hold_the_whole_period_streamed_and_formula_safe(web: Web) -> None:
    _seed(web)
    with web.session() as session:  # a name Excel would run as a formula
        session.execute(
            sa.update(Staff).where(col(Staff.id) == web.world.coordinator2.id).values(name="=1+2")
        )
        session.commit()
    client = web.api_as(web.world.auditor)
    approvals = client.get("/api/audit/export/approvals.csv")
    assert approvals.status_code == 200 and approvals.headers["content-type"].startswith("text/csv")
    rows = _csv_rows(approvals.content)
    assert len(rows) == 2 + APPROVALS and rows[1][0] == "ケース"
    findings = _csv_rows(client.get("/api/audit/export/findings.csv").content)
    assert len(findings) > 2 + APPROVALS // 2
    overdue = _csv_rows(client.get("/api/audit/export/overdue.csv").content)
    assert len(overdue) == 2 + 70
    log = _csv_rows(client.get("/api/audit/export/access_log.csv?log_outcome=refused").content)
    assert len(log) == 2 + VIEWS // 3 and {r[2] for r in log[2:]} == {"'=1+2"}
    xlsx = client.get("/api/audit/export.xlsx")
    assert xlsx.status_code == 200 and xlsx.content[:2] == b"PK"
    book = openpyxl.load_workbook(io.BytesIO(xlsx.content), read_only=True)
    titles = [ws.title for ws in book.worksheets]
    assert titles[-1] == "監査記録の検証" and "閲覧記録" not in titles
    sheet = book.worksheets[titles.index("支援プランの承認")]
    assert sum(1 for row in sheet.iter_rows(min_row=4, values_only=True) if row and row[0]) == APPROVALS
    # The older whole-report file (built in memory) stays for the API, without verifying.
    assert client.get("/api/audit?format=xlsx").status_code == 200


def _wait_for_verification(web: Web) -> ChainVerification:
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        with web.session() as session:
            row = session.exec(select(ChainVerification).order_by(col(ChainVerification.id).desc())).first()
            if row is not None and row.status != VerificationStatus.RUNNING:
                return row
        time.sleep(0.05)
    raise AssertionError("the verification did not finish")


def test_verification_is_recorded_by_the_button_and_never_run_on_a_view(web: Web) -> None:
    world, machine = web.world, web.machine
    with web.session() as session:
        case = factories.open_case(session, world, machine)
        factories.to_monitoring(session, world, machine, case.case_id)
    client = web.page_as(world.auditor)
    first = client.get("/audit")
    assert "監査記録の検証はまだ実行されていません" in first.text
    started = client.post("/audit/verify", data={"csrf_token": csrf_of(first.text)})
    assert started.status_code == 303 and started.headers["location"].startswith("/audit")
    clean = _wait_for_verification(web)
    assert (clean.trigger, clean.started_by, clean.status) == ("web", world.auditor.login, "done")
    assert clean.ok and clean.cases == 1 and clean.events > 5
    assert "1 ケース" in client.get("/audit").text and "異常なし" in client.get("/audit").text

    with web.session() as session:  # forged around the service: the author approves their own plan
        session.execute(sa.update(Plan).values(approved_by=Plan.author_id))
        session.commit()
    viewed = client.get("/audit").text
    assert "異常なし" in viewed and "ケースに異常" not in viewed  # the view verified nothing
    client.post("/audit/verify", data={"csrf_token": csrf_of(viewed)})
    forged = _wait_for_verification(web)
    assert forged.id != clean.id and not forged.ok
    assert (forged.problem_cases, forged.case_numbers) == (1, [case.number])
    after = client.get("/audit").text
    assert "1 ケースに異常" in after and f'href="/audit?case={case.number}"' in after


def test_one_verification_at_a_time_and_a_dead_run_shows_as_interrupted(web: Web) -> None:
    run_id = verification.start(web.engine, trigger="web", by="ito")
    with pytest.raises(VerificationRunning, match="すでに実行中"):
        verification.start(web.engine, trigger="cli", by="sato")
    page = web.page_as(web.world.supervisor)
    text = page.get("/audit").text
    assert "検証中です" in text and "disabled" in text.split('action="/audit/verify"')[1].split("</form>")[0]
    assert page.post("/audit/verify", data={"csrf_token": csrf_of(text)}).status_code == 409
    with web.session() as session:  # the process died: its run stays `running`, seven hours on
        session.execute(
            sa.update(ChainVerification)
            .where(col(ChainVerification.id) == run_id)
            .values(started_at=dt.datetime.now(dt.UTC) - dt.timedelta(hours=7))
        )
        session.commit()
    assert "終わっていません（中断）" in page.get("/audit").text
    record, report = verification.verify_and_record(web.engine, get_settings(), trigger="cli", by="sato")
    assert record.ok and record.cases == report.cases == 0 and record.trigger == "cli"


def test_the_case_number_normaliser_folds_what_staff_type() -> None:
    from yorisoi.casenumbers import normalize_case_number
    from yorisoi.errors import InvalidInput

    assert normalize_case_number("Ｒ６－００１７") == "R6-0017"
    assert normalize_case_number(" r6ー17 ") == "R6-0017"
    assert normalize_case_number("H30-123456") == "H30-123456"
    for bad in ("", "R6", "0017", "R6-", "R6_0017", "ケース"):
        with pytest.raises(InvalidInput):
            normalize_case_number(bad)


def test_findings_are_kept_until_the_next_write_and_then_read_again(web: Web) -> None:
    """The findings lists read every approval and closure of the period (about 0.2 s a 年度 at a
    million cases), so the page keeps them per process, keyed by the newest audit event: the
    next write through yorisoi — any case's — shows the change on the very next view."""
    world, machine = web.world, web.machine
    client = web.page_as(world.supervisor)

    def findings() -> str:
        text = client.get("/audit").text
        return text[text.index('id="findings"') : text.index('id="approvals"')]

    with web.session() as session:
        opened = factories.open_case(session, world, machine)
    assert "この期間の指摘事項はありません" in findings()
    author = world.coordinator.id
    assert author is not None
    with web.session() as session:  # a row no action of yorisoi writes: approved by its author
        session.add(
            Plan(
                case_id=opened.case_id, version=1, status="approved", author_id=author,
                drafted_on=_day(0), monitoring_interval_days=30, approved_by=author,
                approved_on=_day(0), meeting_id=None,
            )
        )  # fmt: skip
        session.commit()
    assert "この期間の指摘事項はありません" in findings()  # nothing written through yorisoi yet
    with web.session() as session:
        factories.fire(
            session, machine, opened.case_id, "add_contact", world.coordinator, **factories.contact(world)
        )
    shown = findings()
    assert opened.number in shown and "この期間の指摘事項はありません" not in shown
