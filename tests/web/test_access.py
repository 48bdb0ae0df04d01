"""Access (issue 11): households, sign-in throttling and locks, server-side sessions — on SQLite
and PostgreSQL. Delays are driven by the app's injectable clock, never by sleeping."""

from __future__ import annotations

from sqlmodel import col, select

from models import AuthSession, Person, SignInAttempt
from tests.web.conftest import PASSWORD, Web, csrf_of
from tests.web.helpers import intake, ok
from yorisoi.service import accounts, directory
from yorisoi.web.sessions import COOKIE

WRONG = "not the password"


def _new_case_address(client, web: Web, household_id: int) -> tuple[int, str | None]:
    world = web.world
    answer = client.post(
        "/api/cases",
        json={
            "person": {"name": "山田 次郎", "household_id": household_id},
            "contact": {
                "referrer": "self",
                "method": "phone",
                "topics": ["income"],
                "desk_id": world.desk.id,
            },
        },
    )
    if answer.status_code != 201:
        return answer.status_code, answer.text
    shown = ok(client.get(f"/api/cases/{answer.json()['number']}"))
    return 201, shown["case"]["address"]


def _household_of(web: Web, name: str) -> int:
    with web.session() as session:
        person = session.exec(select(Person).where(Person.name == name)).one()
        return person.household_id


def test_household_is_joined_only_through_a_visible_case(web_on: Web) -> None:
    web = web_on
    world = web.world
    owner = web.api_as(world.coordinator)
    intake(owner, world, address="山口市非公開町1-1")
    household = _household_of(web, "山田 太郎")

    stranger = web.api_as(world.coordinator2)
    status, text = _new_case_address(stranger, web, household)
    assert status == 422 and text is not None and "非公開町" not in text
    # A household that does not exist gets the very same answer: walking ids tells nothing.
    missing_status, missing_text = _new_case_address(stranger, web, household + 1000)
    assert missing_status == 422
    assert missing_text is not None
    assert missing_text.replace(str(household + 1000), str(household)) == text
    with web.session() as session:  # nobody was attached to the household
        assert len(session.exec(select(Person).where(Person.household_id == household)).all()) == 1

    # The coordinator of a case of the household, their team mate and a supervisor may.
    assert _new_case_address(owner, web, household) == (201, "山口市非公開町1-1")
    assert _new_case_address(web.api_as(web.team_mate), web, household) == (201, "山口市非公開町1-1")
    assert _new_case_address(web.api_as(world.supervisor2), web, household) == (201, "山口市非公開町1-1")


def _api_login(client, login: str, password: str):
    return client.post("/api/auth/login", json={"login": login, "password": password})


def test_login_is_delayed_then_locked_and_a_supervisor_unlocks_it(web_on: Web) -> None:
    web = web_on
    client = web.client()
    for _ in range(5):  # free failures: answered at once
        assert _api_login(client, "tanaka", WRONG).status_code == 401
    delayed = _api_login(client, "tanaka", PASSWORD)  # even the right password: not looked at
    assert delayed.status_code == 429 and delayed.headers["retry-after"] == "2"
    assert delayed.json()["code"] == "sign_in_throttled" and delayed.json()["message_ja"]
    web.clock.now += 2
    for wait in (4, 8, 16, 32):  # each failure doubles the wait
        assert _api_login(client, "tanaka", WRONG).status_code == 401
        refused = _api_login(client, "tanaka", WRONG)
        assert (refused.status_code, refused.headers["retry-after"]) == (429, str(wait))
        web.clock.now += wait
    assert _api_login(client, "tanaka", WRONG).status_code == 401  # the tenth failure: locked
    web.clock.now += 14 * 60
    locked = _api_login(client, "tanaka", PASSWORD)
    assert locked.status_code == 429 and "ロック" in locked.json()["message_ja"]
    assert int(locked.headers["retry-after"]) == 60

    # An unknown login is throttled exactly alike (no oracle of which logins exist).
    for _ in range(5):
        assert _api_login(client, "nobody", WRONG).status_code == 401
    assert _api_login(client, "nobody", WRONG).status_code == 429

    # Another user signs in meanwhile: a lock is per login (and per address, far higher).
    supervisor = web.api_as(web.world.supervisor)
    held = ok(supervisor.get("/api/auth/locks"))
    assert {(h["kind"], h["key"], h["locked"]) for h in held} >= {("login", "tanaka", True)}
    assert (
        web.api_as(web.world.coordinator2).post("/api/auth/unlock", json={"login": "tanaka"}).status_code
        == 403
    )
    assert supervisor.post("/api/auth/unlock", json={"login": "tanaka"}).status_code == 204
    assert _api_login(client, "tanaka", PASSWORD).status_code == 200

    with web.session() as session:
        log = session.exec(select(SignInAttempt).order_by(col(SignInAttempt.id))).all()
    tanaka = [r.outcome for r in log if r.login == "tanaka"]
    assert tanaka.count("failed") == 10 and tanaka.count("throttled") == 5
    assert tanaka.count("locked") == 1 and tanaka.count("unlocked") == 1 and tanaka[-1] == "ok"
    unlocked = next(r for r in log if r.outcome == "unlocked")
    assert unlocked.by_staff_id == web.world.supervisor.id
    assert all(r.client == "testclient" for r in log if r.outcome != "unlocked")


def test_lock_ends_by_itself_after_its_minutes(web_on: Web) -> None:
    web = web_on
    client = web.client()
    for _ in range(10):
        assert _api_login(client, "kato", WRONG).status_code == 401
        web.clock.now += 60  # slower than the delays
    assert _api_login(client, "kato", PASSWORD).status_code == 429
    web.clock.now += 15 * 60
    assert _api_login(client, "kato", PASSWORD).status_code == 200


def test_client_address_is_throttled_across_logins(web_on: Web) -> None:
    web = web_on
    client = web.client()
    for n in range(20):  # a different login each time: no login reaches its own limit
        assert _api_login(client, f"guess{n}", WRONG).status_code == 401
    assert _api_login(client, "sato", PASSWORD).status_code == 429  # this address must wait
    web.clock.now += 2
    assert _api_login(client, "sato", PASSWORD).status_code == 200
    # A success does not reset an address's count: the next failure waits twice as long.
    assert _api_login(client, "guess99", WRONG).status_code == 401
    assert _api_login(client, "guess98", WRONG).headers["retry-after"] == "4"


def test_copied_cookie_stops_working_after_sign_out(web_on: Web) -> None:
    web = web_on
    page = web.page_as(web.world.coordinator)
    copied = page.cookies[COOKIE]
    thief = web.client()
    thief.cookies.set(COOKIE, copied)
    assert thief.get("/").status_code == 200
    token = csrf_of(page.get("/").text)
    assert page.post("/logout", data={"csrf_token": token}).status_code == 303
    assert thief.get("/").status_code == 303  # to the sign-in page
    assert thief.get("/api/auth/me").status_code == 401
    with web.session() as session:
        row = session.exec(select(AuthSession).where(AuthSession.staff_id == web.world.coordinator.id)).one()
        assert row.revoked_why == "sign_out" and row.channel == "web"
        assert len(row.token_hash) == 64  # only a hash is stored
        outcomes = [r.outcome for r in session.exec(select(SignInAttempt).order_by(col(SignInAttempt.id)))]
    assert outcomes == ["ok", "signed_out"]


def test_password_change_and_deactivation_end_every_session(web_on: Web) -> None:
    web = web_on
    pages, apis = web.page_as(web.world.coordinator2), web.api_as(web.world.coordinator2)
    with web.session() as session:
        accounts.set_password(session, "kato", "a brand new password")
    assert pages.get("/").status_code == 303 and apis.get("/api/auth/me").status_code == 401
    assert _api_login(web.client(), "kato", "a brand new password").status_code == 200

    auditor = web.api_as(web.world.auditor)
    with web.session() as session:
        directory.set_staff_active(session, "ito", False, actor=web.world.supervisor)
    assert auditor.get("/api/auth/me").status_code == 401
    with web.session() as session:
        directory.set_staff_active(session, "ito", True, actor=web.world.supervisor)
    assert auditor.get("/api/auth/me").status_code == 401  # reactivated: still signed out


def test_login_page_shows_the_lock_and_logs_the_failure(web: Web) -> None:
    client = web.client()
    for _ in range(10):
        token = csrf_of(client.get("/login").text)
        answer = client.post("/login", data={"login": "sato", "password": WRONG, "csrf_token": token})
        assert answer.status_code == 401 and "ログイン名またはパスワードが違います" in answer.text
        web.clock.now += 60
    token = csrf_of(client.get("/login").text)
    locked = client.post("/login", data={"login": "sato", "password": PASSWORD, "csrf_token": token})
    assert locked.status_code == 429 and "ロックされています" in locked.text
    assert int(locked.headers["retry-after"]) > 0
