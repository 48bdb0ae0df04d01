"""Dependencies every route shares: the database session, the signed-in user, CSRF checks.

`SessionDep` and `CurrentUser` are the aliases routes declare; a route that changes
something also declares `FormCsrf` (pages) or `HeaderCsrf` (API).

A GET (or HEAD) reads in a read-only transaction: on SQLite a plain BEGIN, so a page view
never waits for a sweep or another user's save, and never makes them wait. The views it logs
are written after its session ends, in their own short transaction (`AccessLogWriter`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends, Request
from sqlmodel import Session
from starlette.datastructures import FormData

from models import Staff
from models.db import read_only, session_scope
from states import LifecycleMachine
from yorisoi import runtime
from yorisoi.errors import PermissionDenied
from yorisoi.service import signin
from yorisoi.service.access import Viewer
from yorisoi.service.access_log import AccessLogWriter, collect_views
from yorisoi.settings import Settings
from yorisoi.web.errors import CsrfRefused, NotSignedIn
from yorisoi.web.sessions import SessionCodec, SessionData, tokens_match

CSRF_FIELD = "csrf_token"
CSRF_HEADER = "X-CSRF-Token"


READ_METHODS = frozenset({"GET", "HEAD"})
"""Requests that change nothing but the access log."""


def get_db(request: Request) -> Iterator[Session]:
    engine = request.app.state.engine
    views: list[dict[str, Any]] = []
    try:
        with session_scope(read_only(engine) if request.method in READ_METHODS else engine) as session:
            views = collect_views(session)
            yield session
    finally:  # refused views too (the route raised): they are logged all the same
        if views:
            access_log(request).write(views)


SessionDep = Annotated[Session, Depends(get_db)]


def access_log(request: Request) -> AccessLogWriter:
    return request.app.state.access_log  # type: ignore[no-any-return]


def codec(request: Request) -> SessionCodec:
    return request.app.state.codec  # type: ignore[no-any-return]


def web_session(request: Request) -> SessionData:
    """The visitor's session; a new anonymous one (written by the page) if they have none."""
    found = getattr(request.state, "web_session", None)
    if found is None:
        found = codec(request).read(request)
        if found is None:
            found = codec(request).anonymous()
            request.state.new_session = True
        request.state.web_session = found
    return found


def now(request: Request) -> dt.datetime:
    """The app's clock (injectable: tests move it instead of sleeping)."""
    return dt.datetime.fromtimestamp(request.app.state.clock(), dt.UTC)


def settings(request: Request) -> Settings:
    return request.app.state.settings  # type: ignore[no-any-return]


def client_address(request: Request) -> str:
    """The client's address (behind a proxy: as uvicorn's proxy headers set it)."""
    return request.client.host if request.client is not None else "unknown"


@dataclass(frozen=True, slots=True)
class PageUser:
    """What the page frame shows of the signed-in user: plain values, readable after the
    request's database session has ended (an error page is drawn after it rolled back)."""

    id: int
    login: str
    name: str
    roles: tuple[str, ...]


def current_user(request: Request, session: SessionDep) -> Staff:
    """The signed-in staff member, or `NotSignedIn` (API: 401; pages: to the sign-in form).

    Signed in means: the cookie's token names a session that is neither expired nor revoked,
    of an active staff member (`signin.staff_for_token`)."""
    data = web_session(request)
    if data.token is None:
        raise NotSignedIn()
    staff = signin.staff_for_token(session, data.token, now(request))
    if staff is None:
        raise NotSignedIn()
    assert staff.id is not None
    request.state.user = PageUser(staff.id, staff.login, staff.name, tuple(staff.roles))
    return staff


CurrentUser = Annotated[Staff, Depends(current_user)]


def viewer_of(staff: Staff) -> Viewer:
    assert staff.id is not None
    return Viewer(staff.id, staff.login, frozenset(staff.roles), staff.team, staff.active)


def get_machine(request: Request, session: SessionDep) -> LifecycleMachine:
    """The lifecycle in force (read per request: `yorisoi lifecycle apply` needs no restart)."""
    machine = runtime.machine(request.app.state.settings, session)
    request.state.machine = machine
    return machine


MachineDep = Annotated[LifecycleMachine, Depends(get_machine)]


async def form_with_csrf(request: Request) -> FormData:
    """The posted form, refused unless it carries this session's CSRF token."""
    form = await request.form()
    token = form.get(CSRF_FIELD)
    if not tokens_match(token if isinstance(token, str) else None, web_session(request).csrf):
        raise CsrfRefused()
    return form


def header_csrf(request: Request) -> None:
    """API writes: the session's CSRF token in the X-CSRF-Token header."""
    if not tokens_match(request.headers.get(CSRF_HEADER), web_session(request).csrf):
        raise CsrfRefused()


FormCsrf = Annotated[FormData, Depends(form_with_csrf)]
HeaderCsrf = Depends(header_csrf)


def require_role(user: Staff, roles: frozenset[str], what_ja: str, what_en: str) -> None:
    if not roles & set(user.roles):
        raise PermissionDenied(
            f"{user.name} さんには「{what_ja}」の権限がありません。",
            f"{user.login} may not {what_en}.",
        )
