"""The database side of a command: a session, the lifecycle, the acting staff member, lookups.

Imported inside command bodies only (it loads SQLAlchemy and the service).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Engine
from sqlalchemy.engine import make_url
from sqlmodel import Session

from models import Agency, Staff
from models.db import read_only as read_only_engine
from models.db import session_scope
from models.queries import list_providers
from states import Lifecycle, LifecycleMachine
from yorisoi import labels, runtime
from yorisoi.cli.common import IN_FORCE, CliState
from yorisoi.errors import InvalidInput, NotFound, YorisoiError
from yorisoi.service import cases, directory, journal
from yorisoi.service.cases import Fired
from yorisoi.settings import get_settings


class ActorRequired(YorisoiError):
    code = "actor_required"


class NoDatabase(YorisoiError):
    code = "no_database"


def sqlite_path(url: str) -> Path | None:
    """The file of a SQLite URL (None for other databases and in-memory SQLite)."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite" or not parsed.database or parsed.database == ":memory:":
        return None
    return Path(parsed.database)


def shown_url(url: str) -> str:
    return make_url(url).render_as_string(hide_password=True)


@contextmanager
def database(*, read_only: bool = False) -> Iterator[Session]:
    """A session on the configured database, which `yorisoi init` must have created.

    `read_only=True` for commands that only read: on SQLite they then never block writers.
    """
    settings = get_settings()
    url = settings.database_url()
    path = sqlite_path(url)
    if path is not None and not path.exists():
        raise NoDatabase(
            f"データベース {path} がありません。先に `yorisoi init` を実行してください。",
            f"There is no database at {path}; run `yorisoi init` first.",
        )
    engine = runtime.engine(settings)
    try:
        with session_scope(read_only_engine(engine) if read_only else engine) as session:
            yield session
    finally:
        engine.dispose()


@contextmanager
def engine() -> Iterator[Engine]:
    """The configured database's engine, for work that runs its own transactions (an import)."""
    settings = get_settings()
    path = sqlite_path(settings.database_url())
    if path is not None and not path.exists():
        raise NoDatabase(
            f"データベース {path} がありません。先に `yorisoi init` を実行してください。",
            f"There is no database at {path}; run `yorisoi init` first.",
        )
    found = runtime.engine(settings)
    try:
        yield found
    finally:
        found.dispose()


def machine(db: Session) -> LifecycleMachine:
    """The lifecycle in force in the database (kept for the rest of the command).

    A configured lifecycle file that is not the one in force is pointed out (once): it takes
    effect only through `yorisoi lifecycle apply`.
    """
    settings = get_settings()
    found = runtime.machine(settings, db)
    if not IN_FORCE and settings.lifecycle.file is not None:
        _point_out_pending(db, settings.lifecycle.file, found)
    IN_FORCE[:] = [found]
    return found


def _point_out_pending(db: Session, path: Path, in_force: LifecycleMachine) -> None:
    from models.lifecycle import content_hash, current_version
    from states import LifecycleError
    from yorisoi.cli import output
    from yorisoi.cli.failures import problem_lines
    from yorisoi.service.lifecycles import file_text, parse

    version = in_force.lifecycle.version
    try:
        text, source = file_text(path)
        parse(text, source)
    except LifecycleError as exc:
        output.notice(
            f"設定のライフサイクルファイル {path} に誤りがあるため使っていません（使用中: 第{version}版）。",
            f"The configured lifecycle file {path} is invalid and not in use (in force: version {version}).",
            problem_lines(exc),
        )
        return
    current = current_version(db)
    if current is not None and current.content_hash != content_hash(text):
        output.notice(
            f"設定のライフサイクルファイル {path} は使用中の第{version}版と異なります。"
            f"適用するには `yorisoi lifecycle apply {path}` を実行してください。",
            f"The configured lifecycle file {path} differs from version {version} in force; "
            f"apply it with `yorisoi lifecycle apply {path}`.",
        )


def lifecycle() -> Lifecycle:
    """The lifecycle in force, for labels after the command's database work is done."""
    if not IN_FORCE:
        with database(read_only=True) as db:
            machine(db)
    found: LifecycleMachine = IN_FORCE[0]
    return found.lifecycle


def database_key() -> str:
    """The configured database as `yorisoi login` files its token under (no password)."""
    return shown_url(get_settings().database_url())


def client_name() -> str:
    """Who signs in from where, for the sign-in log: `cli:user@host`."""
    import getpass
    import socket

    try:
        user = getpass.getuser()
    except (KeyError, OSError):
        user = "?"
    return f"cli:{user}@{socket.gethostname()}"[:64]


def actor(session: Session, cli: CliState) -> Staff:
    """The acting staff member: whoever signed in with `yorisoi login`, or — only where the CLI is
    configured for a single trusted operator (YORISOI_CLI__SINGLE_OPERATOR=true) — `--as` /
    YORISOI_ACTOR."""
    from models.timestamps import utcnow
    from yorisoi.cli import credentials
    from yorisoi.service import signin

    settings = get_settings()
    if cli.actor_login:
        if not settings.cli.single_operator:
            raise ActorRequired(
                "`--as`（YORISOI_ACTOR）は、一人の信頼された操作者だけが使う設定"
                "（YORISOI_CLI__SINGLE_OPERATOR=true）でのみ使えます。`yorisoi login ログイン名` で"
                "ログインしてください。",
                "`--as` (YORISOI_ACTOR) works only where the CLI is configured for a single trusted "
                "operator (YORISOI_CLI__SINGLE_OPERATOR=true); sign in with `yorisoi login LOGIN`.",
            )
        return directory.staff_by_login(session, cli.actor_login.strip())
    saved = credentials.load(settings.cli.credentials_file(), database_key())
    if saved is not None:
        staff = signin.staff_for_token(session, saved["token"], utcnow())
        if staff is not None:
            return staff
        raise ActorRequired(
            "ログインの有効期限が切れたか、ログアウト・パスワード変更で無効になりました。"
            "`yorisoi login ログイン名` でもう一度ログインしてください。",
            "Your sign-in has expired or was ended (sign-out, password change); "
            "sign in again with `yorisoi login LOGIN`.",
        )
    if settings.cli.single_operator:
        raise ActorRequired(
            "操作する職員を指定してください: `yorisoi --as ログイン名 …` または環境変数 YORISOI_ACTOR"
            "（または `yorisoi login`）。",
            "Say who is acting: `yorisoi --as LOGIN …` or set YORISOI_ACTOR (or `yorisoi login`).",
        )
    raise ActorRequired(
        "ログインしてください: `yorisoi login ログイン名`（パスワードを尋ねます）。",
        "Sign in first: `yorisoi login LOGIN` (it asks for the password).",
    )


def staff(session: Session, login: str) -> Staff:
    return directory.staff_by_login(session, login.strip())


def case_id(session: Session, number: str) -> int:
    return journal.find_case_id(session, number.strip().upper())


def agency(session: Session, name: str) -> Agency:
    return directory.agency_by_name(session, name.strip())


def agency_id(session: Session, name: str) -> int:
    found = agency(session, name)
    assert found.id is not None
    return found.id


def desk_id(session: Session, name: str) -> int:
    found = agency(session, name)
    if not found.is_desk:
        raise InvalidInput(
            f"「{found.name}」は受付窓口として登録されていません（agency add … --desk）。",
            f"{found.name!r} is not registered as a desk (agency add … --desk).",
        )
    assert found.id is not None
    return found.id


def provider_id(session: Session, name: str) -> int:
    found = list_providers(session, name=name.strip())
    if not found:
        raise NotFound(
            f"登録事業所「{name}」は登録されていません。", f"No registered provider named {name!r}."
        )
    if len(found) > 1:
        raise InvalidInput(
            f"登録事業所「{name}」が複数あります。", f"More than one provider is named {name!r}."
        )
    return found[0].id


def contact(
    session: Session,
    *,
    desk: str | None,
    referrer: str,
    method: str,
    topics: list[str],
    on: dt.date | None,
    note: str,
    outreach_visit: bool = False,
) -> dict[str, Any]:
    """A consultation contact for the service: labels read as codes, the desk resolved."""
    known_topics = get_settings().topics()
    data: dict[str, Any] = {
        "referrer": labels.code(referrer, labels.REFERRERS, "相談者区分", "Referrer"),
        "method": labels.code(method, labels.METHODS, "相談方法", "Contact method"),
        "topics": labels.codes(topics, known_topics, "相談内容", "Topic"),
        "note": note,
        "outreach_visit": outreach_visit,
    }
    if desk is not None:
        data["desk_id"] = desk_id(session, desk)
    if on is not None:
        data["contacted_on"] = on
    return data


def fire(
    db: Session,
    cli: CliState,
    number: str,
    action: str,
    *,
    expected_version: int | None = None,
    **data: Any,
) -> Fired:
    """Take `action` (a lifecycle action, a trigger or a record action) on case `number` as the
    acting staff member.

    With `expected_version` (`--expect-version`) nothing is written unless the case is still at
    that version; otherwise the service raises VersionConflict.
    """
    acting = actor(db, cli)
    case = case_id(db, number)
    return cases.fire(
        session=db,
        case_id=case,
        action=cases.name_for(db, machine(db), case, action),
        actor=acting,
        machine=machine(db),
        expected_version=expected_version,
        **data,
    )
