"""What a lifecycle file's triggers and stages may mean to the engine, and the rules that go with it.

Stage and trigger names and labels belong to the municipality. What the engine does when a
trigger fires is its `action` (record a meeting, approve a plan, close the case …), and where
the engine looks for cases is a stage's `kind` (monitoring runs where `kind: monitoring`).
Code asks for an action or a kind, never for a name.

Each action also carries rules no lifecycle file may break: guards that cannot be dropped
(the four-eyes rule, consent, 守秘義務 under 法第106条の6), where its transitions may lead,
who may take it, and whether the engine cannot work without it. `parse_lifecycle` holds
every trigger to them and reports each breach with its line.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from states.stages import Role


class StageKind(StrEnum):
    """What the engine does with cases in a stage (a stage without a kind is just a stage)."""

    MONITORING = "monitoring"
    """Cases here have monitoring dates: the sweeps remind, escalate and mark them overdue."""


STAGE_KIND_LABELS_JA: dict[str, str] = {StageKind.MONITORING: "モニタリングを行う段階"}

REQUIRED_STAGE_KINDS: frozenset[str] = frozenset({StageKind.MONITORING})


@dataclass(frozen=True, slots=True)
class ActionRule:
    """What a lifecycle file must keep for every trigger bound to this action."""

    name: str
    ja: str
    en: str
    required: bool = False
    """The engine cannot work without a trigger of this action."""
    guards: frozenset[str] = frozenset()
    """Every transition of the action carries these guards."""
    stays: bool = False
    """The action never changes the stage (no `dest`)."""
    dest_kind: str | None = None
    """A transition that moves the case leads to a stage of this kind."""
    dest_final: bool | None = None
    """True: it leads to a final stage; False: it never does."""
    source_kind: str | None = None
    """It starts only from stages of this kind."""
    from_every_of_kind: bool = False
    """Every stage of `source_kind` offers it (monitoring can be recorded wherever it runs)."""
    source_final: bool | None = None
    """True: it starts only from final stages; False: never from one."""
    roles_within: frozenset[str] | None = None
    """The roles a file may give the trigger (approvals stay with supervisors)."""


_SUPERVISOR = frozenset({Role.SUPERVISOR.value})

ACTION_RULES: dict[str, ActionRule] = {
    rule.name: rule
    for rule in (
        ActionRule("note", "記録（メモ）", "Record (with a memo)"),
        ActionRule("start_assessment", "アセスメント開始", "Start assessment", source_final=False),
        ActionRule(
            "hold_support_meeting",
            "支援会議の開催",
            "Hold a support meeting",
            guards=frozenset({"attendees_bound_to_confidentiality"}),
            source_final=False,
        ),
        ActionRule(
            "hold_multilayer_meeting",
            "重層的支援会議の開催",
            "Hold a multi-layered support meeting",
            required=True,
            guards=frozenset({"consent_covers_attendees", "meeting_has_attendees"}),
            source_final=False,
        ),
        ActionRule(
            "draft_plan",
            "支援プラン作成",
            "Draft the support plan",
            required=True,
            guards=frozenset({"consent_covers_plan_agencies"}),
            source_final=False,
            dest_final=False,
        ),
        ActionRule(
            "revise_plan",
            "支援プラン見直し",
            "Revise the support plan",
            guards=frozenset({"consent_covers_plan_agencies"}),
            source_kind=StageKind.MONITORING,
            dest_final=False,
        ),
        ActionRule(
            "approve_plan",
            "支援プラン承認",
            "Approve the support plan",
            required=True,
            guards=frozenset(
                {
                    "plan_drafted",
                    "approver_is_not_plan_author",
                    "plan_decided_at_meeting",
                    "consent_covers_current_plan",
                }
            ),
            dest_kind=StageKind.MONITORING,
            roles_within=_SUPERVISOR,
        ),
        ActionRule(
            "return_plan",
            "支援プランの差戻し",
            "Send the plan back",
            guards=frozenset({"plan_drafted"}),
            stays=True,
            roles_within=_SUPERVISOR,
        ),
        ActionRule(
            "record_monitoring",
            "モニタリング記録",
            "Record monitoring",
            required=True,
            stays=True,
            source_kind=StageKind.MONITORING,
            from_every_of_kind=True,
        ),
        ActionRule(
            "withdraw_consent",
            "本人同意の撤回",
            "Withdraw consent",
            required=True,
            guards=frozenset({"has_active_consent"}),
            source_final=False,
            dest_final=False,
        ),
        ActionRule(
            "hand_over",
            "他機関への引継ぎ（つなぎ）",
            "Hand over to another agency",
            source_final=False,
            dest_final=False,
        ),
        ActionRule(
            "propose_closure",
            "終結の提案",
            "Propose closure",
            required=True,
            guards=frozenset({"no_pending_closure", "closure_reason_complete"}),
            stays=True,
            source_final=False,
        ),
        ActionRule(
            "reject_closure",
            "終結の差戻し",
            "Send the closure proposal back",
            required=True,
            guards=frozenset({"closure_pending", "closure_decided_after_proposal"}),
            stays=True,
            roles_within=_SUPERVISOR,
        ),
        ActionRule(
            "approve_closure",
            "終結の承認",
            "Approve closure",
            required=True,
            guards=frozenset(
                {"closure_pending", "approver_is_not_closure_proposer", "closure_decided_after_proposal"}
            ),
            dest_final=True,
            source_final=False,
            roles_within=_SUPERVISOR,
        ),
        ActionRule(
            "reopen",
            "再開（新しいエピソード）",
            "Reopen (new episode)",
            source_final=True,
            dest_final=False,
        ),
    )
}
