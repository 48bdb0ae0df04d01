"""`yorisoi init`: create the data directory and bring the schema up to date."""

from typing import TYPE_CHECKING, Annotated

import typer

from yorisoi.cli.common import state
from yorisoi.cli.login import PasswordStdin

if TYPE_CHECKING:
    from yorisoi.settings import Settings


def init(
    ctx: typer.Context,
    admin: Annotated[
        str | None,
        typer.Option(
            metavar="LOGIN",
            help="最初の管理者をこのログイン名で登録する（職員がまだいないときのみ。パスワードを尋ねる） "
            "/ create the first administrator",
        ),
    ] = None,
    name: Annotated[str, typer.Option(metavar="NAME", help="管理者の氏名 / their name")] = "管理者",
    password_stdin: PasswordStdin = False,
) -> None:
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
    if admin is not None:
        _first_admin(settings, admin.strip(), name, password_stdin)
    where = str(path) if path is not None else shown_url(url)
    verb = "確認・更新しました" if existed else "作成しました"
    first = ""
    if admin is not None:
        login = admin.strip()
        first = f"\n最初の管理者を登録しました: {login}（{name}）。ログイン: `yorisoi login {login}`"
    output.done(
        state(ctx),
        f"データベースを{verb}: {where}（スキーマ {revision}、"
        f"ライフサイクル {lifecycle.name} 第{lifecycle.version}版）{first}",
        {
            "database": where,
            "url": shown_url(url),
            "data_dir": str(settings.data_dir),
            "revision": revision,
            "lifecycle": lifecycle.name,
            "lifecycle_version": lifecycle.version,
            "created": not existed,
            "admin": admin.strip() if admin is not None else None,
        },
    )


def _first_admin(settings: "Settings", login: str, name: str, password_stdin: bool) -> None:
    """The first staff member, an administrator with a password: who then adds everyone else."""
    from models.db import session_scope
    from yorisoi import runtime
    from yorisoi.cli.login import read_password
    from yorisoi.service import accounts, directory

    engine = runtime.engine(settings)
    try:
        with session_scope(engine) as session:
            directory.require_no_staff(session)
            session.rollback()
            password = read_password(password_stdin, confirm=True)
            accounts.hash_password(password)  # too short: refused before anything is written
            directory.bootstrap_admin(session, login=login, name=name)
            accounts.set_password(session, login, password)
    finally:
        engine.dispose()
