"""Sign-in and sign-out pages."""

from __future__ import annotations

import datetime as dt

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from yorisoi.errors import YorisoiError
from yorisoi.service import signin
from yorisoi.web.deps import FormCsrf, SessionDep, client_address, codec, now, settings, web_session
from yorisoi.web.errors import status_of
from yorisoi.web.forms import text
from yorisoi.web.templating import render

router = APIRouter()


def safe_next(target: str | None) -> str:
    """Only a path on this site (never `//host` or a full URL) may follow a sign-in."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    return target


def lifetime(request: Request) -> dt.timedelta:
    return dt.timedelta(seconds=request.app.state.web.session_max_age_seconds)


@router.get("/login")
def login_form(request: Request, session: SessionDep, next: str = "/") -> Response:
    data = web_session(request)
    ended = data.token is not None and signin.staff_for_token(session, data.token, now(request)) is None
    return render(request, "login.html", {"next": safe_next(next), "expired": ended})


@router.post("/login")
def login(request: Request, form: FormCsrf, session: SessionDep) -> Response:
    login_name = text(form, "login")
    password = form.get("password")
    try:
        signed = signin.sign_in(
            session,
            login_name,
            password if isinstance(password, str) else "",
            client=client_address(request),
            channel="web",
            now=now(request),
            policy=settings(request).auth,
            lifetime=lifetime(request),
        )
    except YorisoiError as failed:
        context = {"error": failed.ja, "login": login_name[:64], "next": safe_next(text(form, "next"))}
        answer = render(request, "login.html", context, status_code=status_of(failed))
        if isinstance(failed, signin.SignInThrottled):
            answer.headers["Retry-After"] = str(failed.retry_after)
        return answer
    response = RedirectResponse(safe_next(text(form, "next")), status_code=303)
    codec(request).write(response, codec(request).signed_in(signed.token))
    return response


@router.post("/logout")
def logout(request: Request, form: FormCsrf, session: SessionDep) -> Response:
    token = web_session(request).token
    if token is not None:
        signin.sign_out(session, token, now=now(request), client=client_address(request), channel="web")
    response = RedirectResponse("/login", status_code=303)
    codec(request).clear(response)
    return response
