"""Records that leave the stage as it is: アウトリーチ, 参加支援 (enrolment and exit), つなぎ."""

from __future__ import annotations

import datetime as dt

import pendulum
from sqlalchemy import update
from sqlmodel import col

from models import OutreachActivity, ProgramEnrolment, ProgramProvider
from models.keys import key
from models.outreach import Program
from yorisoi.errors import InvalidInput, NotFound
from yorisoi.jpdates import western_date
from yorisoi.service import inputs as i
from yorisoi.service.effects import Act, Effect, add_row, agency_refs


def log_outreach(act: Act[i.OutreachInput]) -> Effect:
    data = act.data
    outreach_id = add_row(
        act.session,
        OutreachActivity(
            case_id=act.head.id, kind=data.kind, done_on=data.done_on, staff_id=key(act.actor), note=data.note
        ),
    )
    return Effect({"outreach_id": outreach_id, "kind": data.kind})


def _one_month_after(day: dt.date) -> dt.date:
    return pendulum.Date(day.year, day.month, day.day).add(months=1)


def enrol(act: Act[i.EnrolmentInput]) -> Effect:
    """参加支援: enrol the person with a registered provider (短期宿泊 at most one month)."""
    data = act.data
    provider = act.session.get(ProgramProvider, data.provider_id)
    if provider is None:
        raise NotFound(
            f"登録事業所 {data.provider_id} は存在しません。", f"No registered provider {data.provider_id}."
        )
    if data.end_on < data.start_on:
        raise InvalidInput("終了日が開始日より前です。", "The end date is before the start date.")
    if provider.program == Program.SHORT_STAY and data.end_on > _one_month_after(data.start_on):
        raise InvalidInput(
            f"短期宿泊場所提供事業の利用は1か月以内です（{western_date(data.start_on)} からは "
            f"{western_date(_one_month_after(data.start_on))} まで）。",
            "A short stay (短期宿泊) may last at most one month "
            f"(from {data.start_on}: until {_one_month_after(data.start_on)}).",
        )
    enrolment_id = add_row(
        act.session,
        ProgramEnrolment(
            case_id=act.head.id,
            provider_id=key(provider),
            program=provider.program,
            start_on=data.start_on,
            end_on=data.end_on,
        ),
    )
    return Effect({"enrolment_id": enrolment_id, "program": provider.program})


def record_exit(act: Act[i.ProgramExitInput]) -> Effect:
    """The day the person left a programme: without it the short-stay sweep keeps reminding."""
    data = act.data
    enrolment = act.session.get(ProgramEnrolment, data.enrolment_id)
    if enrolment is None or enrolment.case_id != act.head.id:
        raise NotFound(
            f"このケースに参加支援の登録 {data.enrolment_id} はありません。",
            f"The case has no enrolment {data.enrolment_id}.",
        )
    if enrolment.exited_on is not None:
        raise InvalidInput(
            f"この参加支援は {western_date(enrolment.exited_on)} に終了済みです。",
            f"The enrolment already ended on {enrolment.exited_on}.",
        )
    if data.exited_on < enrolment.start_on:
        raise InvalidInput(
            f"終了日 {western_date(data.exited_on)} が利用開始日"
            f" {western_date(enrolment.start_on)} より前です。",
            f"The exit date {data.exited_on} is before the start {enrolment.start_on}.",
        )
    act.session.execute(
        update(ProgramEnrolment)
        .where(col(ProgramEnrolment.id) == data.enrolment_id)
        .values(exited_on=data.exited_on)
    )
    return Effect({"enrolment_id": data.enrolment_id, "program": enrolment.program})


def hand_over(act: Act[i.HandOverInput]) -> Effect:
    """つなぎ: the support passes to another agency (named in the record and the timeline)."""
    agency = agency_refs(act.session, [act.data.agency_id])[act.data.agency_id]
    return Effect({"agency_id": agency.id, "agency": agency.name})
