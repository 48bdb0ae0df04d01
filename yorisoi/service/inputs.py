"""What each action takes: one Pydantic model per action, the only place its bounds live.

The CLI, the page forms and the API all hand their input to these models (the API uses them
as its request bodies), so a bound is declared once and checked before anything reaches the
database: ids a column can hold, dates in a sane window, lengths the columns allow, list
sizes, no control characters in one-line text, and no business date in the future (a record
is of what has happened). Unknown fields are refused, so a typo never silently drops data.
`parse_input` turns a failure into an `InvalidInput` naming each field
in Japanese and in English.
"""

from __future__ import annotations

import datetime as dt
import re
import typing
from typing import Annotated, Any, TypeVar

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    field_validator,
)

from models.case import ContactMethod, Referrer
from models.consent import ConsentMethod
from models.outreach import OutreachKind, Program
from models.staff import AgencyField
from states import ClosureReason, Role
from yorisoi.errors import InvalidInput
from yorisoi.jpdates import today_tokyo, western_date

_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
_CONTROL_IN_TEXT = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")  # newlines and tabs allowed


def _one_line(value: str) -> str:
    if _CONTROL.search(value):
        raise ValueError("control characters (newlines, escape sequences …) are not allowed here")
    return value


def _text(value: str) -> str:
    if _CONTROL_IN_TEXT.search(value):
        raise ValueError("control characters (escape sequences …) are not allowed")
    return value.replace("\r\n", "\n")


_FUTURE = "a date in the future"
_NOT_A_VISIT = "not a visit"


def _not_future(day: dt.date) -> dt.date:
    today = today_tokyo()
    if day > today:
        raise ValueError(f"{_FUTURE} ({day}); records are of what has happened: use {today} or earlier")
    return day


Id = Annotated[int, Field(ge=1, le=2**31 - 1)]
Day = Annotated[dt.date, Field(ge=dt.date(1900, 1, 1), le=dt.date(2200, 12, 31))]
Past = Annotated[Day, AfterValidator(_not_future)]
"""The day something happened (a contact, a meeting, an approval …): never after today in Tokyo.
Planned days (the next monitoring, a programme's end) are plain `Day`s."""
Name = Annotated[str, Field(max_length=200), AfterValidator(_one_line)]
"""A name, title or label: one line, as long as its column allows."""
Text = Annotated[str, Field(max_length=4000), AfterValidator(_text)]
"""A memo, summary or evaluation: several lines."""
Rows = 100
"""At most this many rows in any list (attendees, goals, agencies …)."""


class ActionInput(BaseModel):
    """Base of every action's input: unknown fields refused, text stripped, values frozen."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, frozen=True)


class ContactInput(ActionInput):
    """One consultation contact: 相談者区分, 相談方法, 相談内容 (several), 受付窓口."""

    contacted_on: Past = Field(title="相談日", default_factory=today_tokyo)
    referrer: Referrer = Field(title="相談者区分")
    method: ContactMethod = Field(title="相談方法")
    topics: list[Annotated[str, Field(max_length=64), AfterValidator(_one_line)]] = Field(
        title="相談内容", min_length=1, max_length=30
    )
    desk_id: Id | None = Field(None, title="受付窓口")
    note: Text = Field("", title="相談の概要")
    outreach_visit: bool = Field(
        False,
        title="アウトリーチの訪問としても数える",
        description="A 訪問 (home_visit) contact that is also the outreach home visit: one record, "
        "counted in both tables.",
    )

    @field_validator("topics")
    @classmethod
    def _distinct(cls, topics: list[str]) -> list[str]:
        return list(dict.fromkeys(t.strip() for t in topics if t.strip()))

    @field_validator("outreach_visit")
    @classmethod
    def _a_visit(cls, value: bool, info: ValidationInfo) -> bool:
        if value and info.data.get("method") != ContactMethod.HOME_VISIT:
            raise ValueError(
                f"{_NOT_A_VISIT}: only a home_visit (訪問) contact counts as an outreach home visit"
            )
        return value


class PersonInput(ActionInput):
    name: Name = Field(title="氏名", min_length=1)
    kana: Name = Field("", title="ふりがな")
    birth_date: Past | None = Field(None, title="生年月日")
    address: Annotated[str, Field(max_length=300), AfterValidator(_one_line)] = Field("", title="住所")
    dv_protected: bool = Field(False, title="DV等支援措置")
    household_id: Id | None = Field(
        title="世帯", default=None, description="Join an existing household instead of creating one."
    )


Address = Annotated[str, Field(max_length=300), AfterValidator(_one_line)]
ExternalRef = Annotated[str, Field(min_length=1, max_length=64), AfterValidator(_one_line)]
"""台帳番号: the municipality's own number for a case."""


class OpenCaseInput(ActionInput):
    person: PersonInput = Field(title="本人")
    contact: ContactInput = Field(title="相談")
    coordinator_id: Id | None = Field(None, title="担当者")
    external_ref: ExternalRef | None = Field(
        None, title="台帳番号", description="The municipality's own number for the case (unique)."
    )


class CorrectDetailsInput(ActionInput):
    """訂正: the person's and the household's details; only the fields given change."""

    name: Name | None = Field(None, title="氏名", min_length=1)
    kana: Name | None = Field(None, title="ふりがな")
    birth_date: Past | None = Field(None, title="生年月日")
    address: Address | None = Field(None, title="住所")
    dv_protected: bool | None = Field(None, title="DV等支援措置")
    note: Text = Field("", title="訂正の理由")


class NoteInput(ActionInput):
    """An action that records only a memo (start an assessment, a municipality's own steps)."""

    note: Text = Field("", title="メモ")


class AttendeeInput(ActionInput):
    name: Name = Field(title="氏名", min_length=1)
    agency_id: Id | None = Field(None, title="所属機関")
    staff_id: Id | None = Field(None, title="職員")
    acknowledged_confidentiality: bool = Field(False, title="守秘義務の確認")


class MeetingInput(ActionInput):
    held_on: Past = Field(title="開催日", default_factory=today_tokyo)
    title: Name = Field("", title="会議名")
    decisions: Text = Field("", title="決定事項")
    attendees: list[AttendeeInput] = Field(title="出席者", default_factory=list, max_length=Rows)


class GoalInput(ActionInput):
    problem: Name = Field("", title="課題")
    goal: Name = Field(title="目標", min_length=1)


class RoleInput(ActionInput):
    agency_id: Id = Field(title="機関")
    role: Name = Field(title="役割", min_length=1)
    is_lead: bool = Field(False, title="主担当")


class ExternalPlanInput(ActionInput):
    kind: Annotated[str, Field(min_length=1, max_length=100), AfterValidator(_one_line)] = Field(
        title="種類", description="ケアプラン, サービス等利用計画 …"
    )
    agency_id: Id | None = Field(None, title="作成機関")
    note: Name = Field("", title="メモ")


class PlanInput(ActionInput):
    drafted_on: Past = Field(title="作成日", default_factory=today_tokyo)
    household_goal: Text = Field("", title="世帯全体の目標")
    goals: list[GoalInput] = Field(title="課題と目標", default_factory=list, max_length=Rows)
    roles: list[RoleInput] = Field(title="役割分担", default_factory=list, max_length=Rows)
    external_plans: list[ExternalPlanInput] = Field(title="既存プラン", default_factory=list, max_length=Rows)
    monitoring_interval_days: int | None = Field(title="モニタリング間隔（日）", default=None, ge=1, le=366)


class ApprovePlanInput(ActionInput):
    meeting_id: Id | None = Field(None, title="プランを決定した重層的支援会議")
    approved_on: Past = Field(title="承認日", default_factory=today_tokyo)


class ReturnPlanInput(ActionInput):
    returned_on: Past = Field(title="差戻し日", default_factory=today_tokyo)
    reason: Text = Field(
        title="差戻しの理由", min_length=1, description="Why the plan goes back to its author."
    )


class MonitoringInput(ActionInput):
    held_on: Past = Field(title="実施日", default_factory=today_tokyo)
    summary: Text = Field(title="モニタリングの概要", min_length=1)
    next_on: Day | None = Field(None, title="次回モニタリング日")


class WithdrawConsentInput(ActionInput):
    withdrawn_on: Past = Field(title="撤回日", default_factory=today_tokyo)
    note: Text = Field("", title="メモ")


class HandOverInput(ActionInput):
    """つなぎ: the agency that takes the support over, and when."""

    agency_id: Id = Field(title="引継ぎ先の関係機関")
    handed_over_on: Past = Field(title="引継ぎ日", default_factory=today_tokyo)
    note: Text = Field("", title="引継ぎの内容")


class ProposeClosureInput(ActionInput):
    proposed_on: Past = Field(title="提案日", default_factory=today_tokyo)
    reason: ClosureReason | None = Field(None, title="終結理由")
    reason_text: Text = Field("", title="理由の記載")
    evaluation: Text = Field("", title="支援の評価")


class DecideClosureInput(ActionInput):
    decided_on: Past = Field(title="決定日", default_factory=today_tokyo)
    note: Text = Field("", title="メモ")


class ReopenInput(ActionInput):
    contact: ContactInput = Field(title="相談")


class ConsentInput(ActionInput):
    given_on: Past = Field(title="同意日", default_factory=today_tokyo)
    method: ConsentMethod = Field(ConsentMethod.WRITTEN, title="同意の方法")
    agency_ids: list[Id] = Field(title="同意の範囲（関係機関）", min_length=1, max_length=Rows)
    note: Text = Field("", title="メモ")


class OutreachInput(ActionInput):
    kind: OutreachKind = Field(title="種別")
    done_on: Past = Field(title="実施日", default_factory=today_tokyo)
    note: Text = Field("", title="メモ")


class EnrolmentInput(ActionInput):
    provider_id: Id = Field(title="登録事業所")
    start_on: Day = Field(title="利用開始日")
    end_on: Day = Field(title="利用終了日")


class ProgramExitInput(ActionInput):
    enrolment_id: Id = Field(title="参加支援の登録")
    exited_on: Past = Field(title="終了日", default_factory=today_tokyo)


# --- the directory (not case actions, bounded the same way) --------------------------------


class StaffInput(ActionInput):
    """A staff member (`yorisoi.service.directory.add_staff`)."""

    login: str = Field(title="ログイン名", min_length=1, max_length=64)
    name: Name = Field(title="氏名", min_length=1)
    roles: list[Role] = Field(title="役割", min_length=1, max_length=len(Role))
    agency_id: Id | None = Field(None, title="所属機関")
    team: Annotated[str, Field(max_length=100), AfterValidator(_one_line)] | None = Field(
        None, title="チーム"
    )


class AgencyInput(ActionInput):
    """A 関係機関 or 受付窓口 (`yorisoi.service.directory.add_agency`)."""

    name: Name = Field(title="機関名", min_length=1)
    field: AgencyField = Field(title="分野")
    is_desk: bool = Field(False, title="受付窓口")


class ProviderInput(ActionInput):
    """A 参加支援 provider (`yorisoi.service.directory.add_provider`)."""

    name: Name = Field(title="事業所名", min_length=1)
    program: Program = Field(title="事業")
    registered_on: Day = Field(title="登録日")


_T = TypeVar("_T", bound=BaseModel)

_FIELD_ERRORS_JA = {
    "missing": "必須です",
    "extra_forbidden": "不明な項目です",
    "enum": "選択肢にない値です（{expected} のいずれか）",
    "literal_error": "選択肢にない値です（{expected} のいずれか）",
    "too_short": "{min_length}件以上必要です",
    "too_long": "{max_length}件までです",
    "string_too_short": "空にできません",
    "string_too_long": "長すぎます（{max_length}文字まで）",
    "string_type": "文字列で指定してください",
    "date_from_datetime_parsing": "日付（YYYY-MM-DD）で指定してください",
    "date_parsing": "日付（YYYY-MM-DD）で指定してください",
    "date_from_datetime_inexact": "日付（YYYY-MM-DD）で指定してください",
    "date_type": "日付（YYYY-MM-DD）で指定してください",
    "int_parsing": "整数で指定してください",
    "int_type": "整数で指定してください",
    "int_from_float": "整数で指定してください",
    "bool_parsing": "はい／いいえ（true/false）で指定してください",
    "bool_type": "はい／いいえ（true/false）で指定してください",
    "list_type": "一覧（リスト）で指定してください",
    "model_type": "項目のまとまり（オブジェクト）で指定してください",
    "dict_type": "項目のまとまり（オブジェクト）で指定してください",
    "greater_than_equal": "{ge} 以上にしてください",
    "less_than_equal": "{le} 以下にしてください",
}


def _japanese(error: Any) -> str:
    kind = error["type"]
    if kind == "value_error" and "control characters" in error["msg"]:
        return "制御文字（改行・エスケープ等）は使えません"
    if kind == "value_error" and _NOT_A_VISIT in error["msg"]:
        return "相談方法が「訪問」の相談だけがアウトリーチの訪問として数えられます"
    if kind == "value_error" and _FUTURE in error["msg"]:
        today = western_date(today_tokyo())
        return f"未来の日付は記録できません（{error['input']}）。今日（{today}）以前にしてください"
    if kind in {"date_parsing", "date_from_datetime_parsing"} and "outside expected range" in str(
        error.get("ctx", "")
    ):
        return "存在しない日付です（YYYY-MM-DD の形は正しいが、その日はありません）"
    template = _FIELD_ERRORS_JA.get(kind)
    if template is None:
        return "値が正しくありません"
    context = {k: str(v).replace(" or ", "、") for k, v in (error.get("ctx") or {}).items()}
    try:
        return template.format(**context)
    except (KeyError, IndexError):
        return template


def _where(model: type[BaseModel], loc: tuple[int | str, ...]) -> str:
    """A field's path in Japanese, from the fields' titles: 出席者（2行目）・氏名."""
    parts: list[str] = []
    current: Any = model
    for part in loc:
        if isinstance(part, int):
            parts[-1:] = [f"{parts[-1] if parts else ''}（{part + 1}行目）"]
            continue
        fields = getattr(current, "model_fields", {})
        info = fields.get(part)
        if info is None:
            parts.append(str(part))
            current = None
            continue
        parts.append(info.title or str(part))
        annotation = info.annotation
        for arg in (annotation, *typing.get_args(annotation)):
            if isinstance(arg, type) and issubclass(arg, BaseModel):
                current = arg
                break
        else:
            current = None
    return "・".join(parts)


def parse_input(model: type[_T], data: Any, what: str, what_ja: str | None = None) -> _T:
    """Validate `data` for action `what` (an instance of `model` passes as it is); raise
    `InvalidInput` naming every bad field (in Japanese by the fields' titles)."""
    if isinstance(data, model):
        return data
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        ja, en = [], []
        for error in exc.errors():
            where = ".".join(str(part) for part in error["loc"]) or what
            ja.append(f"{_where(model, error['loc']) or what}: {_japanese(error)}")
            en.append(f"{where}: {error['msg']}")
        raise InvalidInput(
            f"「{what_ja or what}」の入力に誤りがあります — " + "、".join(ja),
            f"invalid input for {what} — " + "; ".join(en),
        ) from None
