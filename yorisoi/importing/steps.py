"""One batch of cases run step by step through the case service.

Each case is opened with its earliest contact (or found by its 台帳番号), then its steps are
fired in order: by action, through the trigger the case's stage offers (a closed case takes a
late entry), acting as the staff member the row names. A refusal is the row's problem, with
the column it is about where the refusal says (a guard, a date, an approver); the case's other
rows go on. A row already imported (its key is in `imported_row`) is left as it is.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection
from sqlmodel import Session, select

from models import Agency, ProgramProvider, Staff
from models.caseload import meetings_of_kind
from models.imports import KnownCase, cases_by_ref, enrolment_of, imported
from models.queries import event_payload, household_id_of_case
from states import LifecycleMachine, MeetingKind
from yorisoi.errors import GuardFailed, InvalidInput, PermissionDenied, TriggerNotAllowed, YorisoiError
from yorisoi.importing.layout import Column
from yorisoi.importing.outcome import Outcome
from yorisoi.importing.plan import CasePlan, Step
from yorisoi.importing.reader import Problem, Row
from yorisoi.importing.values import squeeze
from yorisoi.service import cases
from yorisoi.service.cases import late_entry_trigger
from yorisoi.service.provenance import Source

ASSESSMENT_NOTE = "取込: 記録の前にアセスメントを開始"

Progress = Callable[[int], None]


_GUARD_COLUMNS = {
    "attendees_bound_to_confidentiality": "acknowledged",
    "consent_covers_attendees": "agencies",
    "meeting_has_attendees": "agencies",
    "no_valid_consent": "kind",
    "consent_covers_plan_agencies": "roles",
    "consent_covers_current_plan": "roles",
    "approver_is_not_plan_author": "approver",
    "plan_decided_at_meeting": "meeting_on",
    "approver_is_not_closure_proposer": "approver",
    "closure_reason_complete": "reason",
    "closure_decided_after_proposal": "decided_on",
}
_DATE_COLUMNS = {
    "open": "contacted_on",
    "contact": "contacted_on",
    "reopen": "contacted_on",
    "consent": "given_on",
    "meeting": "held_on",
    "draft": "drafted_on",
    "approve": "approved_on",
    "monitoring": "held_on",
    "outreach": "done_on",
    "enrol": "start_on",
    "exit": "exited_on",
    "propose": "proposed_on",
    "close": "decided_on",
}
_DATE_WORDS = ("日付", "受付日", "終結日", "より前です", "より後")
"""What the service's refusals about a date say (the row's own date column is at fault)."""
_ACTOR_COLUMNS = {"approve": "approver", "close": "approver", "draft": "author", "propose": "proposer"}


@dataclass
class _CaseRun:
    plan: CasePlan
    case: KnownCase | None
    stage: str = ""
    failed: bool = False
    enrolments: dict[int, int] = field(default_factory=dict)
    """id(row) → enrolment id, for the exit step of the same row."""


class Batch:
    """One transaction's cases, run step by step through the case service."""

    def __init__(
        self,
        session: Session,
        machine: LifecycleMachine,
        actor: str,
        file_hash: str,
        outcome: Outcome,
        progress: Progress | None,
    ) -> None:
        self.session = session
        self.machine = machine
        self.file_hash = file_hash
        self.outcome = outcome
        self.progress = progress
        staff = session.exec(select(Staff)).all()
        self.importer = next(s for s in staff if s.login == actor)
        self.staff = {squeeze(s.login): s for s in staff} | {squeeze(s.name): s for s in staff}
        self.agencies = {squeeze(a.name): a for a in session.exec(select(Agency)).all()}
        self.providers = {squeeze(p.name): p for p in session.exec(select(ProgramProvider)).all()}
        # Plain values from here on: a refused row's rollback would expire them in the session,
        # and reading one again would start a transaction of its own inside a case's savepoint.
        session.expunge_all()
        self.households: dict[str, int] = {}
        self.at_once = False
        """Running a case's rows in one savepoint: the first refusal is raised, not recorded."""
        self._ticks = 0

    # --- the batch -----------------------------------------------------------------------------

    def run(self, batch: list[CasePlan]) -> None:
        keys = [step.key for plan in batch for step in plan.steps]
        self.done = imported(self.session, keys)
        known = cases_by_ref(self.session, [plan.ref for plan in batch])
        self.session.commit()  # the reads' savepoint ends: each case takes its own
        connection = self.session.get_bind()
        assert isinstance(connection, Connection)
        # rollback_only: the case service's commits leave the case's savepoint open, and its
        # rollback on a refusal rolls that savepoint back.
        with Session(bind=connection, join_transaction_mode="rollback_only", expire_on_commit=False) as fast:
            # Held here, the desks the service checks stay in the session's identity map (it
            # keeps only what something else refers to): one read a batch, not one a contact.
            _held = fast.exec(select(Agency)).all()
            for plan in batch:
                self._case_at_once(connection, fast, plan, known.get(plan.ref))

    def _case_at_once(
        self, connection: Connection, fast: Session, plan: CasePlan, known: KnownCase | None
    ) -> None:
        """The case's rows in one savepoint; on a refusal, that savepoint is rolled back and the
        rows run again one savepoint each, so the refused row is recorded alone.

        A savepoint per action (what the case service's commit is in the batch's transaction)
        took a fifth of an import's time; whole cases usually go in without a refusal.
        """
        careful, outcome, households = self.session, self.outcome, dict(self.households)
        savepoint = connection.begin_nested()
        draft = outcome.tentative()
        try:
            self.session, self.outcome, self.at_once, self._ticks = fast, draft, True, 0
            self._case(_CaseRun(plan, known))
            fast.commit()  # leaves the savepoint: nothing of the session's transaction outlives it
            savepoint.commit()
        except YorisoiError:
            fast.rollback()
            if savepoint.is_active:
                savepoint.rollback()
            self.session, self.outcome, self.at_once, self.households = careful, outcome, False, households
            self._case(_CaseRun(plan, known))
            return
        finally:
            self.session, self.outcome, self.at_once = careful, outcome, False
        outcome.keep(draft)
        self._tick(self._ticks)

    def _tick(self, n: int = 1) -> None:
        if self.at_once:
            self._ticks += n  # shown once the case has gone in
        elif self.progress is not None:
            self.progress(n)

    def _case(self, run: _CaseRun) -> None:
        plan = run.plan
        steps = list(plan.steps)
        if run.case is not None:
            run.stage = run.case.stage
            if plan.case_row is not None:
                self.outcome.already(plan.case_row)
        else:
            opening = next((s for s in steps if s.kind in ("contact", "reopen")), None)
            if not self._open(run, opening):
                self._tick(len(steps) + 1)
                return
            assert opening is not None
            steps.remove(opening)
        self._tick(len(plan.steps) - len(steps) + 1)  # the case row, and the contact that opened it
        for step in steps:
            self._step(run, step)
            self._tick()

    def _open(self, run: _CaseRun, opening: Step | None) -> bool:
        """受付: the case from its row and its earliest contact; refused, none of its rows goes in."""
        plan = run.plan
        why: tuple[str, str] | None = None
        if plan.case_row is None:
            why = (
                f"台帳番号 {plan.ref} のケースがありません"
                "（ケースのシートに行がなく、登録済みのケースでもありません）",
                f"no case {plan.ref}: no row in the cases sheet and none registered",
            )
        elif opening is None:
            why = (
                f"台帳番号 {plan.ref} の相談の記録がないため受け付けられません（最初の相談で受け付けます）",
                f"case {plan.ref} has no contact to open it with",
            )
        else:
            try:
                self._fire_open(run, plan.case_row, opening)
                return True
            except _RowProblem as problem:
                if self.at_once:
                    raise
                problem.row.problems.append(problem.problem)
                self.outcome.fail_row(problem.row)
                if problem.row is not plan.case_row:
                    why = (
                        f"最初の相談（{problem.row.sheet} {problem.row.number}行目）に誤りがあるため"
                        "受け付けられません",
                        "the contact that opens the case has a problem",
                    )
            except YorisoiError as refused:
                if self.at_once:
                    raise
                why = (refused.ja, refused.en)
        if plan.case_row is not None and why is not None:
            self.outcome.fail(plan.case_row, None, *why)
        for row in plan.rows():
            if row is plan.case_row or self.outcome.state.get(id(row)) == "failed":
                continue
            if plan.case_row is None and why is not None:  # no case: each row says so
                self.outcome.fail(row, None, *why)
            else:
                self.outcome.fail(
                    row,
                    None,
                    f"台帳番号 {plan.ref} のケースを受け付けられなかったため取り込みません",
                    f"case {plan.ref} could not be opened",
                )
        return False

    def _fire_open(self, run: _CaseRun, case_row: Row, opening: Step) -> None:
        v = case_row.values
        person: dict[str, Any] = {
            key: v[key] for key in ("name", "kana", "birth_date", "address", "dv_protected") if key in v
        }
        household = v.get("household")
        if household and household in self.households:
            person["household_id"] = self.households[household]
            person.pop("address", None)
            person.pop("dv_protected", None)
        contact = self._contact(opening.row, default_desk=v.get("desk"), desk_column=case_row)
        coordinator = self._staff(case_row, "coordinator")
        fired = cases.open_case(
            session=self.session,
            actor=self._staff(opening.row, "recorded_by") or self.importer,
            machine=self.machine,
            person=person,
            contact=contact,
            coordinator_id=coordinator.id if coordinator else None,
            external_ref=run.plan.ref,
            source=self._source(opening),
        )
        run.case = KnownCase(fired.case_id, fired.to_stage, None)
        run.stage = fired.to_stage
        self.outcome.added(case_row)
        self.outcome.added(opening.row)
        self.outcome.result.cases_opened += 1
        if household and household not in self.households:
            found = household_id_of_case(self.session, fired.case_id)
            if found is not None:
                self.households[household] = found

    # --- one step --------------------------------------------------------------------------------

    def _step(self, run: _CaseRun, step: Step) -> None:
        row = step.row
        if self.outcome.state.get(id(row)) == "failed":
            return  # the row's first step failed: its second is not tried
        done = self.done.get(step.key)
        if done is not None:
            if done != step.digest:
                self.outcome.warn(
                    row,
                    "記録番号が同じ取込済みの記録と内容が違います。変更は取り込みません"
                    "（訂正は画面か CLI で）",
                    "a row with this record number was imported with other content; "
                    "the change is not imported",
                )
            self.outcome.already(row)
            return
        assert run.case is not None
        try:
            fired = self._fire(run, step)
        except _RowProblem as problem:
            if self.at_once:
                raise
            row.problems.append(problem.problem)
            self.outcome.fail_row(row)
            return
        except YorisoiError as refused:
            if self.at_once:
                raise
            self.outcome.fail(row, self._column_of(step, refused), refused.ja, refused.en)
            return
        run.stage = fired.to_stage
        self.outcome.added(row)

    def _column_of(self, step: Step, refused: YorisoiError) -> Column | None:
        key: str | None = None
        if isinstance(refused, GuardFailed) and refused.refusals:
            key = _GUARD_COLUMNS.get(refused.refusals[0].guard)
        elif isinstance(refused, PermissionDenied):
            key = _ACTOR_COLUMNS.get(step.kind, "recorded_by")
        elif isinstance(refused, TriggerNotAllowed) or (
            isinstance(refused, InvalidInput) and any(w in refused.ja for w in _DATE_WORDS)
        ):
            key = _DATE_COLUMNS.get(step.kind)
        spec = step.row.spec
        if key is None or key not in {c.key for c in spec.columns}:
            return None
        return spec.column(key)

    def _source(self, step: Step) -> Source:
        return Source(self.file_hash, step.row.sheet, step.row.number, step.key, step.digest)

    def _do(
        self, run: _CaseRun, step: Step, action: str, actor: Staff | None = None, **data: Any
    ) -> cases.Fired:
        assert run.case is not None
        return cases.fire(
            session=self.session,
            case_id=run.case.id,
            action=action,
            actor=actor or self.importer,
            machine=self.machine,
            source=self._source(step),
            **data,
        )

    def _trigger(self, run: _CaseRun, *actions: str, assess: bool = False) -> str:
        """The trigger the case's stage offers for one of `actions` (or, closed, its late entry);
        a meeting on a case that has not been assessed yet starts the assessment first."""
        machine, lifecycle = self.machine, self.machine.lifecycle
        found = machine.trigger_for(run.stage, *actions) or late_entry_trigger(lifecycle, run.stage, *actions)
        if found is None and assess:
            start = machine.trigger_for(run.stage, "start_assessment")
            leads_to = {
                t.dest for t in lifecycle.transitions if t.trigger == start and run.stage in t.sources
            }
            if start is not None and any(d and machine.trigger_for(d, *actions) for d in leads_to):
                assert run.case is not None
                fired = cases.fire(
                    session=self.session,
                    case_id=run.case.id,
                    action=start,
                    actor=self.importer,
                    machine=machine,
                    note=ASSESSMENT_NOTE,
                )
                run.stage = fired.to_stage
                found = machine.trigger_for(run.stage, *actions)
        # None offered: fire the first trigger of the action, and the service says why not.
        return found or lifecycle.triggers_of(*actions)[0]

    def _fire(self, run: _CaseRun, step: Step) -> cases.Fired:
        row, v, kind = step.row, step.row.values, step.kind
        if kind == "contact":
            return self._do(run, step, "add_contact", self._staff(row, "recorded_by"), **self._contact(row))
        if kind == "reopen":
            return self._do(
                run,
                step,
                self._trigger(run, "reopen"),
                self._staff(row, "recorded_by"),
                contact=self._contact(row),
            )
        if kind == "consent":
            data = {
                "given_on": v["given_on"],
                "agency_ids": self._agency_ids(row, "agencies"),
                "note": v.get("note", ""),
            }
            if "method" in v:
                data["method"] = v["method"]
            return self._do(run, step, "give_consent", self._staff(row, "recorded_by"), **data)
        if kind == "meeting":
            action = "hold_support_meeting" if v["kind"] == MeetingKind.SUPPORT else "hold_multilayer_meeting"
            attendees = [
                {
                    "name": self.agencies[squeeze(name)].name,
                    "agency_id": agency_id,
                    "acknowledged_confidentiality": bool(v.get("acknowledged")),
                }
                for name, agency_id in zip(v["agencies"], self._agency_ids(row, "agencies"), strict=True)
            ]
            trigger = self._trigger(run, action, assess=True)
            return self._do(
                run,
                step,
                trigger,
                self._staff(row, "recorded_by"),
                held_on=v["held_on"],
                title=v.get("title", ""),
                decisions=v.get("decisions", ""),
                attendees=attendees,
            )
        if kind == "draft":
            return self._do(
                run,
                step,
                self._trigger(run, "draft_plan", "revise_plan"),
                self._staff(row, "author"),
                **self._plan(row),
            )
        if kind == "approve":
            return self._do(
                run,
                step,
                self._trigger(run, "approve_plan"),
                self._required_staff(row, "approver"),
                approved_on=v["approved_on"],
                meeting_id=self._deciding_meeting(run, row),
            )
        if kind == "monitoring":
            data = {"held_on": v["held_on"], "summary": v["summary"]}
            if v.get("next_on"):
                data["next_on"] = v["next_on"]
            return self._do(
                run, step, self._trigger(run, "record_monitoring"), self._staff(row, "recorded_by"), **data
            )
        if kind == "outreach":
            return self._do(
                run,
                step,
                "log_outreach",
                self._staff(row, "recorded_by"),
                kind=v["kind"],
                done_on=v["done_on"],
                note=v.get("note", ""),
            )
        if kind == "enrol":
            fired = self._do(
                run,
                step,
                "enrol_in_program",
                self._staff(row, "recorded_by"),
                provider_id=self._provider_id(row),
                start_on=v["start_on"],
                end_on=v["end_on"],
            )
            run.enrolments[id(row)] = int(
                event_payload(self.session, fired.case_id, fired.version)["enrolment_id"]
            )
            return fired
        if kind == "exit":
            assert run.case is not None
            enrolment = run.enrolments.get(id(row)) or enrolment_of(
                self.session, run.case.id, self._provider_id(row), v["start_on"]
            )
            if enrolment is None:
                raise self._problem(
                    row, "exited_on", "この参加支援の利用が見つかりません", "no such enrolment"
                )
            return self._do(
                run,
                step,
                "record_program_exit",
                self._staff(row, "recorded_by"),
                enrolment_id=enrolment,
                exited_on=v["exited_on"],
            )
        if kind == "propose":
            return self._do(
                run,
                step,
                self._trigger(run, "propose_closure"),
                self._staff(row, "proposer"),
                proposed_on=v.get("proposed_on") or v["decided_on"],
                reason=v["reason"],
                reason_text=v.get("reason_text", ""),
                evaluation=v["evaluation"],
            )
        if kind == "close":
            return self._do(
                run,
                step,
                self._trigger(run, "approve_closure"),
                self._required_staff(row, "approver"),
                decided_on=v["decided_on"],
            )
        raise AssertionError(kind)  # pragma: no cover

    # --- values the service needs ----------------------------------------------------------------

    def _problem(self, row: Row, key: str, ja: str, en: str) -> _RowProblem:
        column = row.spec.column(key)
        return _RowProblem(row, Problem(row.sheet, row.number, column.header, ja, en))

    def _staff(self, row: Row, key: str) -> Staff | None:
        name = row.values.get(key)
        if not name:
            return None
        found = self.staff.get(squeeze(name))
        if found is None:
            raise self._problem(
                row,
                key,
                f"職員「{name}」は登録されていません（ログイン名か氏名。職員のシートで登録できます）",
                f"no staff member {name!r}",
            )
        return found

    def _required_staff(self, row: Row, key: str) -> Staff:
        found = self._staff(row, key)
        assert found is not None  # a required column
        return found

    def _agency(self, row: Row, key: str, name: str, *, desk: bool = False) -> int:
        found = self.agencies.get(squeeze(name))
        if found is None or found.id is None:
            raise self._problem(
                row,
                key,
                f"関係機関「{name}」は登録されていません（関係機関のシートで登録できます）",
                f"no agency {name!r}",
            )
        if desk and not found.is_desk:
            raise self._problem(
                row,
                key,
                f"「{name}」は受付窓口として登録されていません",
                f"{name!r} is not a registered desk",
            )
        return found.id

    def _agency_ids(self, row: Row, key: str) -> list[int]:
        return [self._agency(row, key, name) for name in row.values.get(key, [])]

    def _provider_id(self, row: Row) -> int:
        name = row.values["provider"]
        found = self.providers.get(squeeze(name))
        if found is None or found.id is None:
            raise self._problem(
                row,
                "provider",
                f"登録事業所「{name}」は登録されていません（事業所のシートで登録できます）",
                f"no provider {name!r}",
            )
        return found.id

    def _contact(
        self, row: Row, *, default_desk: str | None = None, desk_column: Row | None = None
    ) -> dict[str, Any]:
        v = row.values
        data: dict[str, Any] = {
            "contacted_on": v["contacted_on"],
            "referrer": v["referrer"],
            "method": v.get("method", "unrecorded"),
            "topics": v["topics"],
            "note": v.get("note", ""),
            "outreach_visit": bool(v.get("outreach_visit")),
        }
        if v.get("desk"):
            data["desk_id"] = self._agency(row, "desk", v["desk"], desk=True)
        elif default_desk and desk_column is not None:
            data["desk_id"] = self._agency(desk_column, "desk", default_desk, desk=True)
        return data

    def _plan(self, row: Row) -> dict[str, Any]:
        v = row.values
        lead = v.get("lead")
        roles = [(name, role) for name, role in v.get("roles", [])]
        if lead and squeeze(lead) not in {squeeze(name) for name, _ in roles}:
            roles.append((lead, "主担当"))
        data: dict[str, Any] = {
            "drafted_on": v["drafted_on"],
            "household_goal": v.get("household_goal", ""),
            "goals": [{"problem": problem, "goal": goal} for problem, goal in v["goals"]],
            "roles": [
                {
                    "agency_id": self._agency(row, "roles", name),
                    "role": role,
                    "is_lead": bool(lead) and squeeze(name) == squeeze(lead),
                }
                for name, role in roles
            ],
        }
        if v.get("interval"):
            data["monitoring_interval_days"] = v["interval"]
        return data

    def _deciding_meeting(self, run: _CaseRun, row: Row) -> int | None:
        """The 重層的支援会議 that decided the plan: held on 決定した会議の開催日, else the latest
        on or before the approval."""
        assert run.case is not None
        meetings = meetings_of_kind(self.session, run.case.id, MeetingKind.MULTILAYER)
        on = row.values.get("meeting_on")
        if on is not None:
            found = next((m for m in meetings if m.held_on == on), None)
            if found is None:
                raise self._problem(
                    row,
                    "meeting_on",
                    f"{on} に開催された重層的支援会議がこのケースにありません"
                    "（会議のシートを確かめてください）",
                    f"no multi-layered support meeting of the case on {on}",
                )
            return found.id
        approved_on = row.values["approved_on"]
        return next((m.id for m in meetings if m.held_on <= approved_on), None)


class _RowProblem(YorisoiError):
    """A value of the row the service cannot take (an unknown staff member, agency …)."""

    code = "import_row"

    def __init__(self, row: Row, problem: Problem) -> None:
        super().__init__(problem.ja, problem.en)
        self.row = row
        self.problem = problem
