"""Workbooks as municipalities fill them in, for the import tests.

`yamaguchi_workbook`: 山口市's 令和6年度 (the plan of `tests.reports.datasets`: 1,802 contacts of
336 cases at ten desks with the published 相談者 / 相談方法 / 相談内容, 支援会議 14, 重層的支援会議
5, plans, closures, 訪問 421 — each a 訪問 contact counted as the outreach visit too — and
会議等出席 360), written the way staff write: 和暦 and 西暦 dates, Excel dates and serials,
full-width digits, labels or codes, stray spaces; plus records in R5 and R7 that must stay
out of R6. `Intended` holds the figures the generator meant.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from openpyxl import Workbook

from models.case import CONTACT_METHOD_LABELS_JA, REFERRER_LABELS_JA
from tests.reports.datasets import (
    CASES,
    DESK_NAMES,
    MEETING_ATTENDANCE,
    PlannedContact,
    outreach_plan,
    yamaguchi_contacts,
)
from yorisoi.importing import layout
from yorisoi.jpdates import era_of
from yorisoi.vocabulary import DEFAULT_TOPICS

DESKS = [f"ふくまる相談室 {name}" for name in DESK_NAMES]
ELDERLY, POVERTY = "地域包括支援センター中央", "自立相談支援機関"
_WIDE = str.maketrans("0123456789-/.", "０１２３４５６７８９－／．")


def ref(case: int) -> str:
    return f"Y-{case + 1:04d}"


def messy_date(day: dt.date, n: int) -> Any:
    """The same day written in one of the ways staff write dates."""
    era = era_of(day)
    forms: list[Any] = [
        f"{era.letter}{era.year}.{day.month}.{day.day}",
        f"{era.kanji}{era.year_ja}年{day.month}月{day.day}日",
        f"{day.year}/{day.month}/{day.day}",
        dt.datetime(day.year, day.month, day.day),
        (day - dt.date(1899, 12, 30)).days,
        f"{day.year}/{day.month}/{day.day}".translate(_WIDE),
        f" {day.isoformat()} ",
    ]
    return forms[n % len(forms)]


@dataclass
class Intended:
    contacts: list[PlannedContact]
    desk_contacts: Counter[str] = field(default_factory=Counter)
    support_meetings: int = 14
    multilayer_meetings: int = 5
    home_visits: int = 0
    meeting_attendance: int = MEETING_ATTENDANCE
    plans_new: int = 3
    plans_revised: int = 1
    closures: dict[str, int] = field(default_factory=lambda: {"referred_single_agency": 1, "declined": 1})
    multi_agency_cases: int = 14


def desk_of(case: int) -> str:
    return DESKS[case % len(DESKS)]


def _sheet(book: Workbook, spec: layout.SheetSpec, rows: list[dict[str, Any]]) -> None:
    sheet = book.create_sheet(spec.name)
    keys = [c.key for c in spec.columns]
    sheet.append([c.header for c in spec.columns])
    for row in rows:
        sheet.append([row.get(k) for k in keys])


def yamaguchi_workbook(path: Path) -> Intended:
    planned = yamaguchi_contacts()
    intended = Intended(planned)
    book = Workbook()
    assert book.active is not None
    book.remove(book.active)
    _sheet(
        book,
        layout.AGENCIES,
        [{"name": d, "field": "地域", "is_desk": "はい"} for d in DESKS]
        + [{"name": ELDERLY, "field": "高齢"}, {"name": POVERTY, "field": "生活困窮", "is_desk": "いいえ"}],
    )
    _sheet(
        book,
        layout.STAFF,
        [
            {"login": "tanaka", "name": "田中 花子", "roles": "相談支援員（コーディネーター）"},
            {"login": "sato", "name": "佐藤 一郎", "roles": "supervisor"},
        ],
    )
    cases = [
        {
            "ref": ref(c),
            "name": f"相談者{c}",
            "kana": "そうだんしゃ",
            "address": "山口市亀山町2-1",
            "desk": desk_of(c),
        }
        for c in range(CASES + 1)
    ]
    cases[5]["dv_protected"] = "○"
    cases[5]["birth_date"] = "S50.10.1"
    # Case 0 written with a full-width 台帳番号 and a stray full-width space in the name.
    cases[0]["ref"] = "Ｙ－０００１"
    cases[0]["name"] = "相談者　0 "
    _sheet(book, layout.CASES, cases)
    contacts: list[dict[str, Any]] = []
    for c in range(4):  # cases 0-3 came in on 2024-03-31 (R5)
        contacts.append(
            {
                "ref": ref(c),
                "contacted_on": "R6.3.31",
                "referrer": "本人",
                "method": "電話",
                "topics": "収入・生活費のこと",
            }
        )
    for j, p in enumerate(planned):
        desk = None
        if j % 50 == 7 and j >= CASES:  # now and then at another desk than the case's intake desk
            desk = DESKS[(p.case + 1) % len(DESKS)]
        elif j % 3 == 0:
            desk = desk_of(p.case)
        intended.desk_contacts[desk or desk_of(p.case)] += 1
        topics = [DEFAULT_TOPICS[t] for t in p.topics]
        if j % 4 == 1:
            topics = list(p.topics)  # codes
        elif j % 4 == 2:
            topics = [t.removesuffix("について").removesuffix("のこと") for t in topics]
        method = "" if p.method == "unrecorded" else CONTACT_METHOD_LABELS_JA[p.method]
        contacts.append(
            {
                "ref": ref(p.case) if j % 11 else ref(p.case).translate(_WIDE),
                "contacted_on": messy_date(p.on, j),
                "desk": desk,
                "referrer": REFERRER_LABELS_JA[p.referrer] + ("　" if j % 5 == 0 else ""),
                "method": method if j % 2 else (p.method if p.method != "unrecorded" else None),
                "topics": "、".join(topics) if j % 3 else "\n".join(topics),
                "outreach_visit": "○" if p.method == "home_visit" else None,
                "recorded_by": "tanaka" if j % 2 else "田中 花子",
            }
        )
        intended.home_visits += p.method == "home_visit"
    # R7 (2025-04-01): three more contacts on R6 cases and one new case.
    for c in (10, 11, 12):
        contacts.append(
            {"ref": ref(c), "contacted_on": "R7.4.1", "referrer": "家族", "method": "電話", "topics": "債務"}
        )
    contacts.append(
        {
            "ref": ref(CASES),
            "contacted_on": "2025/4/1",
            "referrer": "関係機関等",
            "method": "その他",
            "topics": "介護",
        }
    )
    _sheet(book, layout.CONTACTS, contacts)

    consents = [
        {"ref": ref(c), "given_on": messy_date(on, c), "agencies": f"{ELDERLY}、{POVERTY}"}
        for c, on in [
            (30, dt.date(2024, 6, 3)),
            (31, dt.date(2024, 9, 2)),
            (32, dt.date(2025, 1, 14)),
            (33, dt.date(2024, 10, 1)),
        ]
    ]
    _sheet(book, layout.CONSENTS, consents)
    meetings: list[dict[str, Any]] = [
        {
            "ref": ref(0),
            "held_on": "R6.3.31",
            "kind": "支援会議",
            "agencies": ELDERLY,
            "acknowledged": "はい",
        }
    ]
    for n, c in enumerate([*range(20, 30), 20, 21, 22, 23]):
        day = dt.date(2024, 5, 1) + dt.timedelta(days=20 * n)
        meetings.append(
            {
                "ref": ref(c),
                "held_on": messy_date(day, n),
                "kind": "支援会議",
                "agencies": ELDERLY,
                "acknowledged": "○",
            }
        )
    multilayer = [
        (30, dt.date(2024, 6, 3)),
        (31, dt.date(2024, 9, 2)),
        (32, dt.date(2025, 1, 14)),
        (30, dt.date(2024, 12, 2)),
        (33, dt.date(2024, 10, 7)),
    ]
    for c, day in multilayer:
        meetings.append(
            {
                "ref": ref(c),
                "held_on": messy_date(day, c),
                "kind": "重層的支援会議",
                "agencies": f"{ELDERLY}、{POVERTY}",
            }
        )
    _sheet(book, layout.MEETINGS, meetings)
    plans = [
        {
            "ref": ref(c),
            "drafted_on": day,
            "approved_on": day + dt.timedelta(days=3),
            "meeting_on": day,
            "goals": "ひきこもり：週1回外出できる",
            "roles": f"{POVERTY}：家計相談・主担当",
            "lead": POVERTY,
            "interval": 60,
            "author": "tanaka",
            "approver": "佐藤 一郎",
        }
        for c, day in multilayer[:4]
    ]
    _sheet(book, layout.PLANS, plans)
    days, on_cases = outreach_plan(planned, MEETING_ATTENDANCE)
    outreach = [
        {
            "ref": ref(case),
            "done_on": messy_date(day, k),
            "kind": "会議等出席" if k % 2 else "meeting_attendance",
        }
        for k, (case, day) in enumerate(zip(on_cases, days, strict=True))
    ]
    outreach.append({"ref": ref(1), "done_on": "R7.4.1", "kind": "会議等出席"})
    _sheet(book, layout.OUTREACH, outreach)
    closures = [
        {
            "ref": ref(33),
            "decided_on": "R7.2.20",
            "reason": "単独機関での支援へ移行",
            "evaluation": "目標を達成",
            "proposer": "tanaka",
            "approver": "sato",
        },
        {
            "ref": ref(21),
            "decided_on": "令和7年3月31日",
            "reason": "declined",
            "evaluation": "本人の希望",
            "proposer": "tanaka",
            "approver": "sato",
        },
    ]
    _sheet(book, layout.CLOSURES, closures)
    book.save(path)
    return intended
