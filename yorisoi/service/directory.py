"""Staff, agencies (関係機関 and 受付窓口) and 参加支援 providers.

Every change is made by a supervisor or an administrator (`actor`, checked here) and recorded
in the directory's log (`DirectoryEvent`) in the same transaction. `actor=None` is the system
itself: the first administrator of a new database (`bootstrap_admin`), the demo's made-up city,
the tests' factories; no command or page passes None. What is added goes through the same
bounded input models as case actions (`yorisoi.service.inputs`: lengths the columns allow, one
line, no control characters).
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import Any, TypeVar

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from models import Agency, DirectoryEvent, ProgramProvider, Staff
from models.timestamps import utcnow
from states import Role
from yorisoi.errors import InvalidInput, NotFound, PermissionDenied
from yorisoi.service.inputs import AgencyInput, ProviderInput, StaffInput, parse_input

_Row = TypeVar("_Row", Staff, Agency, ProgramProvider)
_LOGIN = re.compile(r"^[a-z0-9][a-z0-9._-]{1,63}$")

MANAGER_ROLES = frozenset({Role.SUPERVISOR, Role.ADMIN})
"""Who may change the directory and unlock sign-ins."""


def require_manager(actor: Staff, what_ja: str, what_en: str) -> None:
    if not actor.active or not MANAGER_ROLES & set(actor.roles):
        raise PermissionDenied(
            f"{actor.name} さんには「{what_ja}」の権限がありません（スーパーバイザーまたは管理者のみ）。",
            f"{actor.login} may not {what_en} (supervisors and administrators only).",
        )


def record(session: Session, actor: Staff | None, action: str, subject: str, payload: dict[str, Any]) -> None:
    """Add a directory event to the caller's transaction."""
    session.add(
        DirectoryEvent(
            at=utcnow(),
            actor_id=actor.id if actor is not None else None,
            action=action,
            subject=subject[:200],
            payload=payload,
        )
    )


def require_no_staff(session: Session) -> None:
    """Refuse unless the database has no staff yet (the first administrator's moment)."""
    if session.exec(select(Staff.id).limit(1)).first() is not None:
        raise InvalidInput(
            "職員はすでに登録されています。管理者を追加するには、スーパーバイザーか管理者として "
            "`yorisoi staff add LOGIN --role admin` を実行してください。",
            "Staff already exist: add another administrator with `yorisoi staff add LOGIN --role admin` "
            "as a supervisor or an administrator.",
        )


def bootstrap_admin(session: Session, *, login: str, name: str) -> Staff:
    """The first staff member of a new database, an administrator; refused once anyone exists."""
    require_no_staff(session)
    return add_staff(session, login=login, name=name, roles=[Role.ADMIN], actor=None)


def add_staff(
    session: Session,
    *,
    login: str,
    name: str,
    roles: list[str],
    agency_id: int | None = None,
    team: str | None = None,
    actor: Staff | None = None,
) -> Staff:
    if actor is not None:
        require_manager(actor, "職員の登録", "add staff")
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
    payload = {"name": staff.name, "roles": staff.roles, "agency_id": data.agency_id, "team": data.team}
    record(session, actor, "staff_add", data.login, payload)
    return _insert(
        session,
        staff,
        f"ログイン名 {data.login} はすでに使われています。",
        f"Login {data.login} is already taken.",
    )


def add_agency(
    session: Session, *, name: str, field: str, is_desk: bool = False, actor: Staff | None = None
) -> Agency:
    if actor is not None:
        require_manager(actor, "関係機関の登録", "add agencies")
    data = parse_input(
        AgencyInput, {"name": name, "field": field, "is_desk": is_desk}, "add_agency", "関係機関の登録"
    )
    record(session, actor, "agency_add", data.name, {"field": data.field.value, "is_desk": data.is_desk})
    return _insert(
        session,
        Agency(name=data.name, field=data.field, is_desk=data.is_desk),
        f"関係機関「{data.name}」はすでに登録されています。",
        f"Agency {data.name!r} is already registered.",
    )


def add_provider(
    session: Session, *, name: str, program: str, registered_on: dt.date, actor: Staff | None = None
) -> ProgramProvider:
    if actor is not None:
        require_manager(actor, "登録事業所の登録", "add providers")
    data = parse_input(
        ProviderInput,
        {"name": name, "program": program, "registered_on": registered_on},
        "add_provider",
        "登録事業所の登録",
    )
    record(
        session,
        actor,
        "provider_add",
        data.name,
        {"program": data.program.value, "registered_on": data.registered_on},
    )
    return _insert(
        session,
        ProgramProvider(name=data.name, program=data.program, registered_on=data.registered_on),
        f"事業所「{data.name}」を登録できませんでした（データベースの制約に違反）。",
        f"Provider {data.name!r} could not be registered (database constraint).",
    )


def set_staff_active(session: Session, login: str, active: bool, *, actor: Staff | None = None) -> Staff:
    """(De)activate a staff member; deactivation ends every session of theirs at once."""
    from yorisoi.service.signin import revoke_all

    if actor is not None:
        require_manager(actor, "職員の有効・無効の切り替え", "activate or deactivate staff")
    staff = staff_by_login(session, login)
    if actor is not None and actor.id == staff.id and not active:
        raise InvalidInput("自分自身を無効にすることはできません。", "You cannot deactivate yourself.")
    staff.active = active
    session.add(staff)
    if not active:
        assert staff.id is not None
        revoke_all(session, staff_id=staff.id, why="deactivated", now=utcnow())
    record(session, actor, "staff_activate" if active else "staff_deactivate", staff.login, {})
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


LOG_READERS = MANAGER_ROLES | {Role.AUDITOR}
"""Who may read the sign-in log and the directory's log."""


def require_log_reader(actor: Staff) -> None:
    if not actor.active or not LOG_READERS & set(actor.roles):
        raise PermissionDenied(
            f"{actor.name} さんには記録を閲覧する権限がありません（スーパーバイザー・監査担当・管理者）。",
            f"{actor.login} may not read these logs (supervisors, auditors and administrators only).",
        )


@dataclass(frozen=True, slots=True)
class DirectoryChange:
    at: dt.datetime
    actor: str | None  # login; None: the system (the first administrator, the demo)
    action: str
    subject: str
    payload: dict[str, Any]


def directory_log(session: Session, *, limit: int = 200) -> list[DirectoryChange]:
    """Changes to staff, agencies and providers, newest first."""
    rows = session.exec(
        select(DirectoryEvent, Staff.login)
        .outerjoin(Staff, col(Staff.id) == col(DirectoryEvent.actor_id))
        .order_by(col(DirectoryEvent.id).desc())
        .limit(limit)
    ).all()
    return [DirectoryChange(e.at, login, e.action, e.subject, e.payload) for e, login in rows]
