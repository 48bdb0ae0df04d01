"""Jinja2 pages: Japanese labels, dates as 2025年6月2日, times in Asia/Tokyo, the CSRF token.

Every date a page shows goes through the `jdate` filter: `2025年6月2日` on working pages,
`{{ day | jdate(era=True) }}` → `令和7年6月2日` on what is printed as an official document
(support plan, meeting record). No page prints an ISO date outside an input's value.

`render` adds what every page needs (the user, the navigation, the CSRF token) and writes
the session cookie of a visitor who had none, so their first form already carries a token.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from importlib import resources
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates
from markupsafe import Markup

from states import Lifecycle, Role
from states.drawing import lifecycle_svg
from yorisoi import labels
from yorisoi.jpdates import fiscal_year_label, japanese_date, tokyo_datetime, western_date
from yorisoi.service import registry

_templates = Jinja2Templates(directory=str(resources.files("yorisoi.web").joinpath("templates")))


def ja_date(day: dt.date | None, era: bool = False) -> str:
    """The `jdate` filter: `2026年4月1日`, or `令和8年4月1日` with `era` (和暦); `—` for none."""
    if day is None:
        return "—"
    return japanese_date(day) if era else western_date(day)


def ja_datetime(moment: dt.datetime | None) -> str:
    return "—" if moment is None else tokyo_datetime(moment).format("YYYY年M月D日 HH:mm")


def lifecycle_drawing(lifecycle: Lifecycle, current: str | None = None, id_prefix: str = "lc") -> Markup:
    """The lifecycle drawn as inline SVG (`states.drawing`), `current` highlighted; every text in it
    is escaped by the drawing itself."""
    return Markup(lifecycle_svg(lifecycle, current=current, id_prefix=id_prefix))


def _label(mapping: Mapping[str, str], code: str | None) -> str:
    return labels.label(mapping, code)


_env = _templates.env
# The templates ship inside the package and never change while the app runs: do not stat
# every template file on every render to see whether it did.
_env.auto_reload = False
_env.filters.update(jdate=ja_date, jdatetime=ja_datetime, label=_label)
_env.globals.update(
    labels=labels,
    registry=registry,
    fiscal_year_label=fiscal_year_label,
    Role=Role,
    lifecycle_drawing=lifecycle_drawing,
)

NAV: tuple[tuple[str, str, frozenset[str] | None], ...] = (
    ("/", "ボード", None),
    ("/due", "期限・超過", None),
    ("/cases", "ケース一覧", None),
    ("/cases/new", "新規受付", frozenset({Role.COORDINATOR, Role.SUPERVISOR})),
    ("/inbox", "承認待ち", frozenset({Role.SUPERVISOR})),
    ("/reports", "年度統計", frozenset({Role.COORDINATOR, Role.SUPERVISOR, Role.AUDITOR})),
    ("/audit", "監査", frozenset({Role.SUPERVISOR, Role.AUDITOR})),
    ("/lifecycle", "ライフサイクル", None),
    ("/locks", "ロック解除", frozenset({Role.SUPERVISOR, Role.ADMIN})),
    ("/import", "取込", frozenset({Role.SUPERVISOR})),
)


def render(
    request: Request, name: str, context: dict[str, Any] | None = None, *, status_code: int = 200
) -> HTMLResponse:
    from yorisoi.web.deps import web_session

    session = web_session(request)
    user = getattr(request.state, "user", None)
    roles = set(user.roles) if user is not None else set()
    machine = getattr(request.state, "machine", None)
    page: dict[str, Any] = {
        "user": user,
        "csrf_token": session.csrf,
        "nav": [(href, text) for href, text, need in NAV if user and (need is None or need & roles)],
        "path": request.url.path,
        "lifecycle": machine.lifecycle if machine else None,
        **(context or {}),
    }
    response = _templates.TemplateResponse(request, name, page, status_code=status_code)
    if getattr(request.state, "new_session", False):
        request.app.state.codec.write(response, session)
    return response
