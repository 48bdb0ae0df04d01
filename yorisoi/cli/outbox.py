"""`yorisoi outbox`: the reminders waiting to go out, those that failed, and sending them now.

Only reminders (recipients `staff:…` / `role:…`) are shown; case events for Prefect share the
table but are not the staff's business. Delivery itself is `yorisoi.dispatch`.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Annotated, Any

import typer

from yorisoi.cli.common import state

if TYPE_CHECKING:
    from models import OutboxMessage
    from yorisoi.dispatch import DispatchReport

app = typer.Typer(help="リマインダーの送信状況・再送・送信 / reminder outbox", no_args_is_help=True)

STATUS_JA = {"pending": "送信待ち", "sending": "送信中", "sent": "送信済み", "failed": "失敗"}


def _tokyo(moment: dt.datetime | None) -> str:
    if moment is None:
        return ""
    from yorisoi.jpdates import tokyo_datetime

    return tokyo_datetime(moment).strftime("%Y-%m-%d %H:%M")


def _as_dict(row: OutboxMessage) -> dict[str, Any]:
    return {
        "id": row.id,
        "topic": row.topic,
        "recipient": row.recipient,
        "status": row.status,
        "attempts": row.attempts,
        "case_number": row.payload.get("case_number"),
        "due_on": row.payload.get("due_on"),
        "available_at": row.available_at,
        "sent_at": row.sent_at,
        "last_error": row.last_error,
    }


@app.command("list")
def list_messages(
    ctx: typer.Context,
    failed: Annotated[bool, typer.Option("--failed", help="失敗したものだけ / failed only")] = False,
    pending: Annotated[
        bool, typer.Option("--pending", help="送信待ち（送信中を含む）だけ / waiting only")
    ] = False,
    limit: Annotated[int, typer.Option(min=1, max=10_000, help="最大件数（新しい順） / at most")] = 100,
) -> None:
    """リマインダーの一覧（新しい順） / list reminders, newest first."""
    from models.outbox_queries import count_by_status
    from models.outbox_queries import list_messages as query
    from notifications.templates import TEMPLATES
    from yorisoi.cli import output
    from yorisoi.cli.session import database

    statuses: list[str] = []
    if failed:
        statuses.append("failed")
    if pending:
        statuses += ["pending", "sending"]
    with database() as session:
        rows = query(session, statuses=statuses or None, limit=limit)
        counts = count_by_status(session)
    if state(ctx).json:
        output.emit_json([_as_dict(r) for r in rows])
        return
    summary = "、".join(f"{STATUS_JA.get(s, s)} {n}" for s, n in sorted(counts.items())) or "なし"
    output.table(
        f"リマインダー {len(rows)} 件を表示（全体: {summary}）",
        ["ID", "種類", "ケース", "宛先", "状態", "試行", "送信予定・送信日時", "エラー"],
        (
            [
                r.id,
                TEMPLATES[r.topic].what if r.topic in TEMPLATES else r.topic,
                r.payload.get("case_number", ""),
                r.recipient,
                STATUS_JA.get(r.status, r.status),
                r.attempts,
                _tokyo(r.sent_at if r.status == "sent" else r.available_at),
                r.last_error,
            ]
            for r in rows
        ),
    )


@app.command("retry")
def retry(
    ctx: typer.Context,
    ids: Annotated[
        list[int] | None, typer.Argument(help="再送するリマインダーの ID / ids", show_default=False)
    ] = None,
    all_failed: Annotated[
        bool, typer.Option("--all-failed", help="失敗したものすべて / every failed one")
    ] = False,
) -> None:
    """失敗したリマインダーを送信待ちに戻す / requeue failed reminders."""
    from models.outbox_queries import failed_ids, not_failed, requeue_failed
    from models.timestamps import utcnow
    from yorisoi.cli import output
    from yorisoi.cli.session import database
    from yorisoi.errors import InvalidInput

    if bool(ids) == all_failed:
        raise InvalidInput(
            "再送する ID か --all-failed のどちらか一方を指定してください。",
            "Give the ids to retry or --all-failed (not both).",
        )
    with database() as session:
        wanted = failed_ids(session) if all_failed else sorted(set(ids or []))
        refused = not_failed(session, wanted)
        if refused:
            shown = ", ".join(f"{i}（{STATUS_JA.get(s or '', 'なし')}）" for i, s in sorted(refused.items()))
            shown_en = ", ".join(f"{i} ({s or 'no such reminder'})" for i, s in sorted(refused.items()))
            raise InvalidInput(
                f"失敗したリマインダーだけを再送できます: {shown}",
                f"Only failed reminders can be retried: {shown_en}",
            )
        count = requeue_failed(session, wanted, now=utcnow())
        session.commit()
    output.done(
        state(ctx),
        f"{count} 件を送信待ちに戻しました。次の送信（`yorisoi outbox dispatch`）で送ります。",
        {"requeued": wanted},
    )


@app.command("dispatch")
def dispatch(
    ctx: typer.Context,
    limit: Annotated[
        int | None, typer.Option(min=1, max=100_000, help="最大件数 / at most", show_default=False)
    ] = None,
    now: Annotated[
        str | None,
        typer.Option(
            "--now",
            metavar="DATETIME",
            help="この日時として送る（再現・やり直し用。例 2025-07-09T09:00+09:00。"
            "`yorisoi sweep --now` と同じ時刻を使う） / act as if it were this moment (replays)",
            show_default=False,
        ),
    ] = None,
) -> None:
    """送信時刻を迎えたリマインダーを今すぐ送る / deliver due reminders now.

    Business hours and closed days apply to the moment given by --now
    (default: the real time). A day can be replayed end to end:
    `yorisoi sweep --now T` queues what was due at T, and
    `yorisoi outbox dispatch --now T` delivers it. SIGTERM or Ctrl-C
    lets the message in flight finish and hands every other claimed
    reminder back at once.
    """
    from models.db import engine_of
    from yorisoi.cli import output
    from yorisoi.cli.session import database
    from yorisoi.dispatch import dispatch_outbox, notifier_for, stop_on_signals
    from yorisoi.settings import get_settings

    settings = get_settings()
    moment = _moment(now)
    notifier = notifier_for(settings)
    for warning in notifier.warnings:
        from yorisoi.safetext import visible

        output.console(stderr=True).print(
            visible(f"注意 / warning: {warning}"), markup=False, highlight=False
        )
    # A stop signal ends the command after the claims are given back and the report is shown.
    with stop_on_signals() as stop, database() as session:
        report = dispatch_outbox(
            engine_of(session), notifier, now=moment, settings=settings, limit=limit, stop=stop
        )
        cli = state(ctx)
        if cli.json:
            output.emit_json({**_report_dict(report), "delivered_via": notifier.source})
        else:
            output.plain(_report_line(report))
            output.plain(f"送信先: {notifier.source}")


def _moment(text: str | None) -> dt.datetime | None:
    from yorisoi.cli.common import parse_moment

    return parse_moment(text)


def _report_dict(report: DispatchReport) -> dict[str, Any]:
    return {
        "sent": report.sent,
        "retried": report.retried,
        "failed": report.failed,
        "deferred": report.deferred,
        "lost_claims": report.lost_claims,
        "taken_over": report.taken_over,
        "released": report.released,
        "stopped": report.stopped,
        "sent_ids": list(report.sent_ids),
        "resumes_at": report.resumes_at,
    }


def _report_line(report: DispatchReport) -> str:
    line = f"送信 {report.sent} 件・再試行予定 {report.retried} 件・失敗 {report.failed} 件"
    if report.resumes_at is not None:
        line += f"。業務時間外のため送りません（{_tokyo(report.resumes_at)} から送信）"
        if report.deferred:
            line += f"。{report.deferred} 件を保留しました"
    if report.taken_over:
        line += f"。{report.taken_over} 件は別の送信処理が引き継いだため送っていません"
    if report.stopped:
        line += f"。停止の指示を受けたため、未送信の {report.released} 件を送信待ちに戻しました"
    return line
