"""`yorisoi audit verify`: check every case's hash chain and replay its stages."""

import typer

from yorisoi.cli.common import state

app = typer.Typer(help="監査記録（ハッシュチェーン）の検証 / audit trail", no_args_is_help=True)

# Below this many cases the check is over before a progress bar would be worth drawing.
PROGRESS_MIN_CASES = 200


@app.command("verify")
def verify(ctx: typer.Context) -> None:
    """全ケースの監査記録を検証する（改ざん・欠落・ありえない遷移）。問題があれば終了コード 1 / verify."""
    from models.queries import count_cases
    from yorisoi.cli import output, session
    from yorisoi.service.audit import verify_chains

    cli = state(ctx)
    console = output.console()
    with session.database(read_only=True) as db:
        total = count_cases(db)
        if console.is_terminal and not cli.json and total >= PROGRESS_MIN_CASES:
            from rich.progress import Progress

            with Progress(console=console, transient=True) as bar:
                task = bar.add_task("監査記録を検証しています", total=total)
                report = verify_chains(db, session.machine(db), progress=lambda n: bar.advance(task, n))
        else:
            report = verify_chains(db, session.machine(db))
    if cli.json:
        output.emit_json(
            {
                "ok": report.ok,
                "cases": report.cases,
                "events": report.events,
                "problems": [
                    {
                        "case": p.case_number,
                        "seq": p.seq,
                        "event_id": p.event_id,
                        "message_ja": p.ja,
                        "message_en": p.en,
                    }
                    for p in report.problems
                ],
            }
        )
    else:
        checked = f"ケース {report.cases:,} 件・監査記録 {report.events:,} 件を検証しました"
        if report.ok:
            output.plain(f"{checked}: OK（改ざん・欠落・不正な遷移はありません）")
        for problem in report.problems:
            where = f"第{problem.seq}番の記録" if problem.seq is not None else "記録なし"
            output.plain(f"{problem.case_number} {where}: {problem.ja}")
            output.plain(f"    {problem.en}")
        if not report.ok:
            output.plain(f"{checked}: {len(report.problems)} 件のケースに問題があります。")
    if not report.ok:
        raise typer.Exit(1)
