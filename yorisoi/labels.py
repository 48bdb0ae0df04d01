"""Japanese labels for what people see (CLI and web), and reading a code or its label from input.

Stage and trigger labels come from the lifecycle (a municipality may rename them), those of
record actions and system events from the action registry, guards' from their declaration,
the rest from the label tables next to each enum.
"""

from __future__ import annotations

from collections.abc import Mapping

from models.case import CONTACT_METHOD_LABELS_JA, REFERRER_LABELS_JA
from models.closure import ClosureStatus
from models.consent import CONSENT_METHOD_LABELS_JA
from models.outreach import OUTREACH_KIND_LABELS_JA, PROGRAM_LABELS_JA
from models.plan import PLAN_STATUS_LABELS_JA
from models.staff import AGENCY_FIELD_LABELS_JA
from states import GUARDS, Lifecycle
from states.actions import STAGE_KIND_LABELS_JA
from states.stages import CLOSURE_REASON_LABELS_JA, MEETING_KIND_LABELS_JA, ROLE_LABELS_JA
from yorisoi.errors import InvalidInput
from yorisoi.service import registry

CLOSURE_STATUS_JA: dict[str, str] = {
    ClosureStatus.PROPOSED: "承認待ち",
    ClosureStatus.APPROVED: "承認済み",
    ClosureStatus.REJECTED: "差戻し",
}

# `meeting hold --kind` takes these words; the trigger is `hold_<word>_meeting`.
MEETING_KIND_CHOICES: dict[str, str] = {"support": "支援会議", "multilayer": "重層的支援会議"}

# What each guard of the lifecycle requires, for the lifecycle page (declared with the guard).
GUARDS_JA: dict[str, str] = {name: g.requirement_ja for name, g in GUARDS.items()}

STAGE_KINDS = STAGE_KIND_LABELS_JA
REFERRERS = REFERRER_LABELS_JA
METHODS = CONTACT_METHOD_LABELS_JA
CONSENT_METHODS = CONSENT_METHOD_LABELS_JA
OUTREACH_KINDS = OUTREACH_KIND_LABELS_JA
PROGRAMS = PROGRAM_LABELS_JA
PLAN_STATUSES = PLAN_STATUS_LABELS_JA
AGENCY_FIELDS = AGENCY_FIELD_LABELS_JA
ROLES = ROLE_LABELS_JA
CLOSURE_REASONS = CLOSURE_REASON_LABELS_JA
MEETING_KINDS_JA = MEETING_KIND_LABELS_JA


# What the business date of each action's record is called (`ActionSpec.dated_by`'s last part).
DATE_FIELDS_JA: dict[str, str] = {
    "held_on": "開催日",
    "drafted_on": "作成日",
    "approved_on": "承認日",
    "returned_on": "差戻し日",
    "withdrawn_on": "撤回日",
    "handed_over_on": "引継ぎ日",
    "proposed_on": "提案日",
    "decided_on": "決定日",
    "contacted_on": "相談日",
    "given_on": "同意日",
    "done_on": "実施日",
    "start_on": "開始日",
    "exited_on": "終了日",
    "opened_on": "受付日",
}


def business_date_label(action: str) -> str:
    """`相談日`, `開催日` …: what the date of the action's record is, for the timeline."""
    spec = registry.ACTIONS.get(action)
    field = spec.dated_by.rsplit(".", 1)[-1] if spec is not None and spec.dated_by else ""
    return DATE_FIELDS_JA.get(_SYSTEM_EVENT_DATES.get(action, field), "日付")


_SYSTEM_EVENT_DATES = {"open_case": "opened_on"}
"""System events whose payload carries a business date: what that date is."""


def stage(lifecycle: Lifecycle, name: str) -> str:
    return lifecycle.stage_label(name) if name else "—"


def action(lifecycle: Lifecycle, name: str) -> str:
    """The label of an event's action (a trigger of `lifecycle`, a record action, a system event)."""
    return registry.label(lifecycle, name)


def label(labels: Mapping[str, str], code: str | None) -> str:
    if code is None:
        return "—"
    return labels.get(code, code)


def code(value: str, labels: Mapping[str, str], what_ja: str, what_en: str) -> str:
    """Read `value` as a code of `labels` or as one of its Japanese labels."""
    text = value.strip()
    if text in labels:
        return text
    for key, ja in labels.items():
        if text == ja:
            return str(key)
    choices = "、".join(f"{k}（{ja}）" for k, ja in labels.items())
    raise InvalidInput(
        f"{what_ja}「{value}」は選べません。選べる値: {choices}",
        f"{what_en} {value!r} is not one of: {', '.join(labels)}.",
    )


def codes(values: list[str], labels: Mapping[str, str], what_ja: str, what_en: str) -> list[str]:
    return [code(v, labels, what_ja, what_en) for v in values]
