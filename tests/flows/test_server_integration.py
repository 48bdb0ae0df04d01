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


@pytest.fixture(name="prefect_database_url")
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


def test_deployed_sweep_runs_on_a_worker(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, prefect_database_url: str | None
) -> None:
    yorisoi_db = tmp_path / "yorisoi.db"
    engine = sqlite_engine(yorisoi_db)
    with Session(engine, expire_on_commit=False) as session:
        case_id = monitoring_case(session, build_world(session), default_machine(), dt.date(2025, 7, 1))
    prefect_home = tmp_path / "prefect"
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("PREFECT_")},
        "YORISOI_DATABASE__URL": f"sqlite:///{yorisoi_db}",
        "PREFECT_HOME": str(prefect_home),
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
        "DO_NOT_TRACK": "1",
    }
    server = PrefectServer(prefect_home, port=free_port(), database_url=prefect_database_url)
    worker: subprocess.Popen[bytes] | None = None
    try:
        server.start(timeout=150)
        env["PREFECT_API_URL"] = server.api_url
        _prefect("work-pool", "create", "yorisoi", "--type", "process", env=env)
        _prefect("--no-prompt", "deploy", "--all", "--prefect-file", "deploy/prefect.yaml", env=env)

        deployment = _api(server.api_url, "GET", "/deployments/name/monitoring-due/monitoring-due")
        assert deployment["schedules"][0]["schedule"] == {
            "cron": "30 8 * * 1-5",
            "timezone": "Asia/Tokyo",
            "day_or": True,
        }
        automations = _api(server.api_url, "POST", "/automations/filter", {})
        assert [a["trigger"]["expect"] for a in automations] == [["yorisoi.case.stage-changed"]]
        assert automations[0]["actions"][0]["deployment_id"] == deployment["id"]

        with (tmp_path / "worker.log").open("wb") as log:
            worker = subprocess.Popen(
                [PREFECT, "worker", "start", "--pool", "yorisoi", "--limit", "1"],
                cwd=tmp_path,  # the flows come from the installed package, not the checkout
                env={**env, "PREFECT_WORKER_QUERY_SECONDS": "1", "PREFECT_WORKER_PREFETCH_SECONDS": "1"},
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        run = _api(
            server.api_url,
            "POST",
            f"/deployments/{deployment['id']}/create_flow_run",
            {"parameters": {"params": {"on": "2025-07-09"}}},
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
        server.stop()
        engine.dispose()
    assert server.process is None


def _wait_for_terminal_state(api_url: str, run_id: str, *, timeout: float) -> str:
    deadline = time.monotonic() + timeout
    state = ""
    while time.monotonic() < deadline:
        state = _api(api_url, "GET", f"/flow_runs/{run_id}")["state"]["type"]
        if state in TERMINAL:
            return str(state)
        time.sleep(1)
    return f"still {state} after {timeout:.0f} s"
