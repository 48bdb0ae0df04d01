"""Web fixtures: an app on a fresh database with the test World, and signed-in clients.

Passwords are hashed with real argon2id at the smallest cost (the production parameters take
about half a second per hash on these machines, which would dominate the suite).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from argon2 import PasswordHasher
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from sqlmodel import Session

from models import Staff
from states import LifecycleMachine, default_machine
from tests.conftest import sqlite_engine
from tests.factories import World, build_world
from tests.web.browser import CHROMIUM, CHROMIUM_ARGS
from yorisoi.service import accounts, directory
from yorisoi.settings import get_settings
from yorisoi.web.app import create_app
from yorisoi.web.config import WebSettings

PASSWORD = "correct horse battery"
DV_ADDRESS = "山口市秘匿町9-9-9"


@dataclass
class Clock:
    now: float = 1_800_000_000.0

    def __call__(self) -> float:
        return self.now


@dataclass
class Web:
    """The app under test, its database and its people."""

    app: FastAPI
    engine: Engine
    world: World
    machine: LifecycleMachine
    clock: Clock
    agency_member: Staff
    team_mate: Staff
    clients: list[TestClient] = field(default_factory=list)

    def session(self) -> Session:
        return Session(self.engine, expire_on_commit=False)

    def client(self) -> TestClient:
        client = TestClient(self.app, follow_redirects=False)
        self.clients.append(client)
        return client

    def api_as(self, staff: Staff) -> TestClient:
        """A client signed in through the API, sending the CSRF header on every request."""
        client = self.client()
        answer = client.post("/api/auth/login", json={"login": staff.login, "password": PASSWORD})
        assert answer.status_code == 200, answer.text
        client.headers["X-CSRF-Token"] = answer.json()["csrf_token"]
        return client

    def page_as(self, staff: Staff) -> TestClient:
        """A client signed in through the sign-in form, as a browser would be."""
        client = self.client()
        form = client.get("/login")
        token = csrf_of(form.text)
        answer = client.post(
            "/login", data={"login": staff.login, "password": PASSWORD, "csrf_token": token, "next": "/"}
        )
        assert answer.status_code == 303, answer.text
        return client


def csrf_of(html: str) -> str:
    marker = 'name="csrf_token" value="'
    start = html.index(marker) + len(marker)
    return html[start : html.index('"', start)]


@pytest.fixture(autouse=True)
def _cheap_password_hashing(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(accounts, "_hasher", PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1))


def build_web(engine: Engine) -> Web:
    with Session(engine, expire_on_commit=False) as session:
        world = build_world(session)
        assert world.elderly.id is not None
        agency_member = directory.add_staff(
            session,
            login="yamamoto",
            name="山本 包括",
            roles=["agency_member"],
            agency_id=world.elderly.id,
        )
        team_mate = directory.add_staff(
            session, login="mori", name="森 同僚", roles=["coordinator"], team="中央チーム"
        )
        world.coordinator.team = "中央チーム"
        session.add(world.coordinator)
        session.commit()
        for staff in (*_staff(world), agency_member, team_mate):
            accounts.set_password(session, staff.login, PASSWORD)
    clock = Clock()
    app = create_app(get_settings(), engine=engine, web=WebSettings(secret_key="test-secret"), clock=clock)
    return Web(app, engine, world, default_machine(), clock, agency_member, team_mate)


def _staff(world: World) -> list[Staff]:
    return [world.coordinator, world.coordinator2, world.supervisor, world.supervisor2, world.auditor]


@pytest.fixture(name="web")
def web_fixture(tmp_path: Path) -> Iterator[Web]:
    """The app on a fresh SQLite database."""
    engine = sqlite_engine(tmp_path / "web.db")
    web = build_web(engine)
    yield web
    for client in web.clients:
        client.close()
    engine.dispose()


@pytest.fixture(name="web_on")
def web_on_fixture(engine: Engine) -> Iterator[Web]:
    """The app on each database of the shared `engine` fixture (SQLite and PostgreSQL)."""
    web = build_web(engine)
    yield web
    for client in web.clients:
        client.close()


@pytest.fixture(name="browser")
def browser_fixture() -> Iterator[Any]:
    """Debian's Chromium through Playwright, for one test (the browser tests skip without it)."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield browser
        browser.close()
