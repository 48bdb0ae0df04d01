"""Japanese labels for what people see (CLI and web), and reading a code or its label from input.

Stage and trigger labels come from the lifecycle (a municipality may rename them); the rest
from the label tables next to each enum.
"""

from __future__ import annotations

from collections.abc import Mapping

from models.case import CONTACT_METHOD_LABELS_JA, REFERRER_LABELS_JA
from models.closure import ClosureStatus
from models.consent import CONSENT_METHOD_LABELS_JA
from models.outreach import OUTREACH_KIND_LABELS_JA, PROGRAM_LABELS_JA
from models.plan import PLAN_STATUS_LABELS_JA
from models.staff import AGENCY_FIELD_LABELS_JA
from states import Lifecycle
from states.stages import CLOSURE_REASON_LABELS_JA, MEETING_KIND_LABELS_JA, ROLE_LABELS_JA
from yorisoi.errors import InvalidInput

# Actions the service records without a lifecycle trigger (the stage stays).
RECORDED_ACTIONS_JA: dict[str, str] = {
    "open_case": "受付（ケース作成）",
    "add_contact": "相談の記録",
    "give_consent": "本人同意の記録",
    "log_outreach": "アウトリーチの記録",
    "enrol_in_program": "参加支援の登録",
}

CLOSURE_STATUS_JA: dict[str, str] = {
    ClosureStatus.PROPOSED: "承認待ち",
    ClosureStatus.APPROVED: "承認済み",
    ClosureStatus.REJECTED: "差戻し",
}

# `meeting hold --kind` takes these words; the trigger is `hold_<word>_meeting`.
MEETING_KIND_CHOICES: dict[str, str] = {"support": "支援会議", "multilayer": "重層的支援会議"}

# What each guard of the lifecycle requires, for the lifecycle page (identifiers in states/guards.py).
GUARDS_JA: dict[str, str] = {
    "no_valid_consent": "本人同意がないこと（あれば重層的支援会議へ）",
    "attendees_bound_to_confidentiality": "出席者全員が守秘義務を確認していること",
    "consent_covers_attendees": "出席する機関が本人同意の範囲内であること",
    "meeting_has_attendees": "会議の出席者が記録されていること",
    "consent_covers_plan_agencies": "プランの機関が本人同意の範囲内であること",
    "consent_covers_current_plan": "承認するプランの機関が本人同意の範囲内であること",
    "has_active_consent": "有効な本人同意があること",
    "plan_drafted": "承認待ちのプランがあること",
    "approver_is_not_plan_author": "承認者がプランの作成者でないこと（二者確認）",
    "plan_decided_at_meeting": "プランを決定した重層的支援会議が記録されていること",
    "no_pending_closure": "承認待ちの終結提案がないこと",
    "closure_reason_complete": "終結理由と支援の評価が記載されていること",
    "closure_pending": "終結の提案があること",
    "approver_is_not_closure_proposer": "承認者が終結の提案者でないこと（二者確認）",
    "closure_decided_after_proposal": "決定日が終結の提案日以降であること",
}

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


def stage(lifecycle: Lifecycle, name: str) -> str:
    return lifecycle.stage_label(name) if name else "—"


def action(lifecycle: Lifecycle, name: str) -> str:
    trigger = lifecycle.triggers.get(name)
    return trigger.ja if trigger else RECORDED_ACTIONS_JA.get(name, name)


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
