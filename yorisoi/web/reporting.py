"""Build the 年度 statistics and the audit for the web, and turn their sheets into files.

The figures and layouts are `yorisoi.reports`' own (the CLI prints the same sheets); this
module only picks the period and writes CSV (zipped, one file per table) or XLSX bytes.
"""

from __future__ import annotations

import datetime as dt
import io
import tempfile
import zipfile
from pathlib import Path

from sqlmodel import Session

from models.stats import Period
from states import LifecycleMachine
from yorisoi.jpdates import fiscal_year, today_tokyo
from yorisoi.reports.audit import AuditReport, build_audit
from yorisoi.reports.build import build_annual, build_trend
from yorisoi.reports.chart import targets_charted
from yorisoi.reports.csvfiles import write_csv
from yorisoi.reports.layout import Sheet
from yorisoi.reports.model import AnnualReport, TrendReport
from yorisoi.reports.targets import load_targets
from yorisoi.reports.xlsx import write_xlsx
from yorisoi.settings import Settings

TREND_YEARS = 3


def annual(session: Session, settings: Settings, fy: int | None, as_of: dt.date | None) -> AnnualReport:
    day = as_of or today_tokyo()
    return build_annual(
        session,
        fiscal_year=fy or fiscal_year(day),
        as_of=day,
        topics=settings.topics(),
        targets=load_targets(settings.reports.targets_file),
    )


def chart_has_targets(settings: Settings, last: int) -> bool:
    """Whether the page's chart (the `TREND_YEARS` 年度 up to `last`) draws any target line."""
    years = range(last - TREND_YEARS + 1, last + 1)
    return targets_charted(load_targets(settings.reports.targets_file), years)


def trend(
    session: Session, settings: Settings, first: int | None, last: int | None, as_of: dt.date | None
) -> TrendReport:
    day = as_of or today_tokyo()
    end = last or fiscal_year(day)
    return build_trend(
        session,
        first=first or end - TREND_YEARS + 1,
        last=end,
        as_of=day,
        topics=settings.topics(),
        targets=load_targets(settings.reports.targets_file),
    )


def audit(
    session: Session,
    machine: LifecycleMachine,
    start: dt.date | None,
    end: dt.date | None,
    case_id: int | None = None,
) -> AuditReport:
    """The whole audit of a period (default: this 年度, as the page), for the files. The chains
    are not verified here — minutes at a million cases — the newest recorded verification is
    reported instead (`yorisoi.service.verification`)."""
    today = today_tokyo()
    period = Period.fiscal_year(fiscal_year(today))
    return build_audit(
        session,
        machine,
        start=start or period.start,
        end=end or period.end,
        today=today,
        verify=False,
        case_id=case_id,
    )


def xlsx_bytes(sheets: list[Sheet]) -> bytes:
    with tempfile.TemporaryDirectory() as tmp:
        return write_xlsx(sheets, Path(tmp) / "report.xlsx").read_bytes()


def csv_zip_bytes(sheets: list[Sheet], prefix: str) -> bytes:
    buffer = io.BytesIO()
    with tempfile.TemporaryDirectory() as tmp, zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in write_csv(sheets, Path(tmp), prefix):
            archive.write(path, path.name)
    return buffer.getvalue()
