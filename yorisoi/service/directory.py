"""Staff, agencies (関係機関 and 受付窓口) and 参加支援 providers."""

from __future__ import annotations

import datetime as dt
import re
from typing import TypeVar

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from models import Agency, ProgramProvider, Staff
from models.outreach import Program
from models.staff import AgencyField
from states import Role
from yorisoi.errors import InvalidInput, NotFound

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
    if not _LOGIN.match(login):
        raise InvalidInput(
            f"ログイン名 {login!r} は英小文字・数字・._- の2〜64文字にしてください。",
            f"Login {login!r} must be 2-64 of a-z 0-9 . _ -.",
        )
    known = {r.value for r in Role}
    unknown = sorted(set(roles) - known)
    if not roles or unknown:
        raise InvalidInput(
            f"役割が正しくありません: {unknown or '(なし)'}（{', '.join(sorted(known))}）",
            f"Roles must be some of {', '.join(sorted(known))}; got {roles}.",
        )
    if agency_id is not None and session.get(Agency, agency_id) is None:
        raise NotFound(f"関係機関 {agency_id} は存在しません。", f"No agency {agency_id}.")
    staff = Staff(login=login, name=name.strip(), roles=sorted(set(roles)), agency_id=agency_id, team=team)
    return _insert(
        session, staff, f"ログイン名 {login} はすでに使われています。", f"Login {login} is already taken."
    )


def add_agency(session: Session, *, name: str, field: str, is_desk: bool = False) -> Agency:
    known = {f.value for f in AgencyField}
    if field not in known:
        raise InvalidInput(
            f"分野 {field!r} は選べません（{', '.join(sorted(known))}）。",
            f"Field {field!r} must be one of {', '.join(sorted(known))}.",
        )
    if not name.strip():
        raise InvalidInput("機関名が空です。", "The agency needs a name.")
    return _insert(
        session,
        Agency(name=name.strip(), field=field, is_desk=is_desk),
        f"関係機関「{name}」はすでに登録されています。",
        f"Agency {name!r} is already registered.",
    )


def add_provider(session: Session, *, name: str, program: str, registered_on: dt.date) -> ProgramProvider:
    known = {p.value for p in Program}
    if program not in known:
        raise InvalidInput(
            f"事業 {program!r} は選べません（{', '.join(sorted(known))}）。",
            f"Programme {program!r} must be one of {', '.join(sorted(known))}.",
        )
    if not name.strip():
        raise InvalidInput("事業所名が空です。", "The provider needs a name.")
    return _insert(
        session,
        ProgramProvider(name=name.strip(), program=program, registered_on=registered_on),
        f"事業所「{name}」を登録できませんでした（データベースの制約に違反）。",
        f"Provider {name!r} could not be registered (database constraint).",
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
