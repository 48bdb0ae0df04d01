"""取込: upload a workbook, see what a dry run finds, confirm (supervisors only).

The upload is kept by its hash (`yorisoi.importing.uploads`) and checked at once with a dry
run; the page lists what would go in per sheet and every problem with its sheet, row and
column, offers the failed rows as a workbook to fix, and a button to import for real.
"""

from __future__ import annotations

import contextlib
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import FileResponse, Response
from sqlmodel import Session
from starlette.datastructures import UploadFile

from models import Staff
from states import LifecycleMachine, Role
from yorisoi.errors import InvalidInput, NotFound, YorisoiError
from yorisoi.importing import uploads
from yorisoi.importing.failed import write_failed
from yorisoi.importing.runner import ImportResult, run_import
from yorisoi.web.deps import CurrentUser, FormCsrf, MachineDep, SessionDep, require_role
from yorisoi.web.errors import status_of
from yorisoi.web.templating import render

router = APIRouter()

IMPORTERS = frozenset({Role.SUPERVISOR})
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _allowed(user: Staff) -> None:
    require_role(user, IMPORTERS, "記録の取込", "import records")


def _data_dir(request: Request) -> Path:
    return Path(request.app.state.settings.data_dir)


def _page(request: Request, status: int = 200, **context: Any) -> Response:
    return render(
        request, "import.html", {"result": None, "error": None, "digest": None, **context}, status_code=status
    )


def _run(
    request: Request,
    session: Session,
    user: Staff,
    machine: LifecycleMachine,
    path: Path,
    digest: str,
    *,
    dry_run: bool,
) -> ImportResult:
    # The import runs its own transactions: the request's (it read the user) ends first, or on
    # SQLite the import would wait for its write lock.
    session.commit()
    result = run_import(request.app.state.engine, machine, path, actor=user.login, dry_run=dry_run)
    failed = uploads.failed_path(_data_dir(request), digest)
    failed.unlink(missing_ok=True)
    if result.failed_rows or result.errors:
        write_failed(failed, result.failed_rows, result.problems, result.headers)
    return result


@router.get("/import")
def import_form(request: Request, user: CurrentUser) -> Response:
    _allowed(user)
    return _page(request)


@router.post("/import")
def check_upload(
    request: Request, form: FormCsrf, session: SessionDep, user: CurrentUser, machine: MachineDep
) -> Response:
    """Keep the uploaded file and show what importing it would do."""
    _allowed(user)
    upload = form.get("file")
    try:
        if not isinstance(upload, UploadFile):
            raise InvalidInput("取り込むファイルを選んでください。", "Choose a file to import.")
        with upload.file as file:
            data = file.read(uploads.MAX_BYTES + 1)
        digest, path = uploads.save(_data_dir(request), upload.filename or "", data)
        result = _run(request, session, user, machine, path, digest, dry_run=True)
    except YorisoiError as error:
        return _page(request, status_of(error), error=error)
    return _page(request, result=result, digest=digest, name=upload.filename or "")


@router.post("/import/{digest}/confirm")
def confirm(
    digest: str, request: Request, form: FormCsrf, session: SessionDep, user: CurrentUser, machine: MachineDep
) -> Response:
    """Import the checked file for real; it is removed afterwards."""
    _allowed(user)
    try:
        path = uploads.find(_data_dir(request), digest)
        result = _run(request, session, user, machine, path, digest, dry_run=False)
    except YorisoiError as error:
        return _page(request, status_of(error), error=error)
    path.unlink(missing_ok=True)
    with contextlib.suppress(OSError):
        path.parent.rmdir()
    return _page(request, result=result, digest=digest, name=str(form.get("name") or ""), done=True)


@router.get("/import/{digest}/errors.xlsx")
def failed_rows(digest: str, request: Request, user: CurrentUser) -> Response:
    """The rows that could not be imported, with their reasons, to fix and upload again."""
    _allowed(user)
    path = uploads.failed_path(_data_dir(request), digest)
    if not path.exists():
        raise NotFound("誤りのある行はありません。", "There are no failed rows.")
    return FileResponse(path, media_type=XLSX, filename="errors.xlsx")
