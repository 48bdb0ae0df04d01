"""Printing: Japanese for people (Rich), JSON for scripts (`--json`), errors in both languages.

Results go to stdout. A human-readable error goes to stderr as `エラー: …` and `Error: …`;
with `--json` the error is a JSON object on stdout, so a script reads one document either way.

Stored text may hold control characters (records from before input was checked, imports):
everything printed here goes through `yorisoi.safetext.visible`, so an ESC sequence in a name
is shown as `\x1b[…`, never sent to the terminal; JSON escapes them as `\u001b`.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import re
import sys
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from yorisoi.cli.common import CliState
from yorisoi.safetext import visible

if TYPE_CHECKING:
    from yorisoi.service.cases import Fired


def console(*, stderr: bool = False) -> Console:
    return Console(stderr=stderr, highlight=False, soft_wrap=False)


def plain(text: str = "") -> None:
    """A line printed as is: no Rich markup, so brackets in data are never eaten."""
    console().print(visible(text), markup=False, highlight=False, soft_wrap=True)


def _default(value: Any) -> Any:
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return dataclasses.asdict(value)
    if isinstance(value, set | frozenset | tuple):
        return list(value)
    raise TypeError(f"cannot write {type(value).__name__} as JSON")


# json.dumps escapes C0 controls itself; these it would write as they are.
_JSON_UNSAFE = re.compile(r"[\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def emit_json(data: Any) -> None:
    text = json.dumps(data, ensure_ascii=False, indent=2, default=_default)
    sys.stdout.write(_JSON_UNSAFE.sub(lambda m: f"\\u{ord(m.group()):04x}", text) + "\n")


def table(title: str | None, columns: Sequence[str], rows: Iterable[Sequence[object]]) -> None:
    """A Rich table; cell values are escaped (data may contain brackets)."""
    grid = Table(title=escape(visible(title)) if title else None, title_justify="left", show_lines=False)
    for column in columns:
        grid.add_column(escape(visible(column)), overflow="fold")
    for row in rows:
        grid.add_row(*("" if cell is None else escape(visible(str(cell))) for cell in row))
    console().print(grid)


def fired(cli: CliState, result: Fired, *, extra: dict[str, Any] | None = None, note: str = "") -> None:
    """What an action did: `R7-0001: アセスメント → 支援会議（支援会議の開催）`."""
    from yorisoi import labels
    from yorisoi.cli.session import lifecycle as in_force

    lifecycle = in_force()
    action = labels.action(lifecycle, result.action)
    if cli.json:
        emit_json(
            {
                "case": result.number,
                "action": result.action,
                "action_ja": action,
                "from_stage": result.from_stage,
                "from_stage_ja": labels.stage(lifecycle, result.from_stage),
                "to_stage": result.to_stage,
                "to_stage_ja": labels.stage(lifecycle, result.to_stage),
                "version": result.version,
                "late_entry": result.late_entry,
                **(extra or {}),
            }
        )
        return
    to_stage = labels.stage(lifecycle, result.to_stage)
    if not result.from_stage:
        plain(f"{result.number}: 新しいケースを受け付けました（段階: {to_stage}）")
    elif result.from_stage != result.to_stage:
        plain(f"{result.number}: {labels.stage(lifecycle, result.from_stage)} → {to_stage}（{action}）")
    elif result.late_entry:
        plain(f"{result.number}: {action}（後日入力。段階は{to_stage}のまま）")
    else:
        plain(f"{result.number}: {action}（段階: {to_stage}）")
    if note:
        plain(f"  {note}")


def done(cli: CliState, message_ja: str, data: dict[str, Any]) -> None:
    """The result of a command that is not a case action (directory, init …)."""
    if cli.json:
        emit_json(data)
    else:
        plain(message_ja)


def notice(message_ja: str, message_en: str, lines: Sequence[str] = ()) -> None:
    """Something the user should know that is not an error: `注意:` / `Note:` on stderr."""
    err = console(stderr=True)
    for line in (f"注意: {message_ja}", f"Note: {message_en}", *(f"  {x}" for x in lines)):
        err.print(visible(line), markup=False, highlight=False, soft_wrap=True)


def error(cli: CliState, data: dict[str, Any], lines: Sequence[str] = ()) -> None:
    """Report an error: JSON on stdout with `--json`, else `エラー:` / `Error:` on stderr."""
    if cli.json:
        emit_json(data)
        return
    err = console(stderr=True)
    for line in (f"エラー: {data['message_ja']}", f"Error: {data['message_en']}", *(f"  {x}" for x in lines)):
        err.print(visible(line), markup=False, highlight=False, soft_wrap=True)
