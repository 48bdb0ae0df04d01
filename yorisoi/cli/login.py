"""`yorisoi login` / `yorisoi logout`: who the CLI acts as, when it is not a single trusted operator."""

import sys
from typing import Annotated

import typer

from yorisoi.cli.common import state

PasswordStdin = Annotated[
    bool, typer.Option("--password-stdin", help="パスワードを標準入力の1行目から読む / read it from stdin")
]


def read_password(from_stdin: bool, *, confirm: bool, prompt: str = "パスワード / password") -> str:
    if from_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    return str(typer.prompt(prompt, hide_input=True, confirmation_prompt=confirm))


def login(
    ctx: typer.Context,
    login_name: Annotated[str, typer.Argument(metavar="LOGIN", help="ログイン名 / login")],
    password_stdin: PasswordStdin = False,
) -> None:
    """ログインする（以後のコマンドはこの職員として実行。トークンはユーザーの設定ディレクトリに 0600 で保存）
    / sign in; later commands act as you."""
    import datetime as dt

    from models.timestamps import utcnow
    from yorisoi.cli import credentials, output
    from yorisoi.cli.session import client_name, database, database_key
    from yorisoi.jpdates import tokyo_datetime
    from yorisoi.service import signin
    from yorisoi.settings import get_settings

    settings = get_settings()
    password = read_password(password_stdin, confirm=False)
    with database() as db:
        signed = signin.sign_in(
            db,
            login_name,
            password,
            client=client_name(),
            channel="cli",
            now=utcnow(),
            policy=settings.auth,
            lifetime=dt.timedelta(hours=settings.auth.cli_token_hours),
        )
    path = settings.cli.credentials_file()
    entry = {"login": signed.staff.login, "token": signed.token, "expires_at": signed.expires_at.isoformat()}
    credentials.save(path, database_key(), entry)
    until = tokyo_datetime(signed.expires_at).format("YYYY-MM-DD HH:mm")
    output.done(
        state(ctx),
        f"{signed.staff.name}（{signed.staff.login}）としてログインしました"
        f"（{until} まで。トークン: {path}）",
        {"login": signed.staff.login, "expires_at": signed.expires_at.isoformat(), "credentials": str(path)},
    )


def logout(ctx: typer.Context) -> None:
    """ログアウトする（トークンはサーバー側でも無効になる） / sign out."""
    from models.timestamps import utcnow
    from yorisoi.cli import credentials, output
    from yorisoi.cli.session import client_name, database, database_key
    from yorisoi.service import signin
    from yorisoi.settings import get_settings

    dropped = credentials.forget(get_settings().cli.credentials_file(), database_key())
    if dropped is not None:
        with database() as db:
            signin.sign_out(db, dropped["token"], now=utcnow(), client=client_name(), channel="cli")
    output.done(
        state(ctx),
        "ログアウトしました。" if dropped else "ログインしていません（何も変えていません）。",
        {"signed_out": dropped is not None, "login": (dropped or {}).get("login")},
    )
