"""Bounded lists and search: keyset pages cover every case once, counts match, each filter, search
by number / name / kana / 1–2 characters, after a 訂正, respecting per-case access and DV masking."""

from __future__ import annotations

import re
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, col, select

from models import Case, Household, Person, caselists
from models.caselists import CaseFilters
from tests.web.conftest import DV_ADDRESS, Web
from tests.web.helpers import ON, ok
from yorisoi.service.access import Viewer, list_scope
from yorisoi.web.pages import board as board_page

NAMES = [("山田 太郎", "やまだ たろう"), ("佐藤 花子", "サトウ ハナコ"), ("鈴木 一郎", "スズキ イチロウ")]


def open_case(client: TestClient, web: Web, name: str, kana: str, *, dv: bool = False) -> str:
    answer = client.post(
        "/api/cases",
        json={
            "person": {
                "name": name,
                "kana": kana,
                "address": DV_ADDRESS if dv else "山口市中央1-1",
                "dv_protected": dv,
            },
            "contact": {
                "contacted_on": ON.isoformat(),
                "referrer": "self",
                "method": "phone",
                "topics": ["income"],
                "desk_id": web.world.desk.id,
            },
        },
    )
    assert answer.status_code == 201, answer.text
    return str(answer.json()["number"])


def numbers_in(html: str) -> list[str]:
    return re.findall(r'href="/cases/(R\d+-\d{4})"', html)


def walk(client: TestClient, first: str) -> list[str]:
    """Every number over every page, following 次へ."""
    seen: list[str] = []
    url: str | None = first
    while url:
        html = client.get(url).text
        seen += numbers_in(html.split("<main", 1)[1])
        found = re.search(r'<a class="button secondary" href="([^"]+)">次へ</a>', html)
        url = found.group(1).replace("&amp;", "&") if found else None
    return seen


@pytest.fixture(name="many")
def many_fixture(web: Web, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """25 cases of the coordinator (one DV-protected), 3 of another coordinator; pages of 4."""
    monkeypatch.setattr(board_page, "BOARD_PAGE", 4)
    monkeypatch.setattr(board_page, "LIST_PAGE", 4)
    monkeypatch.setattr(board_page, "SEARCH_PAGE", 4)
    mine = web.api_as(web.world.coordinator)
    numbers = [open_case(mine, web, *NAMES[i % 3], dv=i == 7) for i in range(25)]
    other = web.api_as(web.world.coordinator2)
    for _ in range(3):
        open_case(other, web, "外部 秘子", "がいぶ ひこ")
    return numbers


def test_board_pages_each_column_by_keyset_with_counts_and_no_repeated_coordinator(
    web: Web, many: list[str]
) -> None:
    client = web.page_as(web.world.coordinator)
    html = client.get("/").text
    assert "担当 田中 花子" not in html  # "my cases" does not repeat whose they are
    assert re.search(r'<span>受付</span><span class="badge" title="25 件">25</span>', html)
    assert len(numbers_in(html.split("<main", 1)[1])) == 4
    seen: list[str] = []
    url: str | None = "/?scope=mine"
    while url:
        page = client.get(url).text
        column = page.split('id="col-intake"', 1)[1].split("</section>", 1)[0]
        seen += numbers_in(column)
        more = re.search(r'<a class="more" href="([^"#]+)', column)
        url = more.group(1).replace("&amp;", "&") if more else None
        assert url is None or "col=intake" in url
    assert seen == many  # every case once, in order
    supervisor = web.page_as(web.world.supervisor).get("/?scope=all").text
    assert re.search(r'<span>受付</span><span class="badge" title="28 件">28</span>', supervisor), supervisor
    assert "担当 田中 花子" in supervisor  # where the board shows others' cases, it says whose


def test_case_list_and_due_list_page_every_case_once_and_count(web: Web, many: list[str]) -> None:
    client = web.page_as(web.world.coordinator)
    assert walk(client, "/cases?mine=true") == many
    assert "該当 <strong>25</strong> 件" in client.get("/cases?mine=true").text
    assert "該当 <strong>1</strong> 件" in client.get("/cases?mine=true&dv=true").text
    assert walk(client, "/cases?mine=true&dv=true") == [many[7]]
    assert walk(client, f"/cases?coordinator={web.world.coordinator2.id}") == []  # not in my scope
    supervisor = web.page_as(web.world.supervisor)
    assert len(walk(supervisor, f"/cases?coordinator={web.world.coordinator2.id}")) == 3
    assert "該当 <strong>0</strong> 件" in client.get("/cases?overdue=true").text
    assert "該当 <strong>0</strong> 件" in client.get("/due").text
    assert client.get("/due?after=abc").status_code in {400, 422}


def _monitoring(web: Web, numbers: list[str], days: list[int]) -> None:
    """Put cases straight into monitoring with dates (the lists read only these columns)."""
    import datetime as dt

    from yorisoi.jpdates import today_tokyo

    today = today_tokyo()
    with Session(web.engine) as session:
        for number, d in zip(numbers, days, strict=True):
            case = session.exec(select(Case).where(Case.number == number)).one()
            case.stage = "monitoring"
            case.next_monitoring_on = today + dt.timedelta(days=d)
            session.add(case)
        session.commit()


def test_due_list_keyset_over_dates_and_the_overdue_filter(
    web: Web, many: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    _monitoring(web, many[:9], [-3, -3, -1, 0, 2, 2, 2, 10, 40])
    client = web.page_as(web.world.coordinator)
    due = walk(client, "/due?mine=true")
    assert due == many[:8]  # soonest first, ties by id, the one in 40 days left out
    html = client.get("/due?mine=true").text
    assert "該当 <strong>8</strong> 件（うち期限超過 <strong>3</strong> 件）" in html
    assert walk(client, "/cases?overdue=true") == many[:3]
    monkeypatch.setattr(caselists, "COUNT_CAP", 5)  # a long list is counted up to a bound
    assert "該当 <strong>5</strong> 件以上。" in client.get("/due?mine=true").text
    assert "該当 <strong>3</strong> 件（" in client.get("/cases?overdue=true").text
    assert walk(client, "/due?mine=true") == many[:8]  # paging is not bounded by the count
    board = client.get("/?scope=mine&overdue=true").text
    assert re.search(r'<span>支援・モニタリング</span><span class="badge" title="3 件">3</span>', board)


def api_walk(client: TestClient, first: str) -> tuple[list[str], int]:
    """Every number over every page of an API list, following its `Link: <…>; rel="next"`."""
    seen: list[str] = []
    url: str | None = first
    pages = 0
    while url:
        answer = client.get(url)
        assert answer.status_code == 200, answer.text
        seen += [card["number"] for card in answer.json()]
        pages += 1
        found = re.fullmatch(r'<([^>]+)>; rel="next"', answer.headers.get("link", ""))
        url = found.group(1) if found else None
    return seen, pages


def test_the_api_lists_page_by_keyset_with_a_next_link(web: Web, many: list[str]) -> None:
    """The API's case list and due list are the pages' lists: the same scope and filters, in
    pages of `limit` with the next page's URL in the Link header, every case once."""
    client = web.api_as(web.world.coordinator)
    assert api_walk(client, "/api/cases?mine=true&limit=4") == (many, 7)
    assert api_walk(client, "/api/cases?mine=true&dv=true") == ([many[7]], 1)
    cards = client.get("/api/cases?mine=true&dv=true").json()
    assert cards[0]["dv"] is True and "address" not in cards[0]
    assert api_walk(client, f"/api/cases?coordinator={web.world.coordinator2.id}") == ([], 1)
    supervisor = web.api_as(web.world.supervisor)
    assert len(api_walk(supervisor, "/api/cases?limit=5")[0]) == 28
    _monitoring(web, many[:9], [-3, -3, -1, 0, 2, 2, 2, 10, 40])
    assert api_walk(client, "/api/due?mine=true&limit=3") == (many[:8], 3)
    assert api_walk(client, "/api/due?mine=true&days=366&limit=2")[0] == many[:9]
    assert client.get("/api/due?after_on=yesterday&after=1").status_code == 422
    assert client.get("/api/cases?limit=501").status_code == 422


def test_search_by_full_width_number_partial_name_kana_and_short(web: Web, many: list[str]) -> None:
    client = web.page_as(web.world.coordinator)
    number = many[16]  # e.g. R7-0017
    full_width = number.translate(str.maketrans("R0123456789-", "Ｒ０１２３４５６７８９－"))
    assert numbers_in(client.get("/search", params={"q": full_width}).text) == [number]
    chouon = number.replace("-", "ー")
    assert number in numbers_in(client.get("/search", params={"q": chouon}).text)
    assert len(walk(client, "/search?q=" + "田太郎")) == 9  # partial name, space ignored
    assert len(walk(client, "/search?q=" + "ヤマダタ")) == 9  # katakana finds hiragana kana
    assert len(walk(client, "/search?q=" + "さとう")) == 8  # hiragana finds katakana kana
    assert len(walk(client, "/search?q=" + "鈴")) == 8  # one character: a name prefix
    assert len(walk(client, "/search?q=" + "スズ")) == 8  # two: a kana prefix
    assert walk(client, "/search?q=" + "木一") == []  # 1–2 characters are prefixes, not inside
    assert walk(client, "/search?q=" + "外部秘子") == []  # another coordinator's: not mine to open
    assert walk(client, "/search?q=" + "%25_%22") == []
    long = client.get("/search", params={"q": "あ" * 300})
    assert long.status_code == 400 and "検索語が長すぎます" in long.text


def test_search_never_shows_the_dv_address_and_finds_nothing_by_address(web: Web, many: list[str]) -> None:
    client = web.page_as(web.world.supervisor)
    assert walk(client, "/search?q=" + "秘匿町") == []
    html = client.get("/search", params={"q": many[7]}).text  # the DV-protected household's case
    assert many[7] in html
    assert DV_ADDRESS not in html and "秘匿町" not in html
    assert "DV等支援措置" in html  # the badge, not the address


def test_search_follows_a_correction_of_details(web: Web, many: list[str]) -> None:
    api = web.api_as(web.world.coordinator)
    ok(
        api.post(
            f"/api/cases/{many[1]}/actions/correct_details",
            json={"data": {"name": "佐藤 改名", "kana": "サトウ カイメイ", "note": "届出による訂正"}},
        )
    )
    client = web.page_as(web.world.coordinator)
    assert numbers_in(client.get("/search", params={"q": "佐藤改名"}).text) == [many[1]]
    assert numbers_in(client.get("/search", params={"q": "カイメイ"}).text) == [many[1]]
    assert many[1] not in walk(client, "/search?q=" + "佐藤花子")


def test_the_search_box_is_on_every_page(web: Web, many: list[str]) -> None:
    client = web.page_as(web.world.supervisor)
    for path in ("/", "/due", "/cases", f"/cases/{many[0]}", "/search?q=山田", "/inbox", "/lifecycle"):
        html = client.get(path).text
        assert '<form class="search" method="get" action="/search" role="search">' in html, path


def _scope(web: Web, staff: Any) -> Any:
    return list_scope(Viewer(staff.id, staff.login, frozenset(staff.roles), staff.team))


def test_search_and_lists_on_both_databases(web_on: Web) -> None:
    """The same queries on SQLite (FTS5) and PostgreSQL (pg_trgm): search, then a raw UPDATE of
    a name (any writer, an import included) is found at once; keyset pages and grouped counts."""
    web = web_on
    client = web.api_as(web.world.coordinator)
    numbers = [open_case(client, web, *NAMES[i % 3]) for i in range(7)]
    other = web.api_as(web.world.coordinator2)
    outsider_case = open_case(other, web, "外部 秘子", "がいぶ ひこ")
    import datetime as dt

    today, mon = dt.date(2025, 7, 1), ("monitoring",)
    scope = _scope(web, web.world.coordinator)
    with Session(web.engine) as session:

        def found(text: str) -> list[str]:
            terms = caselists.search_terms(text)
            assert terms is not None
            result, after = [], None
            while True:
                page = caselists.search(
                    session, scope, terms, today=today, monitoring_stages=mon, after=after, limit=2
                )
                result += [c.number for c in page.cards]
                if page.next_after is None:
                    return result
                after = page.next_after

        assert found("田太郎") == [numbers[6], numbers[3], numbers[0]]
        assert found("ハナコ") == [numbers[4], numbers[1]]
        assert found(numbers[5].replace("-", "－")) == [numbers[5]]
        assert found("鈴") == [numbers[5], numbers[2]]
        assert found("外部秘子") == []
        assert found(outsider_case) == []
        person = session.exec(
            select(Person).join(Case, col(Case.person_id) == col(Person.id)).where(Case.number == numbers[2])
        ).one()
        person.name = "鈴木 新名"
        session.add(person)
        session.commit()
        assert found("木新名") == [numbers[2]]
        assert found("木一郎") == [numbers[5]]
        chosen = caselists.filter_clauses(session, scope, CaseFilters(), today=today, monitoring_stages=mon)
        assert caselists.counts_by_stage(session, chosen) == {"intake": 7}
        assert caselists.count(session, chosen) == 7
        seen, after = [], None
        while True:
            page = caselists.page(session, chosen, today=today, monitoring_stages=mon, after=after, limit=3)
            seen += [c.number for c in page.cards]
            if page.next_after is None:
                break
            after = page.next_after
        assert seen == numbers
        household = session.exec(
            select(Household)
            .join(Person)
            .join(Case, col(Case.person_id) == col(Person.id))
            .where(Case.number == numbers[0])
        ).one()
        household.dv_protected = True
        session.add(household)
        session.commit()
        dv = caselists.filter_clauses(
            session, scope, CaseFilters(dv=True), today=today, monitoring_stages=mon
        )
        assert [c.number for c in caselists.page(session, dv, today=today, monitoring_stages=mon).cards] == [
            numbers[0]
        ]
        supervisor = _scope(web, web.world.supervisor)
        moved = session.exec(select(Case).where(Case.number == numbers[1])).one()
        moved.stage = "assessment"
        handed = session.exec(select(Case).where(Case.number == numbers[2])).one()
        handed.coordinator_id = web.world.coordinator2.id
        session.add_all([moved, handed])
        session.commit()
        for who in (scope, supervisor, _scope(web, web.team_mate)):
            for filters in (
                CaseFilters(),
                CaseFilters(coordinator_id=web.world.coordinator2.id),
                CaseFilters(team="中央チーム"),
                CaseFilters(stage="intake"),
            ):
                tallied = caselists.board_counts(session, who, filters, today=today, monitoring_stages=mon)
                counted = caselists.counts_by_stage(
                    session,
                    caselists.filter_clauses(session, who, filters, today=today, monitoring_stages=mon),
                )
                assert tallied == counted, (who, filters)
        everyone = caselists.board_counts(
            session, supervisor, CaseFilters(), today=today, monitoring_stages=mon
        )
        assert everyone == {"intake": 7, "assessment": 1}
        team = caselists.filter_clauses(
            session,
            supervisor,
            CaseFilters(coordinator_id=web.world.coordinator2.id),
            today=today,
            monitoring_stages=mon,
        )
        assert caselists.count(session, team) == 2  # its own and the one handed over


@pytest.mark.parametrize(
    "q",
    [
        '"""',
        "*",
        "NEAR(山田 太郎)",
        "山田 AND 太郎",
        "^山田",
        "'; DROP TABLE case; --",
        "\x00\x01山田",
        "％＿",
        "ー",
        "－－－",
        "😀😀😀",
        "　",
        "R",
        "-1",
    ],
)
def test_odd_search_text_is_an_answer_not_an_error(web: Web, q: str) -> None:
    answer = web.page_as(web.world.coordinator).get("/search", params={"q": q})
    assert answer.status_code == 200, answer.text
    assert "ケースの検索" in answer.text


def test_odd_list_parameters_are_refused_in_japanese_not_a_crash(web: Web) -> None:
    client = web.page_as(web.world.coordinator)
    for path in (
        "/?coordinator=abc",
        "/?after=-3",
        "/due?after_on=yesterday&after=1",
        "/cases?team=" + "x" * 200,
    ):
        answer = client.get(path)
        assert answer.status_code in {400, 422}, path
        assert "入力に誤りがあります" in answer.text and "Traceback" not in answer.text
    assert client.get("/?col=nosuchstage&after=5&stage=nosuchstage").status_code == 200
