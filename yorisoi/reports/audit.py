"""The supervisor's audit of a period: who approved which plan and closure, and what is wrong.

It judges the rows as stored (`models.oversight`), so it finds what the case service would
have refused — an approval by the plan's own author, a plan approved with no 重層的支援会議,
a closure decided by its proposer — whoever wrote them. The hash chains are verified too.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlmodel import Session

from models import audit_lists, oversight, verification
from models.due import OverdueCase
from models.verification import ChainVerification, VerificationStatus
from states import LifecycleMachine
from states.stages import CLOSURE_REASON_LABELS_JA, MeetingKind
from yorisoi.errors import InvalidInput
from yorisoi.jpdates import tokyo_datetime, western_date
from yorisoi.reports.layout import Cell, Sheet, ja_date
from yorisoi.service.audit import ChainReport, verify_chains
from yorisoi.service.checkpoints import CheckpointCheck


@dataclass(frozen=True, slots=True)
class Finding:
    """Something the rules forbid, found in the records."""

    code: str
    case_number: str
    subject: str
    ja: str
    en: str


@dataclass(frozen=True, slots=True)
class AuditReport:
    start: dt.date
    end: dt.date
    today: dt.date
    plan_approvals: list[oversight.PlanApproval]
    closures: list[oversight.ClosureDecision]
    findings: list[Finding]
    overdue: list[OverdueCase]
    withdrawn: list[oversight.WithdrawnConsent]
    chain: ChainReport | None
    """The chains verified for this report (the CLI's `report audit`); None where the report
    shows the newest recorded verification instead (`recorded`): the web, which must not
    spend minutes verifying a million chains for a download."""
    recorded: ChainVerification | None = None

    @property
    def verified(self) -> ChainReport:
        """The chains verified for this report (built with `verify=True`, as the CLI does)."""
        if self.chain is None:
            raise ValueError("this audit report carries the recorded verification, not its own")
        return self.chain

    @property
    def chain_ok(self) -> bool | None:
        """Whether the audit trail verified clean (None: never verified)."""
        if self.chain is not None:
            return self.chain.ok
        return self.recorded.ok if self.recorded is not None else None

    @property
    def clean(self) -> bool:
        return not self.findings and self.chain_ok is True


def plan_findings(row: oversight.PlanApproval) -> list[Finding]:
    subject = f"支援プラン 第{row.version}版"

    def found(code: str, ja: str, en: str) -> Finding:
        return Finding(code, row.case_number, subject, ja, en)

    findings = []
    if row.approver_id is None:
        findings.append(
            found("plan_without_approver", "承認者が記録されていません。", "No approver recorded.")
        )
    elif row.approver_id == row.author_id:
        findings.append(
            found(
                "four_eyes_plan",
                f"作成者 {row.author} 本人が承認しています（二者確認の原則に反します）。",
                f"Approved by its own author {row.author} (four-eyes rule).",
            )
        )
    if row.meeting_id is None:
        findings.append(
            found(
                "plan_without_meeting",
                "承認した重層的支援会議が記録されていません。",
                "No multi-layered support meeting recorded for the approval.",
            )
        )
    elif row.meeting_kind is None:
        findings.append(
            found(
                "plan_meeting_missing",
                f"承認の会議 {row.meeting_id} が存在しません。",
                f"The approving meeting {row.meeting_id} does not exist.",
            )
        )
    else:
        if row.meeting_kind != MeetingKind.MULTILAYER:
            findings.append(
                found(
                    "plan_without_meeting",
                    "重層的支援会議ではない会議（支援会議）で承認されています。",
                    "Approved at a meeting that is not a multi-layered support meeting.",
                )
            )
        if row.meeting_case_number != row.case_number:
            findings.append(
                found(
                    "plan_meeting_other_case",
                    f"承認の会議は別のケース（{row.meeting_case_number}）の会議です。",
                    f"The approving meeting belongs to another case ({row.meeting_case_number}).",
                )
            )
        assert row.meeting_held_on is not None
        if row.meeting_held_on < row.drafted_on:
            findings.append(
                found(
                    "plan_meeting_before_draft",
                    f"会議（{western_date(row.meeting_held_on)}）がプランの作成（{western_date(row.drafted_on)}）より前です。",
                    f"The meeting ({row.meeting_held_on}) precedes the draft ({row.drafted_on}).",
                )
            )
        if row.meeting_held_on > row.approved_on:
            findings.append(
                found(
                    "plan_approved_before_meeting",
                    f"承認（{western_date(row.approved_on)}）が会議の開催（{western_date(row.meeting_held_on)}）より前です。",
                    f"Approved ({row.approved_on}) before the meeting was held ({row.meeting_held_on}).",
                )
            )
    return findings


def closure_findings(row: oversight.ClosureDecision) -> list[Finding]:
    def found(code: str, ja: str, en: str) -> Finding:
        return Finding(code, row.case_number, "終結", ja, en)

    findings = []
    if row.decider_id is None:
        findings.append(found("closure_without_decider", "終結の承認者が記録されていません。", "No decider."))
    elif row.decider_id == row.proposer_id:
        findings.append(
            found(
                "four_eyes_closure",
                f"提案者 {row.proposer} 本人が終結を承認しています（二者確認の原則に反します）。",
                f"Closure approved by its own proposer {row.proposer} (four-eyes rule).",
            )
        )
    if row.decided_on < row.proposed_on:
        findings.append(
            found(
                "closure_decided_before_proposal",
                f"承認（{western_date(row.decided_on)}）が提案（{western_date(row.proposed_on)}）より前です。",
                f"Decided ({row.decided_on}) before it was proposed ({row.proposed_on}).",
            )
        )
    return findings


def build_audit(
    session: Session,
    machine: LifecycleMachine,
    *,
    start: dt.date,
    end: dt.date,
    today: dt.date,
    checkpoint: CheckpointCheck | None = None,
    verify: bool = True,
    case_id: int | None = None,
) -> AuditReport:
    """Audit [start, end] (of one case, with `case_id`); overdue monitoring as of `today` (only
    the current due date is stored). `verify=False`: the chains are not verified here, the
    report carries the newest recorded verification (`yorisoi.service.verification`)."""
    check_period(start, end)
    approvals = oversight.plan_approvals(session, start, end, case_id=case_id)
    closures = oversight.closure_decisions(session, start, end, case_id=case_id)
    findings = [f for row in approvals for f in plan_findings(row)]
    findings += [f for row in closures for f in closure_findings(row)]
    return AuditReport(
        start=start,
        end=end,
        today=today,
        plan_approvals=approvals,
        closures=closures,
        findings=findings,
        overdue=audit_lists.overdue_cases(
            session, stages=machine.lifecycle.monitoring_stages, on=today, case_id=case_id
        ),
        withdrawn=oversight.consents_withdrawn(session, start, end, case_id=case_id),
        chain=verify_chains(session, machine, checkpoint=checkpoint) if verify else None,
        recorded=None if verify else verification.latest_finished(session),
    )


def check_period(start: dt.date, end: dt.date) -> None:
    """A period must end on or after its first day."""
    if end < start:
        raise InvalidInput(
            f"期間の終わり（{western_date(end)}）が始まり（{western_date(start)}）より前です。",
            f"The period ends ({end}) before it starts ({start}).",
        )


def _meeting(meeting_id: int | None, held_on: dt.date | None) -> Cell:
    return "—" if meeting_id is None else f"#{meeting_id}（{western_date(held_on) if held_on else '不明'}）"


APPROVAL_COLUMNS = ["ケース", "版", "作成者", "作成日", "承認者", "承認日", "会議（開催日）"]
CLOSURE_COLUMNS = ["ケース", "理由", "提案者", "提案日", "承認者", "承認日", "直近の重層的支援会議"]
FINDING_COLUMNS = ["ケース", "対象", "内容"]
OVERDUE_COLUMNS = ["ケース", "段階", "次回モニタリング日", "超過日数", "担当"]
WITHDRAWN_COLUMNS = ["ケース", "同意日", "撤回日", "記録者"]


def approval_cells(r: oversight.PlanApproval) -> list[Cell]:
    return [
        r.case_number,
        r.version,
        r.author or "—",
        r.drafted_on.isoformat(),
        r.approver or "—",
        r.approved_on.isoformat(),
        _meeting(r.meeting_id, r.meeting_held_on),
    ]


def closure_cells(r: oversight.ClosureDecision) -> list[Cell]:
    return [
        r.case_number,
        CLOSURE_REASON_LABELS_JA.get(r.reason, r.reason),
        r.proposer or "—",
        r.proposed_on.isoformat(),
        r.decider or "—",
        r.decided_on.isoformat(),
        _meeting(r.last_meeting_id, r.last_meeting_held_on),
    ]


def finding_cells(f: Finding) -> list[Cell]:
    return [f.case_number, f.subject, f.ja]


def overdue_cells(r: OverdueCase, today: dt.date, machine: LifecycleMachine) -> list[Cell]:
    return [
        r.number,
        machine.lifecycle.stage_label(r.stage),
        r.due_on.isoformat() if r.due_on else "—",
        (today - r.due_on).days if r.due_on else "—",
        r.coordinator or "—",
    ]


def withdrawn_cells(r: oversight.WithdrawnConsent) -> list[Cell]:
    return [r.case_number, r.given_on.isoformat(), r.withdrawn_on.isoformat(), r.withdrawn_by or "—"]


def recorded_summary(recorded: ChainVerification | None) -> str:
    """The newest recorded verification in one line (what the web's reports and page say)."""
    if recorded is None:
        return (
            "監査記録の検証はまだ実行されていません"
            "（夜間の定期実行、監査画面のボタン、`yorisoi audit verify`）。"
        )
    when = tokyo_datetime(recorded.finished_at or recorded.started_at).format("YYYY年M月D日 HH:mm")
    if recorded.status == VerificationStatus.FAILED:
        return f"最後の監査記録の検証（{when}）は完了しませんでした: {recorded.error}"
    verdict = "異常なし" if recorded.ok else f"{recorded.problem_cases:,} ケースに異常"
    return (
        f"最後の監査記録の検証（{when}、{recorded.started_by}）: "
        f"{recorded.cases:,} ケース・{recorded.events:,} 件 — {verdict}"
    )


def _chain_sheet(report: AuditReport) -> Sheet:
    if report.chain is None:
        recorded = report.recorded
        rows: list[list[Cell]] = [
            [number, "—", "異常あり（詳細は yorisoi audit verify）"]
            for number in (recorded.case_numbers if recorded is not None else [])
        ]
        notes = [recorded.checkpoint_ja] if recorded is not None and recorded.checkpoint_ja else []
        if recorded is not None and recorded.problem_cases > len(recorded.case_numbers):
            notes.insert(
                0, f"異常のあるケースのうち先頭の {len(recorded.case_numbers)} 件のみ記載しています。"
            )
        return Sheet(
            "chain",
            "監査記録の検証",
            recorded_summary(recorded),
            ["ケース", "記録番号", "内容"],
            rows or [["—", "—", "異常のあるケースはありません。" if recorded is not None else "未実行"]],
            notes=notes,
        )
    chain = report.chain
    chain_rows: list[list[Cell]] = [
        [p.case_number, p.seq if p.seq is not None else "—", p.ja] for p in chain.problems
    ]
    return Sheet(
        "chain",
        "監査記録の検証",
        f"監査記録（ハッシュチェーン・各記録との照合）の検証: {chain.cases} ケース・"
        f"{chain.events} 件 — " + ("異常なし" if chain.ok else f"{chain.broken_cases} ケースに異常"),
        ["ケース", "記録番号", "内容"],
        chain_rows or [["—", "—", "すべての記録がハッシュチェーン・監査記録と一致しました。"]],
        notes=chain.notes(),
    )


def audit_sheets(report: AuditReport, machine: LifecycleMachine) -> list[Sheet]:
    period = f"{ja_date(report.start)}〜{ja_date(report.end)}"
    return [
        Sheet(
            "plan_approvals",
            "支援プランの承認",
            f"支援プランの承認（{period}）",
            APPROVAL_COLUMNS,
            [approval_cells(r) for r in report.plan_approvals],
        ),
        Sheet(
            "closures",
            "終結の承認",
            f"終結の承認（{period}）",
            CLOSURE_COLUMNS,
            [closure_cells(r) for r in report.closures],
        ),
        Sheet(
            "findings",
            "指摘事項",
            f"指摘事項（二者確認・会議なしの承認など、{period}）",
            FINDING_COLUMNS,
            [finding_cells(f) for f in report.findings] or [["—", "—", "指摘事項はありません。"]],
        ),
        Sheet(
            "overdue",
            "モニタリング期限超過",
            f"モニタリング期限を過ぎているケース（{ja_date(report.today)} 現在）",
            OVERDUE_COLUMNS,
            [overdue_cells(r, report.today, machine) for r in report.overdue],
        ),
        Sheet(
            "consents_withdrawn",
            "本人同意の撤回",
            f"本人同意の撤回（{period}）",
            WITHDRAWN_COLUMNS,
            [withdrawn_cells(r) for r in report.withdrawn],
        ),
        _chain_sheet(report),
    ]


def _plain(row: tuple[Any, ...]) -> dict[str, Any]:
    """A query row as JSON-ready values (dates as YYYY-MM-DD)."""
    fields: dict[str, Any] = row._asdict()  # type: ignore[attr-defined]
    return {k: v.isoformat() if isinstance(v, dt.date) else v for k, v in fields.items()}


def audit_json(report: AuditReport) -> dict[str, Any]:
    return {
        "start": report.start.isoformat(),
        "end": report.end.isoformat(),
        "today": report.today.isoformat(),
        "clean": report.clean,
        "plan_approvals": [_plain(r) for r in report.plan_approvals],
        "closures": [_plain(r) for r in report.closures],
        "findings": [
            {
                "code": f.code,
                "case": f.case_number,
                "subject": f.subject,
                "message_ja": f.ja,
                "message_en": f.en,
            }
            for f in report.findings
        ],
        "overdue_monitoring": [_plain(r) for r in report.overdue],
        "consents_withdrawn": [_plain(r) for r in report.withdrawn],
        "chain": report.chain.as_dict()
        if report.chain is not None
        else (report.recorded.as_dict() if report.recorded is not None else None),
    }
