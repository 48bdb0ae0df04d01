"""`yorisoi lifecycle …`: draw the lifecycle, check a municipality's lifecycle file."""

import sys
from pathlib import Path
from typing import Annotated

import typer

from yorisoi.cli.common import state

app = typer.Typer(help="ケースのライフサイクル（段階と遷移） / the case lifecycle", no_args_is_help=True)


@app.command("diagram")
def diagram(
    ctx: typer.Context,
    file: Annotated[
        Path | None,
        typer.Option(
            help="描画するライフサイクル定義（省略時は設定 YORISOI_LIFECYCLE__FILE か既定） / lifecycle file"
        ),
    ] = None,
    no_guards: Annotated[
        bool, typer.Option("--no-guards", help="ガード名を省いた概要図 / leave out guard names")
    ] = False,
) -> None:
    """ライフサイクルを Mermaid の状態遷移図として出力する / print a Mermaid state diagram."""
    from states import load_lifecycle
    from states.diagram import mermaid
    from yorisoi.cli import output
    from yorisoi.settings import get_settings

    lifecycle = load_lifecycle(file or get_settings().lifecycle.file)
    text = mermaid(lifecycle, show_guards=not no_guards)
    if state(ctx).json:
        output.emit_json({"lifecycle": lifecycle.name, "mermaid": text})
    else:
        sys.stdout.write(text)


@app.command("check")
def check(
    ctx: typer.Context,
    file: Annotated[Path, typer.Argument(help="検査するライフサイクル定義（YAML） / lifecycle file")],
) -> None:
    """ライフサイクル定義を検査し、問題を「ファイル:行: 内容」で全部示す（あれば終了コード 1） / validate."""
    from states import LifecycleError, load_lifecycle
    from yorisoi.cli import output
    from yorisoi.cli.failures import ERROR_EXIT, lifecycle_error, problem_lines
    from yorisoi.service.registry import RESERVED_NAMES

    cli = state(ctx)
    try:
        lifecycle = load_lifecycle(file, reserved=RESERVED_NAMES)
    except LifecycleError as exc:
        if not cli.json:
            for line in problem_lines(exc):
                output.plain(line)
        output.error(cli, lifecycle_error(exc))
        raise typer.Exit(ERROR_EXIT) from None
    summary = {
        "ok": True,
        "file": str(file),
        "name": lifecycle.name,
        "stages": len(lifecycle.stages),
        "triggers": len(lifecycle.triggers),
        "transitions": len(lifecycle.transitions),
    }
    output.done(
        cli,
        f"OK: {file}（{lifecycle.name}: 段階 {summary['stages']}・操作 {summary['triggers']}・"
        f"遷移 {summary['transitions']}）",
        summary,
    )
