"""`yorisoi case …`: open a case, list and show cases, record contacts, assess, reopen."""

import datetime as dt
from typing import Annotated, Any

import typer

from yorisoi.cli.common import (
    CaseNumber,
    Desk,
    ExpectVersion,
    Method,
    Note,
    OnDate,
    OutreachVisit,
    Referrer,
    Topics,
    parse_date,
    split_spec,
    state,
)

app = typer.Typer(help="ケース: 受付・一覧・詳細・相談・アセスメント・再開 / cases", no_args_is_help=True)


@app.command("open")
def open_case(
    ctx: typer.Context,
    name: Annotated[str, typer.Option(metavar="NAME", help="本人の氏名 / name", show_default=False)],
    desk: Desk,
    referrer: Referrer,
    method: Method,
    topic: Topics,
    kana: Annotated[str, typer.Option(metavar="KANA", help="フリガナ / kana")] = "",
    birth_date: Annotated[
        dt.date | None, typer.Option(parser=parse_date, metavar="YYYY-MM-DD", help="生年月日 / birth date")
    ] = None,
    address: Annotated[str, typer.Option(metavar="ADDRESS", help="世帯の住所 / household address")] = "",
    dv_protected: Annotated[
        bool,
        typer.Option(
            "--dv-protected", help="DV等支援措置の対象（住所をどこにも表示しない） / mask the address"
        ),
    ] = False,
    coordinator: Annotated[
        str | None,
        typer.Option(
            metavar="LOGIN", help="担当コーディネーターのログイン名（省略時は操作者） / coordinator"
        ),
    ] = None,
    on: OnDate = None,
    note: Note = "",
    outreach_visit: OutreachVisit = False,
    ref: Annotated[
        str | None,
        typer.Option(metavar="REF", help="台帳番号（自治体の管理番号、重複不可） / external reference"),
    ] = None,
) -> None:
    """受付: 新しいケースを作り、最初の相談を記録する / open a case with its first contact."""
    from yorisoi.cli import output, session
    from yorisoi.service import cases

    cli = state(ctx)
    with session.database() as db:
        actor = session.actor(db, cli)
        contact = session.contact(
            db,
            desk=desk,
            referrer=referrer,
            method=method,
            topics=topic,
            on=on,
            note=note,
            outreach_visit=outreach_visit,
        )
        fired = cases.open_case(
            session=db,
            actor=actor,
            machine=session.machine(db),
            person={
                "name": name,
                "kana": kana,
                "birth_date": birth_date,
                "address": address,
                "dv_protected": dv_protected,
            },
            contact=contact,
            coordinator_id=session.staff(db, coordinator).id if coordinator else None,
            external_ref=ref,
        )
    output.fired(cli, fired)


@app.command("list")
def list_cases(
    ctx: typer.Context,
    stage: Annotated[
        str | None, typer.Option(metavar="STAGE", help="段階（例: assessment またはアセスメント） / stage")
    ] = None,
    coordinator: Annotated[
        str | None, typer.Option(metavar="LOGIN", help="担当者のログイン名 / coordinator login")
    ] = None,
    overdue: Annotated[
        bool, typer.Option("--overdue", help="モニタリング期限を過ぎたケースだけ / only overdue")
    ] = False,
    fy: Annotated[
        str | None, typer.Option(metavar="FY", help="年度（例: R7、令和7年度、2025） / fiscal year")
    ] = None,
    limit: Annotated[
        int | None, typer.Option(min=1, metavar="N", help="最大件数 / at most this many")
    ] = None,
) -> None:
    """ケースの一覧（番号順） / list cases."""
    from models.queries import list_cases as query
    from yorisoi import labels
    from yorisoi.cli import output, session
    from yorisoi.jpdates import parse_fiscal_year, today_tokyo

    cli = state(ctx)
    fiscal_year = parse_fiscal_year(fy) if fy else None
    with session.database(read_only=True) as db:
        lifecycle = session.machine(db).lifecycle
        stages = {s.name: s.ja for s in lifecycle.stages}
        rows = query(
            db,
            today=today_tokyo(),
            monitoring_stages=lifecycle.monitoring_stages,
            stage=labels.code(stage, stages, "段階", "Stage") if stage else None,
            coordinator_id=session.staff(db, coordinator).id if coordinator else None,
            fiscal_year=fiscal_year,
            overdue_only=overdue,
            limit=limit,
        )
    if cli.json:
        output.emit_json(rows)
        return
    output.table(
        f"ケース {len(rows)} 件",
        ["番号", "段階", "担当", "受付窓口", "受付日", "次回モニタリング", "期限超過"],
        (
            [
                r.number + (f"（第{r.episode}期）" if r.episode > 1 else ""),
                labels.stage(lifecycle, r.stage),
                r.coordinator_name,
                r.desk,
                r.opened_on,
                r.next_monitoring_on,
                "⚠ 超過" if r.overdue else "",
            ]
            for r in rows
        ),
    )


@app.command("show")
def show(ctx: typer.Context, number: CaseNumber) -> None:
    """ケースの詳細と経過（監査記録） / show a case and its timeline."""
    from models.queries import case_detail, timeline
    from yorisoi.cli import output, render, session
    from yorisoi.errors import NotFound

    cli = state(ctx)
    with session.database(read_only=True) as db:
        case_id = session.case_id(db, number)
        detail = case_detail(db, case_id)
        events = timeline(db, case_id)
        lifecycle = session.machine(db).lifecycle
    if detail is None:  # deleted between the two reads
        raise NotFound(f"ケース {number} は存在しません。", f"There is no case {number}.")
    if cli.json:
        output.emit_json({"case": detail, "timeline": events})
        return
    render.case(detail, events, lifecycle)


@app.command("contact")
def add_contact(
    ctx: typer.Context,
    number: CaseNumber,
    referrer: Referrer,
    method: Method,
    topic: Topics,
    desk: Annotated[str | None, typer.Option(help="受付窓口の名前 / desk")] = None,
    on: OnDate = None,
    note: Note = "",
    outreach_visit: OutreachVisit = False,
) -> None:
    """相談を記録する（終結後のアフターフォロー、終結日以前の後日入力も可） / record another contact."""
    from yorisoi.cli import output, session

    cli = state(ctx)
    with session.database() as db:
        session.actor(db, cli)
        data = session.contact(
            db,
            desk=desk,
            referrer=referrer,
            method=method,
            topics=topic,
            on=on,
            note=note,
            outreach_visit=outreach_visit,
        )
        fired = session.fire(db, cli, number, "add_contact", **data)
    output.fired(cli, fired)


@app.command("assess")
def assess(
    ctx: typer.Context, number: CaseNumber, note: Note = "", expect_version: ExpectVersion = None
) -> None:
    """アセスメントを開始する / start the assessment."""
    from yorisoi.cli import output, session

    cli = state(ctx)
    with session.database() as db:
        fired = session.fire(db, cli, number, "start_assessment", expected_version=expect_version, note=note)
    output.fired(cli, fired)


@app.command("reopen")
def reopen(
    ctx: typer.Context,
    number: CaseNumber,
    referrer: Referrer,
    method: Method,
    topic: Topics,
    desk: Annotated[str | None, typer.Option(help="受付窓口の名前 / desk")] = None,
    on: OnDate = None,
    note: Note = "",
    outreach_visit: OutreachVisit = False,
    expect_version: ExpectVersion = None,
) -> None:
    """終結したケースを新しい相談で再開する（新しいエピソード） / reopen a closed case."""
    from yorisoi.cli import output, session

    cli = state(ctx)
    with session.database() as db:
        session.actor(db, cli)
        data = session.contact(
            db,
            desk=desk,
            referrer=referrer,
            method=method,
            topics=topic,
            on=on,
            note=note,
            outreach_visit=outreach_visit,
        )
        fired = session.fire(db, cli, number, "reopen", expected_version=expect_version, contact=data)
    output.fired(cli, fired)


@app.command("correct")
def correct(
    ctx: typer.Context,
    number: CaseNumber,
    name: Annotated[str | None, typer.Option(metavar="NAME", help="氏名 / name")] = None,
    kana: Annotated[str | None, typer.Option(metavar="KANA", help="ふりがな / kana")] = None,
    birth_date: Annotated[
        dt.date | None, typer.Option(parser=parse_date, metavar="YYYY-MM-DD", help="生年月日 / birth date")
    ] = None,
    address: Annotated[
        str | None, typer.Option(metavar="ADDRESS", help="世帯の住所 / household address")
    ] = None,
    dv_protected: Annotated[
        bool | None,
        typer.Option(
            "--dv-protected/--no-dv-protected",
            help="DV等支援措置の対象にする／外す（住所をどこにも表示しない） / DV protection on or off",
            show_default=False,
        ),
    ] = None,
    note: Annotated[str, typer.Option(metavar="TEXT", help="訂正の理由 / why")] = "",
    expect_version: ExpectVersion = None,
) -> None:
    """本人・世帯の情報を訂正する（指定した項目だけ。訂正前後は監査記録に） / correct details."""
    from yorisoi.cli import output, session

    given = {"name": name, "kana": kana, "birth_date": birth_date, "address": address}
    data: dict[str, Any] = {k: v for k, v in given.items() if v is not None}
    if dv_protected is not None:
        data["dv_protected"] = dv_protected
    cli = state(ctx)
    with session.database() as db:
        fired = session.fire(
            db, cli, number, "correct_details", expected_version=expect_version, note=note, **data
        )
    output.fired(cli, fired)


@app.command("do")
def do(
    ctx: typer.Context,
    number: CaseNumber,
    name: Annotated[
        str,
        typer.Argument(
            metavar="ACTION",
            help="操作名（lifecycle diagram に出る操作、または記録の操作） / a trigger or record action",
            show_default=False,
        ),
    ],
    field: Annotated[
        list[str] | None,
        typer.Option(
            "--set",
            metavar="FIELD=VALUE",
            help="入力項目（複数可、同じ項目を繰り返すと一覧） / an input field (repeat for a list)",
        ),
    ] = None,
    data: Annotated[
        str | None,
        typer.Option("--data", metavar="JSON", help="入力全体を JSON で / the whole input as JSON"),
    ] = None,
    expect_version: ExpectVersion = None,
) -> None:
    """任意の操作を行う（自治体独自の操作を含む） / take any action, a municipality's own included."""
    import json

    from yorisoi.cli import output, session
    from yorisoi.errors import InvalidInput

    cli = state(ctx)
    values: dict[str, Any] = {}
    if data is not None:
        try:
            loaded = json.loads(data)
        except json.JSONDecodeError as exc:
            raise InvalidInput(
                f"--data は JSON ではありません: {exc.msg}", f"--data is not JSON: {exc.msg}"
            ) from None
        if not isinstance(loaded, dict):
            raise InvalidInput(
                "--data は JSON のオブジェクトで指定してください。", "--data must be a JSON object."
            )
        values.update(loaded)
    for spec in field or []:
        key, value = split_spec(spec, "=＝")
        if not key or value is None:
            raise InvalidInput(
                f"--set は「項目=値」で指定してください: {spec!r}", f"Write --set as FIELD=VALUE: {spec!r}"
            )
        if key in values and not isinstance(values[key], list):
            values[key] = [values[key], value]
        elif key in values:
            values[key].append(value)
        else:
            values[key] = value
    with session.database() as db:
        fired = session.fire(db, cli, number, name, expected_version=expect_version, **values)
    output.fired(cli, fired)
