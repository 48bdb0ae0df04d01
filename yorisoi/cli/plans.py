"""`yorisoi plan …` (支援プラン: draft, approve, return, revise, show) and `yorisoi monitoring record`."""

import datetime as dt
from typing import TYPE_CHECKING, Annotated, Any

import typer

from yorisoi.cli.common import CaseNumber, ExpectVersion, OnDate, parse_date, split_spec, state

if TYPE_CHECKING:
    from sqlmodel import Session

plan_app = typer.Typer(
    help="支援プランの作成・承認・差戻し・見直し・表示 / support plans", no_args_is_help=True
)
monitoring_app = typer.Typer(help="モニタリングの記録 / monitoring", no_args_is_help=True)

Goals = Annotated[
    list[str] | None,
    typer.Option(
        "--goal",
        metavar="PROBLEM=GOAL",
        help="目標「課題=目標」または「目標」（複数可） / goal, optionally PROBLEM=GOAL",
    ),
]
Roles = Annotated[
    list[str] | None,
    typer.Option(
        "--role",
        metavar="AGENCY=ROLE",
        help="役割分担「関係機関名=役割」（複数可） / AGENCY=ROLE; consent must cover the agency",
    ),
]
Lead = Annotated[
    str | None, typer.Option(metavar="AGENCY", help="主担当の関係機関名（--role のどれか） / lead agency")
]
Interval = Annotated[int | None, typer.Option(help="モニタリング間隔（日） / monitoring interval in days")]
External = Annotated[
    list[str] | None,
    typer.Option(
        "--external",
        metavar="KIND@AGENCY",
        help="既存プラン「種類@関係機関名」（例: ケアプラン@地域包括支援センター中央） / existing plans",
    ),
]
HouseholdGoal = Annotated[str, typer.Option(metavar="TEXT", help="世帯全体の目標 / household goal")]


def plan_data(
    db: "Session",
    *,
    goals: list[str],
    roles: list[str],
    lead: str | None,
    interval: int | None,
    external: list[str],
    household_goal: str,
    on: dt.date | None,
) -> dict[str, Any]:
    """The service's plan input from the command-line specs; agencies resolved by name."""
    from yorisoi.cli import session
    from yorisoi.errors import InvalidInput

    role_rows: list[dict[str, Any]] = []
    for spec in roles:
        agency, role = split_spec(spec, "=＝")
        if not role:
            raise InvalidInput(
                f"役割は「関係機関名=役割」で指定してください: {spec!r}",
                f"Write a role as AGENCY=ROLE: {spec!r}",
            )
        role_rows.append({"agency_id": session.agency_id(db, agency), "role": role, "is_lead": False})
    if lead is not None:
        lead_id = session.agency_id(db, lead)
        leads = [r for r in role_rows if r["agency_id"] == lead_id]
        if not leads:
            raise InvalidInput(
                f"主担当「{lead}」には --role で役割を指定してください。",
                f"The lead agency {lead!r} needs a --role too.",
            )
        leads[0]["is_lead"] = True
    data: dict[str, Any] = {
        "goals": [
            {"problem": problem, "goal": goal} if goal else {"problem": "", "goal": problem}
            for problem, goal in (split_spec(g, "=＝") for g in goals)
        ],
        "roles": role_rows,
        "external_plans": [
            {"kind": kind, "agency_id": session.agency_id(db, agency) if agency else None}
            for kind, agency in (split_spec(e, "@＠") for e in external)
        ],
        "household_goal": household_goal,
    }
    if interval is not None:
        data["monitoring_interval_days"] = interval
    if on is not None:
        data["drafted_on"] = on
    return data


def _write(
    ctx: typer.Context,
    number: str,
    trigger: str,
    on: dt.date | None,
    expect_version: int | None,
    **specs: Any,
) -> None:
    from models.queries import event_payload
    from yorisoi.cli import output, session

    cli = state(ctx)
    with session.database() as db:
        session.actor(db, cli)
        data = plan_data(db, on=on, **specs)
        fired = session.fire(db, cli, number, trigger, expected_version=expect_version, **data)
        version = event_payload(db, fired.case_id, fired.version).get("version")
    output.fired(cli, fired, extra={"plan_version": version}, note=f"支援プラン 第{version}版（承認待ち）")


@plan_app.command("draft")
def draft(
    ctx: typer.Context,
    number: CaseNumber,
    goal: Goals = None,
    role: Roles = None,
    lead: Lead = None,
    interval_days: Interval = None,
    external: External = None,
    household_goal: HouseholdGoal = "",
    on: OnDate = None,
    expect_version: ExpectVersion = None,
) -> None:
    """支援プランを作成する（重層的支援会議の後。承認は別のスーパーバイザー） / draft the plan."""
    _write(
        ctx,
        number,
        "draft_plan",
        on,
        expect_version,
        goals=goal or [],
        roles=role or [],
        lead=lead,
        interval=interval_days,
        external=external or [],
        household_goal=household_goal,
    )


@plan_app.command("revise")
def revise(
    ctx: typer.Context,
    number: CaseNumber,
    goal: Goals = None,
    role: Roles = None,
    lead: Lead = None,
    interval_days: Interval = None,
    external: External = None,
    household_goal: HouseholdGoal = "",
    on: OnDate = None,
    expect_version: ExpectVersion = None,
) -> None:
    """支援プランを見直す（新しい版。省略した項目は現行版から引き継ぐ） / revise the plan."""
    _write(
        ctx,
        number,
        "revise_plan",
        on,
        expect_version,
        goals=goal or [],
        roles=role or [],
        lead=lead,
        interval=interval_days,
        external=external or [],
        household_goal=household_goal,
    )


@plan_app.command("approve")
def approve(
    ctx: typer.Context,
    number: CaseNumber,
    meeting: Annotated[
        int,
        typer.Option(
            metavar="ID", help="プランを決定した重層的支援会議の ID（meeting hold が表示） / meeting id"
        ),
    ],
    on: OnDate = None,
    expect_version: ExpectVersion = None,
) -> None:
    """支援プランを承認する（スーパーバイザー、作成者以外） / approve the plan."""
    from yorisoi.cli import output, session

    cli = state(ctx)
    data: dict[str, Any] = {"meeting_id": meeting}
    if on is not None:
        data["approved_on"] = on
    with session.database() as db:
        fired = session.fire(db, cli, number, "approve_plan", expected_version=expect_version, **data)
    output.fired(cli, fired)


@plan_app.command("return")
def return_plan(
    ctx: typer.Context,
    number: CaseNumber,
    reason: Annotated[
        str, typer.Option(metavar="TEXT", help="差戻しの理由（作成者に伝わる） / why", show_default=False)
    ],
    on: OnDate = None,
    expect_version: ExpectVersion = None,
) -> None:
    """承認待ちの支援プランを理由を付けて差し戻す（スーパーバイザー） / send the plan back."""
    from yorisoi.cli import output, session

    cli = state(ctx)
    data: dict[str, Any] = {"reason": reason}
    if on is not None:
        data["returned_on"] = on
    with session.database() as db:
        fired = session.fire(db, cli, number, "return_plan", expected_version=expect_version, **data)
    output.fired(cli, fired, note="支援プランは作成者に差し戻されました。新しい版の作成が必要です。")


@plan_app.command("show")
def show(ctx: typer.Context, number: CaseNumber) -> None:
    """ケースの支援プラン（全版） / show a case's plans, every version."""
    from models.queries import case_detail
    from yorisoi.cli import output, render, session

    cli = state(ctx)
    with session.database() as db:
        detail = case_detail(db, session.case_id(db, number))
    assert detail is not None
    if cli.json:
        output.emit_json({"case": detail.number, "plans": detail.plans})
        return
    if not detail.plans:
        output.plain(f"{detail.number}: 支援プランはまだありません。")
        return
    render.plans(detail.plans)


@monitoring_app.command("record")
def record(
    ctx: typer.Context,
    number: CaseNumber,
    summary: Annotated[
        str, typer.Option(metavar="TEXT", help="モニタリングの概要 / summary", show_default=False)
    ],
    on: OnDate = None,
    next_on: Annotated[
        dt.date | None,
        typer.Option(
            "--next", parser=parse_date, metavar="YYYY-MM-DD", help="次回（省略時はプランの間隔） / next date"
        ),
    ] = None,
    expect_version: ExpectVersion = None,
) -> None:
    """モニタリングを記録する / record monitoring."""
    from models.queries import event_payload
    from yorisoi.cli import output, session

    cli = state(ctx)
    data: dict[str, Any] = {"summary": summary}
    if on is not None:
        data["held_on"] = on
    if next_on is not None:
        data["next_on"] = next_on
    with session.database() as db:
        fired = session.fire(db, cli, number, "record_monitoring", expected_version=expect_version, **data)
        next_due = event_payload(db, fired.case_id, fired.version).get("next_on")
    output.fired(cli, fired, extra={"next_on": next_due}, note=f"次回モニタリング {next_due}")
