"""`yorisoi consent …`: record the person's consent (本人同意) and its withdrawal."""

from typing import Annotated, Any

import typer

from yorisoi.cli.common import CaseNumber, ExpectVersion, Note, OnDate, state

app = typer.Typer(help="本人同意の記録と撤回 / consent", no_args_is_help=True)


@app.command("give")
def give(
    ctx: typer.Context,
    number: CaseNumber,
    agency: Annotated[
        list[str],
        typer.Option(
            metavar="AGENCY",
            help="同意の範囲に含める関係機関の名前（複数可） / agencies covered",
            show_default=False,
        ),
    ],
    on: OnDate = None,
    method: Annotated[
        str, typer.Option(metavar="written|oral", help="written（書面）または oral（口頭） / method")
    ] = "written",
    note: Note = "",
) -> None:
    """本人同意を記録する（以前の同意は置き換わる） / record consent and the agencies it covers."""
    from yorisoi import labels
    from yorisoi.cli import output, session

    cli = state(ctx)
    with session.database() as db:
        session.actor(db, cli)
        data: dict[str, Any] = {
            "agency_ids": [session.agency_id(db, name) for name in agency],
            "method": labels.code(method, labels.CONSENT_METHODS, "同意の方法", "Consent method"),
            "note": note,
        }
        if on is not None:
            data["given_on"] = on
        fired = session.fire(db, cli, number, "give_consent", **data)
    output.fired(cli, fired, extra={"agencies": agency}, note=f"同意の範囲: {'、'.join(agency)}")


@app.command("withdraw")
def withdraw(
    ctx: typer.Context, number: CaseNumber, on: OnDate = None, expect_version: ExpectVersion = None
) -> None:
    """本人同意の撤回を記録する（重層的支援会議以降のケースは支援会議へ戻る） / withdraw consent."""
    from yorisoi.cli import output, session

    cli = state(ctx)
    with session.database() as db:
        fired = session.fire(
            db,
            cli,
            number,
            "withdraw_consent",
            expected_version=expect_version,
            **({"withdrawn_on": on} if on else {}),
        )
    output.fired(cli, fired)
