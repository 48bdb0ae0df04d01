"""The session cookie: the CSRF token of the visitor's forms and, once signed in, a session token.

The cookie is signed (itsdangerous) so it cannot be forged, but it proves nothing by itself:
the token is valid only while its server-side session row is (`yorisoi.service.signin`), so
sign-out, a password change or a deactivation ends it at once, and so does its expiry.
Anonymous visitors get a cookie too, so the sign-in form has a CSRF token.
"""

from __future__ import annotations

import hmac
import secrets
from dataclasses import dataclass

from itsdangerous import BadSignature, URLSafeSerializer
from starlette.requests import Request
from starlette.responses import Response

COOKIE = "yorisoi_session"


@dataclass(frozen=True, slots=True)
class SessionData:
    csrf: str
    token: str | None = None  # the server-side session's token, once signed in


def new_token() -> str:
    return secrets.token_urlsafe(32)


def tokens_match(given: str | None, expected: str) -> bool:
    return given is not None and hmac.compare_digest(given.encode(), expected.encode())


class SessionCodec:
    """Reads and writes the session cookie."""

    def __init__(self, key: str, *, max_age: int, secure: bool) -> None:
        self._serializer = URLSafeSerializer(key, salt="yorisoi-session")
        self.max_age = max_age
        self.secure = secure

    def read(self, request: Request) -> SessionData | None:
        """The request's cookie if it is genuine (whether its session still holds is the database's say)."""
        raw = request.cookies.get(COOKIE)
        if not raw:
            return None
        try:
            data = self._serializer.loads(raw)
            token = data.get("k")
            return SessionData(csrf=str(data["c"]), token=str(token) if token else None)
        except (BadSignature, KeyError, TypeError, ValueError, AttributeError):
            return None

    def anonymous(self) -> SessionData:
        return SessionData(csrf=new_token())

    def signed_in(self, token: str) -> SessionData:
        """A fresh cookie (new CSRF token) for a user who just signed in."""
        return SessionData(csrf=new_token(), token=token)

    def write(self, response: Response, session: SessionData) -> None:
        response.set_cookie(
            COOKIE,
            self._serializer.dumps({"c": session.csrf, "k": session.token}),
            max_age=self.max_age if session.token is not None else None,
            httponly=True,
            samesite="lax",
            secure=self.secure,
            path="/",
        )

    def clear(self, response: Response) -> None:
        response.delete_cookie(COOKIE, path="/", httponly=True, samesite="lax", secure=self.secure)
