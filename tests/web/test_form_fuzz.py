"""Every page route, fed any form or query (Hypothesis): never a 500.

Beside the OpenAPI fuzz (`test_openapi_fuzz.py`) for the API. The routes are read from the app
itself, so a page added later is fuzzed too. Forms carry a valid CSRF token (else every post
would stop at the CSRF check) and the fields of the action's own input model as well as
unknown ones; values are any text (control characters, RTL marks, 400-character strings),
impossible dates, huge numbers. Path parameters are an existing case, a missing one, a case
of another team and junk; action names are every action, every trigger and junk.
Derandomized by the suite's default Hypothesis profile (tests/conftest.py).
"""

from __future__ import annotations

import types
import typing
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import BaseModel

from tests.web.conftest import Web, csrf_of
from tests.web.helpers import intake, to_planning
from yorisoi.service import registry
from yorisoi.service.inputs import OpenCaseInput

EXAMPLES = 12

VALUES = st.one_of(
    st.just(""),
    st.text(max_size=30),
    st.text(min_size=300, max_size=400),
    st.integers(min_value=-(2**70), max_value=2**70).map(str),
    st.dates().map(str),
    st.sampled_from(
        [
            "on",
            "true",
            "2025-02-30",
            "9999-12-31",
            "0000-00-00",
            "R7-0001",
            "\x00",
            "\x1b[31m",
            "\u202e",
            "<script>alert(1)</script>",
            '=HYPERLINK("http://x")',
            "１２３",
            "NaN",
            "-1",
        ]
    ),
)


def _plain(annotation: Any) -> Any:
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(annotation) if a is not type(None)]
        if len(args) == 1:
            return args[0]
    return annotation


def field_names(model: type[BaseModel], prefix: str = "") -> list[str]:
    """The form fields a page reads for `model` (see yorisoi.web.forms), rows 0–1 of each list."""
    names: list[str] = []
    for name, info in model.model_fields.items():
        annotation = _plain(info.annotation)
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            names += field_names(annotation, prefix)
            continue
        if typing.get_origin(annotation) is list:
            (item,) = typing.get_args(annotation)
            row = _plain(item)
            if isinstance(row, type) and issubclass(row, BaseModel):
                names += [f"{name}-{n}-{sub}" for n in (0, 1) for sub in field_names(row)]
                continue
        names.append(prefix + name)
    return names


def page_routes(web: Web) -> list[APIRoute]:
    """The app's page routes (not /api), through routers included in routers."""
    found: list[APIRoute] = []

    def walk(routes: list[Any]) -> None:
        for route in routes:
            inner = getattr(route, "original_router", None)
            if inner is not None:
                walk(inner.routes)
            elif isinstance(route, APIRoute) and not route.path.startswith("/api"):
                found.append(route)

    walk(list(web.app.router.routes))
    return found


def form_strategy(keys: list[str]) -> st.SearchStrategy[dict[str, str]]:
    junk = st.text(min_size=1, max_size=12).filter(lambda k: k != "csrf_token")
    return st.dictionaries(st.sampled_from(keys) if keys else junk, VALUES, max_size=len(keys) + 2).flatmap(
        lambda known: st.dictionaries(junk, VALUES, max_size=2).map(lambda extra: {**extra, **known})
    )


@dataclass
class Fuzzer:
    web: Web
    page: TestClient  # signed in as a supervisor and coordinator: every form is open to them
    token: str
    numbers: st.SearchStrategy[str]
    names: st.SearchStrategy[str]
    statuses: Counter[tuple[str, int]] = field(default_factory=Counter)

    def keys(self, route: APIRoute, method: str, name: str) -> list[str]:
        if method == "POST" and route.path == "/cases/new":
            return field_names(OpenCaseInput)
        if method == "POST" and route.path == "/login":
            return ["login", "password", "next"]
        if method == "POST" and "{name}" in route.path and name in registry.ACTIONS:
            return [*field_names(registry.ACTIONS[name].input), "expected_version"]
        return [q.name for q in route.dependant.query_params]

    def client(self, route: APIRoute) -> tuple[TestClient, str]:
        """`page`, or for sign-in and sign-out a client of their own (`page` stays signed in)."""
        if route.path == "/login":
            client = self.web.client()
            return client, csrf_of(client.get("/login").text)
        if route.path == "/logout":
            client = self.web.page_as(self.web.world.coordinator)
            return client, csrf_of(client.get("/").text)
        return self.page, self.token

    def send(self, route: APIRoute, method: str, path: str, fields: dict[str, str], with_token: bool) -> None:
        client, csrf = self.client(route)
        if method == "GET":
            answer = client.get(path, params=fields)
        else:
            token = {"csrf_token": csrf} if with_token or route.path == "/login" else {}
            answer = client.post(path, data={**fields, **token})
        assert answer.status_code < 500, (method, path, fields, answer.text[:500])
        self.statuses[(route.path, answer.status_code)] += 1

    def run(self, route: APIRoute, method: str) -> None:
        examples = EXAMPLES * (8 if "{name}" in route.path and method == "POST" else 1)

        @given(
            data=st.data(),
            number=self.numbers,
            name=self.names,
            with_token=st.sampled_from([True, True, False]),
        )
        @settings(max_examples=examples, deadline=None, suppress_health_check=list(HealthCheck))
        def fuzz(data: st.DataObject, number: str, name: str, with_token: bool) -> None:
            fields = data.draw(form_strategy(self.keys(route, method, name)))
            path = route.path.replace("{number}", number or "R7-0000").replace("{name}", name)
            self.send(route, method, path, fields, with_token)

        fuzz()


def test_page_forms_and_queries_never_answer_500(web: Web) -> None:
    world = web.world
    coordinator = web.api_as(world.coordinator)
    planning = intake(coordinator, world)
    to_planning(coordinator, world, planning)
    fresh = intake(coordinator, world)
    theirs = intake(web.api_as(world.coordinator2), world)
    page = web.page_as(world.supervisor2)
    fuzzer = Fuzzer(
        web,
        page,
        csrf_of(page.get("/").text),
        numbers=st.one_of(
            st.sampled_from([planning, fresh]),
            st.sampled_from([theirs, "R7-9999", "", "x" * 300, "../..", "%00", planning.lower()]),
        ),
        names=st.sampled_from(
            sorted({*registry.ACTIONS, *web.machine.lifecycle.triggers, "nope", "__init__"})
        ),
    )
    routes = page_routes(web)
    paths = {r.path for r in routes}
    assert {"/login", "/logout", "/cases/new", "/cases/{number}/do/{name}", "/cases/{number}", "/"} <= paths
    for route in routes:
        for method in sorted((route.methods or set()) & {"GET", "POST"}):
            fuzzer.run(route, method)

    # The forms got past CSRF and sign-in and reached the service: taken, refused, or not found.
    codes = Counter(code for _path, code in fuzzer.statuses.elements())
    assert codes[303] > 0 and codes[422] > 0 and codes[404] > 0 and codes[403] > 0
    assert fuzzer.statuses[("/cases/{number}/do/{name}", 422)] > 0


def test_unknown_action_posted_with_a_valid_token_is_not_500(web: Web) -> None:
    number = intake(web.api_as(web.world.coordinator), web.world)
    page = web.page_as(web.world.coordinator)
    token = csrf_of(page.get(f"/cases/{number}/do/start_assessment").text)
    answer = page.post(f"/cases/{number}/do/no_such_action", data={"csrf_token": token})
    assert answer.status_code == 422 and "不明な操作です" in answer.text
    assert "田中 花子" in answer.text  # the page frame still shows who is signed in
