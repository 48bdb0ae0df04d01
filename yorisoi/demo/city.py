"""みほん市, the made-up city of the demo: desks, agencies, staff, and what its cases are about.

Names and places are fictional (the surnames are words like 見本 "sample" and 仮名 "pseudonym").
The proportions come from the municipal reports: 山口市's 相談者区分 and 相談方法 counts for
1,802 contacts, and 6 themes of the cases that need several agencies.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlmodel import Session

from models import Agency, ProgramProvider, Staff
from yorisoi.service import directory

FY_START = dt.date(2024, 4, 1)
FY_END = dt.date(2025, 3, 31)

CITY = "みほん市"
AREAS = ("東", "西", "南", "北", "湯ノ原", "川辺", "山手", "港", "丘の上")
SURNAMES = {
    "見本": "ミホン",
    "仮名": "カメイ",
    "例題": "レイダイ",
    "模擬": "モギ",
    "試作": "シサク",
    "架空": "カクウ",
    "想定": "ソウテイ",
    "空想": "クウソウ",
    "夢見": "ユメミ",
    "物語": "モノガタリ",
}
GIVEN_NAMES = {
    "太郎": "タロウ",
    "花子": "ハナコ",
    "一郎": "イチロウ",
    "次郎": "ジロウ",
    "さくら": "サクラ",
    "葵": "アオイ",
    "陽菜": "ヒナ",
    "蓮": "レン",
    "湊": "ミナト",
    "結衣": "ユイ",
    "健": "ケン",
    "誠": "マコト",
    "幸子": "サチコ",
    "和子": "カズコ",
    "正": "タダシ",
    "茂": "シゲル",
    "恵子": "ケイコ",
    "翔": "ショウ",
    "美咲": "ミサキ",
    "大和": "ヤマト",
}

# (key, name, field): the agencies besides the desks.
AGENCIES = (
    ("disability", f"{CITY} 障がい者基幹相談支援センター", "disability"),
    ("child", f"{CITY} こども家庭センター", "child"),
    ("poverty", f"{CITY} くらしサポートセンター（自立相談支援機関）", "poverty"),
    ("welfare_office", f"{CITY}役所 生活福祉課", "municipality"),
    ("health", f"{CITY} 保健センター", "health"),
    ("school", f"{CITY}教育委員会（スクールソーシャルワーカー）", "education"),
    ("housing", "NPO法人 みほん住まいネット（居住支援法人）", "housing"),
    ("volunteers", f"{CITY} 民生委員児童委員協議会", "community"),
    ("jobs", "みほん就労サポートステーション", "other"),
    ("activity", "地域活動支援センター こもれび", "disability"),
)
ROLES_BY_FIELD = {
    "elderly": "介護サービスの調整",
    "disability": "障害福祉サービスの利用支援",
    "child": "子育て支援・学校との連携",
    "poverty": "家計改善・就労準備の支援",
    "municipality": "生活保護の相談・申請支援",
    "health": "受診同行・健康相談",
    "education": "登校の支援",
    "housing": "住まいの確保",
    "community": "見守りと地域とのつながり",
    "other": "就労に向けた支援",
}

# Themes of the multi-agency cases: topics, agencies involved, and a goal per problem.
THEMES = (
    (
        ("care", "hikikomori_school_refusal", "income"),
        ("poverty", "health"),
        (("ひきこもり", "週1回は外出できる"), ("母の介護", "介護サービスを利用できる")),
    ),
    (
        ("debt", "household_finance", "rent_or_loan_payments"),
        ("poverty", "welfare_office", "housing"),
        (("多重債務", "債務整理の手続きを終える"), ("家計", "収入と支出の見通しが立つ")),
    ),
    (
        ("dv_abuse", "housing", "child_rearing"),
        ("child", "housing", "welfare_office"),
        (("DV", "安全な住まいで暮らす"), ("子育て", "子どもが安心して登校できる")),
    ),
    (
        ("mental_health", "job_seeking", "income"),
        ("health", "activity", "jobs"),
        (("こころの不調", "定期的に通院できる"), ("仕事", "日中の活動の場につながる")),
    ),
    (
        ("child_rearing", "hikikomori_school_refusal", "family_relations"),
        ("child", "school", "volunteers"),
        (("不登校", "週に数日は登校できる"), ("家族関係", "家族で相談できる場を持つ")),
    ),
    (
        ("housing", "no_food", "income"),
        ("housing", "poverty", "volunteers"),
        (("住まい", "安定した住まいに移る"), ("食料", "食料支援につながる")),
    ),
)

STAFF = (
    ("mihon.hanako", "見本 花子", "coordinator"),
    ("kamei.jiro", "仮名 次郎", "coordinator"),
    ("reidai.sachi", "例題 さち", "coordinator"),
    ("mogi.kenta", "模擬 健太", "coordinator"),
    ("shisaku.michiko", "試作 道子", "supervisor"),
    ("kasou.ichiro", "仮想 一郎", "supervisor"),
)
COMMON_TOPICS = (
    "income",
    "care",
    "health",
    "mental_health",
    "household_finance",
    "job_seeking",
    "family_relations",
    "debt",
)
SUPPORT_MEETING_TITLES = (
    "支援会議",
    "支援庁内連携会議（支援会議として開催）",
    "相談支援事業所連絡会（支援会議）",
)
MONITORING_SUMMARIES = (
    "目標に向けて取組が進んでいる",
    "状況は安定、支援を継続",
    "一部の目標を見直す必要がある",
)
# How many more contacts an everyday case has after the first (0 … 12): with the multi-agency
# cases this gives 相談延件数 ≈ 5.4 × 相談実件数, as in 山口市's table (1802 / 336).
EVERYDAY_EXTRA_CONTACT_WEIGHTS = (12, 11, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 2)

REFERRER_WEIGHTS = {"self": 740, "family": 226, "community": 80, "agency": 756}
METHOD_WEIGHTS = {"office_visit": 154, "phone": 1079, "home_visit": 421, "other": 104}


@dataclass
class World:
    desks: list[Agency]
    agencies: dict[str, Agency]
    coordinators: list[Staff]
    supervisors: list[Staff]
    short_stay: ProgramProvider


def build_world(session: Session) -> World:
    """The city's desks, agencies, staff and 参加支援 providers."""
    add_agency, add_staff = directory.add_agency, directory.add_staff
    desks = [add_agency(session, name="まるごと相談室 中央", field="community", is_desk=True)]
    desks += [
        add_agency(
            session,
            name=f"まるごと相談室 {area}",
            field="elderly",
            is_desk=True,
        )
        for area in AREAS
    ]
    agencies = {key: add_agency(session, name=name, field=kind) for key, name, kind in AGENCIES}
    staff = [
        add_staff(session, login=login, name=name, roles=[role], team="多機関協働")
        for login, name, role in STAFF
    ]
    add_provider = directory.add_provider
    add_provider(
        session,
        name="就労継続支援B型 みほん工房",
        program="program_type_b",
        registered_on=dt.date(2024, 6, 3),
    )
    add_provider(
        session, name="就労継続支援B型 ひだまり", program="program_type_b", registered_on=dt.date(2024, 10, 1)
    )
    short_stay = add_provider(
        session, name="短期宿泊所 あかり", program="program_short_stay", registered_on=dt.date(2022, 4, 15)
    )
    return World(desks, agencies, staff[:4], staff[4:], short_stay)
