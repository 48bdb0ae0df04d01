"""`yorisoi backup FILE` and `yorisoi restore FILE` (then `audit verify`)."""

from pathlib import Path
from typing import Annotated

import typer

from yorisoi.cli.common import state

BackupFile = Annotated[Path, typer.Argument(metavar="FILE", help="バックアップファイル / backup file")]


def backup(ctx: typer.Context, file: BackupFile) -> None:
    """データベースをバックアップする（動作中でも一貫した時点のコピー。SQLite: オンラインバックアップ、
    PostgreSQL: pg_dump） / back up the database while it runs."""
    from yorisoi import backup as backups
    from yorisoi.cli import output
    from yorisoi.cli.session import NoDatabase, shown_url, sqlite_path
    from yorisoi.settings import get_settings

    url = get_settings().database_url()
    target = file.expanduser().absolute()
    path = sqlite_path(url)
    if path is not None:
        if not path.exists():
            raise NoDatabase(
                f"データベース {path} がありません。先に `yorisoi init` を実行してください。",
                f"There is no database at {path}; run `yorisoi init` first.",
            )
        size = backups.backup_sqlite(path, target)
    else:
        size = backups.backup_postgres(url, target)
    output.done(
        state(ctx),
        f"バックアップしました: {target}（{size:,} バイト、{shown_url(url)} から）",
        {"backup": str(target), "bytes": size, "database": shown_url(url)},
    )


def restore(
    ctx: typer.Context,
    file: BackupFile,
    yes: Annotated[bool, typer.Option("--yes", help="現在のデータを置き換えることを確認 / confirm")] = False,
) -> None:
    """バックアップから復元する（現在のデータを置き換え、全員ログアウト、続けて監査記録を検証。
    スーパーバイザー・管理者） / restore a backup, then verify the audit trail."""
    from models.db import session_scope
    from models.timestamps import utcnow
    from yorisoi import backup as backups
    from yorisoi import runtime
    from yorisoi.cli import output
    from yorisoi.cli.audit import verify
    from yorisoi.cli.session import actor, database, shown_url, sqlite_path
    from yorisoi.errors import InvalidInput
    from yorisoi.service.directory import require_manager
    from yorisoi.service.signin import revoke_all
    from yorisoi.settings import get_settings

    if not yes:
        raise InvalidInput(
            "復元すると現在のデータはすべて置き換わります。確認のため --yes を付けてください。",
            "A restore replaces all current data; add --yes to confirm.",
        )
    settings = get_settings()
    url = settings.database_url()
    source = file.expanduser().absolute()
    path = sqlite_path(url)
    if _has_schema(url):  # an existing database: only a supervisor or administrator replaces it
        with database() as db:
            require_manager(actor(db, state(ctx)), "バックアップからの復元", "restore a backup")
    if path is not None:
        backups.restore_sqlite(source, path)
    else:
        backups.restore_postgres(source, url)
    engine = runtime.engine(settings, create=True)  # a backup of an older schema: migrated
    try:
        with session_scope(engine) as session:
            revoke_all(session, why="restore", now=utcnow())  # tokens ended after the backup stay ended
            session.commit()
    finally:
        engine.dispose()
    output.done(
        state(ctx),
        f"復元しました: {source} → {shown_url(url)}（全員のログインを終了しました。監査記録を検証します）",
        {"restored": str(source), "database": shown_url(url)},
    )
    if not state(ctx).json:
        verify(ctx)


def _has_schema(url: str) -> bool:
    from models.db import create_db_engine, current_revision
    from yorisoi.cli.session import sqlite_path

    path = sqlite_path(url)
    if path is not None and not path.exists():
        return False
    engine = create_db_engine(url)
    try:
        return current_revision(engine) is not None
    finally:
        engine.dispose()
