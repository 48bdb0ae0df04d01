"""Turn every error a command can meet into a report and an exit code, in one place."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Any

try:  # Typer 0.2x vendors Click as typer._click; older Typer uses Click itself
    from typer._click.exceptions import NoArgsIsHelpError, UsageError
except ImportError:  # pragma: no cover
    from click.exceptions import NoArgsIsHelpError, UsageError  # type: ignore[assignment]

from yorisoi.cli.common import CliState

__all__ = ["ERROR_EXIT", "USAGE_EXIT", "NoArgsIsHelpError", "lifecycle_error", "problem_lines", "report"]

if TYPE_CHECKING:
    from states import LifecycleError

USAGE_EXIT = 2
ERROR_EXIT = 1


def report(cli: CliState, exc: Exception) -> int | None:
    """Print a known error and return its exit code; `None` leaves an unexpected one to Python."""
    from yorisoi.cli import output

    if isinstance(exc, UsageError):
        message = exc.format_message()
        hint = f"`{exc.ctx.command_path} --help`" if exc.ctx else "`yorisoi --help`"
        output.error(
            cli,
            {
                "code": "usage",
                "message_ja": f"コマンドの指定に誤りがあります: {message}（使い方: {hint}）",
                "message_en": f"{message} (see {hint})",
            },
        )
        return USAGE_EXIT

    from states import LifecycleError
    from yorisoi.errors import YorisoiError

    if isinstance(exc, YorisoiError):
        output.error(cli, exc.as_dict())
        return ERROR_EXIT
    if isinstance(exc, LifecycleError):
        output.error(cli, lifecycle_error(exc), problem_lines(exc))
        return ERROR_EXIT
    if "sqlalchemy" in sys.modules:
        from sqlalchemy.exc import DBAPIError

        if isinstance(exc, DBAPIError):
            detail = str(exc.orig).splitlines()[0] if exc.orig else type(exc).__name__
            output.error(
                cli,
                {
                    "code": "database_error",
                    "message_ja": "データベースを読み書きできません"
                    f"（`yorisoi init` で作成・更新してください）: {detail}",
                    "message_en": "The database cannot be used "
                    f"(run `yorisoi init` to create or migrate it): {detail}",
                },
            )
            return ERROR_EXIT
    return None


def lifecycle_error(exc: LifecycleError) -> dict[str, Any]:
    problems = [{"file": exc.source, "line": line, "message": text} for line, text in exc.problems]
    return {
        "code": "invalid_lifecycle",
        "message_ja": f"ライフサイクル定義 {exc.source} に誤りがあります（{len(problems)} 件）。",
        "message_en": f"The lifecycle file {exc.source} is invalid ({len(problems)} problems).",
        "problems": problems,
    }


def problem_lines(exc: LifecycleError) -> list[str]:
    """`file:line: message`, the form editors and CI logs link to."""
    return [f"{exc.source}:{line}: {message}" for line, message in exc.problems]
