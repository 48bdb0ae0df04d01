"""What an import will do: every case's records in the order they happened, each keyed once.

Rows are grouped by 台帳番号. A row becomes one step through the case service, or two for a
plan (drafted, then approved), a closure (proposed, then approved) and an enrolment with its
exit. A case's steps run in date order — on one day, a contact before a meeting, a meeting
before the plan it decides, a plan before its approval, the closure last and a reopening after
it — so the history goes in as it happened, whatever order the sheets list it in.

Each step has a key: the sheet, the 台帳番号 and the row's content as read (so `R6.4.1` and
`2024/4/1` are the same row), with a count for identical rows in one file; or, where the row
has a 記録番号, the sheet, the 台帳番号 and that number. A key already in `imported_row` is
not taken again, which makes a re-run — of the same file, a file that grew, or a run cut short
— add exactly what is missing.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections import Counter, defaultdict
from dataclasses import dataclass, field

from yorisoi.importing.layout import SHEETS
from yorisoi.importing.reader import Problem, Row, Workbook
from yorisoi.importing.values import plain

# Within one day: what must come first. A reopening follows the closure of the same day.
RANK = {
    "open": 0,
    "contact": 1,
    "outreach": 1,
    "consent": 2,
    "meeting": 3,
    "draft": 4,
    "approve": 5,
    "monitoring": 6,
    "enrol": 6,
    "exit": 7,
    "propose": 7,
    "close": 8,
    "reopen": 9,
}
_SHEET_ORDER = {spec.key: n for n, spec in enumerate(SHEETS)}


@dataclass
class Step:
    row: Row
    kind: str
    on: dt.date
    key: str
    digest: str

    @property
    def order(self) -> tuple[dt.date, int, int, int, str]:
        return (self.on, RANK[self.kind], _SHEET_ORDER[self.row.spec.key], self.row.number, self.key)


@dataclass
class CasePlan:
    ref: str
    case_row: Row | None
    steps: list[Step] = field(default_factory=list)

    @property
    def household(self) -> str | None:
        value = self.case_row.values.get("household") if self.case_row else None
        return str(value) if value else None

    def rows(self) -> list[Row]:
        found = [self.case_row] if self.case_row else []
        for step in self.steps:
            if step.row not in found:
                found.append(step.row)
        return found


@dataclass
class Plan:
    directory: list[Row]
    cases: list[CasePlan]
    skipped: list[Row]
    """Rows not taken for a problem found while reading them."""
    problems: list[Problem]


def _digest(row: Row) -> str:
    content = {k: plain(v) for k, v in sorted(row.values.items()) if k != "record_no"}
    text = json.dumps([row.spec.key, content], ensure_ascii=False, sort_keys=True)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _steps(row: Row, key: str, digest: str) -> list[Step]:
    v = row.values
    kind = row.spec.key
    if kind == "contacts":
        return [Step(row, "reopen" if v.get("reopen") else "contact", v["contacted_on"], key, digest)]
    if kind == "consents":
        return [Step(row, "consent", v["given_on"], key, digest)]
    if kind == "meetings":
        return [Step(row, "meeting", v["held_on"], key, digest)]
    if kind == "plans":
        return [
            Step(row, "draft", v["drafted_on"], f"{key}:1", digest),
            Step(row, "approve", v["approved_on"], f"{key}:2", digest),
        ]
    if kind == "monitoring":
        return [Step(row, "monitoring", v["held_on"], key, digest)]
    if kind == "outreach":
        return [Step(row, "outreach", v["done_on"], key, digest)]
    if kind == "enrolments":
        steps = [Step(row, "enrol", v["start_on"], f"{key}:1", digest)]
        if v.get("exited_on"):
            steps.append(Step(row, "exit", v["exited_on"], f"{key}:2", digest))
        return steps
    if kind == "closures":
        return [
            Step(row, "propose", v.get("proposed_on") or v["decided_on"], f"{key}:1", digest),
            Step(row, "close", v["decided_on"], f"{key}:2", digest),
        ]
    raise AssertionError(kind)  # pragma: no cover


def build(book: Workbook) -> Plan:
    """The steps of every case in the workbook; rows that could not be read are left aside."""
    directory: list[Row] = []
    case_rows: dict[str, Row] = {}
    records: dict[str, list[Row]] = defaultdict(list)
    skipped: list[Row] = []
    problems: list[Problem] = []
    for row in book.rows():
        if row.problems:
            skipped.append(row)
            continue
        if row.spec.directory:
            directory.append(row)
        elif row.spec.key == "cases":
            ref = row.values["ref"]
            if ref in case_rows:
                first = case_rows[ref]
                row.problem(
                    row.spec.column("ref"),
                    f"台帳番号 {ref} のケースの行が重複しています"
                    f"（{first.sheet} {first.number}行目と同じ番号）",
                    f"a second row for case {ref} (first: {first.sheet} row {first.number})",
                )
                skipped.append(row)
            else:
                case_rows[ref] = row
        else:
            records[row.values["ref"]].append(row)
    seen: Counter[str] = Counter()
    cases = []
    for ref in sorted(set(case_rows) | set(records)):
        plan = CasePlan(ref, case_rows.get(ref))
        for row in records.get(ref, []):
            digest = _digest(row)
            record_no = row.values.get("record_no")
            if record_no:
                base = hashlib.sha256(f"{row.spec.key}\x1f{ref}\x1f{record_no}".encode()).hexdigest()
            else:
                seen[digest] += 1
                base = hashlib.sha256(f"{digest}#{seen[digest]}".encode()).hexdigest()
            plan.steps.extend(_steps(row, base, digest))
        plan.steps.sort(key=lambda s: s.order)
        cases.append(plan)
    cases.sort(key=lambda c: (c.household or c.ref, c.ref))
    return Plan(directory, cases, skipped, problems)
