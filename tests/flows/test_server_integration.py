"""Scale-out, for real: a Prefect server on loopback, a process work pool, `prefect deploy` from
deploy/prefect.yaml, a worker, and a monitoring sweep run that completes.

The server's database is PostgreSQL where one answers (a fresh database with pg_trgm, dropped
afterwards), else SQLite. Everything started here is stopped in `finally`, whatever happens.
No `prefect_harness` here: this test talks to its own server, from subprocesses.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from sqlmodel import Session

from models import Case
from states import default_machine
from tests.conftest import _PG_SKIP_REASON, POSTGRES_URL, sqlite_engine
from tests.factories import build_world
from tests.sweeps.helpers import monitoring_case, reminders
from yorisoi.serve import PrefectServer, free_port

REPO = Path(__file__).resolve().parents[2]
PREFECT = str(Path(sys.executable).with_name("prefect"))
TERMINAL = {"COMPLETED", "FAILED", "CRASHED", "CANCELLED"}


@pytest.fixture(name="prefect_database_url", scope="module")
def prefect_database_url_fixture() -> Iterator[str | None]:
    """A fresh PostgreSQL database for the Prefect server (None: use SQLite)."""
    if _PG_SKIP_REASON:
        yield None
        return
    name = f"prefect_it_{uuid.uuid4().hex[:10]}"
    admin = sa.create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    database = sa.create_engine(POSTGRES_URL.rsplit("/", 1)[0] + f"/{name}", isolation_level="AUTOCOMMIT")
    with database.connect() as conn:
        conn.exec_driver_sql("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    database.dispose()
    url = sa.make_url(POSTGRES_URL).set(drivername="postgresql+asyncpg", database=name)
    try:
        yield url.render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()


def _api(base: str, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
    request = urllib.request.Request(
        f"{base}{path}",
        method=method,
        data=None if body is None else json.dumps(body).encode(),
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.loads(response.read() or b"null")


def _prefect(*args: str, env: dict[str, str]) -> str:
    done = subprocess.run(
        [PREFECT, *args], cwd=REPO, env=env, capture_output=True, text=True, timeout=120, check=False
    )
    assert done.returncode == 0, f"prefect {' '.join(args)} failed:\n{done.stdout}\n{done.stderr}"
    return done.stdout


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(10)


@pytest.fixture(name="live_server", scope="module")
def live_server_fixture(
    tmp_path_factory: pytest.TempPathFactory, prefect_database_url: str | None
) -> Iterator[tuple[PrefectServer, dict[str, str]]]:
    """A real `prefect server start` on a free loopback port, and the environment to reach it."""
    prefect_home = tmp_path_factory.mktemp("prefect")
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("PREFECT_", "YORISOI_"))},
        "PREFECT_HOME": str(prefect_home),
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
        "DO_NOT_TRACK": "1",
    }
    server = PrefectServer(prefect_home, port=free_port(), database_url=prefect_database_url)
    try:
        server.start(timeout=150)
        yield server, {**env, "PREFECT_API_URL": server.api_url}
    finally:
        server.stop(timeout=5)  # a test server need not finish its background services
    assert server.process is None


def test_deployed_sweep_runs_on_a_worker(
    tmp_path: Path, live_server: tuple[PrefectServer, dict[str, str]]
) -> None:
    server, server_env = live_server
    yorisoi_db = tmp_path / "yorisoi.db"
    engine = sqlite_engine(yorisoi_db)
    with Session(engine, expire_on_commit=False) as session:
        case_id = monitoring_case(session, build_world(session), default_machine(), dt.date(2025, 7, 1))
    env = {
        **server_env,
        "YORISOI_DATA_DIR": str(tmp_path / "data"),
        "YORISOI_DATABASE__URL": f"sqlite:///{yorisoi_db}",
    }
    worker: subprocess.Popen[bytes] | None = None
    try:
        _prefect("work-pool", "create", "yorisoi", "--type", "process", env=env)
        # Our run goes through a queue of its own: the worker must not pick up the runs the
        # deployed schedules create meanwhile (relay-events is due every minute).
        _api(server.api_url, "POST", "/work_pools/yorisoi/queues", {"name": "integration"})
        # The worker starts up while the deployments are created (each takes a few seconds).
        with (tmp_path / "worker.log").open("wb") as log:
            worker = subprocess.Popen(
                [
                    PREFECT,
                    "worker",
                    "start",
                    "--pool",
                    "yorisoi",
                    "--work-queue",
                    "integration",
                    "--limit",
                    "1",
                ],
                cwd=tmp_path,  # the flows come from the installed package, not the checkout
                env={**env, "PREFECT_WORKER_QUERY_SECONDS": "1", "PREFECT_WORKER_PREFETCH_SECONDS": "1"},
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        _prefect("--no-prompt", "deploy", "--all", "--prefect-file", "deploy/prefect.yaml", env=env)

        deployment = _api(server.api_url, "GET", "/deployments/name/monitoring-due/monitoring-due")
        assert deployment["schedules"][0]["schedule"] == {
            "cron": "30 8 * * 1-5",
            "timezone": "Asia/Tokyo",
            "day_or": True,
        }
        triggers = _automations_of(server.api_url, deployment["id"])
        assert [t["expect"] for t in triggers] == [["yorisoi.case.stage-changed"]]
        assert triggers[0]["match"] == {
            "prefect.resource.id": "yorisoi.case.*",
            "yorisoi.stage": "monitoring",
        }

        run = _api(
            server.api_url,
            "POST",
            f"/deployments/{deployment['id']}/create_flow_run",
            {"parameters": {"params": {"on": "2025-07-09"}}, "work_queue_name": "integration"},
        )
        state = _wait_for_terminal_state(server.api_url, run["id"], timeout=150)

        assert state == "COMPLETED", (tmp_path / "worker.log").read_text("utf-8", errors="replace")[-3000:]
        with Session(engine) as session:
            assert session.get(Case, case_id).overdue is True  # type: ignore[union-attr]
            assert {(r.topic, r.recipient) for r in reminders(session)} == {
                ("reminder.monitoring_overdue", "staff:tanaka"),
                ("escalation.monitoring_overdue", "staff:sato"),
                ("escalation.monitoring_overdue", "staff:suzuki"),
            }
    finally:
        if worker is not None:
            _stop(worker)
        engine.dispose()


def test_yorisoi_serve_registers_every_flow_and_stops_on_ctrl_c(
    tmp_path: Path, live_server: tuple[PrefectServer, dict[str, str]]
) -> None:
    server, server_env = live_server
    env = {**server_env, "YORISOI_DATA_DIR": str(tmp_path / "data")}
    with (tmp_path / "serve.log").open("wb") as log:
        serving = subprocess.Popen(
            [str(Path(sys.executable).with_name("yorisoi")), "serve"],
            cwd=tmp_path,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        served = _wait_for_served(server.api_url, expected=7, timeout=120)
        by_flow = {d["flow_name"]: d for d in served}
        assert set(by_flow) == {
            "monitoring-due",
            "plan-review-due",
            "consent-review",
            "short-stay-ending",
            "half-year-progress",
            "dispatch-notifications",
            "relay-events",
        }
        assert by_flow["monitoring-due"]["schedules"][0]["schedule"]["cron"] == "30 8 * * 1-5"
        assert by_flow["relay-events"]["schedules"][0]["schedule"]["interval"] == 60
        trigger = _automations_of(server.api_url, by_flow["monitoring-due"]["id"])
        assert [t["match"].get("yorisoi.stage") for t in trigger] == ["monitoring"]

        serving.send_signal(signal.SIGINT)  # Ctrl-C, as in a terminal
        assert serving.wait(60) == 0, (tmp_path / "serve.log").read_text("utf-8", errors="replace")[-3000:]
    finally:
        _stop(serving)


def _automations_of(api_url: str, deployment_id: str) -> list[dict[str, Any]]:
    return [
        automation["trigger"]
        for automation in _api(api_url, "POST", "/automations/filter", {})
        if any(action.get("deployment_id") == deployment_id for action in automation["actions"])
    ]


def _wait_for_served(api_url: str, *, expected: int, timeout: float) -> list[dict[str, Any]]:
    deadline = time.monotonic() + timeout
    served: list[dict[str, Any]] = []
    while time.monotonic() < deadline:
        deployments = _api(
            api_url, "POST", "/deployments/filter", {"deployments": {"name": {"any_": ["serve"]}}}
        )
        flows = {f["id"]: f["name"] for f in _api(api_url, "POST", "/flows/filter", {})}
        served = [{**d, "flow_name": flows.get(d["flow_id"])} for d in deployments]
        if len(served) >= expected:
            return served
        time.sleep(1)
    raise AssertionError(f"only {len(served)} of {expected} deployments were served after {timeout:.0f} s")


def _wait_for_terminal_state(api_url: str, run_id: str, *, timeout: float) -> str:
    deadline = time.monotonic() + timeout
    state = ""
    while time.monotonic() < deadline:
        state = _api(api_url, "GET", f"/flow_runs/{run_id}")["state"]["type"]
        if state in TERMINAL:
            return str(state)
        time.sleep(1)
    return f"still {state} after {timeout:.0f} s"
