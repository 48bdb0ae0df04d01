"""What every command shares and can import cheaply: the global state, dates, option types.

Nothing here imports the database, the service or Rich, so `yorisoi --help` stays fast;
commands import those inside their bodies.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import Annotated, Any

import typer


@dataclass
class CliState:
    """The global options: who acts (`--as`) and whether to print JSON (`--json`)."""

    json: bool = False
    actor_login: str | None = None


IN_FORCE: list[Any] = []
"""The lifecycle machine the running command found in force (`session.machine`), kept for
its labels after the database is closed; emptied when a command starts."""


def state(ctx: typer.Context) -> CliState:
    root = ctx.find_root()
    if not isinstance(root.obj, CliState):
        root.obj = CliState()
    return root.obj


_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def parse_date(text: str) -> dt.date:
    """A date as YYYY-MM-DD (the only form accepted, so 03-04 is never read two ways)."""
    value = text.strip()
    try:
        if not _DATE.match(value):
            raise ValueError(value)
        return dt.date.fromisoformat(value)
    except ValueError:
        raise typer.BadParameter(
            f"日付は YYYY-MM-DD で指定してください（例: 2025-04-01）: {text!r} / "
            f"dates are YYYY-MM-DD (e.g. 2025-04-01): {text!r}"
        ) from None


def parse_moment(text: str | None, *, option: str = "--now") -> dt.datetime | None:
    """A moment as ISO 8601 with its UTC offset (2025-07-09T09:00+09:00): never a guessed zone."""
    if text is None:
        return None
    try:
        moment: dt.datetime | None = dt.datetime.fromisoformat(text.strip())
    except ValueError:
        moment = None
    if moment is None or moment.tzinfo is None:
        raise typer.BadParameter(
            f"日時は 2025-06-02T10:00+09:00 の形で指定してください: {text!r} / "
            f"give an ISO 8601 date-time with a UTC offset: {text!r}",
            param_hint=option,
        )
    return moment


def _date_option(*names: str, help: str) -> Any:
    return typer.Option(*names, parser=parse_date, metavar="YYYY-MM-DD", help=help)


CaseNumber = Annotated[
    str, typer.Argument(metavar="NUMBER", help="ケース番号（例: R7-0001） / case number", show_default=False)
]
OnDate = Annotated[
    dt.date | None, _date_option("--on", help="実施日（省略時は今日・Asia/Tokyo） / date, default today")
]
Note = Annotated[str, typer.Option(metavar="TEXT", help="メモ / note")]
ExpectVersion = Annotated[
    int | None,
    typer.Option(
        "--expect-version",
        min=1,
        metavar="N",
        help="ケースが版 N のときだけ実行（先に更新されていれば何も変えずにエラー）。"
        "版は `case show` に表示 / only if the case is still at version N "
        "(`case show`; `version` in --json)",
        show_default=False,
    ),
]

# The parts of a consultation contact (相談), shared by `case open`, `case contact`, `case reopen`.
Referrer = Annotated[
    str,
    typer.Option(
        metavar="CODE",
        help="相談者区分: self（本人）, family（家族・親族）, community（地域）, agency（関係機関等）",
        show_default=False,
    ),
]
Method = Annotated[
    str,
    typer.Option(
        metavar="CODE",
        help="相談方法: office_visit（来所）, phone（電話）, home_visit（訪問）, other（その他）",
        show_default=False,
    ),
]
Topics = Annotated[
    list[str],
    typer.Option(
        "--topic",
        metavar="TOPIC",
        help="相談内容のコードまたはラベル（複数指定可、例: income）。一覧は `yorisoi topics`",
        show_default=False,
    ),
]
OutreachVisit = Annotated[
    bool,
    typer.Option(
        "--outreach-visit",
        help="訪問（home_visit）の相談をアウトリーチの訪問としても数える（1件の記録で両方の統計に） / "
        "count this home-visit contact as the outreach home visit too",
    ),
]
Desk = Annotated[
    str, typer.Option(metavar="NAME", help="受付窓口の名前（`yorisoi agency add … --desk` で登録）")
]


def split_spec(text: str, separators: str) -> tuple[str, str | None]:
    """Split `LEFT<sep>RIGHT` at the first of `separators` (ASCII or full-width); RIGHT may be absent."""
    for index, char in enumerate(text):
        if char in separators:
            return text[:index].strip(), text[index + 1 :].strip()
    return text.strip(), None
