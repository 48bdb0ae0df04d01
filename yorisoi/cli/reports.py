"""`yorisoi report annual|trend` and `yorisoi audit report`: 年度 statistics and the supervisor's audit.

The commands only parse options, open the database and hand over to `yorisoi.reports`; the
figures come from SQL aggregates (`models.stats`), the audit from the stored rows
(`models.oversight`). Heavy imports (SQLAlchemy, openpyxl, pygal) happen inside the commands.
"""

import datetime as dt
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer

from yorisoi.cli.common import parse_date, state

report_app = typer.Typer(
    help="年度の統計（相談実績・会議・参加支援・目標と実績）/ annual statistics", no_args_is_help=True
)


class Format(StrEnum):
    TABLE = "table"
    CSV = "csv"
    XLSX = "xlsx"
    JSON = "json"


def parse_fy(text: str) -> int:
    """A 年度 as `R6`, `令和6年度`, `令和元年度` or `2024` (the Western year it starts in)."""
    from yorisoi.errors import InvalidInput
    from yorisoi.jpdates import parse_fiscal_year

    try:
        return parse_fiscal_year(text)
    except InvalidInput as exc:
        raise typer.BadParameter(f"{exc.ja} / {exc.en}") from None


def _fy_option(*names: str, help: str) -> Any:
    return typer.Option(*names, parser=parse_fy, metavar="R6", help=help, show_default=False)


AsOf = Annotated[
    dt.date | None,
    typer.Option(
        "--as-of",
        parser=parse_date,
        metavar="YYYY-MM-DD",
        help="基準日: この日までの記録だけを数える（省略時は今日） / count records up to this date",
    ),
]
Desk = Annotated[
    str | None,
    typer.Option("--desk", help="受付窓口の名前（省略時は全体） / one desk only", show_default=False),
]
FormatOption = Annotated[
    Format, typer.Option("--format", help="table（画面）, csv, xlsx, json / output format")
]
Output = Annotated[
    Path | None,
    typer.Option(
        "--output",
        help="出力先（csv はディレクトリ、xlsx・json はファイル）/ where to write csv, xlsx or json",
        show_default=False,
    ),
]


def _write(
    sheets: list[Any], data: dict[str, Any], fmt: Format, output: Path | None, stem: str, cli: Any
) -> None:
    """Print or write the report in `fmt`; a file written is reported on stdout (JSON with --json)."""
    from yorisoi.cli import output as out

    if fmt is Format.JSON and output is None:
        out.emit_json(data)
        return
    if fmt is Format.TABLE:
        if cli.json:
            out.emit_json(data)
            return
        from yorisoi.reports.terminal import print_sheets

        print_sheets(sheets, out.console())
        return
    if fmt is Format.CSV:
        from yorisoi.reports.csvfiles import write_csv

        files = write_csv(sheets, output or Path(stem), stem)
    elif fmt is Format.XLSX:
        from yorisoi.reports.xlsx import write_xlsx

        files = [write_xlsx(sheets, output or Path(f"{stem}.xlsx"))]
    else:
        import json

        assert output is not None
        output.parent.mkdir(parents=True, exist_ok=True)
        output.write_text(json.dumps(data, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
        files = [output]
    out.done(cli, "\n".join(f"出力しました: {f}" for f in files), {"files": [str(f) for f in files]})


def _scope(db: Any, desk: str | None) -> tuple[int | None, str | None]:
    if desk is None:
        return None, None
    from yorisoi.cli import session

    desk_id = session.desk_id(db, desk)
    return desk_id, session.agency(db, desk).name


@report_app.command("annual")
def annual(
    ctx: typer.Context,
    fy: Annotated[int, _fy_option("--fy", help="年度（例: R6, 令和6年度, 2024） / fiscal year")],
    as_of: AsOf = None,
    desk: Desk = None,
    fmt: FormatOption = Format.TABLE,
    output: Output = None,
) -> None:
    """年度の統計を公表様式で出力する（相談実績・会議・終結・参加支援・目標と実績） / annual report."""
    from yorisoi.cli.session import database
    from yorisoi.jpdates import fiscal_year_short, today_tokyo
    from yorisoi.reports.build import build_annual
    from yorisoi.reports.jsondata import annual_json
    from yorisoi.reports.layout import annual_sheets
    from yorisoi.reports.targets import load_targets
    from yorisoi.settings import get_settings

    cli = state(ctx)
    settings = get_settings()
    topics = settings.topics()
    targets = load_targets(settings.reports.targets_file)
    with database(read_only=True) as db:
        desk_id, desk_name = _scope(db, desk)
        report = build_annual(
            db,
            fiscal_year=fy,
            as_of=as_of or today_tokyo(),
            topics=topics,
            targets=targets,
            desk_id=desk_id,
            desk_name=desk_name,
        )
    stem = f"yorisoi-{fiscal_year_short(fy)}-annual"
    _write(annual_sheets(report, topics), annual_json(report, topics), fmt, output, stem, cli)


@report_app.command("trend")
def trend(
    ctx: typer.Context,
    first: Annotated[int, _fy_option("--from", help="最初の年度（例: R4） / first fiscal year")],
    last: Annotated[int, _fy_option("--to", help="最後の年度（例: R6） / last fiscal year")],
    as_of: AsOf = None,
    desk: Desk = None,
    chart: Annotated[
        Path | None,
        typer.Option("--chart", help="推移のグラフを SVG で書き出す / write the trend chart (SVG)"),
    ] = None,
    fmt: FormatOption = Format.TABLE,
    output: Output = None,
) -> None:
    """複数年度の推移と目標・達成率を出力する / trend over several fiscal years, with targets."""
    from yorisoi.cli import output as out
    from yorisoi.cli.session import database
    from yorisoi.jpdates import fiscal_year_short, today_tokyo
    from yorisoi.reports.build import build_trend
    from yorisoi.reports.jsondata import trend_json
    from yorisoi.reports.layout import trend_sheets
    from yorisoi.reports.targets import load_targets
    from yorisoi.settings import get_settings

    cli = state(ctx)
    settings = get_settings()
    topics = settings.topics()
    targets = load_targets(settings.reports.targets_file)
    with database(read_only=True) as db:
        desk_id, desk_name = _scope(db, desk)
        report = build_trend(
            db,
            first=first,
            last=last,
            as_of=as_of or today_tokyo(),
            topics=topics,
            targets=targets,
            desk_id=desk_id,
            desk_name=desk_name,
        )
    if chart is not None:
        from yorisoi.reports.chart import write_trend_svg

        write_trend_svg(report, chart)
        if not cli.json and fmt is Format.TABLE:
            out.plain(f"グラフを出力しました: {chart}")
    stem = f"yorisoi-{fiscal_year_short(first)}-{fiscal_year_short(last)}-trend"
    _write(trend_sheets(report), trend_json(report, topics), fmt, output, stem, cli)


def audit_report(
    ctx: typer.Context,
    start: Annotated[
        dt.date, typer.Option("--from", parser=parse_date, metavar="YYYY-MM-DD", help="期間の初日 / from")
    ],
    end: Annotated[
        dt.date, typer.Option("--to", parser=parse_date, metavar="YYYY-MM-DD", help="期間の末日 / to")
    ],
    fmt: FormatOption = Format.TABLE,
    output: Output = None,
) -> None:
    """承認・終結の一覧、指摘事項、期限超過、同意撤回、監査記録の検証（指摘があれば終了コード1）/ audit."""
    from yorisoi.cli import output as out
    from yorisoi.cli.session import database, machine
    from yorisoi.jpdates import today_tokyo
    from yorisoi.reports.audit import audit_json, audit_sheets, build_audit
    from yorisoi.service.checkpoints import for_verify
    from yorisoi.settings import get_settings

    cli = state(ctx)
    check = for_verify(get_settings())
    with database(read_only=True) as db:
        lifecycle_machine = machine(db)
        report = build_audit(
            db, lifecycle_machine, start=start, end=end, today=today_tokyo(), checkpoint=check
        )
    sheets = audit_sheets(report, lifecycle_machine)
    _write(sheets, audit_json(report), fmt, output, f"yorisoi-audit-{start}-{end}", cli)
    if fmt is Format.TABLE and not cli.json:
        chain = "異常なし" if report.verified.ok else f"{report.verified.broken_cases} ケースに異常"
        out.plain(
            f"承認 {len(report.plan_approvals)} 件・終結 {len(report.closures)} 件・"
            f"指摘事項 {len(report.findings)} 件・期限超過 {len(report.overdue)} 件・"
            f"同意撤回 {len(report.withdrawn)} 件・ハッシュチェーン {chain}"
        )
    if not report.clean:
        raise typer.Exit(1)


def register(app: typer.Typer, audit_app: typer.Typer) -> None:
    """Add `report …` to the root app and `report` to the `audit` group (one line in app.py)."""
    app.add_typer(report_app, name="report")
    audit_app.command("report")(audit_report)
