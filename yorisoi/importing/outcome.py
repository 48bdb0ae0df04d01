"""What an import did: each sheet's rows added, already there or failed, and every problem."""

from __future__ import annotations

from collections import ChainMap
from collections.abc import MutableMapping
from dataclasses import dataclass, field, replace
from pathlib import Path

from yorisoi.importing.layout import Column
from yorisoi.importing.reader import Problem, Row


@dataclass
class Tally:
    """What became of one sheet's rows."""

    sheet: str
    read: int = 0
    added: int = 0
    already: int = 0
    failed: int = 0


@dataclass
class ImportResult:
    path: Path
    file_hash: str
    dry_run: bool
    tallies: dict[str, Tally]
    problems: list[Problem]
    failed_rows: list[Row]
    headers: dict[str, tuple[str, ...]] = field(default_factory=dict)
    """Each sheet's header row as the file had it (by the sheet's name), for the failed rows."""
    cases_opened: int = 0
    seconds: float = 0.0

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if not p.warning]

    @property
    def rows(self) -> int:
        return sum(t.read for t in self.tallies.values())

    @property
    def added(self) -> int:
        return sum(t.added for t in self.tallies.values())


class Outcome:
    """Each row's fate: added, already imported, or failed (with its problems)."""

    def __init__(self, result: ImportResult) -> None:
        self.result = result
        self.state: MutableMapping[int, str] = {}
        self.rows: MutableMapping[int, Row] = {}

    def tentative(self) -> Outcome:
        """An outcome on top of this one, for rows that may yet be run again: it reads this
        one's states, keeps its own, and counts for nothing until `keep`."""
        draft = Outcome(replace(self.result, problems=[], cases_opened=0))
        draft.state = ChainMap({}, self.state)
        draft.rows = ChainMap({}, self.rows)
        return draft

    def keep(self, draft: Outcome) -> None:
        """Take what a `tentative` outcome recorded (its states already follow this one's)."""
        assert isinstance(draft.state, ChainMap) and isinstance(draft.rows, ChainMap)
        for key, state in draft.state.maps[0].items():
            self.rows[key] = draft.rows[key]
            self.state[key] = state
        self.result.problems += draft.result.problems
        self.result.cases_opened += draft.result.cases_opened

    def _mark(self, row: Row, state: str) -> None:
        self.rows[id(row)] = row
        previous = self.state.get(id(row))
        if previous == "failed" or (previous == "added" and state == "already"):
            return
        self.state[id(row)] = state

    def added(self, row: Row) -> None:
        self._mark(row, "added")

    def already(self, row: Row) -> None:
        self._mark(row, "already")

    def fail_row(self, row: Row) -> None:
        self._mark(row, "failed")
        self.state[id(row)] = "failed"

    def fail(
        self, row: Row, column: Column | None, ja: str, en: str, headers: dict[str, str] | None = None
    ) -> None:
        row.problem(column, ja, en, headers=headers)
        self.fail_row(row)

    def warn(self, row: Row, ja: str, en: str) -> None:
        self.result.problems.append(Problem(row.sheet, row.number, None, ja, en, warning=True))

    def finish(self) -> None:
        tallies = self.result.tallies
        for key, state in self.state.items():
            row = self.rows[key]
            tally = tallies.setdefault(row.sheet, Tally(row.sheet))
            if state == "failed":
                tally.failed += 1
                self.result.failed_rows.append(row)
                self.result.problems.extend(row.problems)
            elif state == "added":
                tally.added += 1
            else:
                tally.already += 1
        order = {name: n for n, name in enumerate(self.result.headers)}
        self.result.failed_rows.sort(key=lambda r: (order.get(r.sheet, len(order)), r.number))
        self.result.problems.sort(key=lambda p: (order.get(p.sheet, -1), p.row or 0))
