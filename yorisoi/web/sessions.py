"""Signed-cookie sessions: who is signed in, since when, and the CSRF token of their forms.

The cookie holds only ids and tokens, signed (itsdangerous) so it cannot be forged. A session
ends when it is older than the configured age, when its user is deactivated, or when their
password changes (the cookie carries a fingerprint of the password hash). Anonymous visitors
get a session too, so the sign-in form has a CSRF token.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, replace

from itsdangerous import BadSignature, URLSafeSerializer
from starlette.requests import Request
from starlette.responses import Response

COOKIE = "yorisoi_session"


@dataclass(frozen=True, slots=True)
class SessionData:
    csrf: str
    staff_id: int | None = None
    issued_at: float = 0.0
    password_fingerprint: str = ""


def password_fingerprint(password_hash: str | None) -> str:
    return hashlib.sha256((password_hash or "").encode("utf-8")).hexdigest()[:16]


def new_token() -> str:
    return secrets.token_urlsafe(32)


def tokens_match(given: str | None, expected: str) -> bool:
    return given is not None and hmac.compare_digest(given.encode(), expected.encode())


class SessionCodec:
    """Reads and writes the session cookie."""

    def __init__(
        self, key: str, *, max_age: int, secure: bool, clock: Callable[[], float] = time.time
    ) -> None:
        self._serializer = URLSafeSerializer(key, salt="yorisoi-session")
        self.max_age = max_age
        self.secure = secure
        self.clock = clock

    def read(self, request: Request) -> SessionData | None:
        """The request's session if its cookie is genuine and, when signed in, not expired."""
        raw = request.cookies.get(COOKIE)
        if not raw:
            return None
        try:
            data = self._serializer.loads(raw)
            session = SessionData(
                csrf=str(data["c"]),
                staff_id=int(data["s"]) if data.get("s") is not None else None,
                issued_at=float(data.get("t", 0.0)),
                password_fingerprint=str(data.get("p", "")),
            )
        except (BadSignature, KeyError, TypeError, ValueError):
            return None
        if session.staff_id is not None and self.clock() - session.issued_at > self.max_age:
            return replace(session, staff_id=None)  # expired: keep only the CSRF token
        return session

    def anonymous(self) -> SessionData:
        return SessionData(csrf=new_token())

    def signed_in(self, staff_id: int, password_hash: str | None) -> SessionData:
        """A fresh session (new CSRF token) for a user who just signed in."""
        return SessionData(
            csrf=new_token(),
            staff_id=staff_id,
            issued_at=self.clock(),
            password_fingerprint=password_fingerprint(password_hash),
        )

    def write(self, response: Response, session: SessionData) -> None:
        payload = {
            "c": session.csrf,
            "s": session.staff_id,
            "t": session.issued_at,
            "p": session.password_fingerprint,
        }
        response.set_cookie(
            COOKIE,
            self._serializer.dumps(payload),
            max_age=self.max_age if session.staff_id is not None else None,
            httponly=True,
            samesite="lax",
            secure=self.secure,
            path="/",
        )

    def clear(self, response: Response) -> None:
        response.delete_cookie(COOKIE, path="/", httponly=True, samesite="lax", secure=self.secure)
