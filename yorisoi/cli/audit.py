"""`yorisoi audit verify|checkpoint|keygen`: verify the audit trail, pin it with signed checkpoints."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from yorisoi.cli.common import CliState, state

if TYPE_CHECKING:
    from sqlmodel import Session

app = typer.Typer(help="監査記録（ハッシュチェーン）の検証 / audit trail", no_args_is_help=True)

# Below this many cases the check is over before a progress bar would be worth drawing.
PROGRESS_MIN_CASES = 200
WHAT_TO_DO = (
    "対応: ケースの画面と操作ログで経緯を確かめ、改ざんの前に取ったバックアップと突き合わせてください"
    "（README「監査の検証で問題が見つかったら」）。"
)


@app.command("verify")
def verify(
    ctx: typer.Context,
    require_checkpoint: Annotated[
        bool,
        typer.Option(
            "--require-checkpoint",
            help="新しいチェックポイントと照合できないときも終了コード 1 / fail unless compared with a "
            "fresh signed checkpoint",
        ),
    ] = False,
) -> None:
    """全ケースの監査記録を検証する（改ざん・欠落・不正な遷移・記録との不一致・巻き戻し）/ verify.

    問題があれば終了コード 1。"""
    from models.queries import count_cases
    from yorisoi.cli import output, session
    from yorisoi.service import verification
    from yorisoi.settings import get_settings

    cli = state(ctx)
    console = output.console()
    settings = get_settings()
    with session.engine() as engine:
        with session.database(read_only=True) as db:
            total = count_cases(db)
            machine = session.machine(db)
            by = _who(db, cli)
        # The result is recorded (chain_verification) and shown on the web audit page.
        if console.is_terminal and not cli.json and total >= PROGRESS_MIN_CASES:
            from rich.progress import Progress

            with Progress(console=console, transient=True) as bar:
                task = bar.add_task("監査記録を検証しています", total=total)
                _record, report = verification.verify_and_record(
                    engine,
                    settings,
                    trigger="cli",
                    by=by,
                    machine=machine,
                    progress=lambda n: bar.advance(task, n),
                )
        else:
            _record, report = verification.verify_and_record(
                engine, settings, trigger="cli", by=by, machine=machine
            )
    assert report.checkpoint is not None
    outcome = report.checkpoint
    unchecked = not outcome.checked or outcome.stale
    if cli.json:
        output.emit_json(report.as_dict())
    else:
        checked = f"ケース {report.cases:,} 件・監査記録 {report.events:,} 件を検証しました"
        for problem in report.problems:
            where = f"第{problem.seq}番の記録" if problem.seq is not None else "記録なし"
            output.plain(f"{problem.case_number} {where}: {problem.ja}")
            output.plain(f"    {problem.en}")
        if report.problems:
            output.plain(f"{checked}: {report.broken_cases} 件のケースに問題があります。")
        elif outcome.failed:
            output.plain(
                f"{checked}: 監査記録と各記録に問題はありませんが、"
                "チェックポイントを信頼できません（下の注意）。"
            )
        elif unchecked:
            output.plain(f"{checked}: 監査記録と各記録に問題はありません（巻き戻しは未確認。下の注意を参照）")
        else:
            output.plain(f"{checked}: OK（改ざん・欠落・不正な遷移・記録との不一致・巻き戻しはありません）")
        if not report.ok:
            output.plain(WHAT_TO_DO)
        for note in report.notes():
            output.plain(f"注意: {note}" if unchecked and note == outcome.ja else note)
    if not report.ok or (require_checkpoint and unchecked):
        raise typer.Exit(1)


def _who(db: Session, cli: CliState) -> str:
    """Who ran the verification, as recorded: the signed-in staff member, else the OS account
    (`audit verify` needs no sign-in: it changes no case)."""
    from yorisoi.cli import session
    from yorisoi.errors import YorisoiError

    try:
        return session.actor(db, cli).login
    except YorisoiError:
        return session.client_name()


@app.command("checkpoint")
def checkpoint(
    ctx: typer.Context,
    accept_rewind: Annotated[
        str | None,
        typer.Option(
            "--accept-rewind",
            metavar="REASON",
            help="前回のチェックポイントより前に戻ったケース（バックアップからの復元など）を承認し、"
            "理由を記録する / accept cases that went back (e.g. a restore) and record why",
        ),
    ] = None,
) -> None:
    """全ケースの監査記録の末尾を署名付きで書き出す（チェックポイント） / write a signed checkpoint."""
    import getpass

    from yorisoi.cli import output
    from yorisoi.cli.session import database
    from yorisoi.errors import AuditKeyError, CheckpointRefused
    from yorisoi.service import checkpoints
    from yorisoi.settings import get_settings

    cli = state(ctx)
    settings = get_settings()
    key = checkpoints.load_key(settings)
    if key is None:
        raise AuditKeyError(
            "チェックポイントの鍵が設定されていません（YORISOI_AUDIT__KEY または YORISOI_AUDIT__KEY_FILE。"
            "`yorisoi audit keygen` で作れます）。",
            "No checkpoint key is configured (YORISOI_AUDIT__KEY or YORISOI_AUDIT__KEY_FILE; "
            "`yorisoi audit keygen` makes one).",
        )
    if accept_rewind is not None and not accept_rewind.strip():
        raise typer.BadParameter("理由を書いてください / give the reason", param_hint="--accept-rewind")
    try:
        user = getpass.getuser()
    except (KeyError, OSError):  # no login name in this environment
        user = ""
    by = " ".join(filter(None, [user, cli.actor_login and f"--as {cli.actor_login}"]))
    try:
        with database(read_only=True) as db:
            written = checkpoints.write_checkpoint(
                db, key, settings.checkpoint_dir(), accept_rewind=accept_rewind, by=by
            )
    except CheckpointRefused as refused:
        failed = checkpoints.announce_refused(settings, refused)
        output.error(cli, refused.as_dict(), [f"{n}: {ja}" for n, ja, _en in refused.problems])
        if failed:
            output.notice("通知を送れませんでした。", "The notification could not be sent.", [failed])
        raise typer.Exit(1) from None
    failed = checkpoints.announce_written(settings, written)
    output.done(
        cli,
        f"チェックポイント第{written.sequence}号を書き出しました: {written.path}（{written.cases:,} ケース）",
        {
            **written.summary(),
            "path": str(written.path),
            "notified": settings.audit.notify is not None and failed is None,
        },
    )
    if written.went_back:
        output.notice(
            f"{len(written.went_back)} 件のケースの巻き戻しを承認しました（理由: {accept_rewind}）。",
            f"Accepted {len(written.went_back)} case(s) going back (reason: {accept_rewind}).",
            [f"{n}: {ja}" for n, ja, _en in written.went_back],
        )
    if failed:
        output.notice(
            "チェックポイントの通知を送れませんでした。", "The notification could not be sent.", [failed]
        )


@app.command("keygen")
def keygen(
    ctx: typer.Context,
    out: Annotated[
        Path | None,
        typer.Option(
            "--out",
            metavar="FILE",
            help="鍵をこのファイルに書く（所有者のみ読み書き可・上書きしない） / "
            "write the key to FILE (mode 0600)",
        ),
    ] = None,
) -> None:
    """チェックポイントに署名する新しい鍵を作る / make a new checkpoint key."""
    import os

    from yorisoi.cli import output
    from yorisoi.service.checkpoints import new_key

    key = new_key()
    if out is None:
        if state(ctx).json:
            output.emit_json({"key": key})
        else:
            output.plain(key)
        return
    try:
        fd = os.open(out, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        raise typer.BadParameter(
            f"{out} はすでにあります（上書きしません） / exists", param_hint="--out"
        ) from None
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(key + "\n")
    output.done(
        state(ctx),
        f"鍵を書き出しました: {out}"
        f"（YORISOI_AUDIT__KEY_FILE={out} と設定し、データベースとは別に保管してください）",
        {"file": str(out)},
    )
