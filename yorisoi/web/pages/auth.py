"""Sign-in and sign-out pages."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from yorisoi.service import accounts
from yorisoi.web.deps import FormCsrf, SessionDep, codec, web_session
from yorisoi.web.forms import text
from yorisoi.web.templating import render

router = APIRouter()


def safe_next(target: str | None) -> str:
    """Only a path on this site (never `//host` or a full URL) may follow a sign-in."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    return target


@router.get("/login")
def login_form(request: Request, next: str = "/") -> Response:
    data = web_session(request)
    expired = bool(request.cookies.get("yorisoi_session")) and data.staff_id is None and next != "/"
    return render(request, "login.html", {"next": safe_next(next), "expired": expired})


@router.post("/login")
def login(request: Request, form: FormCsrf, session: SessionDep) -> Response:
    login_name = text(form, "login")
    try:
        staff = accounts.authenticate(session, login_name, str(form.get("password") or ""))
    except accounts.SignInFailed as failed:
        context = {"error": failed.ja, "login": login_name, "next": safe_next(text(form, "next"))}
        return render(request, "login.html", context, status_code=401)
    assert staff.id is not None
    response = RedirectResponse(safe_next(text(form, "next")), status_code=303)
    codec(request).write(response, codec(request).signed_in(staff.id, staff.password_hash))
    return response


@router.post("/logout")
def logout(request: Request, form: FormCsrf) -> Response:
    response = RedirectResponse("/login", status_code=303)
    codec(request).clear(response)
    return response
