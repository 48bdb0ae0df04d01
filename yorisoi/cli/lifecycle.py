"""`yorisoi lifecycle …`: draw it, check a municipality's file, apply a new version, list versions."""

import sys
from pathlib import Path
from typing import Annotated, Any

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


@app.command("apply")
def apply(
    ctx: typer.Context,
    file: Annotated[Path, typer.Argument(help="適用するライフサイクル定義（YAML） / lifecycle file")],
    mapping: Annotated[
        list[str] | None,
        typer.Option(
            "--map",
            metavar="OLD=NEW",
            help="なくなる段階にいるケースの行き先（複数可） / where cases in a removed stage go",
        ),
    ] = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="何が起きるかを表示するだけ / show what would happen")
    ] = False,
) -> None:
    """新しいライフサイクルを適用し、全ケースを移行する（スーパーバイザー） / apply a lifecycle."""
    from yorisoi.cli import output, session
    from yorisoi.cli.common import split_spec
    from yorisoi.errors import InvalidInput
    from yorisoi.service import lifecycles

    cli = state(ctx)
    stages: dict[str, str] = {}
    for spec in mapping or []:
        old, new = split_spec(spec, "=＝")
        if not old or not new:
            raise InvalidInput(
                f"--map は「旧段階=新段階」で指定してください: {spec!r}", f"Write --map as OLD=NEW: {spec!r}"
            )
        stages[old] = new
    text, source = lifecycles.file_text(file)
    with session.database() as db:
        actor = session.actor(db, cli)
        current = session.machine(db)
        if dry_run:
            plan = lifecycles.plan_apply(db, current, text, source, stages)
            db.rollback()
            version = None
        else:
            plan, version = lifecycles.apply(
                db, actor=actor, current=current, text=text, source=source, mapping=stages
            )
    old_lifecycle, new_lifecycle = current.lifecycle, plan.machine.lifecycle
    moves = [
        {
            "from_stage": m.from_stage,
            "from_stage_ja": old_lifecycle.stage_label(m.from_stage),
            "to_stage": m.to_stage,
            "to_stage_ja": new_lifecycle.stage_label(m.to_stage),
            "cases": m.cases,
        }
        for m in plan.moves
    ]
    summary = {
        "dry_run": dry_run,
        "file": str(file),
        "name": new_lifecycle.name,
        "from_version": plan.from_version,
        "to_version": version,
        "cases": plan.cases,
        "moves": moves,
    }
    if cli.json:
        output.emit_json(summary)
        return
    output.table(
        f"ケースの移行（{plan.cases:,} 件）",
        ["現在の段階", "件数", "移行後の段階"],
        (
            [
                f"{m['from_stage_ja']}（{m['from_stage']}）",
                m["cases"],
                f"{m['to_stage_ja']}（{m['to_stage']}）",
            ]
            for m in moves
        ),
    )
    if dry_run:
        output.plain(
            "確認のみ（--dry-run）: 何も書き込んでいません。"
            f"適用すると第{plan.from_version + 1}版になります。"
        )
    else:
        output.plain(
            f"ライフサイクル {new_lifecycle.name} を第{version}版として適用し、"
            f"{plan.cases:,} 件のケースを移行しました（各ケースに監査記録「ライフサイクルの移行」）。"
        )


@app.command("versions")
def versions(ctx: typer.Context) -> None:
    """記録されているライフサイクルの版（最新が使用中） / the lifecycle versions recorded."""
    from models.lifecycle import all_versions
    from models.queries import staff_logins
    from yorisoi.cli import output, session

    cli = state(ctx)
    with session.database(read_only=True) as db:
        rows = all_versions(db)
        logins = staff_logins(db)
    data: list[dict[str, Any]] = [
        {
            "version": v.id,
            "name": v.name,
            "content_hash": v.content_hash,
            "applied_at": v.applied_at,
            "applied_by": logins.get(v.applied_by) if v.applied_by else None,
            "stage_map": v.stage_map,
            "in_force": v is rows[-1],
        }
        for v in rows
    ]
    if cli.json:
        output.emit_json(data)
        return
    output.table(
        "ライフサイクルの版",
        ["版", "名前", "適用日時", "適用者", "段階の対応", "ハッシュ"],
        (
            [
                f"{d['version']}{'（使用中）' if d['in_force'] else ''}",
                d["name"],
                d["applied_at"],
                d["applied_by"] or "（初期設定）",
                "、".join(f"{a}→{b}" for a, b in d["stage_map"].items()) or "—",
                str(d["content_hash"])[:12],
            ]
            for d in data
        ),
    )
