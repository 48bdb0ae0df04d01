"""`yorisoi import FILE` (and `import template`) and `yorisoi export`: a municipality's records in and out.

The commands parse options and hand over to `yorisoi.importing`, which reads the workbook
and runs every row through the case service; they print what happened per sheet, every
problem with its sheet, row and column, and write the rows that failed to a workbook with a
reason column. A progress bar (Rich) shows long runs on a terminal.
"""

import datetime as dt
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from yorisoi.cli.common import parse_date, state

if TYPE_CHECKING:
    from yorisoi.importing.runner import ImportResult

TEMPLATE = "template"


@contextmanager
def progress(
    description: str, enabled: bool
) -> Iterator[tuple[Callable[[int], None], Callable[[int], None]]]:
    """(set the total, advance) of a Rich progress bar on stderr; no-ops when disabled."""
    if not enabled:
        yield (lambda _n: None), (lambda _n: None)
        return
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from yorisoi.cli import output

    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with Progress(*columns, console=output.console(stderr=True), transient=True) as bar:
        task = bar.add_task(description, total=None)
        yield (lambda n: bar.update(task, total=n)), (lambda n: bar.advance(task, n))


def import_(
    ctx: typer.Context,
    file: Annotated[
        Path,
        typer.Argument(
            metavar="FILE",
            help="取り込む XLSX か CSV。`template` と書くと記入用のひな形を書き出す / "
            "an XLSX or CSV file; `template` writes the workbook to fill in",
            show_default=False,
        ),
    ],
    dry_run: Annotated[
        bool,
        typer.Option(
            "--dry-run",
            help="確認だけして何も書き込まない（誤りをすべて表示） / check everything, write nothing",
        ),
    ] = False,
    mapping: Annotated[
        Path | None,
        typer.Option(
            metavar="YAML",
            help="自治体独自のシート名・列名の対応表 / the municipality's own sheet and column names",
        ),
    ] = None,
    sheet: Annotated[
        str | None,
        typer.Option(
            metavar="NAME", help="CSV のシート名（例: 相談）。省略時はファイル名か列名で判断 / CSV's sheet"
        ),
    ] = None,
    failed: Annotated[
        Path | None,
        typer.Option(
            metavar="XLSX",
            help="誤りのある行を理由つきで書き出す先（省略時は FILE の隣の <名前>.errors.xlsx） / "
            "where the failed rows go",
        ),
    ] = None,
    output_path: Annotated[
        Path | None,
        typer.Option("--output", metavar="XLSX", help="template の書き出し先 / where `template` writes"),
    ] = None,
) -> None:
    """既存の記録（XLSX・CSV）をケースサービスを通して取り込む（再実行しても二重にならない） / import."""
    from yorisoi.cli import output, session

    cli = state(ctx)
    if str(file) == TEMPLATE and not file.exists():
        from yorisoi.importing.template import write_template

        target = write_template(output_path or Path("yorisoi-template.xlsx"))
        output.done(cli, f"記入用のひな形を書き出しました: {target}", {"template": str(target)})
        return
    from yorisoi.importing.failed import write_failed
    from yorisoi.importing.reader import load_mapping
    from yorisoi.importing.runner import run_import

    acting = cli.actor_login
    if not acting:
        with session.database(read_only=True) as db:
            session.actor(db, cli)  # raises: say who is acting
    with session.database(read_only=True) as db:
        machine = session.machine(db)
    show_bar = output.console(stderr=True).is_terminal and not cli.json
    with (
        session.engine() as engine,
        progress("取り込んでいます" if not dry_run else "確認しています", show_bar) as (
            total,
            advance,
        ),
    ):
        result = run_import(
            engine,
            machine,
            file,
            actor=str(acting),
            dry_run=dry_run,
            mapping=load_mapping(mapping) if mapping else None,
            sheet=sheet,
            progress=advance,
            total=total,
        )
    failed_file = None
    if result.failed_rows or result.errors:
        failed_file = failed or file.with_name(f"{file.stem}.errors.xlsx")
        write_failed(failed_file, result.failed_rows, result.problems, result.headers)
    _report(cli, result, failed_file)
    if result.errors:
        raise typer.Exit(1)


def _report(cli: Any, result: "ImportResult", failed_file: Path | None) -> None:
    from yorisoi.cli import output

    if cli.json:
        output.emit_json(
            {
                "file": str(result.path),
                "sha256": result.file_hash,
                "dry_run": result.dry_run,
                "rows": result.rows,
                "added": result.added,
                "cases_opened": result.cases_opened,
                "seconds": round(result.seconds, 3),
                "sheets": [vars(t) for t in result.tallies.values()],
                "problems": [
                    {
                        "sheet": p.sheet,
                        "row": p.row,
                        "column": p.column,
                        "message_ja": p.ja,
                        "message_en": p.en,
                        "warning": p.warning,
                    }
                    for p in result.problems
                ],
                "failed_file": str(failed_file) if failed_file else None,
            }
        )
        return
    what = "確認しました — 何も書き込んでいません" if result.dry_run else "取り込みました"
    output.plain(f"{result.path.name} を{what}（SHA-256 {result.file_hash[:12]}…、{result.seconds:.1f} 秒）")
    added = "追加される行" if result.dry_run else "追加した行"
    output.table(
        None,
        ["シート", "行", added, "取込済み", "誤り"],
        ([t.sheet, t.read, t.added, t.already, t.failed] for t in result.tallies.values()),
    )
    opened = "受け付けるケース" if result.dry_run else "受け付けたケース"
    output.plain(f"{opened}: {result.cases_opened} 件")
    for problem in result.problems:
        mark = "注意" if problem.warning else "誤り"
        output.plain(f"{mark}: {problem.where_ja()}: {problem.ja}")
    if failed_file is not None:
        output.plain(
            f"誤りのある {len(result.failed_rows)} 行を {failed_file} に書き出しました"
            "（「エラー」の列に理由。直してそのまま取り込み直せます）。"
        )


def export(
    ctx: typer.Context,
    output_path: Annotated[
        Path,
        typer.Option(
            "--output", metavar="XLSX", help="書き出し先 / the workbook to write", show_default=False
        ),
    ],
    fy: Annotated[
        str | None,
        typer.Option(
            "--fy", metavar="R6", help="この年度の記録だけ（例: R6） / one 年度 only", show_default=False
        ),
    ] = None,
    from_: Annotated[
        dt.date | None,
        typer.Option(
            "--from", parser=parse_date, metavar="YYYY-MM-DD", help="この日以降の記録 / from this day"
        ),
    ] = None,
    to: Annotated[
        dt.date | None,
        typer.Option(
            "--to", parser=parse_date, metavar="YYYY-MM-DD", help="この日までの記録 / up to this day"
        ),
    ] = None,
) -> None:
    """記録を取込と同じ形のワークブックに書き出す（DV等支援措置の住所は書き出さない） / export records."""
    from yorisoi.cli import output, session
    from yorisoi.cli.reports import parse_fy
    from yorisoi.importing.export import write_export

    cli = state(ctx)
    start, end = from_, to
    if fy is not None:
        year = parse_fy(fy)
        start, end = (
            max(start or dt.date.min, dt.date(year, 4, 1)),
            min(end or dt.date.max, dt.date(year + 1, 3, 31)),
        )
    show_bar = output.console(stderr=True).is_terminal and not cli.json
    with session.database(read_only=True) as db, progress("書き出しています", show_bar) as (total, advance):
        reopen = session.machine(db).lifecycle.triggers_of("reopen")
        counts = write_export(
            db, output_path, start=start, end=end, reopen_actions=reopen, progress=advance, total=total
        )
    output.done(
        cli,
        f"{output_path} に書き出しました: " + "、".join(f"{name} {n} 行" for name, n in counts.items()),
        {"output": str(output_path), "rows": counts},
    )
