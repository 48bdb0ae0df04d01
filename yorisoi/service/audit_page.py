"""What the web audit page shows: every list of a period one keyset page at a time.

The page used to build the whole audit (every approval, every overdue case, every chain
verified) on each view: 59 s and 152 MB at a million cases. Here each list — the period's
plan approvals, closures, findings (二者確認 and the rest), consent withdrawals, the
cases 期限超過 today and the access log — is read `PAGE_SIZE` rows at a time from its index,
continuing after the key its cursor names (`models.keyset`), and the chain verification is
the newest recorded run (`yorisoi.service.verification`), never recomputed here. The whole
period goes to files (`yorisoi.web.api.audit`), not to one page.

Cursors travel in the page's URL as text (`2025-06-20_123`); anything else is refused with
a message saying so, and nothing is read.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Hashable, Mapping
from dataclasses import dataclass
from operator import attrgetter
from typing import Any

import pendulum
from sqlmodel import Session

from models import audit_lists, caseload, oversight
from models.audit_lists import AccessLogFilter, AccessLogRow
from models.due import OverdueCase
from models.keyset import Page, fetch_page
from models.stats import Period
from states import LifecycleMachine
from yorisoi.casenumbers import normalize_case_number
from yorisoi.errors import InvalidInput, NotFound
from yorisoi.jpdates import TOKYO, fiscal_year
from yorisoi.reports.audit import Finding, check_period, closure_findings, plan_findings
from yorisoi.service.journal import find_case_id
from yorisoi.service.verification import LastResult, last_result

PAGE_SIZE = 50
FINDINGS = frozenset({"plan_findings", "closure_findings"})
"""The lists that read every approval or closure of the period to show the few with findings
(a join per row: about 0.2 s for a 年度 at a million cases), worth answering from a cache."""

Memo = Callable[[Hashable, Callable[[], "Page[Any]"]], "Page[Any]"]
"""`memo(question, build)`: the page built for `question` while the data it was read from is
unchanged, else `build()` (the web app's `FiguresCache`, keyed by the newest audit event)."""
OUTCOMES: Mapping[str, bool | None] = {"": None, "all": None, "granted": True, "refused": False}


def _date(text: str) -> dt.date:
    return dt.date.fromisoformat(text)


def _datetime(text: str) -> dt.datetime:
    moment = dt.datetime.fromisoformat(text)
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


def _text(value: Any) -> str:
    return value.isoformat() if isinstance(value, dt.date | dt.datetime) else str(value)


@dataclass(frozen=True, slots=True)
class CursorKind:
    """How one list's cursor is written in the URL: its key's types, joined by `_`."""

    param: str
    label_ja: str
    types: tuple[Callable[[str], Any], ...]

    def encode(self, key: tuple[Any, ...] | None) -> str | None:
        return None if key is None else "_".join(_text(v) for v in key)

    def decode(self, text: str | None) -> tuple[Any, ...] | None:
        if text is None or not text.strip():
            return None
        parts = text.strip().split("_", len(self.types) - 1)
        try:
            if len(parts) != len(self.types):
                raise ValueError(text)
            return tuple(parse(part) for parse, part in zip(self.types, parts, strict=True))
        except ValueError:
            raise InvalidInput(
                f"{self.label_ja}のページ位置（{self.param}={text[:60]}）が読めません。"
                "一覧の最初のページから開き直してください。",
                f"Unreadable cursor {self.param}={text[:60]!r}; open the list from its first page.",
            ) from None


CURSORS: dict[str, CursorKind] = {
    "approvals": CursorKind("approvals_after", "支援プランの承認", (_date, int)),
    "closures": CursorKind("closures_after", "終結の承認", (_date, int)),
    "plan_findings": CursorKind("plan_findings_after", "指摘事項（支援プラン）", (_date, int)),
    "closure_findings": CursorKind("closure_findings_after", "指摘事項（終結）", (_date, int)),
    "withdrawn": CursorKind("withdrawn_after", "本人同意の撤回", (_date, int)),
    "overdue": CursorKind("overdue_after", "モニタリング期限超過", (_date, str)),
    "log": CursorKind("log_after", "閲覧記録", (_datetime, int)),
}


@dataclass(frozen=True, slots=True)
class AuditFilter:
    """The page's filters, checked: the period (default: this 年度), one case, and the access
    log's staff member and outcome."""

    start: dt.date
    end: dt.date
    today: dt.date
    case_number: str | None = None
    case_id: int | None = None
    staff_login: str | None = None
    staff_id: int | None = None
    outcome: str = "all"

    def log_filter(self) -> AccessLogFilter:
        """The period's days in Asia/Tokyo, as UTC instants for `viewed_at`."""
        since = pendulum.datetime(self.start.year, self.start.month, self.start.day, tz=TOKYO)
        until = pendulum.datetime(self.end.year, self.end.month, self.end.day, tz=TOKYO).add(days=1)
        return AccessLogFilter(
            since=dt.datetime.fromtimestamp(since.timestamp(), dt.UTC),
            until=dt.datetime.fromtimestamp(until.timestamp(), dt.UTC),
            case_id=self.case_id,
            staff_id=self.staff_id,
            granted=OUTCOMES[self.outcome],
        )


def this_fiscal_year(today: dt.date) -> Period:
    """The default period: the whole 年度 `today` falls in (April–March, `models.stats.Period`)."""
    return Period.fiscal_year(fiscal_year(today))


def audit_filter(
    session: Session,
    *,
    today: dt.date,
    start: dt.date | None = None,
    end: dt.date | None = None,
    case: str | None = None,
    staff: str | None = None,
    outcome: str | None = None,
) -> AuditFilter:
    """Check the page's filters; a case number is read as typed (full-width too)."""
    period = this_fiscal_year(today)
    first, last = start or period.start, end or period.end
    check_period(first, last)
    case_number = case_id = None
    if case is not None and case.strip():
        case_number = normalize_case_number(case)
        try:
            case_id = find_case_id(session, case_number)
        except NotFound:
            raise NotFound(
                f"ケース {case_number} は存在しません。ケース番号を確かめてください。",
                f"There is no case numbered {case_number}.",
            ) from None
    staff_login = staff_id = None
    if staff is not None and staff.strip():
        staff_login = staff.strip()
        found = caseload.staff_by_login(session, staff_login)
        if found is None:
            raise NotFound(
                f"ログイン名 {staff_login[:40]} の職員は登録されていません。",
                f"No staff member signs in as {staff_login[:40]!r}.",
            )
        staff_id = found.id
    chosen = (outcome or "all").strip()
    if chosen not in OUTCOMES:
        raise InvalidInput(
            f"閲覧記録の結果「{chosen[:20]}」は選べません（すべて・閲覧・拒否のいずれか）。",
            f"Unknown outcome {chosen[:20]!r} (all, granted or refused).",
        )
    return AuditFilter(first, last, today, case_number, case_id, staff_login, staff_id, chosen or "all")


@dataclass(frozen=True, slots=True)
class AuditPage:
    filter: AuditFilter
    approvals: Page[oversight.PlanApproval]
    closures: Page[oversight.ClosureDecision]
    plan_findings: Page[tuple[oversight.PlanApproval, list[Finding]]]
    closure_findings: Page[tuple[oversight.ClosureDecision, list[Finding]]]
    withdrawn: Page[oversight.WithdrawnConsent]
    overdue: Page[OverdueCase]
    log: Page[AccessLogRow]
    verification: LastResult


def list_page(
    session: Session,
    machine: LifecycleMachine,
    where: AuditFilter,
    name: str,
    after: tuple[Any, ...] | None,
    size: int = PAGE_SIZE,
    memo: Memo | None = None,
) -> Page[Any]:
    """One page of list `name` (a key of `CURSORS`), after the row keyed `after`; a list of
    `FINDINGS` through `memo` when given."""
    if memo is not None and name in FINDINGS:
        question = ("audit", name, where.start, where.end, where.case_id, after, size)
        return memo(question, lambda: list_page(session, machine, where, name, after, size))
    s, e, case_id = where.start, where.end, where.case_id
    if name in ("approvals", "plan_findings"):
        key = attrgetter("approved_on", "plan_id")
        return _decisions(session, where, after, size, oversight.plan_approvals, plan_findings, key, name)
    if name in ("closures", "closure_findings"):
        key = attrgetter("decided_on", "closure_id")
        return _decisions(
            session, where, after, size, oversight.closure_decisions, closure_findings, key, name
        )
    if name == "withdrawn":
        return fetch_page(
            lambda n: oversight.consents_withdrawn(session, s, e, case_id=case_id, after=after, limit=n),
            size,
            lambda r: (r.withdrawn_on, r.consent_id),
        )
    if name == "overdue":
        return fetch_page(
            lambda n: audit_lists.overdue_cases(
                session,
                stages=machine.lifecycle.monitoring_stages,
                on=where.today,
                case_id=case_id,
                after=after,
                limit=n,
            ),
            size,
            lambda r: (r.due_on, r.number),
        )
    if name == "log":
        return fetch_page(
            lambda n: audit_lists.access_log(session, where.log_filter(), after=after, limit=n),
            size,
            lambda r: (r.viewed_at, r.id),
        )
    raise ValueError(f"no audit list {name!r}")


def _decisions(
    session: Session,
    where: AuditFilter,
    after: tuple[Any, ...] | None,
    size: int,
    read: Callable[..., list[Any]],
    judge: Callable[[Any], list[Finding]],
    key: Callable[[Any], tuple[Any, ...]],
    name: str,
) -> Page[Any]:
    """A page of the period's plan approvals or closures; for a findings list (`FINDINGS`) only
    those with findings, each paired with them."""
    findings = name in FINDINGS

    def rows(limit: int) -> list[Any]:
        found = read(
            session,
            where.start,
            where.end,
            case_id=where.case_id,
            violations=findings,
            after=after,
            limit=limit,
        )
        return [(row, judge(row)) for row in found] if findings else found

    return fetch_page(rows, size, (lambda pair: key(pair[0])) if findings else key)


def audit_page(
    session: Session,
    machine: LifecycleMachine,
    where: AuditFilter,
    cursors: Mapping[str, str | None],
    *,
    size: int = PAGE_SIZE,
    memo: Memo | None = None,
) -> AuditPage:
    """One page of every list, each continuing after its own cursor (`CURSORS` names them);
    every cursor is read before any list is. `memo`: see `list_page`."""
    after = {name: kind.decode(cursors.get(kind.param)) for name, kind in CURSORS.items()}
    pages = {name: list_page(session, machine, where, name, after[name], size, memo) for name in CURSORS}
    return AuditPage(filter=where, verification=last_result(session), **pages)
