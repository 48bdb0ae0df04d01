"""`yorisoi demo`: build the demo database and show what it holds."""

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from yorisoi.cli import schedule
from yorisoi.cli.common import state

if TYPE_CHECKING:
    from yorisoi.demo import DemoReport


def demo(
    ctx: typer.Context,
    path: Annotated[
        Path | None,
        typer.Option(
            help="デモ用データベースのファイル（省略時は <データディレクトリ>/demo.db） / demo file"
        ),
    ] = None,
    cases: Annotated[int, typer.Option(min=1, help="ケース数（相談実件数） / number of cases")] = 336,
    seed: Annotated[int, typer.Option(help="乱数の種（同じ種なら同じデータ） / random seed")] = 2024,
) -> None:
    """デモ用データベースを作り直す（架空の市の令和6年度。yorisoi.db には触れない） / build the demo."""
    from yorisoi import demo as scenario
    from yorisoi.cli import output
    from yorisoi.settings import get_settings

    cli = state(ctx)
    target = (path or get_settings().data_dir / "demo.db").expanduser().absolute()
    console = output.console()
    if console.is_terminal and not cli.json:
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

        columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
        with Progress(*columns, console=console, transient=True) as bar:
            task = bar.add_task("ケースサービスで記録しています", total=None)
            report = scenario.run(
                target,
                cases_count=cases,
                seed=seed,
                progress=lambda done, total: bar.update(task, completed=done, total=total),
            )
    else:
        report = scenario.run(target, cases_count=cases, seed=seed)
    if cli.json:
        output.emit_json(_as_json(report))
    else:
        _summary(report)
    if report.audit_problems:
        raise typer.Exit(1)


def _as_json(report: "DemoReport") -> dict[str, object]:
    return {
        "database": str(report.path),
        "url": f"sqlite:///{report.path}",
        "stages": report.stages,
        "actions": report.actions,
        "records": report.records,
        "audit_events": report.events,
        "audit_ok": report.audit_problems == 0,
        "seconds": round(report.seconds, 2),
        "examples": report.examples,
        "reminders": schedule.demo_reminders_json(report.reminders),
    }


def _summary(report: "DemoReport") -> None:
    from yorisoi import labels
    from yorisoi.cli import output
    from yorisoi.service.lifecycles import file_text, parse

    lifecycle = parse(*file_text(None)).lifecycle  # the demo follows the default lifecycle
    actions, records = report.actions, report.records
    output.plain(f"デモ用データベースを作成しました: {report.path}（{report.seconds:.1f} 秒）")
    output.plain("みほん市（架空）令和6年度 — 人名・地名はすべて架空です。")
    output.table(
        "段階別のケース数",
        ["段階", "件数"],
        [
            *([s.ja, report.stages.get(s.name, 0)] for s in lifecycle.stages),
            ["計", sum(report.stages.values())],
        ],
    )
    output.table(
        "記録の件数",
        ["項目", "件数"],
        [
            ["相談実件数（ケース）", records.cases],
            ["相談延件数（相談）", records.contacts],
            ["相談内容（延べ）", records.contact_topics],
            [labels.MEETING_KINDS_JA["support_meeting"], actions.get("hold_support_meeting", 0)],
            [labels.MEETING_KINDS_JA["multilayer_meeting"], actions.get("hold_multilayer_meeting", 0)],
            ["支援プラン（承認済みのケース）", records.cases_with_approved_plan],
            ["支援プラン承認（見直し後の再承認を含む）", actions.get("approve_plan", 0)],
            ["終結（承認）", actions.get("approve_closure", 0)],
            ["終結提案の差戻し", actions.get("reject_closure", 0)],
            ["本人同意の撤回", actions.get("withdraw_consent", 0)],
            ["再開", actions.get("reopen", 0)],
            ["アウトリーチ", actions.get("log_outreach", 0)],
            ["参加支援の利用", actions.get("enrol_in_program", 0)],
            ["DV等支援措置の世帯", records.dv_protected_households],
        ],
    )
    if report.audit_problems:
        output.plain(f"監査記録の検証: {report.audit_problems} 件のケースに問題があります。")
    else:
        output.plain(f"監査記録の検証: OK（{report.events:,} 件、改ざん・欠落なし）")
    output.plain("")
    output.plain("見てみるには / to look around:")
    output.plain(f"  export YORISOI_DATABASE__URL=sqlite:///{report.path}")
    output.plain("  export YORISOI_CLI__SINGLE_OPERATOR=true   # 一人で試すデモ: --as で職員を選ぶ")
    output.plain("  yorisoi case list --stage monitoring")
    hints = (
        ("dv", "case show", "DV等支援措置の世帯（住所は表示されない）"),
        ("revised", "plan show", "見直した支援プラン（第2版）"),
        ("reopened", "case show", "終結後に再開したケース（第2期）"),
        ("withdrawn", "case show", "本人同意の撤回で支援会議へ戻ったケース"),
    )
    for key, command, what in hints:
        if key in report.examples:
            output.plain(f"  yorisoi {command} {report.examples[key]}   # {what}")
    if "intake" in report.examples:
        login, number = report.examples["intake_coordinator"], report.examples["intake"]
        output.plain(f"  yorisoi --as {login} case assess {number}   # 担当者としてアセスメントを開始")
    schedule.show_demo_reminders(report.reminders)
