"""How `case show` and `plan show` lay out a case for people (Japanese, times in Asia/Tokyo)."""

from __future__ import annotations

from collections.abc import Sequence

from models.queries import CaseDetail, PlanView, TimelineEntry
from states import Lifecycle
from yorisoi import labels
from yorisoi.cli.output import plain, table
from yorisoi.jpdates import tokyo_datetime


def case(detail: CaseDetail, events: Sequence[TimelineEntry], lifecycle: Lifecycle) -> None:
    header(detail, lifecycle)
    if detail.contacts:
        table(
            f"相談 {len(detail.contacts)} 件",
            ["日付", "受付窓口", "相談者", "方法", "相談内容", "記録者"],
            (
                [
                    c.contacted_on,
                    c.desk,
                    labels.label(labels.REFERRERS, c.referrer),
                    labels.label(labels.METHODS, c.method) + ("（アウトリーチ）" if c.outreach_visit else ""),
                    "、".join(_topic(t) for t in c.topics),
                    c.staff,
                ]
                for c in detail.contacts
            ),
        )
    if detail.consents:
        table(
            "本人同意",
            ["同意日", "方法", "同意の範囲（関係機関）", "撤回日"],
            (
                [
                    c.given_on,
                    labels.label(labels.CONSENT_METHODS, c.method),
                    "、".join(c.agencies),
                    c.withdrawn_on,
                ]
                for c in detail.consents
            ),
        )
    if detail.meetings:
        table(
            "会議",
            ["ID", "種別", "開催日", "出席者（✓ 守秘義務確認済み）", "決定事項"],
            (
                [
                    m.id,
                    labels.label(labels.MEETING_KINDS_JA, m.kind),
                    m.held_on,
                    "、".join(
                        f"{a.name}{f'（{a.agency}）' if a.agency else ''}"
                        f"{' ✓' if a.acknowledged_confidentiality else ''}"
                        for a in m.attendees
                    ),
                    m.decisions,
                ]
                for m in detail.meetings
            ),
        )
    plans(detail.plans)
    if detail.monitoring:
        table(
            "モニタリング",
            ["実施日", "概要", "次回", "記録者"],
            ([m.held_on, m.summary, m.next_on, m.by] for m in detail.monitoring),
        )
    if detail.closures:
        table(
            "終結",
            ["期", "理由", "評価", "状態", "提案", "決定", "メモ"],
            (
                [
                    c.episode,
                    labels.label(labels.CLOSURE_REASONS, c.reason)
                    + (f"：{c.reason_text}" if c.reason_text else ""),
                    c.evaluation,
                    labels.label(labels.CLOSURE_STATUS_JA, c.status),
                    f"{c.proposed_on} {c.proposed_by or ''}",
                    f"{c.decided_on} {c.decided_by or ''}" if c.decided_on else "",
                    c.decision_note,
                ]
                for c in detail.closures
            ),
        )
    if detail.outreach:
        table(
            f"アウトリーチ {len(detail.outreach)} 件",
            ["日付", "種別", "職員", "メモ"],
            (
                [o.done_on, labels.label(labels.OUTREACH_KINDS, o.kind), o.staff, o.note]
                for o in detail.outreach
            ),
        )
    if detail.enrolments:
        table(
            "参加支援",
            ["事業", "事業所", "開始", "終了"],
            (
                [labels.label(labels.PROGRAMS, e.program), e.provider, e.start_on, e.end_on]
                for e in detail.enrolments
            ),
        )
    timeline(events, lifecycle)


def header(detail: CaseDetail, lifecycle: Lifecycle) -> None:
    ref = f"  台帳番号 {detail.external_ref}" if detail.external_ref else ""
    plain(
        f"{detail.number}  {labels.stage(lifecycle, detail.stage)}"
        f"（第{detail.episode}期・版 {detail.version}）{ref}"
    )
    kana = f"（{detail.person_kana}）" if detail.person_kana else ""
    born = f"  生年月日 {detail.birth_date}" if detail.birth_date else ""
    plain(f"本人: {detail.person_name}{kana}{born}")
    plain(f"住所: {detail.address or '—'}" + ("  〔DV等支援措置〕" if detail.dv_protected else ""))
    monitoring = ""
    if detail.next_monitoring_on:
        monitoring = f"  次回モニタリング {detail.next_monitoring_on}" + (
            " ⚠ 期限超過" if detail.overdue else ""
        )
    closed = f"  終結日 {detail.closed_on}" if detail.closed_on else ""
    plain(
        f"担当: {detail.coordinator or '—'}  受付窓口: {detail.desk or '—'}  "
        f"受付日 {detail.opened_on}{closed}{monitoring}"
    )


def plans(views: Sequence[PlanView]) -> None:
    for plan in views:
        status = labels.label(labels.PLAN_STATUSES, plan.status)
        plain(f"支援プラン 第{plan.version}版（{status}、第{plan.episode}期）")
        interval = f"モニタリング間隔 {plan.monitoring_interval_days} 日"
        plain(f"  作成 {plan.drafted_on} {plan.author or ''}  {interval}")
        if plan.approved_on:
            plain(
                f"  承認 {plan.approved_on} {plan.approved_by or ''}（重層的支援会議 ID {plan.meeting_id}）"
            )
        if plan.returned_on:
            plain(f"  差戻し {plan.returned_on} {plan.returned_by or ''}  理由: {plan.return_reason}")
        if plan.household_goal:
            plain(f"  世帯の目標: {plan.household_goal}")
        for problem, goal in plan.goals:
            plain(f"  目標: {goal}" + (f"（課題: {problem}）" if problem else ""))
        for role in plan.roles:
            plain(f"  役割: {role.agency} — {role.role}" + ("【主担当】" if role.is_lead else ""))
        for kind, agency, note in plan.external_plans:
            plain(
                f"  既存プラン: {kind}" + (f"（{agency}）" if agency else "") + (f" {note}" if note else "")
            )


def timeline(events: Sequence[TimelineEntry], lifecycle: Lifecycle) -> None:
    table(
        f"経過（監査記録 {len(events)} 件。日付は出来事の日、入力日時は日本時間）",
        ["#", "日付", "操作", "段階", "職員", "メモ", "入力日時"],
        (
            [
                e.seq,
                e.business_date or "—",
                labels.action(lifecycle, e.action) + e.marks_ja,
                _stages(lifecycle, e.from_stage, e.to_stage),
                e.actor_name or e.actor_login,
                e.note,
                tokyo_datetime(e.occurred_at).strftime("%Y-%m-%d %H:%M"),
            ]
            for e in events
        ),
    )


def _stages(lifecycle: Lifecycle, from_stage: str, to_stage: str) -> str:
    if from_stage == to_stage:
        return labels.stage(lifecycle, to_stage)
    if not from_stage:
        return f"→ {labels.stage(lifecycle, to_stage)}"
    return f"{labels.stage(lifecycle, from_stage)} → {labels.stage(lifecycle, to_stage)}"


def _topic(code: str) -> str:
    from yorisoi.settings import get_settings

    return get_settings().topics().get(code, code)
