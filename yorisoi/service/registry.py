"""Every action a case can take, each declared once.

An entry names the action's input model (the only place its bounds live), the facts its
guards read, what it writes, the field that dates it and the one that holds its memo (both
shown in the timeline), its page form and its API endpoint. The case service, the CLI, the
page forms, the API routes, the preview of a case's actions and the labels are all derived
from here: adding an action is one entry, its effect, and its form template.

Two sorts of action:

- **lifecycle actions** (`lifecycle=True`) are what a lifecycle file binds its triggers to
  (`action: approve_plan`); their names, labels and rules come from `states.actions`, their
  roles from the file, and firing one may change the stage.
- **record actions** (`lifecycle=False`) exist outside the lifecycle — a contact, a consent,
  outreach, 参加支援 — and never change the stage; their roles and labels are declared here.

Events the system writes without a form (the intake, overdue marks, lifecycle migrations) are
in `SYSTEM_EVENTS`, for their labels. A contact, outreach, a meeting or a monitoring record may
also be added to a closed case, dated inside its closed episode, without reopening it
(`late_entry`, 後日入力).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlmodel import Session

from models.caseload import meetings_of_kind
from models.closure import ClosureStatus
from states import ACTION_RULES, Lifecycle, MeetingKind, Role
from yorisoi.errors import InvalidInput
from yorisoi.service import inputs as i
from yorisoi.service.effects import (
    Act,
    Effect,
    closure,
    consent,
    contacts,
    details,
    input_facts,
    meetings,
    nothing,
    plans,
    records,
)
from yorisoi.service.journal import CaseHead

FactsBuilder = Callable[[Session, CaseHead, Any], Mapping[str, Any]]
Probe = Callable[[Session, CaseHead], i.ActionInput]

STAFF = frozenset({Role.COORDINATOR.value, Role.SUPERVISOR.value})


@dataclass(frozen=True, slots=True)
class Form:
    """The page form: its template, and how many empty rows each list field offers at first.

    The posted fields are read back into the input model by `yorisoi.web.forms.read`: a field
    by its name, a list of rows as `<field>-<n>-<name>`, a nested model's fields by their own
    names.
    """

    template: str
    rows: Mapping[str, int] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Api:
    """The typed endpoint `POST /api/cases/{number}<path>`; the body is the input model plus
    `expected_version`. Lifecycle actions sharing a path (a plan is drafted or revised) are
    told apart by the case's stage."""

    path: str
    summary: str
    status_code: int = 201


@dataclass(frozen=True, slots=True)
class ActionSpec:
    name: str
    input: type[i.ActionInput]
    effect: Callable[[Act[Any]], Effect]
    lifecycle: bool
    facts: FactsBuilder = input_facts
    dated_by: str | None = None
    """The input field (dotted for a nested one) with the action's business date."""
    memo: str | None = None
    """The input field whose text the timeline shows."""
    probe: Probe | None = None
    """What the preview of a case's actions assumes was typed (default: the input's defaults)."""
    form: Form | None = None
    api: Api | None = None
    record_ja: str = ""
    record_en: str = ""
    roles: frozenset[str] = STAFF
    """Record actions: who may take them (a lifecycle file gives its triggers their roles)."""
    after_closure: bool = False
    """Record actions: may be taken on a closed case too (アフターフォロー)."""
    late_entry: bool = False
    """May be added to a closed case without reopening it when dated on or before the closure
    (後日入力): the record joins the closed episode, the stage stays, the audit event says so."""

    @property
    def ja(self) -> str:
        return ACTION_RULES[self.name].ja if self.lifecycle else self.record_ja

    @property
    def en(self) -> str:
        return ACTION_RULES[self.name].en if self.lifecycle else self.record_en

    def business_date(self, data: i.ActionInput) -> Any:
        return _field(data, self.dated_by)

    def memo_of(self, data: i.ActionInput) -> str:
        return str(_field(data, self.memo) or "")

    def probe_input(self, session: Session, head: CaseHead) -> i.ActionInput:
        return self.probe(session, head) if self.probe else self.input.model_construct()


def _field(data: i.ActionInput, path: str | None) -> Any:
    """The value at a dotted field path; None where it is missing (a preview's assumed input)."""
    value: Any = data
    for part in path.split(".") if path else ():
        value = getattr(value, part, None)
        if value is None:
            return None
    return value if path else None


def _newest_multilayer_meeting(session: Session, head: CaseHead) -> i.ActionInput:
    found = meetings_of_kind(session, head.id, MeetingKind.MULTILAYER)
    return i.ApprovePlanInput.model_construct(meeting_id=found[0].id if found else None)


_DECIDE = Form("form_decide_closure.html")


def _meeting(name: str, kind: MeetingKind, summary: str) -> ActionSpec:
    """Holding a 支援会議 or a 重層的支援会議: the same record, told apart by its kind."""
    return ActionSpec(
        name,
        i.MeetingInput,
        meetings.hold(kind),
        True,
        facts=meetings.facts,
        dated_by="held_on",
        memo="decisions",
        form=Form("form_meeting.html", {"attendees": 5}),
        api=Api(f"/meetings/{kind.removesuffix('_meeting')}", summary),
        late_entry=True,
    )


def _plan(name: str, effect: Callable[[Act[Any]], Effect]) -> ActionSpec:
    """Drafting a plan or revising the one in force: the same form and endpoint, by stage."""
    return ActionSpec(
        name,
        i.PlanInput,
        effect,
        True,
        facts=plans.facts,
        dated_by="drafted_on",
        memo="household_goal",
        form=Form("form_plan.html", {"goals": 3, "roles": 4, "external_plans": 2}),
        api=Api("/plans", "支援プラン: a draft, or in monitoring a revision (a new version to approve)."),
    )


ACTIONS: dict[str, ActionSpec] = {
    spec.name: spec
    for spec in (
        # --- lifecycle actions -------------------------------------------------------------
        ActionSpec("note", i.NoteInput, nothing, True, memo="note", form=Form("form_note.html")),
        ActionSpec(
            "start_assessment",
            i.NoteInput,
            nothing,
            True,
            memo="note",
            form=Form("form_note.html"),
            api=Api("/assessment", "Start the assessment (アセスメント開始).", 200),
        ),
        _meeting(
            "hold_support_meeting",
            MeetingKind.SUPPORT,
            "支援会議 (法第106条の6): attendees bound by 守秘義務.",
        ),
        _meeting(
            "hold_multilayer_meeting",
            MeetingKind.MULTILAYER,
            "重層的支援会議: every attending agency within the consent.",
        ),
        _plan("draft_plan", plans.draft),
        _plan("revise_plan", plans.revise),
        ActionSpec(
            "approve_plan",
            i.ApprovePlanInput,
            plans.approve,
            True,
            dated_by="approved_on",
            probe=_newest_multilayer_meeting,
            form=Form("form_approve_plan.html"),
            api=Api(
                "/plans/approve",
                "Approve the plan awaiting approval (a supervisor who did not write it).",
                200,
            ),
        ),
        ActionSpec(
            "return_plan",
            i.ReturnPlanInput,
            plans.send_back,
            True,
            dated_by="returned_on",
            memo="reason",
            form=Form("form_return_plan.html"),
            api=Api(
                "/plans/return",
                "差戻し: send the plan awaiting approval back to its author, with the reason.",
                200,
            ),
        ),
        ActionSpec(
            "record_monitoring",
            i.MonitoringInput,
            plans.record_monitoring,
            True,
            dated_by="held_on",
            memo="summary",
            form=Form("form_monitoring.html"),
            api=Api("/monitoring", "A monitoring record; sets the next monitoring date."),
            late_entry=True,
        ),
        ActionSpec(
            "withdraw_consent",
            i.WithdrawConsentInput,
            consent.withdraw,
            True,
            dated_by="withdrawn_on",
            memo="note",
            form=Form("form_withdraw.html"),
            api=Api("/consents/withdraw", "The person withdraws consent (back to the 支援会議 track).", 200),
        ),
        ActionSpec(
            "hand_over",
            i.HandOverInput,
            records.hand_over,
            True,
            dated_by="handed_over_on",
            memo="note",
            form=Form("form_hand_over.html"),
            api=Api("/hand-over", "つなぎ: hand the support over to another agency.", 200),
        ),
        ActionSpec(
            "propose_closure",
            i.ProposeClosureInput,
            closure.propose,
            True,
            dated_by="proposed_on",
            memo="evaluation",
            form=Form("form_closure.html"),
            api=Api("/closure", "Propose 終結, with the reason and an evaluation of the support."),
        ),
        ActionSpec(
            "reject_closure",
            i.DecideClosureInput,
            closure.decide(ClosureStatus.REJECTED),
            True,
            dated_by="decided_on",
            memo="note",
            form=_DECIDE,
            api=Api("/closure/reject", "Send the closure proposal back.", 200),
        ),
        ActionSpec(
            "approve_closure",
            i.DecideClosureInput,
            closure.decide(ClosureStatus.APPROVED),
            True,
            dated_by="decided_on",
            memo="note",
            form=_DECIDE,
            api=Api(
                "/closure/approve", "Approve the closure proposal (a supervisor who did not propose it).", 200
            ),
        ),
        ActionSpec(
            "reopen",
            i.ReopenInput,
            contacts.reopen,
            True,
            dated_by="contact.contacted_on",
            memo="contact.note",
            form=Form("form_reopen.html"),
            api=Api("/reopen", "Reopen a closed case: a new episode, starting with a contact.", 200),
        ),
        # --- record actions ----------------------------------------------------------------
        ActionSpec(
            "add_contact",
            i.ContactInput,
            contacts.add_contact,
            False,
            dated_by="contacted_on",
            memo="note",
            form=Form("form_contact.html"),
            api=Api("/contacts", "Record another consultation contact (相談)."),
            record_ja="相談の記録",
            record_en="Record a contact",
            after_closure=True,
            late_entry=True,
        ),
        ActionSpec(
            "give_consent",
            i.ConsentInput,
            consent.give,
            False,
            dated_by="given_on",
            memo="note",
            form=Form("form_consent.html"),
            api=Api(
                "/consents",
                "本人同意: the person's consent and the agencies it covers (replaces an earlier one).",
            ),
            record_ja="本人同意の記録",
            record_en="Record consent",
        ),
        ActionSpec(
            "log_outreach",
            i.OutreachInput,
            records.log_outreach,
            False,
            dated_by="done_on",
            memo="note",
            form=Form("form_outreach.html"),
            api=Api("/outreach", "アウトリーチ: a home visit or attendance at a local meeting."),
            record_ja="アウトリーチの記録",
            record_en="Record outreach",
            late_entry=True,
        ),
        ActionSpec(
            "enrol_in_program",
            i.EnrolmentInput,
            records.enrol,
            False,
            dated_by="start_on",
            form=Form("form_enrolment.html"),
            api=Api("/enrolments", "参加支援: enrol the person with a registered provider."),
            record_ja="参加支援の登録",
            record_en="Enrol in a programme",
        ),
        ActionSpec(
            "correct_details",
            i.CorrectDetailsInput,
            details.correct,
            False,
            memo="note",
            form=Form("form_correct.html"),
            api=Api(
                "/details",
                "訂正: the person's and the household's details (name, kana, birth date, address, DV flag); "
                "only the fields given change.",
                200,
            ),
            record_ja="本人・世帯の情報の訂正",
            record_en="Correct the person's or household's details",
            after_closure=True,
        ),
        ActionSpec(
            "record_program_exit",
            i.ProgramExitInput,
            records.record_exit,
            False,
            dated_by="exited_on",
            api=Api(
                "/enrolments/exit", "The day the person left a programme (ends short-stay reminders).", 200
            ),
            record_ja="参加支援の終了",
            record_en="Record a programme exit",
            after_closure=True,
        ),
    )
}

SYSTEM_EVENTS: dict[str, tuple[str, str]] = {
    "open_case": ("受付（ケース作成）", "Intake (case opened)"),
    "mark_overdue": ("モニタリング期限超過の記録", "Marked overdue for monitoring"),
    "migrate_lifecycle": ("ライフサイクルの移行", "Moved to a new lifecycle version"),
}
"""Events the system writes without a form: labels for the timeline and the audit."""

RECORD_ACTIONS: frozenset[str] = frozenset(n for n, s in ACTIONS.items() if not s.lifecycle)
LATE_ENTRY_ACTIONS: frozenset[str] = frozenset(n for n, s in ACTIONS.items() if s.late_entry)
RESERVED_NAMES: frozenset[str] = RECORD_ACTIONS | frozenset(SYSTEM_EVENTS)
"""Names a lifecycle file may not give its triggers (they name record actions and events)."""


def _check_registry() -> None:
    lifecycle_actions = {n for n, s in ACTIONS.items() if s.lifecycle}
    if lifecycle_actions != set(ACTION_RULES):
        raise RuntimeError(
            f"registry and states.actions disagree: {sorted(lifecycle_actions ^ set(ACTION_RULES))}"
        )


_check_registry()


@dataclass(frozen=True, slots=True)
class Step:
    """An action as a case takes it: its spec and, for a lifecycle action, the trigger."""

    spec: ActionSpec
    trigger: str | None


def resolve(lifecycle: Lifecycle, name: str) -> Step:
    """`name` is a trigger of the lifecycle or a record action; refuse anything else."""
    trigger = lifecycle.triggers.get(name)
    if trigger is not None:
        return Step(ACTIONS[trigger.action], name)
    spec = ACTIONS.get(name)
    if spec is not None and not spec.lifecycle:
        return Step(spec, None)
    known = ", ".join([*lifecycle.triggers, *sorted(RECORD_ACTIONS)])
    raise InvalidInput(
        f"不明な操作です: {name}（使える操作: {known}）",
        f"Unknown action {name!r}; known actions: {known}.",
    )


def label(lifecycle: Lifecycle, name: str) -> str:
    """The Japanese label of an event's action: its trigger's, a record action's, or the system's."""
    trigger = lifecycle.triggers.get(name)
    if trigger is not None:
        return trigger.ja
    spec = ACTIONS.get(name)
    if spec is not None:
        return spec.ja
    if name in SYSTEM_EVENTS:
        return SYSTEM_EVENTS[name][0]
    return lifecycle.former_labels.get(name, name)
