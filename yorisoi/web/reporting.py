"""Build the 年度 statistics and the audit for the web, and turn their sheets into files.

The figures and layouts are `yorisoi.reports`' own (the CLI prints the same sheets); this
module only picks the period and writes CSV (zipped, one file per table) or XLSX bytes.
"""

from __future__ import annotations

import datetime as dt
import io
import tempfile
import threading
import zipfile
from collections.abc import Callable, Hashable, Mapping
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar, cast

from cachetools import LRUCache
from sqlalchemy import Engine
from sqlmodel import Session

from models.db import engine_of, read_only, session_scope
from models.stats import Period, figures_version
from states import LifecycleMachine
from yorisoi.jpdates import fiscal_year, today_tokyo
from yorisoi.reports.audit import AuditReport, build_audit
from yorisoi.reports.build import Gather, Query, build_annual, build_trend
from yorisoi.reports.chart import targets_charted
from yorisoi.reports.csvfiles import write_csv
from yorisoi.reports.layout import Sheet
from yorisoi.reports.model import AnnualReport, TrendReport
from yorisoi.reports.targets import load_targets
from yorisoi.reports.xlsx import write_xlsx
from yorisoi.settings import Settings

TREND_YEARS = 3

T = TypeVar("T")


class FiguresCache:
    """The 年度 figures (and the audit's findings pages) one web process has built, kept until
    a write changes them.

    Aggregating a 年度 takes seconds at a million cases, and staff open the statistics far more
    often than the figures change. Entries are keyed by the question and by
    `models.stats.figures_version` (with the targets file's mtime), so any write, directory
    change or new targets file is seen on the very next view; bounded LRU, per process.
    """

    def __init__(self, maxsize: int = 64) -> None:
        self._entries: LRUCache[Hashable, object] = LRUCache(maxsize)
        self._lock = threading.Lock()  # sync endpoints run in a thread pool

    def get_or_build(
        self, session: Session, settings: Settings, question: Hashable, build: Callable[[], T]
    ) -> T:
        key = (question, figures_version(session), _targets_stamp(settings))
        with self._lock:
            found = self._entries.get(key)
        if found is not None:
            return cast(T, found)
        built = build()
        with self._lock:
            self._entries[key] = built
        return built


def _targets_stamp(settings: Settings) -> int | None:
    path = settings.reports.targets_file
    try:
        return path.stat().st_mtime_ns if path is not None else None
    except OSError:
        return None  # load_targets says what is wrong with a missing file


def annual(
    session: Session,
    settings: Settings,
    fy: int | None,
    as_of: dt.date | None,
    cache: FiguresCache | None = None,
) -> AnnualReport:
    day = as_of or today_tokyo()
    year = fy or fiscal_year(day)

    def build() -> AnnualReport:
        return build_annual(
            session,
            fiscal_year=year,
            as_of=day,
            topics=settings.topics(),
            targets=load_targets(settings.reports.targets_file),
            gather=side_by_side(engine_of(session)),
        )

    return build() if cache is None else cache.get_or_build(session, settings, ("annual", year, day), build)


REPORT_CONNECTIONS = 2
"""Connections a report's queries run on at once (the web app's first view after a write)."""


def side_by_side(engine: Engine, connections: int = REPORT_CONNECTIONS) -> Gather | None:
    """Run a report's queries on `connections` read-only connections at once, in the order given
    (the longest first): SQLite and PostgreSQL answer reads in parallel and the driver releases
    the GIL while they do, so the first statistics view after a write takes about the longest
    queries' time instead of them all. None (one after another) for an in-memory SQLite
    database, which is a different database on every connection.

    Each query reads its own snapshot: figures written meanwhile may show in one table and not
    yet in another, until the next view (the cache is keyed by the newest write seen before)."""
    if engine.dialect.name == "sqlite" and engine.url.database in (None, "", ":memory:"):
        return None
    reader = read_only(engine)

    def run(query: Query) -> Any:
        with session_scope(reader) as session:
            return query(session)

    def gather(queries: Mapping[str, Query]) -> dict[str, Any]:
        with ThreadPoolExecutor(connections, thread_name_prefix="report") as pool:
            running = {name: pool.submit(run, query) for name, query in queries.items()}
            return {name: future.result() for name, future in running.items()}

    return gather


def chart_has_targets(settings: Settings, last: int) -> bool:
    """Whether the page's chart (the `TREND_YEARS` 年度 up to `last`) draws any target line."""
    years = range(last - TREND_YEARS + 1, last + 1)
    return targets_charted(load_targets(settings.reports.targets_file), years)


def trend(
    session: Session,
    settings: Settings,
    first: int | None,
    last: int | None,
    as_of: dt.date | None,
    cache: FiguresCache | None = None,
) -> TrendReport:
    day = as_of or today_tokyo()
    end = last or fiscal_year(day)
    start = first or end - TREND_YEARS + 1

    def build() -> TrendReport:
        return build_trend(
            session,
            first=start,
            last=end,
            as_of=day,
            topics=settings.topics(),
            targets=load_targets(settings.reports.targets_file),
        )

    question = ("trend", start, end, day)
    return build() if cache is None else cache.get_or_build(session, settings, question, build)


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
