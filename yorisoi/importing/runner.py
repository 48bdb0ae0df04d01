"""Run an import: every row through the case service, in batches of whole cases.

The directory sheets (関係機関, 事業所, 職員) go first: names not yet registered are
registered, the rest left as they are. Then each case's steps (`plan`) are fired in date
order — the same guards, input checks and audit trail as a person typing them, each event
carrying its row's provenance — acting as the staff member the row names (作成者, 承認者 …)
or the importing supervisor. A lifecycle action is fired by its kind through the trigger the
case's stage offers (a municipality names its own triggers); a meeting on a case still at
intake is preceded by the start of its assessment, the one step the engine takes by itself.

Transactions: a batch of whole cases (about `BATCH_STEPS` steps) runs in one database
transaction, each case in a savepoint of it; when one of a case's rows is refused, that
savepoint is rolled back and the case runs again with each action in a savepoint of its own, so
the refused row rolls back alone and the others stand (`steps.Batch`). The batch commits with
the keys of its rows (`imported_row`). A crash or Ctrl-C
loses at most the batch under way, and a re-run takes exactly what is missing. `dry_run`
runs everything the same way and rolls every batch back: what it reports is what the import
would do, refusals of the case service included, and nothing is written.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from sqlalchemy import Engine
from sqlmodel import Session, select

from models import Agency, ProgramProvider, Staff
from states import LifecycleMachine, Role
from yorisoi.errors import PermissionDenied, YorisoiError
from yorisoi.importing.outcome import ImportResult, Outcome, Tally
from yorisoi.importing.plan import CasePlan, Plan, build
from yorisoi.importing.reader import Mapping, read_workbook
from yorisoi.importing.steps import Batch, Progress
from yorisoi.importing.values import squeeze
from yorisoi.service import directory

BATCH_STEPS = 400


def require_importer(session: Session, login: str) -> Staff:
    """The staff member importing: an active supervisor (importing is a supervisor's step)."""
    staff = directory.staff_by_login(session, login)
    if not staff.active or Role.SUPERVISOR not in staff.roles:
        raise PermissionDenied(
            f"{staff.name} さんには「記録の取込」の権限がありません（必要な役割: supervisor）。",
            f"{staff.login} may not import records (needs the supervisor role).",
        )
    return staff


def run_import(
    engine: Engine,
    machine: LifecycleMachine,
    path: Path,
    *,
    actor: str,
    dry_run: bool = False,
    mapping: Mapping | None = None,
    sheet: str | None = None,
    progress: Progress | None = None,
    total: Callable[[int], None] | None = None,
) -> ImportResult:
    """Import `path` as staff member `actor` (a supervisor); `dry_run` writes nothing."""
    started = time.perf_counter()
    with Session(engine) as session:
        require_importer(session, actor)
    book = read_workbook(path, mapping=mapping, sheet=sheet)
    plan = build(book)
    result = ImportResult(path, book.file_hash, dry_run, {}, [*book.problems, *plan.problems], [])
    for found in book.sheets:
        result.tallies[found.name] = Tally(found.name, read=len(found.rows))
        result.headers[found.name] = found.headers
    outcome = Outcome(result)
    for row in plan.skipped:
        outcome.fail_row(row)
    if total is not None:
        total(sum(len(c.steps) for c in plan.cases) + len(plan.cases) + len(plan.directory))
    with engine.connect() as connection:
        _in_transaction(connection, dry_run, lambda s: _Directory.apply(s, plan, outcome, progress))
        for batch in _batches(plan.cases):

            def run(session: Session, batch: list[CasePlan] = batch) -> None:
                if dry_run:  # the directory rows again, in this batch's own transaction
                    _Directory.apply(session, plan, None, None)
                Batch(session, machine, actor, book.file_hash, outcome, progress).run(batch)

            _in_transaction(connection, dry_run, run)
    outcome.finish()
    result.seconds = time.perf_counter() - started
    return result


def _in_transaction(connection: Any, dry_run: bool, work: Callable[[Session], None]) -> None:
    transaction = connection.begin()
    try:
        with Session(
            bind=connection, join_transaction_mode="create_savepoint", expire_on_commit=False
        ) as session:
            work(session)
    except BaseException:
        transaction.rollback()
        raise
    if dry_run:
        transaction.rollback()
    else:
        transaction.commit()


def _batches(plans: list[CasePlan]) -> Iterator[list[CasePlan]]:
    """Whole cases, about BATCH_STEPS steps a batch; the cases of one 世帯番号 stay together."""
    batch: list[CasePlan] = []
    steps = 0
    for plan in plans:
        together = plan.household is not None and plan.household == batch[-1].household if batch else False
        if batch and steps >= BATCH_STEPS and not together:
            yield batch
            batch, steps = [], 0
        batch.append(plan)
        steps += len(plan.steps) + 1
    if batch:
        yield batch


class _Directory:
    """関係機関, 事業所 and 職員 rows: register the names not yet registered."""

    @staticmethod
    def apply(session: Session, plan: Plan, outcome: Outcome | None, progress: Progress | None) -> None:
        agencies = {squeeze(n) for n in session.exec(select(Agency.name)).all()}
        providers = {squeeze(n) for n in session.exec(select(ProgramProvider.name)).all()}
        logins = {squeeze(n) for n in session.exec(select(Staff.login)).all()}
        for row in plan.directory:
            v, key = row.values, row.spec.key
            try:
                if key == "agencies" and squeeze(v["name"]) not in agencies:
                    directory.add_agency(
                        session, name=v["name"], field=v["field"], is_desk=bool(v.get("is_desk"))
                    )
                    agencies.add(squeeze(v["name"]))
                elif key == "providers" and squeeze(v["name"]) not in providers:
                    directory.add_provider(
                        session, name=v["name"], program=v["program"], registered_on=v["registered_on"]
                    )
                    providers.add(squeeze(v["name"]))
                elif key == "staff" and squeeze(v["login"]) not in logins:
                    directory.add_staff(session, login=v["login"], name=v["name"], roles=v["roles"])
                    logins.add(squeeze(v["login"]))
                elif outcome is not None:
                    outcome.already(row)
                    continue
                if outcome is not None:
                    outcome.added(row)
            except YorisoiError as refused:
                if outcome is not None:
                    outcome.fail(row, None, refused.ja, refused.en)
            if progress is not None:
                progress(1)


# Which column a refusal of the case service is about, per kind of step.


__all__ = ["BATCH_STEPS", "ImportResult", "Tally", "require_importer", "run_import"]
