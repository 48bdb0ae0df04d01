"""Staff, agencies (関係機関 and 受付窓口) and 参加支援 providers.

What is added goes through the same bounded input models as case actions
(`yorisoi.service.inputs`: lengths the columns allow, one line, no control characters)."""

from __future__ import annotations

import datetime as dt
import re
from typing import TypeVar

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from models import Agency, ProgramProvider, Staff
from yorisoi.errors import InvalidInput, NotFound
from yorisoi.service.inputs import AgencyInput, ProviderInput, StaffInput, parse_input

_Row = TypeVar("_Row", Staff, Agency, ProgramProvider)
_LOGIN = re.compile(r"^[a-z0-9][a-z0-9._-]{1,63}$")


def add_staff(
    session: Session,
    *,
    login: str,
    name: str,
    roles: list[str],
    agency_id: int | None = None,
    team: str | None = None,
) -> Staff:
    data = parse_input(
        StaffInput,
        {"login": login, "name": name, "roles": roles, "agency_id": agency_id, "team": team},
        "add_staff",
        "職員の登録",
    )
    if not _LOGIN.match(data.login):
        raise InvalidInput(
            f"ログイン名 {data.login!r} は英小文字・数字・._- の2〜64文字にしてください。",
            f"Login {data.login!r} must be 2-64 of a-z 0-9 . _ -.",
        )
    if data.agency_id is not None and session.get(Agency, data.agency_id) is None:
        raise NotFound(f"関係機関 {data.agency_id} は存在しません。", f"No agency {data.agency_id}.")
    staff = Staff(
        login=data.login,
        name=data.name,
        roles=sorted({r.value for r in data.roles}),
        agency_id=data.agency_id,
        team=data.team,
    )
    return _insert(
        session,
        staff,
        f"ログイン名 {data.login} はすでに使われています。",
        f"Login {data.login} is already taken.",
    )


def add_agency(session: Session, *, name: str, field: str, is_desk: bool = False) -> Agency:
    data = parse_input(
        AgencyInput, {"name": name, "field": field, "is_desk": is_desk}, "add_agency", "関係機関の登録"
    )
    return _insert(
        session,
        Agency(name=data.name, field=data.field, is_desk=data.is_desk),
        f"関係機関「{data.name}」はすでに登録されています。",
        f"Agency {data.name!r} is already registered.",
    )


def add_provider(session: Session, *, name: str, program: str, registered_on: dt.date) -> ProgramProvider:
    data = parse_input(
        ProviderInput,
        {"name": name, "program": program, "registered_on": registered_on},
        "add_provider",
        "登録事業所の登録",
    )
    return _insert(
        session,
        ProgramProvider(name=data.name, program=data.program, registered_on=data.registered_on),
        f"事業所「{data.name}」を登録できませんでした（データベースの制約に違反）。",
        f"Provider {data.name!r} could not be registered (database constraint).",
    )


def set_staff_active(session: Session, login: str, active: bool) -> Staff:
    staff = staff_by_login(session, login)
    staff.active = active
    session.add(staff)
    session.commit()
    return staff


def staff_by_login(session: Session, login: str) -> Staff:
    staff = session.exec(select(Staff).where(Staff.login == login)).first()
    if staff is None:
        raise NotFound(f"職員 {login} は登録されていません。", f"No staff member {login!r}.")
    return staff


def agency_by_name(session: Session, name: str) -> Agency:
    agency = session.exec(select(Agency).where(Agency.name == name)).first()
    if agency is None:
        raise NotFound(f"関係機関「{name}」は登録されていません。", f"No agency named {name!r}.")
    return agency


def _insert(session: Session, row: _Row, ja: str, en: str) -> _Row:
    session.add(row)
    try:
        session.commit()
    except IntegrityError:
        session.rollback()
        raise InvalidInput(ja, en) from None
    return row
