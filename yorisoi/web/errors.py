"""One error shape for the whole web app: `{"code", "message_ja", "message_en"}`.

API paths answer JSON with the status below; pages show the message in Japanese, and a
visitor who is not signed in is sent to the sign-in page.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote, urlsplit

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from yorisoi.errors import (
    GuardFailed,
    InvalidInput,
    NotFound,
    PermissionDenied,
    TriggerNotAllowed,
    VersionConflict,
    YorisoiError,
)
from yorisoi.service.accounts import SignInFailed
from yorisoi.service.signin import SignInThrottled


class NotSignedIn(YorisoiError):
    code = "not_signed_in"

    def __init__(self) -> None:
        super().__init__("ログインしてください。", "Sign in first.")


class CsrfRefused(YorisoiError):
    code = "csrf_refused"

    def __init__(self) -> None:
        super().__init__(
            "フォームの有効期限が切れたか、不正な送信です。ページを開き直してください。",
            "The form's CSRF token is missing or wrong; reload the page and try again.",
        )


STATUS: tuple[tuple[type[YorisoiError], int], ...] = (
    (NotSignedIn, 401),
    (SignInFailed, 401),
    (SignInThrottled, 429),
    (CsrfRefused, 403),
    (PermissionDenied, 403),
    (NotFound, 404),
    (VersionConflict, 409),
    (InvalidInput, 422),
    (TriggerNotAllowed, 422),
    (GuardFailed, 422),
)

_HTTP_CODES = {404: "not_found", 405: "method_not_allowed", 413: "request_too_large"}
_HTTP_JA = {
    404: "ページが見つかりません。",
    405: "この操作はできません。",
    413: "送信されたデータが大きすぎます。",
}


def status_of(error: YorisoiError) -> int:
    return next((status for kind, status in STATUS if isinstance(error, kind)), 400)


def is_api(request: Request) -> bool:
    return request.url.path.startswith("/api/") or request.url.path == "/api"


def back_url(request: Request) -> str | None:
    """Where 「前のページに戻る」 goes: the Referer's path and query when it is this app's own page
    (same scheme, host and port), else None and the page offers 「ホームへ」 only. A real link,
    because the CSP blocks `javascript:history.back()`."""
    referer = request.headers.get("referer")
    if not referer:
        return None
    came, here = urlsplit(referer), urlsplit(str(request.base_url))
    if (
        (came.scheme, came.netloc) != (here.scheme, here.netloc)
        or not came.path.startswith("/")
        or came.path.startswith("//")
    ):
        return None
    if came.path == request.url.path and came.query == request.url.query:
        return None  # the page that failed: going "back" to it fails again
    return came.path + (f"?{came.query}" if came.query else "")


def _error_page(request: Request, status: int, body: dict[str, Any]) -> Response:
    from yorisoi.web.templating import render

    return render(request, "error.html", {"error": body, "back_url": back_url(request)}, status_code=status)


def _yorisoi_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, YorisoiError)
    if isinstance(exc, NotSignedIn) and not is_api(request):
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        return RedirectResponse(f"/login?next={quote(target)}", status_code=303)
    status = status_of(exc)
    if is_api(request):
        answer: Response = JSONResponse(exc.as_dict(), status_code=status)
    else:
        answer = _error_page(request, status, exc.as_dict())
    if isinstance(exc, SignInThrottled):
        answer.headers["Retry-After"] = str(exc.retry_after)
    return answer


def _validation_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    problems = [f"{'.'.join(str(p) for p in error['loc'])}: {error['msg']}" for error in exc.errors()]
    body = {
        "code": "invalid_input",
        "message_ja": "入力に誤りがあります — " + "; ".join(problems),
        "message_en": "invalid input — " + "; ".join(problems),
    }
    if is_api(request):
        return JSONResponse(body, status_code=422)
    return _error_page(request, 422, body)


def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, StarletteHTTPException)
    body = {
        "code": _HTTP_CODES.get(exc.status_code, "http_error"),
        "message_ja": _HTTP_JA.get(exc.status_code, "リクエストを処理できません。"),
        "message_en": str(exc.detail),
    }
    if is_api(request):
        return JSONResponse(body, status_code=exc.status_code, headers=getattr(exc, "headers", None))
    return _error_page(request, exc.status_code, body)


def install(app: FastAPI) -> None:
    app.add_exception_handler(YorisoiError, _yorisoi_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
