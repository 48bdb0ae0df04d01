"""Local accounts for the web app: argon2id password hashes on `Staff.password_hash`.

A failed sign-in says the same thing whatever went wrong (unknown login, no password set,
wrong password, deactivated account), and costs one hash verification either way, so
neither the message nor the time tells which logins exist.
"""

from __future__ import annotations

from functools import lru_cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlmodel import Session

from models import Staff
from models.caseload import staff_by_login
from models.timestamps import utcnow
from yorisoi.errors import InvalidInput, NotFound, YorisoiError

MIN_PASSWORD_LENGTH = 10
MAX_PASSWORD_LENGTH = 1024

_hasher = PasswordHasher()  # argon2id with the library's current (RFC 9106) parameters


@lru_cache(maxsize=4)
def _dummy_hash(hasher: PasswordHasher) -> str:
    """A hash to verify against when there is no account, so that costs the same time."""
    return hasher.hash("yorisoi: no such account")


class SignInFailed(YorisoiError):
    code = "sign_in_failed"

    def __init__(self) -> None:
        super().__init__("ログイン名またはパスワードが違います。", "The login or the password is wrong.")


def hash_password(password: str) -> str:
    if not MIN_PASSWORD_LENGTH <= len(password) <= MAX_PASSWORD_LENGTH:
        raise InvalidInput(
            f"パスワードは{MIN_PASSWORD_LENGTH}文字以上にしてください。",
            f"A password needs at least {MIN_PASSWORD_LENGTH} characters.",
        )
    return _hasher.hash(password)


def set_password(session: Session, login: str, password: str, *, actor: Staff | None = None) -> Staff:
    """Give `login` a password (replacing any previous one): every session of theirs ends at once.

    `actor` (who sets it) must be a supervisor or an administrator, or `login` themselves; the
    change is recorded in the directory's log. None: the system (the first administrator).
    """
    from yorisoi.service.directory import record, require_manager
    from yorisoi.service.signin import revoke_all

    staff = staff_by_login(session, login)
    if staff is None:
        raise NotFound(f"職員 {login} は登録されていません。", f"No staff member {login!r}.")
    if actor is not None and actor.id != staff.id:
        require_manager(actor, "他の職員のパスワード設定", "set another staff member's password")
    staff.password_hash = hash_password(password)
    session.add(staff)
    assert staff.id is not None
    revoke_all(session, staff_id=staff.id, why="password", now=utcnow())
    record(session, actor, "password_set", staff.login, {})
    session.commit()
    return staff


def authenticate(session: Session, login: str, password: str) -> Staff:
    """The active staff member `login` if `password` is theirs; else `SignInFailed`."""
    staff = staff_by_login(session, login.strip()) if login.strip() else None
    stored = staff.password_hash if staff is not None else None
    try:
        _hasher.verify(stored or _dummy_hash(_hasher), password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        raise SignInFailed() from None
    if staff is None or stored is None or not staff.active:
        raise SignInFailed()
    if _hasher.check_needs_rehash(stored):  # parameters moved on since it was hashed
        staff.password_hash = _hasher.hash(password)
        session.add(staff)
        session.commit()
    return staff
