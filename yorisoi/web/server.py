"""Run the web app with uvicorn (`yorisoi web`)."""

from __future__ import annotations

import uvicorn

from yorisoi.settings import Settings
from yorisoi.web.app import create_app


def serve(settings: Settings, *, host: str, port: int) -> None:
    """Serve until interrupted; the database is created or migrated at startup."""
    uvicorn.run(create_app(settings), host=host, port=port, log_level="info", proxy_headers=False)
