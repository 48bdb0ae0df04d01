"""Run the web app with uvicorn (`yorisoi web`)."""

from __future__ import annotations

import uvicorn
from fastapi import FastAPI

from yorisoi import runtime
from yorisoi.settings import Settings, get_settings
from yorisoi.web.app import create_app


def serve(settings: Settings, *, host: str, port: int, workers: int = 1) -> None:
    """Serve until interrupted; the database is created or migrated at startup.

    With `workers` > 1, uvicorn runs that many processes (each a Python interpreter of its own,
    so requests use every core instead of queueing behind one GIL). The schema is migrated here
    first, once, so the workers only find it up to date; each builds its app from the same
    environment (`app_from_environment`).
    """
    if workers == 1:
        uvicorn.run(create_app(settings), host=host, port=port, log_level="info", proxy_headers=False)
        return
    runtime.engine(settings, create=True).dispose()
    uvicorn.run(
        "yorisoi.web.server:app_from_environment",
        factory=True,
        workers=workers,
        host=host,
        port=port,
        log_level="info",
        proxy_headers=False,
    )


def app_from_environment() -> FastAPI:
    """The app of one uvicorn worker process, on the settings of the environment."""
    return create_app(get_settings())
