"""Schemathesis against the served OpenAPI document: no request, however odd, gets a 500.

Signed in as a supervisor (who may reach every endpoint), on a database holding one case.
Bounded: a few dozen examples per operation, derandomized by the default Hypothesis profile
(tests/conftest.py) so every run sends the same requests.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis import APIOperation
from schemathesis.checks import not_a_server_error
from schemathesis.core.errors import InvalidSchema
from schemathesis.core.result import Err, Result

from tests.web.conftest import Web
from tests.web.helpers import intake, to_planning
from yorisoi.service import signin
from yorisoi.web.sessions import COOKIE

EXAMPLES = 25


@pytest.fixture(name="signed_in")
def signed_in_fixture(web: Web) -> dict[str, str]:
    world = web.world
    intake(web.api_as(world.coordinator), world)
    to_planning(web.api_as(world.coordinator), world, intake(web.api_as(world.coordinator), world))
    return _headers(web)


def _headers(web: Web) -> dict[str, str]:
    """A fresh session of the supervisor's. The fuzz's wrong passwords throttle the test client's
    address: a supervisor lifts that first, as one would."""
    now = dt.datetime.fromtimestamp(web.clock(), dt.UTC)
    with web.session() as session:
        for login, address in ((web.world.supervisor.login, None), (None, "testclient")):
            signin.unlock(
                session, actor=web.world.supervisor, login=login, client=address, now=now, channel="api"
            )
    api = web.api_as(web.world.supervisor)
    return {"Cookie": f"{COOKIE}={api.cookies[COOKIE]}", "X-CSRF-Token": api.headers["X-CSRF-Token"]}


def _operation(result: Result[APIOperation, InvalidSchema]) -> APIOperation:
    """The operation, or the error that kept schemathesis from reading it from the document."""
    if isinstance(result, Err):
        raise result.err()
    return result.ok()


def test_api_never_answers_500(web: Web, signed_in: dict[str, str]) -> None:
    schema = schemathesis.openapi.from_asgi("/openapi.json", web.app)
    operations = [_operation(result) for result in schema.get_all_operations()]
    assert len(operations) >= 20
    statuses: Counter[tuple[str, int]] = Counter()

    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(
            max_examples=EXAMPLES,
            deadline=None,
            suppress_health_check=list(HealthCheck),
        )
        def never_500(case: Any) -> None:
            # Signing out ends the session on the server: sign-out gets a session of its own.
            headers = _headers(web) if case.path == "/api/auth/logout" else signed_in
            response = case.call_and_validate(headers=headers, checks=[not_a_server_error])
            statuses[(case.path, response.status_code)] += 1

        never_500()
    # The requests got past sign-in and CSRF and reached the endpoints themselves.
    # (A wrong password at /api/auth/login is the only 401.)
    codes = Counter(code for _path, code in statuses.elements())
    assert codes[200] > 0 and codes[422] > 0
    assert {path for path, code in statuses if code == 401} <= {"/api/auth/login"}
