"""`yorisoi outreach log` (アウトリーチ) and `yorisoi programme enrol|exit` (参加支援)."""

import datetime as dt
from typing import Annotated, Any

import typer

from yorisoi.cli.common import CaseNumber, Note, OnDate, parse_date, state

outreach_app = typer.Typer(help="アウトリーチ（訪問・会議等出席）の記録 / outreach", no_args_is_help=True)
programme_app = typer.Typer(help="参加支援（就B活用・短期宿泊）の利用登録 / programmes", no_args_is_help=True)


@outreach_app.command("log")
def log(
    ctx: typer.Context,
    number: CaseNumber,
    kind: Annotated[
        str,
        typer.Option(
            metavar="KIND",
            help="home_visit（訪問）または meeting_attendance（会議等出席）",
            show_default=False,
        ),
    ],
    on: OnDate = None,
    note: Note = "",
) -> None:
    """アウトリーチを記録する / record a home visit or attendance at a local meeting."""
    from yorisoi import labels
    from yorisoi.cli import output, session

    cli = state(ctx)
    with session.database() as db:
        session.actor(db, cli)
        data: dict[str, Any] = {
            "kind": labels.code(kind, labels.OUTREACH_KINDS, "アウトリーチの種別", "Outreach kind"),
            "note": note,
        }
        if on is not None:
            data["done_on"] = on
        fired = session.fire(db, cli, number, "log_outreach", **data)
    output.fired(cli, fired)


def _date(help_text: str) -> Any:
    return typer.Option(parser=parse_date, metavar="YYYY-MM-DD", help=help_text, show_default=False)


@programme_app.command("enrol")
def enrol(
    ctx: typer.Context,
    number: CaseNumber,
    provider: Annotated[
        str, typer.Option(metavar="NAME", help="登録事業所の名前 / provider name", show_default=False)
    ],
    start: Annotated[dt.date, _date("利用開始日 / start date")],
    end: Annotated[dt.date, _date("利用終了日（短期宿泊は1か月以内） / end date (short stay: 1 month max)")],
) -> None:
    """参加支援の利用を登録する / enrol the person with a registered provider."""
    from yorisoi.cli import output, session

    cli = state(ctx)
    with session.database() as db:
        session.actor(db, cli)
        fired = session.fire(
            db,
            cli,
            number,
            "enrol_in_program",
            provider_id=session.provider_id(db, provider),
            start_on=start,
            end_on=end,
        )
    output.fired(cli, fired, extra={"provider": provider}, note=f"{provider}（{start} 〜 {end}）")


@programme_app.command("exit")
def exit_(
    ctx: typer.Context,
    number: CaseNumber,
    provider: Annotated[
        str, typer.Option(metavar="NAME", help="登録事業所の名前 / provider name", show_default=False)
    ],
    on: OnDate = None,
) -> None:
    """参加支援の利用終了（退所）を記録する / record that the person left the programme."""
    from models.queries import case_detail
    from yorisoi.cli import output, session
    from yorisoi.errors import NotFound
    from yorisoi.jpdates import today_tokyo

    cli = state(ctx)
    with session.database() as db:
        session.actor(db, cli)
        case_id = session.case_id(db, number)
        detail = case_detail(db, case_id)
        open_stays = [
            e for e in (detail.enrolments if detail else ()) if e.provider == provider and e.exited_on is None
        ]
        if not open_stays:
            raise NotFound(
                f"{number} に「{provider}」の利用中の参加支援はありません。",
                f"{number} has no open enrolment with {provider!r}.",
            )
        exited_on = on or today_tokyo()
        fired = session.fire(
            db, cli, number, "record_program_exit", enrolment_id=open_stays[-1].id, exited_on=exited_on
        )
    output.fired(cli, fired, extra={"provider": provider}, note=f"{provider}（{exited_on} 終了）")
