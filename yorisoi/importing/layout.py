"""The workbook: one sheet per kind of record, its columns, declared once.

The reader matches a file's sheets and headers against these (names, aliases, a mapping
file), the template writes them with drop-down lists and an 説明 sheet, the export writes the
database back in the same layout, and the failed-rows file repeats them with a reason column.
Every record sheet links its rows to a case by 台帳番号 (`ref`), the municipality's own number.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from enum import StrEnum

from models.case import CONTACT_METHOD_LABELS_JA, REFERRER_LABELS_JA
from models.consent import CONSENT_METHOD_LABELS_JA
from models.outreach import OUTREACH_KIND_LABELS_JA, PROGRAM_LABELS_JA
from models.staff import AGENCY_FIELD_LABELS_JA
from states.stages import CLOSURE_REASON_LABELS_JA, MEETING_KIND_LABELS_JA, ROLE_LABELS_JA


class Kind(StrEnum):
    """How a cell is read (`yorisoi.importing.values`)."""

    REF = "ref"  # 台帳番号: one line, full-width folded
    LINE = "line"  # a name, a title: one line
    TEXT = "text"  # a memo: several lines allowed
    DATE = "date"  # 和暦, 西暦, an Excel date
    BOOL = "bool"  # はい／いいえ, ○／×, 1／0
    INT = "int"
    CODE = "code"  # one of a vocabulary, by its label or code
    CODES = "codes"  # several of a vocabulary, separated by 、 or new lines
    STAFF = "staff"  # a staff member's login or name
    AGENCY = "agency"  # a registered 関係機関, by name
    AGENCIES = "agencies"  # several of them
    PROVIDER = "provider"  # a registered 参加支援 provider, by name
    GOALS = "goals"  # 課題：目標, one per line
    ROLES = "roles"  # 機関：役割, one per line


Vocabulary = Callable[[], Mapping[str, str]]


def _topics() -> Mapping[str, str]:
    from yorisoi.settings import get_settings

    return get_settings().topics()


@dataclass(frozen=True, slots=True)
class Column:
    key: str
    """The field it fills (English; the service's input field where there is one)."""
    header: str
    """The header the template writes and staff usually write."""
    kind: Kind
    required: bool = False
    aliases: tuple[str, ...] = ()
    """Other headers staff write for it (相談日 / 受付日 …)."""
    vocabulary: Vocabulary | None = None
    """Code → Japanese label, for CODE and CODES."""
    spellings: tuple[tuple[str, str], ...] = ()
    """Other words staff write for a code: (word, code)."""
    help: str = ""
    example: str = ""


@dataclass(frozen=True, slots=True)
class SheetSpec:
    key: str
    name: str
    """The sheet's name in the template."""
    columns: tuple[Column, ...]
    help: str
    aliases: tuple[str, ...] = ()
    directory: bool = False
    """Registers 関係機関, 事業所 or 職員 (no case)."""

    def column(self, key: str) -> Column:
        return next(c for c in self.columns if c.key == key)

    @property
    def required(self) -> tuple[Column, ...]:
        return tuple(c for c in self.columns if c.required)


def _vocab(labels: Mapping[str, str]) -> Vocabulary:
    return lambda: labels


REF = Column(
    "ref",
    "台帳番号",
    Kind.REF,
    required=True,
    aliases=("ケース番号", "管理番号", "台帳No", "台帳NO", "整理番号", "相談番号"),
    help="自治体の台帳のケース番号。同じ番号の行は同じケースの記録です。",
    example="Y-0001",
)
RECORD_NO = Column(
    "record_no",
    "記録番号",
    Kind.LINE,
    aliases=("記録No", "行番号"),
    help="任意。行ごとの番号があれば、内容を直して再取込しても同じ記録として扱います（変更は取り込まず警告）。",
)


def _recorder(header: str = "記録者") -> Column:
    return Column(
        "recorded_by",
        header,
        Kind.STAFF,
        aliases=("対応者", "対応職員", "入力者"),
        help="職員のログイン名または氏名。空欄なら取込をした職員。",
        example="tanaka",
    )


AGENCIES = SheetSpec(
    "agencies",
    "関係機関",
    (
        Column(
            "name",
            "機関名",
            Kind.LINE,
            required=True,
            aliases=("名称", "関係機関"),
            example="ふくまる相談室 中央",
        ),
        Column(
            "field",
            "分野",
            Kind.CODE,
            required=True,
            vocabulary=_vocab(AGENCY_FIELD_LABELS_JA),
            example="地域",
        ),
        Column(
            "is_desk",
            "受付窓口",
            Kind.BOOL,
            aliases=("窓口",),
            help="相談の受付窓口なら「はい」",
            example="はい",
        ),
    ),
    "関係機関と受付窓口。未登録の名前だけ登録します（登録済みの機関は変えません）。",
    directory=True,
)
PROVIDERS = SheetSpec(
    "providers",
    "事業所",
    (
        Column(
            "name",
            "事業所名",
            Kind.LINE,
            required=True,
            aliases=("名称", "登録事業所"),
            example="シェルターあかり",
        ),
        Column(
            "program",
            "事業",
            Kind.CODE,
            required=True,
            vocabulary=_vocab(PROGRAM_LABELS_JA),
            example="短期宿泊場所提供事業",
        ),
        Column("registered_on", "登録日", Kind.DATE, required=True, example="R6.6.3"),
    ),
    "参加支援の登録事業所。未登録の名前だけ登録します。",
    directory=True,
)
STAFF = SheetSpec(
    "staff",
    "職員",
    (
        Column(
            "login", "ログイン名", Kind.LINE, required=True, aliases=("ID", "ユーザー名"), example="tanaka"
        ),
        Column("name", "氏名", Kind.LINE, required=True, example="田中 花子"),
        Column(
            "roles",
            "役割",
            Kind.CODES,
            required=True,
            vocabulary=_vocab(ROLE_LABELS_JA),
            example="coordinator",
        ),
    ),
    "記録に名前の出る職員。未登録のログイン名だけ登録します（パスワードは設定しません）。",
    directory=True,
)
CASES = SheetSpec(
    "cases",
    "ケース",
    (
        REF,
        Column(
            "name",
            "氏名",
            Kind.LINE,
            required=True,
            aliases=("本人氏名", "名前", "相談者氏名"),
            example="山田 太郎",
        ),
        Column(
            "kana", "ふりがな", Kind.LINE, aliases=("フリガナ", "よみがな", "カナ"), example="やまだ たろう"
        ),
        Column("birth_date", "生年月日", Kind.DATE, example="S50.10.1"),
        Column("address", "住所", Kind.LINE, example="山口市亀山町2-1"),
        Column(
            "dv_protected",
            "DV等支援措置",
            Kind.BOOL,
            aliases=("DV支援措置", "DV", "支援措置"),
            help="「はい」の世帯の住所はどこにも表示しません",
        ),
        Column(
            "household",
            "世帯番号",
            Kind.REF,
            aliases=("世帯No",),
            help="同じ世帯番号の人は同じ世帯（住所は最初の行）",
        ),
        Column(
            "desk",
            "受付窓口",
            Kind.AGENCY,
            aliases=("窓口", "相談窓口"),
            help="最初の相談（受付）の窓口。相談の行の受付窓口が空欄のときに使います。",
            example="ふくまる相談室 中央",
        ),
        Column(
            "coordinator", "担当者", Kind.STAFF, aliases=("担当", "担当職員"), help="空欄なら取込をした職員"
        ),
    ),
    "ケース（本人と世帯）。最初の相談（相談シートのいちばん早い行）で受け付けます。",
    aliases=("ケース一覧", "相談者", "本人"),
)
CONTACTS = SheetSpec(
    "contacts",
    "相談",
    (
        REF,
        RECORD_NO,
        Column(
            "contacted_on",
            "相談日",
            Kind.DATE,
            required=True,
            aliases=("受付日", "相談年月日", "受付年月日", "日付"),
            example="R6.4.1",
        ),
        Column(
            "desk", "受付窓口", Kind.AGENCY, aliases=("窓口", "相談窓口"), help="空欄ならケースの受付窓口"
        ),
        Column(
            "referrer",
            "相談者区分",
            Kind.CODE,
            required=True,
            aliases=("相談者",),
            vocabulary=_vocab(REFERRER_LABELS_JA),
            spellings=(
                ("家族", "family"),
                ("親族", "family"),
                ("民生委員", "community"),
                ("関係機関", "agency"),
            ),
            example="本人",
        ),
        Column(
            "method",
            "相談方法",
            Kind.CODE,
            aliases=("方法",),
            vocabulary=_vocab(CONTACT_METHOD_LABELS_JA),
            spellings=(
                ("来庁", "office_visit"),
                ("窓口", "office_visit"),
                ("面談", "office_visit"),
                ("TEL", "phone"),
                ("家庭訪問", "home_visit"),
                ("自宅訪問", "home_visit"),
                ("メール", "other"),
                ("不明", "unrecorded"),
            ),
            help="空欄は「未記録」（相談方法の計に含めません）",
            example="電話",
        ),
        Column(
            "topics",
            "相談内容",
            Kind.CODES,
            required=True,
            aliases=("内容", "相談分類"),
            vocabulary=_topics,
            help="複数は「、」か改行で区切る",
            example="収入・生活費のこと、住まいについて",
        ),
        Column(
            "outreach_visit",
            "アウトリーチ訪問",
            Kind.BOOL,
            aliases=("アウトリーチ",),
            help="「訪問」の相談をアウトリーチの訪問としても数えるなら「はい」（1件の記録で両方に）",
        ),
        Column("reopen", "再開", Kind.BOOL, help="終結したケースを再開する相談なら「はい」"),
        _recorder(),
        Column("note", "概要", Kind.TEXT, aliases=("相談概要", "メモ", "備考")),
    ),
    "相談（相談延件数の1件が1行）。",
    aliases=("相談記録", "相談受付台帳", "相談受付"),
)
CONSENTS = SheetSpec(
    "consents",
    "本人同意",
    (
        REF,
        RECORD_NO,
        Column("given_on", "同意日", Kind.DATE, required=True, example="R6.6.3"),
        Column(
            "method", "同意の方法", Kind.CODE, vocabulary=_vocab(CONSENT_METHOD_LABELS_JA), help="空欄は書面"
        ),
        Column(
            "agencies",
            "同意の範囲",
            Kind.AGENCIES,
            required=True,
            aliases=("同意の範囲（関係機関）", "関係機関"),
            help="情報を共有する関係機関（「、」区切り）",
        ),
        _recorder(),
        Column("note", "メモ", Kind.TEXT, aliases=("備考",)),
    ),
    "本人同意（重層的支援会議・支援プランに必要）。",
    aliases=("同意",),
)
MEETINGS = SheetSpec(
    "meetings",
    "会議",
    (
        REF,
        RECORD_NO,
        Column("held_on", "開催日", Kind.DATE, required=True, aliases=("会議日",), example="R6.5.1"),
        Column(
            "kind",
            "会議の種類",
            Kind.CODE,
            required=True,
            aliases=("種類", "会議種別"),
            vocabulary=_vocab(MEETING_KIND_LABELS_JA),
            example="支援会議",
        ),
        Column("title", "会議名", Kind.LINE),
        Column(
            "agencies", "出席機関", Kind.AGENCIES, required=True, aliases=("出席者",), help="「、」区切り"
        ),
        Column(
            "acknowledged",
            "守秘義務の確認",
            Kind.BOOL,
            aliases=("守秘義務",),
            help="出席者全員が守秘義務（法第106条の6）を確認したなら「はい」（支援会議では必須）",
        ),
        Column("decisions", "決定事項", Kind.TEXT, aliases=("内容",)),
        _recorder(),
    ),
    "支援会議・重層的支援会議（開催日の順に取り込みます）。",
    aliases=("会議記録",),
)
PLANS = SheetSpec(
    "plans",
    "支援プラン",
    (
        REF,
        RECORD_NO,
        Column("drafted_on", "作成日", Kind.DATE, required=True, example="R6.6.3"),
        Column("approved_on", "承認日", Kind.DATE, required=True, example="R6.6.6"),
        Column(
            "meeting_on",
            "決定した会議の開催日",
            Kind.DATE,
            aliases=("決定会議日", "会議日"),
            help="プランを決定した重層的支援会議。空欄なら承認日以前の直近の重層的支援会議",
        ),
        Column("household_goal", "世帯全体の目標", Kind.TEXT, aliases=("世帯の目標",)),
        Column(
            "goals",
            "課題と目標",
            Kind.GOALS,
            required=True,
            aliases=("目標",),
            help="1行に「課題：目標」（課題は省略可）",
            example="ひきこもり：週1回外出できる",
        ),
        Column(
            "roles",
            "役割分担",
            Kind.ROLES,
            help="1行に「機関名：役割」",
            example="自立相談支援機関：家計相談",
        ),
        Column("lead", "主担当", Kind.AGENCY, help="役割分担の機関のうち主担当の機関"),
        Column("interval", "モニタリング間隔（日）", Kind.INT, aliases=("モニタリング間隔",)),
        Column("author", "作成者", Kind.STAFF, help="空欄なら取込をした職員"),
        Column(
            "approver", "承認者", Kind.STAFF, required=True, help="作成者以外のスーパーバイザー（二者確認）"
        ),
    ),
    "承認された支援プラン（作成と承認）。見直しは同じケースの次の行に。",
    aliases=("プラン",),
)
MONITORING = SheetSpec(
    "monitoring",
    "モニタリング",
    (
        REF,
        RECORD_NO,
        Column("held_on", "実施日", Kind.DATE, required=True),
        Column("summary", "概要", Kind.TEXT, required=True, aliases=("内容",)),
        Column("next_on", "次回予定日", Kind.DATE, aliases=("次回",)),
        _recorder(),
    ),
    "モニタリングの記録。",
)
OUTREACH = SheetSpec(
    "outreach",
    "アウトリーチ",
    (
        REF,
        RECORD_NO,
        Column("done_on", "実施日", Kind.DATE, required=True, aliases=("日付",)),
        Column(
            "kind",
            "種別",
            Kind.CODE,
            required=True,
            vocabulary=_vocab(OUTREACH_KIND_LABELS_JA),
            example="会議等出席",
        ),
        _recorder(),
        Column("note", "メモ", Kind.TEXT, aliases=("備考",)),
    ),
    "アウトリーチ（訪問・会議等出席）。",
)
ENROLMENTS = SheetSpec(
    "enrolments",
    "参加支援",
    (
        REF,
        RECORD_NO,
        Column("provider", "事業所", Kind.PROVIDER, required=True, aliases=("登録事業所",)),
        Column("start_on", "利用開始日", Kind.DATE, required=True, aliases=("開始日",)),
        Column("end_on", "利用終了日", Kind.DATE, required=True, aliases=("終了日",)),
        Column("exited_on", "退所日", Kind.DATE, help="実際に利用を終えた日"),
        _recorder(),
    ),
    "参加支援（就B活用・短期宿泊）の利用。",
)
CLOSURES = SheetSpec(
    "closures",
    "終結",
    (
        REF,
        RECORD_NO,
        Column("decided_on", "終結日", Kind.DATE, required=True, aliases=("承認日", "決定日")),
        Column("proposed_on", "提案日", Kind.DATE, help="空欄なら終結日"),
        Column(
            "reason",
            "終結理由",
            Kind.CODE,
            required=True,
            aliases=("理由",),
            vocabulary=_vocab(CLOSURE_REASON_LABELS_JA),
            example="目標達成",
        ),
        Column("reason_text", "理由の記載", Kind.TEXT, help="終結理由が「その他」なら必須"),
        Column("evaluation", "支援の評価", Kind.TEXT, required=True, aliases=("評価",)),
        Column("proposer", "提案者", Kind.STAFF, help="空欄なら取込をした職員"),
        Column(
            "approver", "承認者", Kind.STAFF, required=True, help="提案者以外のスーパーバイザー（二者確認）"
        ),
    ),
    "承認された終結（提案と承認）。",
)

SHEETS: tuple[SheetSpec, ...] = (
    AGENCIES,
    PROVIDERS,
    STAFF,
    CASES,
    CONTACTS,
    CONSENTS,
    MEETINGS,
    PLANS,
    MONITORING,
    OUTREACH,
    ENROLMENTS,
    CLOSURES,
)
BY_KEY: dict[str, SheetSpec] = {s.key: s for s in SHEETS}
RECORD_SHEETS: tuple[SheetSpec, ...] = tuple(s for s in SHEETS if not s.directory and s.key != "cases")
