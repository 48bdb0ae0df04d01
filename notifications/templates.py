"""Japanese reminder messages: a title and a body per topic, rendered from plain payload values.

Rendering is separate from sending, and dates are written by the caller's `dates` function
(yorisoi passes its 和暦 one). A template reads only the fields in `ALLOWED_FIELDS` —
case number, what is due and when, how late, how many cases, a link — so a message cannot
carry a person's name, story or address even if a payload did. A line whose optional fields
are missing is left out rather than printed half-empty.

How late a monitoring is (`days_overdue` of the monitoring topics and of the half-year list) is
counted in business days — weekends, holidays, 年末年始 and 閉庁日 do not count — so those
messages say 開庁日, never plain 日; a short stay's lateness is counted in calendar days (the
stay itself runs over weekends) and says 日.
"""

from __future__ import annotations

import datetime as dt
import string
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

ALLOWED_FIELDS = frozenset(
    {
        "case_number",
        "due_on",
        "days_overdue",
        "link",
        "stage_ja",
        "coordinator",
        "period_label",
        "active_cases",
        "stage_counts",
        "cases",
    }
)
"""Every payload key a template may read; everything else in a payload is ignored."""

CASE_LIST_FIELDS = frozenset({"case_number", "stage_ja", "due_on", "days_overdue"})
"""Keys read from each entry of `cases` (the half-year progress list)."""

STAGE_COUNT_FIELDS = frozenset({"stage_ja", "count"})
"""Keys read from each entry of `stage_counts` (the half-year list's count per stage)."""

DateFormat = Callable[[dt.date], str]
"""How a message writes a date, e.g. `令和7年6月2日（月）`."""

_FORMATTER = string.Formatter()


class TemplateError(ValueError):
    """A message cannot be rendered (unknown topic, a required value missing or malformed)."""

    def __init__(self, ja: str, en: str) -> None:
        super().__init__(f"{ja} / {en}")
        self.ja = ja
        self.en = en


@dataclass(frozen=True, slots=True)
class RenderedMessage:
    title: str
    body: str


@dataclass(frozen=True, slots=True)
class Template:
    """`titles`: tried in order, the first whose fields are all present wins. `lines`: each
    kept only when all its fields are present."""

    what: str
    titles: tuple[str, ...]
    lines: tuple[str, ...]
    required: frozenset[str]


_CASE = frozenset({"case_number", "due_on"})
_FOOTER = (
    "",
    "詳細: {link}",
    "※ このお知らせには個人を特定する情報を載せていません。内容は yorisoi で確認してください。",
)

TEMPLATES: dict[str, Template] = {
    "reminder.monitoring_due": Template(
        what="モニタリング",
        titles=("【モニタリング予定】{case_number} 期日 {due_on}",),
        lines=(
            "ケース {case_number} のモニタリング期日が近づいています。",
            "期日: {due_on}",
            "段階: {stage_ja}",
            *_FOOTER,
        ),
        required=_CASE,
    ),
    "reminder.monitoring_overdue": Template(
        what="モニタリング（期限超過）",
        titles=(
            "【モニタリング期限超過】{case_number}（{days_overdue}開庁日超過）",
            "【モニタリング期限超過】{case_number}",
        ),
        lines=(
            "ケース {case_number} のモニタリングが期日を過ぎています。実施したら記録してください。",
            "期日: {due_on}",
            "超過: {days_overdue}開庁日",
            "段階: {stage_ja}",
            *_FOOTER,
        ),
        required=_CASE,
    ),
    "escalation.monitoring_overdue": Template(
        what="モニタリング（期限超過・スーパーバイザーへの報告）",
        titles=(
            "【要確認】{case_number} のモニタリングが{days_overdue}開庁日超過",
            "【要確認】{case_number} のモニタリングが期限超過",
        ),
        lines=(
            "ケース {case_number} のモニタリングが期日を大きく過ぎています。担当者に状況を確認してください。",
            "期日: {due_on}",
            "超過: {days_overdue}開庁日",
            "担当: {coordinator}",
            "段階: {stage_ja}",
            *_FOOTER,
        ),
        required=_CASE,
    ),
    "reminder.plan_review_due": Template(
        what="支援プランの見直し",
        titles=("【プラン見直し】{case_number} 見直し期日 {due_on}",),
        lines=(
            "ケース {case_number} の支援プランの見直し時期です。個別会議での評価を予定してください。",
            "見直し期日: {due_on}",
            "段階: {stage_ja}",
            *_FOOTER,
        ),
        required=_CASE,
    ),
    "reminder.consent_review": Template(
        what="本人同意の確認",
        titles=("【同意の確認】{case_number} 確認期日 {due_on}",),
        lines=(
            "ケース {case_number} の本人同意が見直し時期を迎えました。",
            "同意の範囲（関係機関）と有効性を確認してください。",
            "確認期日: {due_on}",
            "段階: {stage_ja}",
            *_FOOTER,
        ),
        required=_CASE,
    ),
    "reminder.short_stay_ending": Template(
        what="短期宿泊場所提供事業の終了",
        titles=("【短期宿泊 終了予定】{case_number} 終了予定日 {due_on}",),
        lines=(
            "ケース {case_number} の短期宿泊場所提供事業の利用が終了予定です（利用は最長1か月）。",
            "終了予定日: {due_on}",
            "退所後の住まいと支援の引き継ぎを確認してください。",
            *_FOOTER,
        ),
        required=_CASE,
    ),
    "reminder.short_stay_overdue": Template(
        what="短期宿泊場所提供事業の終了日超過",
        titles=(
            "【短期宿泊 終了日超過】{case_number}（{days_overdue}日超過）",
            "【短期宿泊 終了日超過】{case_number}",
        ),
        lines=(
            "ケース {case_number} の短期宿泊の終了予定日を過ぎていますが、退所が記録されていません。",
            "終了予定日: {due_on}",
            "超過: {days_overdue}日",
            *_FOOTER,
        ),
        required=_CASE,
    ),
    "report.half_year_progress": Template(
        what="半期の進捗報告",
        titles=(
            "【半期進捗報告】{period_label} 全体会議 {due_on}",
            "【半期進捗報告】全体会議 {due_on}",
        ),
        lines=(
            "{period_label}の重層的支援会議（全体）に向けた、支援中ケースの進捗一覧です。",
            "会議予定日: {due_on}",
            "支援中のケース: {active_cases}件",
            "段階別の内訳:\n{stage_counts}",
            "モニタリング期限を過ぎたケース:\n{cases}",
            *_FOOTER,
        ),
        required=frozenset({"due_on"}),
    ),
}


def _date(value: Any, name: str) -> dt.date:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value))
    except ValueError:
        raise TemplateError(
            f"{name} の日付を読めません: {value!r}", f"{name} is not a YYYY-MM-DD date: {value!r}"
        ) from None


def _count(value: Any, name: str) -> str:
    if isinstance(value, bool) or not isinstance(value, int | str) or not str(value).lstrip("-").isdigit():
        raise TemplateError(
            f"{name} は整数で指定してください: {value!r}", f"{name} must be an integer: {value!r}"
        )
    return str(int(value))


def _case_list(entries: Any, dates: DateFormat) -> str:
    if not isinstance(entries, Sequence) or isinstance(entries, str):
        raise TemplateError("cases は一覧で指定してください", "cases must be a list")
    lines = []
    for entry in entries:
        if not isinstance(entry, Mapping) or "case_number" not in entry:
            raise TemplateError(
                "cases の各行には case_number が必要です", "each entry of cases needs a case_number"
            )
        parts = [f"・{entry['case_number']}"]
        stage = entry.get("stage_ja")
        if stage:
            parts.append(str(stage))
        due = entry.get("due_on")
        if due:
            parts.append(f"次回期日 {dates(_date(due, 'cases.due_on'))}")
        overdue = entry.get("days_overdue")
        if overdue:
            parts.append(f"{_count(overdue, 'cases.days_overdue')}開庁日超過")
        lines.append(" ".join(parts))
    return "\n".join(lines) if lines else "（ありません）"


def _stage_counts(entries: Any) -> str:
    if not isinstance(entries, Sequence) or isinstance(entries, str):
        raise TemplateError("stage_counts は一覧で指定してください", "stage_counts must be a list")
    lines = []
    for entry in entries:
        if not isinstance(entry, Mapping) or "stage_ja" not in entry or "count" not in entry:
            raise TemplateError(
                "stage_counts の各行には stage_ja と count が必要です",
                "each entry of stage_counts needs a stage_ja and a count",
            )
        lines.append(f"・{entry['stage_ja']} {_count(entry['count'], 'stage_counts.count')}件")
    return "\n".join(lines)


def _context(payload: Mapping[str, Any], base_url: str, dates: DateFormat) -> dict[str, str]:
    """Display values for the allowed fields present in `payload` (and nothing else)."""
    values: dict[str, str] = {}
    for name in sorted(ALLOWED_FIELDS):
        raw = payload.get(name)
        if raw is None or raw == "" or (name == "days_overdue" and raw == 0):
            continue
        if name == "due_on":
            values[name] = dates(_date(raw, name))
        elif name in {"days_overdue", "active_cases"}:
            values[name] = _count(raw, name)
        elif name == "cases":
            values[name] = _case_list(raw, dates)
        elif name == "stage_counts":
            # No open case, no breakdown: the heading line is left out with it.
            if counts := _stage_counts(raw):
                values[name] = counts
        else:
            values[name] = str(raw)
    if "link" not in values:
        root = base_url.rstrip("/")
        number = values.get("case_number")
        values["link"] = f"{root}/cases/{number}" if number else f"{root}/cases"
    return values


def _fields(text: str) -> set[str]:
    return {name for _, name, _, _ in _FORMATTER.parse(text) if name}


def render(topic: str, payload: Mapping[str, Any], *, base_url: str, dates: DateFormat) -> RenderedMessage:
    """The Japanese title and body of a reminder, its dates written by `dates`."""
    template = TEMPLATES.get(topic)
    if template is None:
        known = ", ".join(sorted(TEMPLATES))
        raise TemplateError(
            f"通知文の雛形がない種類です: {topic}（{known}）", f"no template for {topic!r}; known: {known}"
        )
    values = _context(payload, base_url, dates)
    missing = sorted(template.required - set(values))
    if missing:
        raise TemplateError(
            f"{topic} の通知に必要な項目がありません: {missing}", f"{topic} needs payload field(s) {missing}"
        )
    title = next(t for t in template.titles if _fields(t) <= set(values)).format_map(values)
    body = "\n".join(line.format_map(values) for line in template.lines if _fields(line) <= set(values))
    return RenderedMessage(title=title, body=body.strip("\n"))
