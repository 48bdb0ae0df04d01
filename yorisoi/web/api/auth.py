"""Sign in and out through the API; the session cookie and CSRF token are the pages' own."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response

from yorisoi.service import accounts
from yorisoi.web.deps import CurrentUser, HeaderCsrf, SessionDep, codec, web_session
from yorisoi.web.schemas import ERRORS, LoginIn, Me

router = APIRouter(prefix="/api/auth", tags=["auth"], responses=ERRORS)


def _me(user: CurrentUser, csrf: str) -> Me:
    return Me(login=user.login, name=user.name, roles=list(user.roles), team=user.team, csrf_token=csrf)


@router.post("/login", response_model=Me)
def login(body: LoginIn, request: Request, response: Response, session: SessionDep) -> Me:
    """Sign in with a local account; the answer carries the CSRF token for later changes."""
    staff = accounts.authenticate(session, body.login, body.password)
    assert staff.id is not None
    data = codec(request).signed_in(staff.id, staff.password_hash)
    codec(request).write(response, data)
    return _me(staff, data.csrf)


@router.post("/logout", status_code=204, dependencies=[HeaderCsrf])
def logout(request: Request, response: Response) -> None:
    """Sign out (the cookie is dropped)."""
    codec(request).clear(response)


@router.get("/me", response_model=Me)
def me(request: Request, user: CurrentUser) -> Me:
    """Who is signed in, and their CSRF token."""
    return _me(user, web_session(request).csrf)
