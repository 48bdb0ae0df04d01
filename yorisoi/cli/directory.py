"""The directory: staff, agencies (関係機関 and 受付窓口), 参加支援 providers, 相談内容 topics."""

import datetime as dt
from typing import Annotated

import typer

from yorisoi.cli.common import parse_date, state

staff_app = typer.Typer(help="職員の登録・一覧・無効化 / staff", no_args_is_help=True)
agency_app = typer.Typer(help="関係機関・受付窓口の登録と一覧 / agencies and desks", no_args_is_help=True)
provider_app = typer.Typer(help="参加支援の登録事業所 / programme providers", no_args_is_help=True)


@staff_app.command("add")
def staff_add(
    ctx: typer.Context,
    login: Annotated[str, typer.Argument(metavar="LOGIN", help="ログイン名（英小文字・数字・._-） / login")],
    name: Annotated[str, typer.Option(metavar="NAME", help="氏名 / name", show_default=False)],
    role: Annotated[
        list[str],
        typer.Option(
            metavar="ROLE",
            help="役割（複数可）: coordinator, supervisor, agency_member, auditor, "
            "admin（職員・機関の登録のみ）",
            show_default=False,
        ),
    ],
    agency: Annotated[
        str | None, typer.Option(metavar="AGENCY", help="所属する関係機関の名前 / agency")
    ] = None,
    team: Annotated[str | None, typer.Option(metavar="TEAM", help="チーム / team")] = None,
) -> None:
    """職員を登録する / add a staff member."""
    from yorisoi import labels
    from yorisoi.cli import output
    from yorisoi.cli.session import actor, agency_id, database
    from yorisoi.service import directory

    with database() as session:
        roles = labels.codes(role, labels.ROLES, "役割", "Role")
        added = directory.add_staff(
            session,
            login=login.strip(),
            name=name,
            roles=roles,
            agency_id=agency_id(session, agency) if agency else None,
            team=team,
            actor=actor(session, state(ctx)),
        )
    roles_ja = "・".join(labels.ROLES[r] for r in added.roles)
    output.done(
        state(ctx),
        f"職員を登録しました: {added.login}（{added.name}、{roles_ja}）",
        {"login": added.login, "name": added.name, "roles": added.roles, "team": added.team},
    )


@staff_app.command("list")
def staff_list(ctx: typer.Context) -> None:
    """職員の一覧 / list staff."""
    from models.queries import list_staff
    from yorisoi import labels
    from yorisoi.cli import output
    from yorisoi.cli.session import database

    with database() as session:
        rows = list_staff(session)
    if state(ctx).json:
        output.emit_json(rows)
        return
    output.table(
        f"職員 {len(rows)} 名",
        ["ログイン", "氏名", "役割", "所属", "チーム", "状態"],
        (
            [
                r.login,
                r.name,
                "・".join(labels.label(labels.ROLES, x) for x in r.roles),
                r.agency,
                r.team,
                "有効" if r.active else "無効",
            ]
            for r in rows
        ),
    )


def _set_active(ctx: typer.Context, login: str, active: bool) -> None:
    from yorisoi.cli import output
    from yorisoi.cli.session import actor, database
    from yorisoi.service import directory

    with database() as session:
        changed = directory.set_staff_active(session, login.strip(), active, actor=actor(session, state(ctx)))
    output.done(
        state(ctx),
        f"職員 {changed.login}（{changed.name}）を{'有効' if active else '無効'}にしました。",
        {"login": changed.login, "active": changed.active},
    )


@staff_app.command("deactivate")
def staff_deactivate(
    ctx: typer.Context, login: Annotated[str, typer.Argument(metavar="LOGIN", help="ログイン名 / login")]
) -> None:
    """職員を無効にする（以後その職員としては操作できない） / deactivate a staff member."""
    _set_active(ctx, login, False)


@staff_app.command("activate")
def staff_activate(
    ctx: typer.Context, login: Annotated[str, typer.Argument(metavar="LOGIN", help="ログイン名 / login")]
) -> None:
    """無効にした職員を有効に戻す / reactivate a staff member."""
    _set_active(ctx, login, True)


@staff_app.command("locks")
def staff_locks(ctx: typer.Context) -> None:
    """ログインが待機・ロック中のログイン名と端末 / logins and clients kept from signing in now."""
    from models.timestamps import utcnow
    from yorisoi.cli import output
    from yorisoi.cli.session import actor, database
    from yorisoi.jpdates import tokyo_datetime
    from yorisoi.service import directory, signin
    from yorisoi.settings import get_settings

    with database() as session:
        directory.require_manager(actor(session, state(ctx)), "ログインのロックの確認", "see sign-in locks")
        rows = signin.held(session, now=utcnow(), policy=get_settings().auth)
    if state(ctx).json:
        output.emit_json(rows)
        return
    output.table(
        f"待機・ロック中 {len(rows)} 件",
        ["種類", "ログイン名・端末", "失敗回数", "状態", "解除予定"],
        (
            [
                "ログイン名" if r.kind == "login" else "端末",
                r.key,
                r.failures,
                "ロック" if r.locked else "待機",
                tokyo_datetime(r.until).format("YYYY-MM-DD HH:mm:ss"),
            ]
            for r in rows
        ),
    )


@staff_app.command("unlock")
def staff_unlock(
    ctx: typer.Context,
    login: Annotated[str | None, typer.Argument(metavar="LOGIN", help="ログイン名 / login")] = None,
    client: Annotated[
        str | None, typer.Option(metavar="ADDRESS", help="端末のアドレスのロックを解除 / a client address")
    ] = None,
) -> None:
    """ログインのロックを解除する（スーパーバイザー・管理者。記録される） / unlock a login or a client."""
    from models.timestamps import utcnow
    from yorisoi.cli import output
    from yorisoi.cli.session import actor, database
    from yorisoi.service import signin

    with database() as session:
        signin.unlock(
            session, actor=actor(session, state(ctx)), login=login, client=client, now=utcnow(), channel="cli"
        )
    what = f"ログイン名 {login}" if login else f"端末 {client}"
    output.done(state(ctx), f"{what} のロックを解除しました。", {"login": login, "client": client})


@staff_app.command("sign-ins")
def staff_sign_ins(
    ctx: typer.Context,
    login: Annotated[
        str | None, typer.Option(metavar="LOGIN", help="このログイン名のみ / only this login")
    ] = None,
    limit: Annotated[int, typer.Option(min=1, max=10_000, help="件数 / rows")] = 100,
) -> None:
    """ログインの記録（成功・失敗・拒否・ログアウト・ロック解除） / the sign-in log, newest first."""
    from yorisoi.cli import output
    from yorisoi.cli.session import actor, database
    from yorisoi.jpdates import tokyo_datetime
    from yorisoi.service import directory, signin

    with database() as session:
        directory.require_log_reader(actor(session, state(ctx)))
        rows = signin.sign_in_log(session, login=login, limit=limit)
    if state(ctx).json:
        output.emit_json(rows)
        return
    from models.auth import OUTCOME_LABELS_JA

    output.table(
        f"ログインの記録 {len(rows)} 件",
        ["日時", "ログイン名", "端末", "経路", "結果", "解除した人"],
        (
            [
                tokyo_datetime(r.at).format("YYYY-MM-DD HH:mm:ss"),
                r.login,
                r.client,
                r.channel,
                OUTCOME_LABELS_JA.get(r.outcome, r.outcome),
                r.by or "",
            ]
            for r in rows
        ),
    )


@staff_app.command("changes")
def staff_changes(
    ctx: typer.Context, limit: Annotated[int, typer.Option(min=1, max=10_000, help="件数 / rows")] = 100
) -> None:
    """職員・関係機関・登録事業所の変更の記録（誰が・いつ） / who changed the directory, newest first."""
    from yorisoi.cli import output
    from yorisoi.cli.session import actor, database
    from yorisoi.jpdates import tokyo_datetime
    from yorisoi.service import directory

    with database() as session:
        directory.require_log_reader(actor(session, state(ctx)))
        rows = directory.directory_log(session, limit=limit)
    if state(ctx).json:
        output.emit_json(rows)
        return
    output.table(
        f"変更の記録 {len(rows)} 件",
        ["日時", "操作した人", "操作", "対象"],
        (
            [
                tokyo_datetime(r.at).format("YYYY-MM-DD HH:mm:ss"),
                r.actor or "（システム）",
                r.action,
                r.subject,
            ]
            for r in rows
        ),
    )


@agency_app.command("add")
def agency_add(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(metavar="NAME", help="機関名 / name")],
    field: Annotated[
        str,
        typer.Option(
            metavar="FIELD",
            help="分野: elderly, disability, child, poverty, health, education, housing, community, "
            "municipality, other",
            show_default=False,
        ),
    ],
    desk: Annotated[bool, typer.Option("--desk", help="受付窓口でもある / also a consultation desk")] = False,
) -> None:
    """関係機関（受付窓口を含む）を登録する / add an agency."""
    from yorisoi import labels
    from yorisoi.cli import output
    from yorisoi.cli.session import actor, database
    from yorisoi.service import directory

    with database() as session:
        code = labels.code(field, labels.AGENCY_FIELDS, "分野", "Field")
        added = directory.add_agency(
            session, name=name, field=code, is_desk=desk, actor=actor(session, state(ctx))
        )
    kind = "受付窓口" if added.is_desk else "関係機関"
    output.done(
        state(ctx),
        f"{kind}を登録しました: {added.name}（{labels.AGENCY_FIELDS[added.field]}）",
        {"id": added.id, "name": added.name, "field": added.field, "is_desk": added.is_desk},
    )


@agency_app.command("list")
def agency_list(ctx: typer.Context) -> None:
    """関係機関・受付窓口の一覧 / list agencies."""
    from models.queries import list_agencies
    from yorisoi import labels
    from yorisoi.cli import output
    from yorisoi.cli.session import database

    with database() as session:
        rows = list_agencies(session)
    if state(ctx).json:
        output.emit_json(rows)
        return
    output.table(
        f"関係機関 {len(rows)} 件",
        ["ID", "名前", "分野", "受付窓口"],
        ([r.id, r.name, labels.label(labels.AGENCY_FIELDS, r.field), "○" if r.is_desk else ""] for r in rows),
    )


@provider_app.command("add")
def provider_add(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(metavar="NAME", help="事業所名 / name")],
    program: Annotated[
        str,
        typer.Option(
            metavar="PROGRAM",
            help="事業: program_type_b（就労継続支援B型事業所活用事業）, "
            "program_short_stay（短期宿泊場所提供事業）",
            show_default=False,
        ),
    ],
    registered_on: Annotated[
        dt.date,
        typer.Option(
            parser=parse_date, metavar="YYYY-MM-DD", help="登録日 / registered on", show_default=False
        ),
    ],
) -> None:
    """参加支援の登録事業所を登録する / register a programme provider."""
    from yorisoi import labels
    from yorisoi.cli import output
    from yorisoi.cli.session import actor, database
    from yorisoi.service import directory

    with database() as session:
        code = labels.code(program, labels.PROGRAMS, "事業", "Programme")
        added = directory.add_provider(
            session, name=name, program=code, registered_on=registered_on, actor=actor(session, state(ctx))
        )
    output.done(
        state(ctx),
        f"登録事業所を登録しました: {added.name}（{labels.PROGRAMS[added.program]}、{added.registered_on}）",
        {"id": added.id, "name": added.name, "program": added.program, "registered_on": added.registered_on},
    )


@provider_app.command("list")
def provider_list(ctx: typer.Context) -> None:
    """登録事業所の一覧 / list providers."""
    from models.queries import list_providers
    from yorisoi import labels
    from yorisoi.cli import output
    from yorisoi.cli.session import database

    with database() as session:
        rows = list_providers(session)
    if state(ctx).json:
        output.emit_json(rows)
        return
    output.table(
        f"登録事業所 {len(rows)} 件",
        ["ID", "名前", "事業", "登録日"],
        ([r.id, r.name, labels.label(labels.PROGRAMS, r.program), r.registered_on] for r in rows),
    )


def topics(ctx: typer.Context) -> None:
    """相談内容のコードとラベルの一覧（YORISOI_VOCABULARY__TOPICS_FILE で変更可） / list topics."""
    from yorisoi.cli import output
    from yorisoi.settings import get_settings

    known = get_settings().topics()
    if state(ctx).json:
        output.emit_json(known)
        return
    output.table(f"相談内容 {len(known)} 件", ["コード", "ラベル"], known.items())
