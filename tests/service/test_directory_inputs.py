"""Staff, agencies and providers go through the same bounded inputs as case actions: lengths the
columns allow (on SQLite too, which would store anything), one line, no control characters."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from sqlmodel import Session, select

from models import Agency, ProgramProvider, Staff
from yorisoi.errors import InvalidInput
from yorisoi.service import directory

DEFAULTS: dict[str, dict[str, Any]] = {
    "staff": {"login": "yamamoto", "name": "山本", "roles": ["coordinator"]},
    "agency": {"name": "こども家庭センター", "field": "child"},
    "provider": {
        "name": "就労支援センター",
        "program": "program_type_b",
        "registered_on": dt.date(2024, 4, 1),
    },
}
ADD: dict[str, Any] = {
    "staff": lambda s, **kw: directory.add_staff(s, **{**DEFAULTS["staff"], **kw}),
    "agency": lambda s, **kw: directory.add_agency(s, **{**DEFAULTS["agency"], **kw}),
    "provider": lambda s, **kw: directory.add_provider(s, **{**DEFAULTS["provider"], **kw}),
}
ROWS: dict[str, Any] = {"staff": Staff, "agency": Agency, "provider": ProgramProvider}


@pytest.mark.parametrize(
    ("what", "field", "value", "says"),
    [
        ("staff", "name", "山" * 201, "氏名: 長すぎます（200文字まで）"),
        ("staff", "name", "山本\x1b[31m", "氏名: 制御文字"),
        ("staff", "name", "  ", "氏名: 空にできません"),
        ("staff", "team", "チーム" * 40, "チーム: 長すぎます（100文字まで）"),
        ("staff", "team", "A\nB", "チーム: 制御文字"),
        ("staff", "login", "x" * 65, "ログイン名: 長すぎます（64文字まで）"),
        ("staff", "login", "Bad Login", "英小文字・数字"),
        ("staff", "roles", ["boss"], "役割（1行目）: 選択肢にない値です"),
        ("staff", "roles", [], "役割: 1件以上必要です"),
        ("agency", "name", "機" * 201, "機関名: 長すぎます（200文字まで）"),
        ("agency", "name", '=HYPERLINK("x")\x07', "機関名: 制御文字"),
        ("agency", "field", "space", "分野: 選択肢にない値です"),
        ("provider", "name", "\x9b31m", "事業所名: 制御文字"),
        ("provider", "registered_on", dt.date(1800, 1, 1), "登録日: 1900-01-01 以上"),
    ],
)
def test_directory_inputs_are_bounded_before_the_database(
    session: Session, what: str, field: str, value: Any, says: str
) -> None:
    with pytest.raises(InvalidInput) as refused:
        ADD[what](session, **{field: value})
    assert says in refused.value.ja, refused.value.ja
    assert refused.value.en
    session.rollback()
    assert session.exec(select(ROWS[what])).all() == []


def test_directory_inputs_are_stored_stripped(session: Session) -> None:
    staff = ADD["staff"](
        session, name="  山本 三郎 ", team=" 多機関協働 ", roles=["supervisor", "coordinator"]
    )
    assert (staff.name, staff.team, staff.roles) == ("山本 三郎", "多機関協働", ["coordinator", "supervisor"])
    assert ADD["agency"](session, name=" こども家庭センター ").name == "こども家庭センター"
