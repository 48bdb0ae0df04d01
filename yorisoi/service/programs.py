"""参加支援: record that a person left a programme (the end of a 短期宿泊 stay, for instance).

Without a recorded exit the short-stay sweep keeps reminding the coordinator every business
day that the stay is past its end, so leaving is an action of its own, audited like the rest.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import update
from sqlmodel import Session, col

from models import ProgramEnrolment, Staff
from states import Role
from yorisoi.errors import InvalidInput, NotFound, PermissionDenied
from yorisoi.service.cases import Fired
from yorisoi.service.journal import append_event, load_head

RECORD_PROGRAM_EXIT = "record_program_exit"
_MAY_RECORD = frozenset({Role.COORDINATOR, Role.SUPERVISOR})


def record_program_exit(*, session: Session, enrolment_id: int, actor: Staff, exited_on: dt.date) -> Fired:
    """Record the day the person left the programme; commits."""
    if not actor.active or not _MAY_RECORD & set(actor.roles):
        raise PermissionDenied(
            f"{actor.name} さんには「参加支援の終了の記録」の権限がありません。",
            f"{actor.login} may not record a programme exit (needs coordinator or supervisor).",
        )
    try:
        enrolment = session.get(ProgramEnrolment, enrolment_id)
        if enrolment is None:
            raise NotFound(
                f"参加支援の登録 {enrolment_id} は存在しません。", f"There is no enrolment {enrolment_id}."
            )
        if enrolment.exited_on is not None:
            raise InvalidInput(
                f"この参加支援は {enrolment.exited_on} に終了済みです。",
                f"The enrolment already ended on {enrolment.exited_on}.",
            )
        if exited_on < enrolment.start_on:
            raise InvalidInput(
                f"終了日 {exited_on} が利用開始日 {enrolment.start_on} より前です。",
                f"The exit date {exited_on} is before the start {enrolment.start_on}.",
            )
        head = load_head(session, enrolment.case_id)
        session.execute(
            update(ProgramEnrolment)
            .where(col(ProgramEnrolment.id) == enrolment_id)
            .values(exited_on=exited_on)
        )
        event = append_event(
            session,
            head,
            action=RECORD_PROGRAM_EXIT,
            to_stage=head.stage,
            actor_id=actor.id,
            payload={
                "enrolment_id": enrolment_id,
                "program": enrolment.program,
                "exited_on": exited_on.isoformat(),
            },
        )
        session.commit()
    except BaseException:
        session.rollback()
        raise
    return Fired.of(event)
