"""Sign in and out through the API; the session cookie and CSRF token are the pages' own."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response

from yorisoi.service import signin
from yorisoi.web.deps import (
    CurrentUser,
    HeaderCsrf,
    SessionDep,
    client_address,
    codec,
    now,
    settings,
    web_session,
)
from yorisoi.web.pages.auth import lifetime
from yorisoi.web.schemas import ERRORS, HeldOut, LoginIn, Me, UnlockIn

router = APIRouter(prefix="/api/auth", tags=["auth"], responses=ERRORS)


def _me(user: CurrentUser, csrf: str) -> Me:
    return Me(login=user.login, name=user.name, roles=list(user.roles), team=user.team, csrf_token=csrf)


@router.post("/login", response_model=Me)
def login(body: LoginIn, request: Request, response: Response, session: SessionDep) -> Me:
    """Sign in with a local account; the answer carries the CSRF token for later changes.

    Throttled after repeated failures (429 with Retry-After; a lock lasts minutes)."""
    signed = signin.sign_in(
        session,
        body.login,
        body.password,
        client=client_address(request),
        channel="api",
        now=now(request),
        policy=settings(request).auth,
        lifetime=lifetime(request),
    )
    data = codec(request).signed_in(signed.token)
    codec(request).write(response, data)
    return _me(signed.staff, data.csrf)


@router.post("/logout", status_code=204, dependencies=[HeaderCsrf])
def logout(request: Request, response: Response, session: SessionDep) -> None:
    """Sign out: the session ends on the server (a copy of the cookie stops working too)."""
    token = web_session(request).token
    if token is not None:
        signin.sign_out(session, token, now=now(request), client=client_address(request), channel="api")
    codec(request).clear(response)


@router.get("/me", response_model=Me)
def me(request: Request, user: CurrentUser) -> Me:
    """Who is signed in, and their CSRF token."""
    return _me(user, web_session(request).csrf)


@router.get("/locks", response_model=list[HeldOut])
def locks(request: Request, user: CurrentUser, session: SessionDep) -> list[HeldOut]:
    """Logins and client addresses kept from signing in now (supervisors and administrators)."""
    from yorisoi.service.directory import require_manager

    require_manager(user, "ログインのロックの確認", "see sign-in locks")
    return [
        HeldOut(kind=h.kind, key=h.key, failures=h.failures, locked=h.locked, until=h.until)
        for h in signin.held(session, now=now(request), policy=settings(request).auth)
    ]


@router.post("/unlock", status_code=204, dependencies=[HeaderCsrf])
def unlock(body: UnlockIn, request: Request, user: CurrentUser, session: SessionDep) -> None:
    """Lift the throttle of a login or a client address (supervisors and administrators; logged)."""
    signin.unlock(session, actor=user, login=body.login, client=body.client, now=now(request), channel="api")
