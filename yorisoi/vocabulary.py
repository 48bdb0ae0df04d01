"""相談内容 (consultation topics): codes and the labels 山口市's table uses.

The list is configurable per municipality (settings `topics_file`); these are the defaults.
"""

from __future__ import annotations

DEFAULT_TOPICS: dict[str, str] = {
    "care": "介護に関すること",
    "mental_health": "こころの問題に関すること",
    "loans": "資金の貸付について",
    "rent_or_loan_payments": "家賃やローンの支払いのこと",
    "income": "収入・生活費のこと",
    "tax_and_utilities": "税金や公共料金等の支払いについて",
    "housing": "住まいについて",
    "debt": "債務について",
    "work_trouble": "仕事上の不安やトラブル",
    "job_seeking": "仕事探し・就職について",
    "family_relations": "家族との関係について",
    "community_relations": "地域との関係について",
    "child_rearing": "子育てに関すること",
    "no_food": "食べるものが無い",
    "health": "病気や健康に関すること",
    "household_finance": "家計全般に関すること",
    "hikikomori_school_refusal": "ひきこもり・不登校",
    "dv_abuse": "DV・虐待について",
    "other": "その他",
}
