"""`yorisoi meeting hold`: a 支援会議 (no consent, 守秘義務) or a 重層的支援会議 (consent)."""

from typing import Annotated, Any

import typer

from yorisoi.cli.common import CaseNumber, ExpectVersion, OnDate, split_spec, state

app = typer.Typer(help="支援会議・重層的支援会議 / meetings", no_args_is_help=True)

ACK_MARKS = ("!", "！")


def parse_attendee(spec: str, acknowledged_all: bool) -> tuple[str, str | None, bool]:
    """`氏名@機関!` → (name, agency or None, acknowledged 守秘義務)."""
    text = spec.strip()
    acknowledged = acknowledged_all or text.endswith(ACK_MARKS)
    name, agency = split_spec(text.rstrip("".join(ACK_MARKS)), "@＠")
    return name, agency or None, acknowledged


@app.command("hold")
def hold(
    ctx: typer.Context,
    number: CaseNumber,
    kind: Annotated[
        str,
        typer.Option(
            metavar="support|multilayer",
            help="support（支援会議: 本人同意なし、出席者は守秘義務の確認が必要）または "
            "multilayer（重層的支援会議: 本人同意が必要）",
            show_default=False,
        ),
    ],
    attendee: Annotated[
        list[str],
        typer.Option(
            metavar="NAME@AGENCY!",
            help="出席者「氏名@関係機関名」（複数可）。末尾の ! は守秘義務（法第106条の6）確認済みの印。"
            "例: '山田@自立相談支援機関!'",
            show_default=False,
        ),
    ],
    acknowledged: Annotated[
        bool,
        typer.Option(
            "--acknowledged",
            help="出席者全員が守秘義務を確認済み / every attendee acknowledged confidentiality",
        ),
    ] = False,
    on: OnDate = None,
    title: Annotated[str, typer.Option(metavar="TEXT", help="会議名 / title")] = "",
    decisions: Annotated[str, typer.Option(metavar="TEXT", help="決定事項 / decisions")] = "",
    expect_version: ExpectVersion = None,
) -> None:
    """会議の開催を記録する（機関に属さない出席者は「氏名」だけ） / record a meeting."""
    from models.queries import event_payload
    from yorisoi import labels
    from yorisoi.cli import output, session

    cli = state(ctx)
    word = labels.code(kind, labels.MEETING_KIND_CHOICES, "会議の種別", "Meeting kind")
    trigger = f"hold_{word}_meeting"
    with session.database() as db:
        session.actor(db, cli)
        people: list[dict[str, Any]] = []
        for spec in attendee:
            name, agency, ack = parse_attendee(spec, acknowledged)
            people.append(
                {
                    "name": name,
                    "agency_id": session.agency_id(db, agency) if agency else None,
                    "acknowledged_confidentiality": ack,
                }
            )
        data: dict[str, Any] = {"title": title, "decisions": decisions, "attendees": people}
        if on is not None:
            data["held_on"] = on
        fired = session.fire(db, cli, number, trigger, expected_version=expect_version, **data)
        meeting_id = event_payload(db, fired.case_id, fired.version).get("meeting_id")
    output.fired(
        cli,
        fired,
        extra={"meeting_id": meeting_id, "attendees": len(people)},
        note=f"会議ID {meeting_id}（出席 {len(people)} 名）",
    )
