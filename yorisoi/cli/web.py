"""`yorisoi web` (the web app) and `yorisoi staff set-password` (its local accounts)."""

from typing import Annotated

import typer

from yorisoi.cli.common import state


def web(
    host: Annotated[str, typer.Option(help="待ち受けるアドレス / address to listen on")] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=1, max=65535, help="ポート / port")] = 8000,
    workers: Annotated[
        int,
        typer.Option(
            min=1,
            max=64,
            help="プロセス数（同時に使う CPU コア数の目安） / worker processes (about one per core)",
        ),
    ] = 1,
) -> None:
    """Web画面と API を起動する（Ctrl+C で停止） / serve the web app and the API."""
    from yorisoi.cli import output
    from yorisoi.cli.session import shown_url
    from yorisoi.settings import get_settings
    from yorisoi.web.server import serve

    settings = get_settings()
    where = shown_url(settings.database_url())
    base = f"http://{host}:{port}"
    output.plain(f"寄り添い: {base}/ （API: {base}/openapi.json ・ データ: {where}）")
    serve(settings, host=host, port=port, workers=workers)


def set_password(
    ctx: typer.Context,
    login: Annotated[str, typer.Argument(metavar="LOGIN", help="職員のログイン名 / staff login")],
    password_stdin: Annotated[
        bool,
        typer.Option("--password-stdin", help="パスワードを標準入力の1行目から読む / read it from stdin"),
    ] = False,
) -> None:
    """パスワードを設定する（スーパーバイザー・管理者か本人。以前のログインはすべて無効） / set a password."""
    from yorisoi.cli import output
    from yorisoi.cli.login import read_password
    from yorisoi.cli.session import actor, database
    from yorisoi.errors import PermissionDenied
    from yorisoi.service import accounts

    with database() as db:
        acting = actor(db, state(ctx))
        if acting.login == login.strip():  # one's own: the current password first
            current = read_password(
                password_stdin, confirm=False, prompt="現在のパスワード / current password"
            )
            try:
                accounts.authenticate(db, acting.login, current)
            except accounts.SignInFailed:
                raise PermissionDenied(
                    "現在のパスワードが違います（何も変えていません）。",
                    "The current password is wrong; nothing was changed.",
                ) from None
        password = read_password(password_stdin, confirm=True)
        staff = accounts.set_password(db, login.strip(), password, actor=acting)
    output.done(
        state(ctx),
        f"{staff.name}（{staff.login}）のパスワードを設定しました。",
        {"login": staff.login, "password_set": True},
    )


def register(app: typer.Typer, staff_app: typer.Typer) -> None:
    """Add `web` to the root app and `set-password` to `staff` (one line in app.py)."""
    app.command("web")(web)
    staff_app.command("set-password")(set_password)
