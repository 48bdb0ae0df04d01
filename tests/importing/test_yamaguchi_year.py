"""山口市's 令和6年度, as a municipality would hand it over in a workbook, imported through the case
service: its annual report is the published table, and importing the file again changes nothing."""

from __future__ import annotations

import datetime as dt
from collections import Counter

from sqlmodel import Session, select

from models import AuditEvent, Case, Household
from states import default_machine
from tests.importing.conftest import IMPORTER, ImportedYear
from tests.reports.datasets import CASES, CONTACTS, REFERRERS, TOPICS, UNRECORDED, YAMAGUCHI_R6_ROW
from tests.service.refusals import snapshot
from yorisoi.importing.runner import run_import
from yorisoi.reports.build import build_annual
from yorisoi.reports.layout import consultation_sheet, coordination_sheet
from yorisoi.reports.model import AnnualReport
from yorisoi.service.audit import verify_chains
from yorisoi.vocabulary import DEFAULT_TOPICS


def _annual(year: ImportedYear, fy: int = 2024) -> AnnualReport:
    with Session(year.engine) as session:
        return build_annual(session, fiscal_year=fy, as_of=dt.date(2026, 1, 1), topics=DEFAULT_TOPICS)


def test_every_row_goes_in(year: ImportedYear) -> None:
    result = year.result
    assert result.errors == [] and result.failed_rows == []
    assert result.cases_opened == CASES + 1
    assert result.tallies["相談"].added == CONTACTS + 4 + 4  # + R5 intakes + R7 contacts
    with Session(year.engine) as session:
        assert verify_chains(session, default_machine()).ok
        sources = [p["import"] for p in session.exec(select(AuditEvent.payload)).all() if "import" in p]
    assert {s["file"] for s in sources} == {result.file_hash}
    # Every record row became events marked with its sheet and row (the case rows open with a contact).
    rows = {(s["sheet"], s["row"]) for s in sources}
    assert len(rows) == result.added - result.tallies["ケース"].added - 14  # 12 agencies, 2 staff: no event
    assert ("相談", 2) in rows and len(sources) == len(rows) + 4 + 2  # plans and closures: two events


def test_annual_report_is_the_published_table(year: ImportedYear) -> None:
    report = _annual(year)
    label, *values = YAMAGUCHI_R6_ROW.split("\t")
    assert consultation_sheet(report, DEFAULT_TOPICS).rows[-1] == [label, *(int(v) for v in values)]
    total = report.consultation.total
    assert (total.cases, total.contacts, total.unrecorded_method) == (CASES, CONTACTS, UNRECORDED)
    assert total.referrers == REFERRERS and total.topics == dict(TOPICS)
    intended = year.intended
    assert {r.desk: r.contacts for r in report.consultation.desks} == dict(intended.desk_contacts)
    assert (report.meetings.support_meetings, report.meetings.multilayer_meetings) == (
        intended.support_meetings,
        intended.multilayer_meetings,
    )
    assert (report.meetings.plans_new, report.meetings.plans_revised) == (
        intended.plans_new,
        intended.plans_revised,
    )
    assert {k: v for k, v in report.closures.by_reason.items() if v} == intended.closures
    coordination = report.coordination
    assert (
        (coordination.home_visits, coordination.meeting_attendance)
        == (421, 360)
        == (
            intended.home_visits,
            intended.meeting_attendance,
        )
    )
    assert coordination.visits_from_contacts == 421  # one record each, counted in both tables
    assert "訪問としても記録した 421 件を含みます" in coordination_sheet(report).notes[-1]
    assert coordination.multi_agency_cases == intended.multi_agency_cases


def test_records_outside_the_year_stay_out(year: ImportedYear) -> None:
    r5, r7 = _annual(year, 2023), _annual(year, 2025)
    assert (r5.consultation.total.contacts, r5.meetings.support_meetings) == (4, 1)
    assert (r7.consultation.total.contacts, r7.consultation.total.cases) == (4, 4)
    assert r7.coordination.meeting_attendance == 1


def test_values_as_staff_wrote_them_are_read(year: ImportedYear) -> None:
    with Session(year.engine) as session:
        cases = {c.external_ref: c for c in session.exec(select(Case)).all()}
        assert "Y-0001" in cases and len(cases) == CASES + 1  # Ｙ－０００１ folded, no second case
        protected = session.exec(select(Household).where(Household.dv_protected)).all()
        assert len(protected) == 1
        assert Counter(c.stage for c in cases.values())["closed"] == 2


def test_the_same_file_imported_twice_changes_nothing(year: ImportedYear) -> None:
    with Session(year.engine) as session:
        before = snapshot(session)
    again = run_import(year.engine, default_machine(), year.path, actor=IMPORTER)
    assert again.added == 0 and again.errors == [] and again.cases_opened == 0
    assert sum(t.already for t in again.tallies.values()) == again.rows
    with Session(year.engine) as session:
        assert snapshot(session) == before
