"""`yorisoi`: the command line of the case engine.

Every command that changes a case goes through `yorisoi.service.cases`; reads go through
`models.queries`. Modules load the database and the service inside command bodies, so
`yorisoi --help` imports little more than Typer.

The command modules do not use `from __future__ import annotations`: Typer reads every
command's signature at each start, and string annotations make it evaluate each one again
(building the command tree took ~110 ms instead of ~30 ms).
"""

from typing import Annotated, Any

import typer
from typer.core import TyperGroup

from yorisoi.cli import (
    audit,
    backup,
    cases,
    closure,
    consent,
    demo,
    directory,
    importing,
    init,
    lifecycle,
    login,
    meetings,
    outbox,
    outreach,
    plans,
    reports,
    schedule,
    web,
)
from yorisoi.cli.common import IN_FORCE, CliState, state
from yorisoi.cli.failures import NoArgsIsHelpError, report


class _ReportingGroup(TyperGroup):
    """The root group: every error below it is reported once, here, with its exit code."""

    def invoke(self, ctx: Any) -> Any:
        try:
            return super().invoke(ctx)
        except (typer.Exit, typer.Abort, NoArgsIsHelpError):
            raise
        except Exception as exc:
            code = report(state(ctx), exc)
            if code is None:
                raise
            raise typer.Exit(code) from None


app = typer.Typer(
    cls=_ReportingGroup,
    name="yorisoi",
    help="寄り添い — 重層的支援体制整備事業のケース管理 / case engine for multi-layered support.",
    no_args_is_help=True,
    pretty_exceptions_show_locals=False,
)


def _version(value: bool) -> None:
    if value:
        from yorisoi import __version__

        typer.echo(f"yorisoi {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    ctx: typer.Context,
    as_: Annotated[
        str | None,
        typer.Option(
            "--as",
            envvar="YORISOI_ACTOR",
            metavar="LOGIN",
            help="操作する職員のログイン名（YORISOI_CLI__SINGLE_OPERATOR=true のときのみ。"
            "それ以外は `yorisoi login`） / staff login acting, for a single trusted operator only",
        ),
    ] = None,
    json_output: Annotated[
        bool, typer.Option("--json", help="結果とエラーを JSON で出力 / print JSON for scripts")
    ] = False,
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="版を表示 / show version")
    ] = False,
) -> None:
    ctx.obj = CliState(json=json_output, actor_login=as_)
    IN_FORCE.clear()


app.command("init")(init.init)
app.command("login")(login.login)
app.command("logout")(login.logout)
app.command("backup")(backup.backup)
app.command("restore")(backup.restore)
app.command("demo")(demo.demo)
app.command("topics")(directory.topics)
app.add_typer(directory.staff_app, name="staff")
app.add_typer(directory.agency_app, name="agency")
app.add_typer(directory.provider_app, name="provider")
app.add_typer(cases.app, name="case")
app.add_typer(consent.app, name="consent")
app.add_typer(meetings.app, name="meeting")
app.add_typer(plans.plan_app, name="plan")
app.add_typer(plans.monitoring_app, name="monitoring")
app.add_typer(outreach.outreach_app, name="outreach")
app.add_typer(outreach.programme_app, name="programme")
app.add_typer(closure.app, name="closure")
app.add_typer(audit.app, name="audit")
reports.register(app, audit.app)  # `report annual|trend` and `audit report`
app.command("import")(importing.import_)
app.command("export")(importing.export)
app.add_typer(lifecycle.app, name="lifecycle")
app.add_typer(outbox.app, name="outbox")
schedule.register(app)  # `sweep` and `serve`
web.register(app, directory.staff_app)  # `web` and `staff set-password`


def main() -> None:
    """Console-script entry point."""
    app()
