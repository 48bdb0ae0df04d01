"""`yorisoi closure …`: propose 終結 with a reason and an evaluation; a supervisor decides."""

from typing import Annotated, Any

import typer

from yorisoi.cli.common import CaseNumber, ExpectVersion, OnDate, state

app = typer.Typer(help="終結の提案・承認・差戻し / closure", no_args_is_help=True)

DecisionNote = Annotated[str, typer.Option(metavar="TEXT", help="決定の理由・メモ / note")]


@app.command("propose")
def propose(
    ctx: typer.Context,
    number: CaseNumber,
    reason: Annotated[
        str,
        typer.Option(
            metavar="REASON",
            help="理由: goals_met（目標達成）, referred_single_agency（単独機関での支援へ移行）, "
            "moved_away（転出）, died（死亡）, declined（本人の辞退）, other（その他: --reason-text 必須）",
            show_default=False,
        ),
    ],
    evaluation: Annotated[
        str, typer.Option(metavar="TEXT", help="支援の評価 / evaluation", show_default=False)
    ],
    reason_text: Annotated[
        str, typer.Option(metavar="TEXT", help="理由の記載（other のとき必須） / reason text")
    ] = "",
    on: OnDate = None,
    expect_version: ExpectVersion = None,
) -> None:
    """終結を提案する（承認は提案者以外のスーパーバイザー） / propose closing the case."""
    from yorisoi import labels
    from yorisoi.cli import output, session

    cli = state(ctx)
    data: dict[str, Any] = {
        "reason": labels.code(reason, labels.CLOSURE_REASONS, "終結理由", "Closure reason"),
        "reason_text": reason_text,
        "evaluation": evaluation,
    }
    if on is not None:
        data["proposed_on"] = on
    with session.database() as db:
        fired = session.fire(db, cli, number, "propose_closure", expected_version=expect_version, **data)
    output.fired(cli, fired, note="終結の承認を待っています。")


def _decide(
    ctx: typer.Context, number: str, trigger: str, on: Any, note: str, expect_version: int | None
) -> None:
    from yorisoi.cli import output, session

    cli = state(ctx)
    data: dict[str, Any] = {"note": note}
    if on is not None:
        data["decided_on"] = on
    with session.database() as db:
        fired = session.fire(db, cli, number, trigger, expected_version=expect_version, **data)
    output.fired(cli, fired)


@app.command("approve")
def approve(
    ctx: typer.Context,
    number: CaseNumber,
    on: OnDate = None,
    note: DecisionNote = "",
    expect_version: ExpectVersion = None,
) -> None:
    """終結を承認する（スーパーバイザー、提案者以外） / approve the closure."""
    _decide(ctx, number, "approve_closure", on, note, expect_version)


@app.command("reject")
def reject(
    ctx: typer.Context,
    number: CaseNumber,
    on: OnDate = None,
    note: DecisionNote = "",
    expect_version: ExpectVersion = None,
) -> None:
    """終結の提案を差し戻す（ケースは同じ段階のまま） / send the closure proposal back."""
    _decide(ctx, number, "reject_closure", on, note, expect_version)
