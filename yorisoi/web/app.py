"""`create_app(settings)`: the FastAPI app, its engine made at startup and disposed at shutdown."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from importlib import resources

from fastapi import FastAPI, Request, Response
from fastapi.staticfiles import StaticFiles
from sqlalchemy import Engine

from models.db import session_scope
from yorisoi import __version__, runtime
from yorisoi.service.access_log import AccessLogWriter
from yorisoi.settings import Settings
from yorisoi.web import errors, reporting
from yorisoi.web.api import actions, audit, auth, cases, inbox, lifecycle, records, reports
from yorisoi.web.body_limit import BodyLimit
from yorisoi.web.config import WebSettings, secret_key
from yorisoi.web.pages import approvals as approval_pages
from yorisoi.web.pages import auth as auth_pages
from yorisoi.web.pages import board, case_forms, case_page, imports, intake, locks, oversight
from yorisoi.web.sessions import SessionCodec

SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    "Content-Security-Policy": "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; "
    "frame-ancestors 'none'",
}


def create_app(
    settings: Settings,
    *,
    web: WebSettings | None = None,
    engine: Engine | None = None,
    clock: Callable[[], float] = time.time,
) -> FastAPI:
    """The web app on `settings`' database (or `engine`, which the caller then owns)."""
    web = web or WebSettings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if engine is not None:
            _record_lifecycle(app.state.engine)
            try:
                yield
            finally:
                app.state.access_log.close()
            return
        app.state.engine = runtime.engine(settings, create=True)
        app.state.access_log = AccessLogWriter(app.state.engine)
        _record_lifecycle(app.state.engine)
        try:
            yield
        finally:
            app.state.access_log.close()  # the views still queued, before the engine goes
            app.state.engine.dispose()

    def _record_lifecycle(db: Engine) -> None:
        # A new database gets its first lifecycle version now, not inside some page view.
        with session_scope(db) as session:
            runtime.machine(settings, session)

    app = FastAPI(
        title="yorisoi",
        version=__version__,
        description="寄り添い — 重層的支援体制整備事業のケース管理 API. Sign in at /api/auth/login; "
        "send the returned csrf_token as X-CSRF-Token on every change.",
        lifespan=lifespan,
        # The interactive docs pages load their scripts from a CDN; the app runs offline, so it
        # serves the OpenAPI document only.
        docs_url=None,
        redoc_url=None,
    )
    app.state.settings = settings
    app.state.figures = reporting.FiguresCache()
    app.state.web = web
    app.state.clock = clock
    app.state.codec = SessionCodec(
        secret_key(web, settings.data_dir), max_age=web.session_max_age_seconds, secure=web.secure_cookies
    )
    if engine is not None:
        app.state.engine = engine
        app.state.access_log = AccessLogWriter(engine)
    errors.install(app)
    app.add_middleware(BodyLimit, limit=web.max_body_bytes)

    @app.middleware("http")
    async def _headers(request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
        response = await call_next(request)
        response.headers.update(SECURITY_HEADERS)
        if not request.url.path.startswith("/static/"):
            response.headers["Cache-Control"] = "no-store"  # case records: never kept by a browser
        return response

    for api in (auth, cases, actions, records, inbox, reports, audit, lifecycle):
        app.include_router(api.router)
    pages = (auth_pages, board, intake, case_page, case_forms, approval_pages, oversight, locks, imports)
    for page in pages:
        app.include_router(page.router, include_in_schema=False)
    static = resources.files("yorisoi.web").joinpath("static")
    app.mount("/static", StaticFiles(directory=str(static)), name="static")
    return app
