"""`yorisoi sweep` (find what is due now) and `yorisoi serve` (run every flow on its schedule).

No Prefect import here: `yorisoi sweep` runs the plain-Python sweep, and `yorisoi serve`
imports Prefect inside its body.
"""

import datetime as dt
from typing import TYPE_CHECKING, Annotated

import typer

from yorisoi.cli.common import parse_date, state

if TYPE_CHECKING:
    from yorisoi.cli.common import CliState
    from yorisoi.sweeps import DayResult
    from yorisoi.sweeps.common import BatchResult
    from yorisoi.sweeps.demo import DemoReminders

SWEEP_NAMES = (
    "monitoring_due",
    "plan_review_due",
    "consent_review",
    "short_stay_ending",
    "half_year_progress",
)


def sweep(
    ctx: typer.Context,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="何が送信待ちになるかを表示するだけ / show, write nothing")
    ] = False,
    on: Annotated[
        dt.date | None,
        typer.Option(
            "--on",
            parser=parse_date,
            metavar="YYYY-MM-DD",
            help="この日として実行（省略時は今日・Asia/Tokyo） / sweep as of this day",
            show_default=False,
        ),
    ] = None,
    now: Annotated[
        str | None,
        typer.Option(
            "--now",
            metavar="DATETIME",
            help="この日時として実行（再現・やり直し用。例 2025-07-09T08:30+09:00）。"
            "日付はこの日時の日付、リマインダーはこの時刻から送信可能。"
            "続けて `yorisoi outbox dispatch --now` に同じ時刻を渡すと、その日の送信まで再現できる"
            " / sweep as of this moment (replays)",
            show_default=False,
        ),
    ] = None,
    only: Annotated[
        list[str] | None,
        typer.Option(
            "--only",
            metavar="NAME",
            help=f"この処理だけ（複数可）: {', '.join(SWEEP_NAMES)} / run only these",
            show_default=False,
        ),
    ] = None,
) -> None:
    """期日が近い・過ぎたケースを探してリマインダーを送信待ちにする（今すぐ） / run the sweeps now.

    Runs the sweep code of the scheduled Prefect flows directly,
    without Prefect: no server to start (a temporary one takes 10-20 s),
    same result. Each batch is one transaction; running it again queues
    nothing twice. Closed days (weekends, holidays, 年末年始, 閉庁日)
    are skipped, as the flows skip them. `yorisoi outbox dispatch`
    (or `yorisoi serve`) then sends the reminders.

    --now replays a moment: `yorisoi sweep --now T` then
    `yorisoi outbox dispatch --now T` delivers what was due at T.
    With --on alone the reminders are due from the real time.
    """
    from models.db import engine_of
    from yorisoi import runtime
    from yorisoi.cli import output
    from yorisoi.cli.common import parse_moment
    from yorisoi.cli.session import database
    from yorisoi.errors import InvalidInput
    from yorisoi.settings import get_settings
    from yorisoi.sweeps import run_day, sweep_day

    unknown = sorted(set(only or ()) - set(SWEEP_NAMES))
    if unknown:
        raise InvalidInput(
            f"不明な処理です: {', '.join(unknown)}（使える処理: {', '.join(SWEEP_NAMES)}）",
            f"Unknown sweep(s) {', '.join(unknown)}; known: {', '.join(SWEEP_NAMES)}.",
        )
    cli = state(ctx)
    settings = get_settings()
    moment = parse_moment(now)
    day = sweep_day(on, moment)
    with database() as session:  # checks the database exists; the sweep opens its own sessions
        lifecycle = runtime.machine(settings, session).lifecycle
        session.commit()  # end this session's transaction: the sweep writes from its own
        result = run_day(
            engine_of(session),
            settings,
            lifecycle,
            on=day,
            dry_run=dry_run,
            names=only or None,
            progress=None if cli.json else _progress,
            now=moment,
        )
    if cli.json:
        output.emit_json(_as_json(result))
    else:
        _show(cli, result)


def _progress(batch: "BatchResult") -> None:
    from yorisoi.cli import output
    from yorisoi.sweeps import SWEEPS

    queued = sum(batch.queued.values())
    line = f"  {SWEEPS[batch.sweep].ja}: {batch.scanned} 件を確認、{queued} 件を送信待ちに"
    if batch.marked:
        line += f"、{len(batch.marked)} 件を期限超過に"
    output.plain(line)


def _topic_ja(topic: str) -> str:
    from notifications.templates import TEMPLATES

    template = TEMPLATES.get(topic)
    return template.what if template is not None else topic


def _show(cli: "CliState", result: "DayResult") -> None:
    from yorisoi.cli import output

    mode = "（試行: 何も書き込んでいません）" if result.dry_run else ""
    if result.closed_reason is not None:
        output.plain(f"{result.on} は閉庁日（{result.closed_reason}）のため、何もしませんでした。")
        return
    rows = [
        (s.ja, _topic_ja(topic), count)
        for s in result.sweeps
        for topic, count in sorted(s.queued.items())
        if count
    ]
    verb = "送信待ちになるリマインダー" if result.dry_run else "送信待ちにしたリマインダー"
    if rows:
        output.table(f"{result.on} の{verb}{mode}", ["処理", "種類", "件数"], rows)
    else:
        output.plain(f"{result.on}: 新しく送信待ちにするリマインダーはありません{mode}。")
    marked = [number for s in result.sweeps for number in s.marked]
    if marked:
        verb = "期限超過にするケース" if result.dry_run else "期限超過にしたケース"
        output.plain(f"{verb}: {', '.join(marked)}")
    examples = [e for s in result.sweeps for e in s.examples][:20]
    if examples:
        output.table(
            "内訳（一部）",
            ["種類", "ケース", "宛先", "期日"],
            [(_topic_ja(topic), number, recipient, due) for topic, number, recipient, due in examples],
        )
    if not result.dry_run and result.total_queued:
        output.plain("送信は `yorisoi outbox dispatch`（または `yorisoi serve`）で行います。")


def _as_json(result: "DayResult") -> dict[str, object]:
    return {
        "on": result.on,
        "dry_run": result.dry_run,
        "closed_reason": result.closed_reason,
        "queued": result.total_queued,
        "sweeps": [
            {
                "sweep": s.sweep,
                "batches": s.batches,
                "scanned": s.scanned,
                "queued": dict(s.queued),
                "marked_overdue": s.marked,
                "examples": [
                    {"topic": t, "case_number": n, "recipient": r, "due_on": d} for t, n, r, d in s.examples
                ],
            }
            for s in result.sweeps
        ],
    }


def serve(
    port: Annotated[
        int,
        typer.Option(
            min=1,
            max=65535,
            help="PREFECT_API_URL が未設定のとき起動する Prefect サーバーのポート / port of the local server",
        ),
    ] = 4200,
) -> None:
    """すべてのフローを予定どおり実行し続ける（Ctrl-C で停止） / run every flow on its schedule.

    Uses the Prefect server at PREFECT_API_URL if set; otherwise starts
    `prefect server start` (SQLite under <data_dir>/prefect) on
    127.0.0.1:PORT and stops it on exit. Sweeps at sweep.cron (08:30 on
    weekdays, Asia/Tokyo; closed days skipped) and the monitoring sweep
    when a plan is approved, dispatch at sweep.dispatch_cron, event relay
    every sweep.relay_interval_seconds.
    """
    from yorisoi.serve import ServerError
    from yorisoi.serve import serve as run
    from yorisoi.settings import get_settings

    try:
        run(get_settings(), port=port)
    except ServerError as exc:
        from yorisoi.errors import YorisoiError

        raise YorisoiError(exc.ja, exc.en) from None


def register(app: typer.Typer) -> None:
    """Add `sweep` and `serve` to the root command."""
    app.command("sweep")(sweep)
    app.command("serve")(serve)


def demo_reminders_json(reminders: "DemoReminders | None") -> dict[str, object] | None:
    """What `yorisoi demo --json` says about the demo's last-morning sweep and delivery."""
    if reminders is None:
        return None
    return {
        "on": reminders.on,
        "queued": reminders.queued,
        "marked_overdue": reminders.marked_overdue,
        "sink": str(reminders.sink),
        "delivered": [{"recipient": d.recipient, "title": d.title} for d in reminders.delivered],
    }


def show_demo_reminders(reminders: "DemoReminders | None") -> None:
    """The demo's last morning: what the sweep queued and what reached the local sink."""
    from yorisoi.cli import output

    if reminders is None:
        return
    output.plain("")
    output.plain(
        f"{reminders.on}（年度末）08:30 の定期処理（yorisoi sweep）と 09:00 の送信（outbox dispatch）:"
    )
    if reminders.marked_overdue:
        output.plain(f"  期限超過にしたケース: {', '.join(reminders.marked_overdue)}")
    output.table(
        f"届いたリマインダー {len(reminders.delivered)} 件（ローカルの送信先: {reminders.sink}）",
        ["宛先", "件名"],
        [(d.recipient, d.title) for d in reminders.delivered],
    )
