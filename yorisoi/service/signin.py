"""Signing in and out, for the pages, the API and `yorisoi login` alike.

- Every attempt is logged (`SignInAttempt`): a success, a failure, an attempt refused unchecked
  because of throttling or a lock, a sign-out, a supervisor's unlock.
- Throttling is derived from that log (`yorisoi.service.throttle`): failures per typed login
  (since its last success or unlock) and per client address (since its last unlock). A refused
  attempt never checks the password, so waiting out a delay is the only way on.
- A session is a row (`AuthSession`) holding a hash of a random token; the cookie or the CLI's
  credentials file holds the token. The row makes the token valid: sign-out, a password
  change and a deactivation revoke it at once, and a copied cookie stops working with it.

The caller passes `now` (the web app's injectable clock), so delays and expiry are testable
without sleeping.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from dataclasses import dataclass

from sqlalchemy import ColumnElement, func, or_, update
from sqlalchemy import select as sa_select
from sqlmodel import Session, col, select

from models import AuthSession, SignInAttempt, Staff
from models.auth import Outcome
from models.caseload import staff_by_login
from yorisoi.errors import InvalidInput, YorisoiError
from yorisoi.service import accounts
from yorisoi.service.throttle import Limits, Verdict, judge, stricter
from yorisoi.settings import AuthSettings

LOGIN_MAX = 64
CLIENT_MAX = 64


class SignInThrottled(YorisoiError):
    """Too many failures: this attempt was refused without looking at the password."""

    code = "sign_in_throttled"

    def __init__(self, verdict: Verdict, now: dt.datetime) -> None:
        self.retry_after = verdict.wait_seconds(now)
        self.locked = verdict.locked
        if verdict.locked:
            minutes = max(1, (self.retry_after + 59) // 60)
            super().__init__(
                f"ログインの失敗が続いたため、このログイン名またはこの端末からのログインは約{minutes}分間"
                "ロックされています。スーパーバイザーまたは管理者に解除を依頼することもできます。",
                f"Too many failed sign-ins: this login or this client is locked for about {minutes} "
                "minute(s); a supervisor or an administrator can unlock it.",
            )
        else:
            super().__init__(
                f"ログインの失敗が続いています。{self.retry_after}秒待ってからやり直してください。",
                f"Too many failed sign-ins: wait {self.retry_after} second(s) and try again.",
            )

    def as_dict(self) -> dict[str, object]:
        return {**super().as_dict(), "retry_after": self.retry_after}


@dataclass(frozen=True, slots=True)
class SignedIn:
    staff: Staff
    token: str
    expires_at: dt.datetime


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def _login_key(login: str) -> str:
    return login.strip()[:LOGIN_MAX]


def _client_key(client: str | None) -> str:
    return (client or "unknown")[:CLIENT_MAX]


def limits(policy: AuthSettings) -> tuple[Limits, Limits]:
    """(per login, per client address)."""
    delay = dt.timedelta(seconds=policy.first_delay_seconds)
    lock_for = dt.timedelta(minutes=policy.lock_minutes)
    return (
        Limits(policy.free_failures, policy.lock_failures, delay, lock_for),
        Limits(policy.address_free_failures, policy.address_lock_failures, delay, lock_for),
    )


def _failures(
    session: Session, *, login: str | None, client: str | None, now: dt.datetime, policy: AuthSettings
) -> tuple[int, dt.datetime | None]:
    """Failures of `login` (since its last success or unlock) or of `client` (since its last
    unlock), within the window: how many, and the last one's moment."""
    since = now - dt.timedelta(minutes=policy.window_minutes)
    resets: ColumnElement[bool]
    if login is not None:
        mine = col(SignInAttempt.login) == login
        resets = col(SignInAttempt.outcome).in_([Outcome.OK, Outcome.UNLOCKED])
    else:
        mine = col(SignInAttempt.client) == client
        resets = (col(SignInAttempt.outcome) == Outcome.UNLOCKED) & (col(SignInAttempt.login) == "")
    last_reset = session.execute(sa_select(func.max(col(SignInAttempt.at))).where(mine, resets)).scalar()
    if last_reset is not None and last_reset > since:
        since = last_reset
    count, last = session.execute(
        sa_select(func.count(), func.max(col(SignInAttempt.at))).where(
            mine, col(SignInAttempt.outcome) == Outcome.FAILED, col(SignInAttempt.at) > since
        )
    ).one()
    return int(count), last


def verdict(session: Session, login: str, client: str, now: dt.datetime, policy: AuthSettings) -> Verdict:
    """May `login` try to sign in from `client` now?"""
    per_login, per_client = limits(policy)
    by_login = judge(*_failures(session, login=login, client=None, now=now, policy=policy), now, per_login)
    by_client = judge(*_failures(session, login=None, client=client, now=now, policy=policy), now, per_client)
    return stricter(by_login, by_client)


def _log(
    session: Session,
    *,
    login: str,
    client: str,
    channel: str,
    outcome: Outcome,
    now: dt.datetime,
    staff_id: int | None = None,
    by_staff_id: int | None = None,
) -> None:
    session.add(
        SignInAttempt(
            at=now,
            login=login,
            client=client,
            channel=channel,
            outcome=outcome,
            staff_id=staff_id,
            by_staff_id=by_staff_id,
        )
    )


def sign_in(
    session: Session,
    login: str,
    password: str,
    *,
    client: str | None,
    channel: str,
    now: dt.datetime,
    policy: AuthSettings,
    lifetime: dt.timedelta,
) -> SignedIn:
    """A new session for `login` if `password` is theirs and no throttle or lock holds;
    else `SignInThrottled` (the password unchecked) or `SignInFailed`. Logged either way."""
    key, where = _login_key(login), _client_key(client)
    found = verdict(session, key, where, now, policy)
    if not found.allowed:
        outcome = Outcome.LOCKED if found.locked else Outcome.THROTTLED
        _log(session, login=key, client=where, channel=channel, outcome=outcome, now=now)
        session.commit()
        raise SignInThrottled(found, now)
    try:
        staff = accounts.authenticate(session, key, password)
    except accounts.SignInFailed:
        session.rollback()
        known = staff_by_login(session, key) if key else None
        _log(
            session,
            login=key,
            client=where,
            channel=channel,
            outcome=Outcome.FAILED,
            now=now,
            staff_id=known.id if known is not None else None,
        )
        session.commit()
        raise
    assert staff.id is not None
    token = secrets.token_urlsafe(32)
    expires_at = now + lifetime
    session.add(
        AuthSession(
            token_hash=token_hash(token),
            staff_id=staff.id,
            channel=channel,
            client=where,
            created_at=now,
            expires_at=expires_at,
        )
    )
    _log(session, login=key, client=where, channel=channel, outcome=Outcome.OK, now=now, staff_id=staff.id)
    session.commit()
    return SignedIn(staff, token, expires_at)


def staff_for_token(session: Session, token: str, now: dt.datetime) -> Staff | None:
    """The active staff member whose unexpired, unrevoked session `token` is; else None."""
    return session.exec(
        select(Staff)
        .join(AuthSession, col(AuthSession.staff_id) == col(Staff.id))
        .where(
            col(AuthSession.token_hash) == token_hash(token),
            col(AuthSession.revoked_at).is_(None),
            col(AuthSession.expires_at) > now,
            col(Staff.active),
        )
    ).first()


def sign_out(session: Session, token: str, *, now: dt.datetime, client: str | None, channel: str) -> bool:
    """End the session of `token` (logged); False if it had already ended."""
    row = session.exec(select(AuthSession).where(col(AuthSession.token_hash) == token_hash(token))).first()
    if row is None or row.revoked_at is not None:
        return False
    row.revoked_at, row.revoked_why = now, "sign_out"
    session.add(row)
    staff = session.get(Staff, row.staff_id)
    _log(
        session,
        login=staff.login if staff is not None else "",
        client=_client_key(client),
        channel=channel,
        outcome=Outcome.SIGNED_OUT,
        now=now,
        staff_id=row.staff_id,
    )
    session.commit()
    return True


def revoke_all(session: Session, *, staff_id: int | None = None, why: str, now: dt.datetime) -> None:
    """End every open session of `staff_id` (or of everyone), in the caller's transaction."""
    statement = update(AuthSession).where(col(AuthSession.revoked_at).is_(None))
    if staff_id is not None:
        statement = statement.where(col(AuthSession.staff_id) == staff_id)
    session.execute(statement.values(revoked_at=now, revoked_why=why))


def unlock(
    session: Session,
    *,
    actor: Staff,
    login: str | None = None,
    client: str | None = None,
    now: dt.datetime,
    channel: str,
) -> None:
    """Lift the throttle of a login or a client address (a supervisor's or administrator's step)."""
    from yorisoi.service.directory import require_manager

    require_manager(actor, "ログインのロック解除", "unlock sign-ins")
    if bool(login) == bool(client):
        raise InvalidInput(
            "ロックを解除するログイン名か端末のアドレスを一つ指定してください。",
            "Name one login or one client address to unlock.",
        )
    _log(
        session,
        login=_login_key(login) if login else "",
        client=_client_key(client) if client else "",
        channel=channel,
        outcome=Outcome.UNLOCKED,
        now=now,
        by_staff_id=actor.id,
    )
    session.commit()


@dataclass(frozen=True, slots=True)
class Held:
    """A login or a client address that may not try to sign in right now."""

    kind: str  # "login" | "client"
    key: str
    failures: int
    locked: bool
    until: dt.datetime


def held(session: Session, *, now: dt.datetime, policy: AuthSettings) -> list[Held]:
    """Logins and addresses throttled or locked at `now` (for the unlock page and command)."""
    since = now - dt.timedelta(minutes=policy.window_minutes)
    rows = session.execute(
        sa_select(col(SignInAttempt.login), col(SignInAttempt.client))
        .where(col(SignInAttempt.outcome) == Outcome.FAILED, col(SignInAttempt.at) > since)
        .distinct()
    ).all()
    per_login, per_client = limits(policy)
    found: list[Held] = []
    for kind, keys, rule in (
        ("login", sorted({r[0] for r in rows}), per_login),
        ("client", sorted({r[1] for r in rows}), per_client),
    ):
        for key in keys:
            count, last = _failures(
                session,
                login=key if kind == "login" else None,
                client=key if kind == "client" else None,
                now=now,
                policy=policy,
            )
            judged = judge(count, last, now, rule)
            if not judged.allowed and judged.retry_at is not None:
                found.append(Held(kind, key, count, judged.locked, judged.retry_at))
    return found


@dataclass(frozen=True, slots=True)
class SignInRow:
    at: dt.datetime
    login: str
    staff_name: str | None
    client: str
    channel: str
    outcome: str
    by: str | None


def sign_in_log(session: Session, *, login: str | None = None, limit: int = 200) -> list[SignInRow]:
    """The sign-in half of the access log, newest first."""
    from sqlalchemy.orm import aliased

    who, by = aliased(Staff), aliased(Staff)
    query = (
        sa_select(
            col(SignInAttempt.at),
            col(SignInAttempt.login),
            col(who.name),
            col(SignInAttempt.client),
            col(SignInAttempt.channel),
            col(SignInAttempt.outcome),
            col(by.login),
        )
        .outerjoin(who, col(who.id) == col(SignInAttempt.staff_id))
        .outerjoin(by, col(by.id) == col(SignInAttempt.by_staff_id))
        .order_by(col(SignInAttempt.id).desc())
        .limit(limit)
    )
    if login:
        query = query.where(or_(col(SignInAttempt.login) == login, col(who.login) == login))
    return [SignInRow(*row) for row in session.execute(query)]
