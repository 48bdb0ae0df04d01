"""年度 statistics in the municipal layouts: JSON, XLSX, CSV (zip), and the trend chart (SVG)."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import JSONResponse

from states import Role
from yorisoi.jpdates import fiscal_year_short
from yorisoi.reports.chart import trend_svg
from yorisoi.reports.jsondata import annual_json, trend_json
from yorisoi.reports.layout import annual_sheets, trend_sheets
from yorisoi.web import reporting
from yorisoi.web.deps import CurrentUser, SessionDep, require_role
from yorisoi.web.params import DayParam, FiscalYearParam, fiscal_year_param
from yorisoi.web.schemas import ERRORS

router = APIRouter(prefix="/api/reports", tags=["reports"], responses=ERRORS)

READERS = frozenset({Role.COORDINATOR, Role.SUPERVISOR, Role.AUDITOR})
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


class Format(StrEnum):
    JSON = "json"
    XLSX = "xlsx"
    CSV = "csv"


class TrendFormat(StrEnum):
    JSON = "json"
    XLSX = "xlsx"
    CSV = "csv"
    SVG = "svg"


def download(content: bytes, media_type: str, filename: str) -> Response:
    return Response(
        content, media_type=media_type, headers={"Content-Disposition": f'attachment; filename="{filename}"'}
    )


def files(sheets: list[Any], data: dict[str, Any], fmt: str, stem: str) -> Response:
    if fmt == "xlsx":
        return download(reporting.xlsx_bytes(sheets), XLSX, f"{stem}.xlsx")
    if fmt == "csv":
        return download(reporting.csv_zip_bytes(sheets, stem), "application/zip", f"{stem}-csv.zip")
    return JSONResponse(data)


@router.get(
    "/annual", responses={200: {"content": {"application/json": {}, XLSX: {}, "application/zip": {}}}}
)
def annual(
    request: Request,
    session: SessionDep,
    user: CurrentUser,
    fiscal_year: FiscalYearParam = None,
    as_of: DayParam = None,
    format: Annotated[Format, Query()] = Format.JSON,
) -> Response:
    """One 年度's statistics (基準日 `as_of`, default today), as published by municipalities."""
    require_role(user, READERS, "年度統計の閲覧", "read the statistics")
    settings = request.app.state.settings
    figures = request.app.state.figures
    report = reporting.annual(session, settings, fiscal_year_param(fiscal_year), as_of, figures)
    topics = settings.topics()
    stem = f"yorisoi-{fiscal_year_short(report.fiscal_year)}-annual"
    return files(annual_sheets(report, topics), annual_json(report, topics), format, stem)


@router.get(
    "/trend",
    responses={
        200: {"content": {"application/json": {}, "image/svg+xml": {}, XLSX: {}, "application/zip": {}}}
    },
)
def trend(
    request: Request,
    session: SessionDep,
    user: CurrentUser,
    first: FiscalYearParam = None,
    last: FiscalYearParam = None,
    as_of: DayParam = None,
    format: Annotated[TrendFormat, Query()] = TrendFormat.JSON,
) -> Response:
    """Every indicator over several 年度 (default the last three), with targets; `svg` is the chart."""
    require_role(user, READERS, "年度統計の閲覧", "read the statistics")
    settings = request.app.state.settings
    report = reporting.trend(
        session, settings, fiscal_year_param(first), fiscal_year_param(last), as_of, request.app.state.figures
    )
    if format == TrendFormat.SVG:
        return Response(trend_svg(report), media_type="image/svg+xml")
    years = report.fiscal_years
    stem = f"yorisoi-{fiscal_year_short(years[0])}-{fiscal_year_short(years[-1])}-trend"
    return files(trend_sheets(report), trend_json(report, settings.topics()), format.value, stem)
