"""`yorisoi init`: create the data directory and bring the schema up to date."""

import typer

from yorisoi.cli.common import state


def init(ctx: typer.Context) -> None:
    """データディレクトリとデータベースを作成・更新する（何度でも可） / create or migrate the database."""
    from models.db import current_revision, session_scope
    from yorisoi import runtime
    from yorisoi.cli import output
    from yorisoi.cli.session import shown_url, sqlite_path
    from yorisoi.settings import get_settings

    settings = get_settings()
    url = settings.database_url()
    path = sqlite_path(url)
    if path is not None:
        existed = path.exists()
    else:  # a server database: it existed if it already had a schema revision
        probe = runtime.engine(settings)
        try:
            existed = current_revision(probe) is not None
        finally:
            probe.dispose()
    engine = runtime.engine(settings, create=True)
    try:
        revision = current_revision(engine)
        with session_scope(engine) as session:  # records the configured lifecycle as version 1
            lifecycle = runtime.machine(settings, session).lifecycle
    finally:
        engine.dispose()
    where = str(path) if path is not None else shown_url(url)
    verb = "確認・更新しました" if existed else "作成しました"
    output.done(
        state(ctx),
        f"データベースを{verb}: {where}（スキーマ {revision}、"
        f"ライフサイクル {lifecycle.name} 第{lifecycle.version}版）",
        {
            "database": where,
            "url": shown_url(url),
            "data_dir": str(settings.data_dir),
            "revision": revision,
            "lifecycle": lifecycle.name,
            "lifecycle_version": lifecycle.version,
            "created": not existed,
        },
    )
