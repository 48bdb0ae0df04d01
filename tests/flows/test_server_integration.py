"""Scale-out, for real, the way deploy/README.md says to run it (its commands are these).

A Prefect server on loopback backed by PostgreSQL (a fresh database with pg_trgm, dropped
afterwards); a process work pool; `prefect deploy` of deploy/prefect.yaml from a directory
that is deleted right after (as if it were another machine); a worker started from yorisoi's
wheel in a venv of its own (tests/wheel.py), in a directory of its own, with no checkout on
its path — as the user `nobody` when the tests run as root. yorisoi's own database is a fresh
PostgreSQL database; reminders go through real Apprise to a real HTTP receiver.

What must happen: a run the server's scheduler creates and an event-triggered run (a case
entered 支援・モニタリング → `relay-events` → the deployment trigger of prefect.yaml) both
complete on that worker, and every reminder they queue reaches its recipient exactly once,
however many dispatch runs come by. The day is replayed (issue 14's one clock): the sweeps
and the dispatcher run with `now` in July 2025, so the test does not depend on today's date,
business hours or holidays. The real-clock schedules of prefect.yaml are checked, then
switched off for the test (a real-clock dispatcher running outside business hours would move
the replayed reminders to tomorrow morning).

Everything started here is stopped in `finally`, whatever happens. No `prefect_harness` here:
this module talks to its own server, from subprocesses.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
import yaml
from sqlmodel import Session, SQLModel, update

from models import OutboxMessage
from models.db import create_db_engine
from models.event_relay import EVENT_RELAY
from states import default_machine
from tests.conftest import _PG_SKIP_REASON, POSTGRES_URL
from tests.factories import build_world
from tests.notifications.receiver import Receiver, apprise_yaml, running_receiver
from tests.sweeps.helpers import monitoring_case
from tests.wheel import usable_by_anyone
from yorisoi.jpdates import TOKYO
from yorisoi.serve import PrefectServer, free_port, plan_approved_trigger

REPO = Path(__file__).resolve().parents[2]
PREFECT = str(Path(sys.executable).with_name("prefect"))
TERMINAL = {"COMPLETED", "FAILED", "CRASHED", "CANCELLED"}
SWEPT_AT = dt.datetime(2025, 7, 9, 8, 30, tzinfo=TOKYO)  # the scheduled sweep's replayed morning
APPROVED_AT = dt.datetime(2025, 7, 10, 10, 0, tzinfo=TOKYO)  # when the cases entered monitoring
DISPATCHED_AT = dt.datetime(2025, 7, 10, 17, 0, tzinfo=TOKYO)  # the replayed dispatcher's clock
PEOPLE = {"tanaka": ["coordinator"], "sato": ["supervisor"], "suzuki": ["supervisor"]}
NOBODY = 65534  # uid and gid of nobody/nogroup on Debian


def _database(prefix: str) -> Iterator[sa.URL]:
    """A fresh PostgreSQL database, dropped afterwards."""
    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    admin = sa.create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    try:
        yield sa.make_url(POSTGRES_URL).set(database=name)
    finally:
        with admin.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()


@pytest.fixture(name="prefect_database_url", scope="module")
def prefect_database_url_fixture() -> Iterator[str | None]:
    """A fresh PostgreSQL database with pg_trgm for the Prefect server (None: SQLite)."""
    if _PG_SKIP_REASON:
        yield None
        return
    for url in _database("prefect_it"):
        database = sa.create_engine(url, isolation_level="AUTOCOMMIT")
        with database.connect() as conn:
            conn.exec_driver_sql("CREATE EXTENSION IF NOT EXISTS pg_trgm")
        database.dispose()
        yield url.set(drivername="postgresql+asyncpg").render_as_string(hide_password=False)


@pytest.fixture(name="yorisoi_database_url")
def yorisoi_database_url_fixture() -> Iterator[str]:
    """yorisoi's own database, as the web app and every worker would share it."""
    if _PG_SKIP_REASON:
        pytest.skip(_PG_SKIP_REASON)
    for url in _database("yorisoi_it"):
        plain = url.set(drivername="postgresql").render_as_string(hide_password=False)
        engine = create_db_engine(plain)
        SQLModel.metadata.create_all(engine)
        engine.dispose()
        yield plain


def _api(base: str, method: str, path: str, body: Any = None) -> Any:
    request = urllib.request.Request(
        f"{base}{path}",
        method=method,
        data=None if body is None else json.dumps(body).encode(),
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.loads(response.read() or b"null")


def _prefect(prefect: str | Path, *args: str, env: dict[str, str], cwd: Path) -> str:
    done = subprocess.run(
        [str(prefect), *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=180, check=False
    )
    assert done.returncode == 0, f"prefect {' '.join(args)} failed:\n{done.stdout}\n{done.stderr}"
    return done.stdout


def _stop(process: subprocess.Popen[bytes]) -> None:
    """SIGTERM to the process group (the worker and the flow runs it started), then SIGKILL."""
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(10)


@pytest.fixture(name="live_server", scope="module")
def live_server_fixture(
    tmp_path_factory: pytest.TempPathFactory, prefect_database_url: str | None
) -> Iterator[tuple[PrefectServer, dict[str, str]]]:
    """A real `prefect server start` on a free loopback port, and the environment to reach it.

    Its scheduler looks for new schedules every 2 s instead of every 60 s: the only setting
    changed, so the test need not wait a minute for a schedule it has just added.
    """
    prefect_home = tmp_path_factory.mktemp("prefect")
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("PREFECT_", "YORISOI_"))},
        "PREFECT_HOME": str(prefect_home),
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
        "DO_NOT_TRACK": "1",
    }
    server = PrefectServer(
        prefect_home,
        port=free_port(),
        database_url=prefect_database_url,
        extra_env={"PREFECT_SERVER_SERVICES_SCHEDULER_LOOP_SECONDS": "2"},
    )
    try:
        server.start(timeout=150)
        yield server, {**env, "PREFECT_API_URL": server.api_url}
    finally:
        server.stop(timeout=5)  # a test server need not finish its background services
    assert server.process is None


def _cases(database_url: str) -> None:
    """Two cases in 支援・モニタリング, made through the case service; their stage changes wait in
    the outbox for `relay-events`, dated as if the plans had been approved at APPROVED_AT."""
    engine = create_db_engine(database_url)
    try:
        with Session(engine, expire_on_commit=False) as session:
            world = build_world(session)
            # Due 2025-07-01: 6 business days late on the 9th (an escalation), late again on the 10th.
            monitoring_case(session, world, default_machine(), dt.date(2025, 7, 1))
            # Due Monday 2025-07-14: inside the 3-business-day notice window on the 10th.
            monitoring_case(session, world, default_machine(), dt.date(2025, 7, 14))
            session.execute(
                update(OutboxMessage)
                .where(OutboxMessage.recipient == EVENT_RELAY)  # type: ignore[arg-type]
                .values(created_at=APPROVED_AT.astimezone(dt.UTC))
            )
            session.commit()
    finally:
        engine.dispose()


def _as_nobody(venv: Path) -> bool:
    """Run the worker as `nobody`: possible when we are root and anyone can run the venv."""
    return os.geteuid() == 0 and usable_by_anyone(venv)


def _worker_home(receiver: Receiver, *, owner: int | None) -> Path:
    """The worker's own directory (owned by `nobody` when we are root): its Prefect home and
    the Apprise file, nothing of the checkout."""
    home = Path(tempfile.mkdtemp(prefix="yorisoi-worker-"))
    (home / "apprise.yaml").write_text(apprise_yaml(receiver, PEOPLE), "utf-8")
    if owner is not None:
        for path in (home, *home.iterdir()):
            os.chown(path, owner, owner)
    return home


def test_worker_from_the_wheel_runs_scheduled_and_triggered_sweeps_delivering_each_reminder_once(
    tmp_path: Path,
    wheel_venv: Path,
    yorisoi_database_url: str,
    live_server: tuple[PrefectServer, dict[str, str]],
) -> None:
    server, server_env = live_server
    api = server.api_url
    _cases(yorisoi_database_url)
    wheel_prefect = wheel_venv / "bin" / "prefect"
    worker: subprocess.Popen[bytes] | None = None
    with running_receiver() as receiver:
        home = _worker_home(receiver, owner=NOBODY if _as_nobody(wheel_venv) else None)
        try:
            # The worker: nothing but the wheel's venv and its settings, in a directory of its own.
            worker_env = {
                "PATH": f"{wheel_venv / 'bin'}:/usr/bin:/bin",
                "HOME": str(home),
                "TMPDIR": str(home),  # the worker's runner storage, not a /tmp/runner_storage of root's
                "LANG": "C.UTF-8",
                "PREFECT_API_URL": api,
                "PREFECT_HOME": str(home / "prefect"),
                "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
                "DO_NOT_TRACK": "1",
                "PREFECT_WORKER_QUERY_SECONDS": "1",
                "PREFECT_WORKER_PREFETCH_SECONDS": "2",
                "YORISOI_DATABASE__URL": yorisoi_database_url,
                "YORISOI_DATA_DIR": str(home / "data"),
                "YORISOI_NOTIFICATIONS__APPRISE_CONFIG": str(home / "apprise.yaml"),
            }
            other_user: dict[str, Any] = (
                {"user": NOBODY, "group": NOBODY, "extra_groups": []} if _as_nobody(wheel_venv) else {}
            )
            _prefect(
                wheel_prefect, "work-pool", "create", "yorisoi", "--type", "process", env=server_env, cwd=home
            )
            with (tmp_path / "worker.log").open("wb") as log:
                worker = subprocess.Popen(
                    [str(wheel_prefect), "worker", "start", "--pool", "yorisoi", "--limit", "4"],
                    cwd=home,
                    env=worker_env,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    start_new_session=True,
                    **other_user,
                )

            if other_user:
                assert _uid(worker.pid) == NOBODY

            # Deploy from a directory holding only prefect.yaml, gone before anything runs.
            deploy_dir = Path(tempfile.mkdtemp(prefix="yorisoi-deploy-"))
            shutil.copy(REPO / "deploy" / "prefect.yaml", deploy_dir / "prefect.yaml")
            try:
                _prefect(
                    wheel_prefect,
                    "--no-prompt",
                    "deploy",
                    "--all",
                    "--prefect-file",
                    "prefect.yaml",
                    env=server_env,
                    cwd=deploy_dir,
                )
            finally:
                shutil.rmtree(deploy_dir)

            deployments = {d["name"]: d for d in _api(api, "POST", "/deployments/filter", {})}
            assert len(deployments) == 9
            # No pull step: in particular no set_working_directory pointing at the deploy directory.
            assert {name: d["pull_steps"] for name, d in deployments.items()} == dict.fromkeys(
                deployments, []
            )
            sweep, dispatch = deployments["monitoring-due"], deployments["dispatch-notifications"]
            assert sweep["schedules"][0]["schedule"] == {
                "cron": "30 8 * * 1-5",
                "timezone": "Asia/Tokyo",
                "day_or": True,
            }
            assert dispatch["schedules"][0]["schedule"]["cron"] == "*/5 * * * *"
            _prefect(
                wheel_prefect,
                "--no-prompt",
                "deployment",
                "schedule",
                "pause",
                "--all",
                env=server_env,
                cwd=home,
            )
            paused = _api(api, "POST", "/deployments/filter", {})
            assert not [s for d in paused for s in d["schedules"] if s["active"]]

            # The replayed day, on schedules the server's scheduler turns into runs.
            start = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=10)
            _add_schedule(api, sweep["id"], every=3600, start=start, now=SWEPT_AT)
            _add_schedule(
                api, dispatch["id"], every=15, start=start + dt.timedelta(seconds=10), now=DISPATCHED_AT
            )
            # relay-events' next run, now (its own schedule would come within the minute).
            _prefect(
                wheel_prefect, "deployment", "run", "relay-events/relay-events", env=server_env, cwd=home
            )

            expected = {
                ("tanaka", "reminder.monitoring_overdue:{case}:2025-07-09:staff:tanaka"),
                ("sato", "escalation.monitoring_overdue:{case}:2025-07-01:staff:sato"),
                ("suzuki", "escalation.monitoring_overdue:{case}:2025-07-01:staff:suzuki"),
                ("tanaka", "reminder.monitoring_overdue:{case}:2025-07-10:staff:tanaka"),
                ("tanaka", "reminder.monitoring_due:{case}:2025-07-14:staff:tanaka"),
            }

            def delivered() -> set[tuple[str, str]]:
                return {(r.path, _keyless(r.idempotency_key)) for r in receiver.received}

            runs = _wait_for(
                lambda: _settled(
                    api,
                    sweep["id"],
                    dispatch["id"],
                    deployments["relay-events"]["id"],
                    delivered() >= expected,
                ),
                timeout=240,
                what=lambda: (
                    f"all five reminders delivered and every run settled; delivered {sorted(delivered())}"
                ),
                log=tmp_path / "worker.log",
                alive=worker,
            )
        finally:
            if worker is not None:
                _stop(worker)
            shutil.rmtree(home, ignore_errors=True)

    states = {(r["name"], r["state"]["type"]) for r in runs["all"]}
    assert {state for _, state in states} == {"COMPLETED"}, states
    assert runs["scheduled"] and all(r["auto_scheduled"] for r in runs["scheduled"])
    assert len(runs["triggered"]) == 2  # one per case entering 支援・モニタリング
    assert {r["created_by"]["type"] for r in runs["triggered"]} == {"AUTOMATION"}
    assert {r["parameters"]["params"]["now"] for r in runs["triggered"]} == {
        APPROVED_AT.astimezone(dt.UTC).isoformat()
    }
    assert receiver.duplicates() == {}
    assert delivered() == expected
    bodies = "\n".join(r.title + r.message for r in receiver.received)
    assert "開庁日超過" in bodies and "田中" not in bodies  # business days said so; no names


def _uid(pid: int) -> int:
    """The real uid a process runs as (Linux)."""
    status = Path(f"/proc/{pid}/status").read_text("utf-8")
    return int(next(line.split()[1] for line in status.splitlines() if line.startswith("Uid:")))


def _keyless(key: str | None) -> str:
    """An idempotency key with its case id replaced by `{case}` (ids differ between runs)."""
    topic, _case, *rest = (key or "").split(":")
    return ":".join([topic, "{case}", *rest])


def _add_schedule(api: str, deployment_id: str, *, every: int, start: dt.datetime, now: dt.datetime) -> None:
    _api(
        api,
        "POST",
        f"/deployments/{deployment_id}/schedules",
        [
            {
                "schedule": {"interval": every, "anchor_date": start.isoformat(), "timezone": "Asia/Tokyo"},
                "active": True,
                "parameters": {"params": {"now": now.isoformat(), "reason": f"replay of {now.isoformat()}"}},
            }
        ],
    )


def _settled(
    api: str, sweep_id: str, dispatch_id: str, relay_id: str, all_delivered: bool
) -> dict[str, Any] | None:
    """The runs so far, once the relay, the scheduled sweep, both triggered sweeps and a dispatch
    run after them have finished (and everything expected was delivered), or as soon as a run
    failed or crashed; else None."""
    runs = [r for r in _api(api, "POST", "/flow_runs/filter", {}) if r["state"]["type"] != "SCHEDULED"]
    broken = [r for r in runs if r["state"]["type"] in {"FAILED", "CRASHED"}]
    if broken:
        return {"all": runs, "scheduled": [], "triggered": []}
    if not all_delivered:
        return None
    sweeps = [r for r in runs if r["deployment_id"] == sweep_id]
    scheduled = [r for r in sweeps if r["auto_scheduled"]]
    triggered = [r for r in sweeps if not r["auto_scheduled"]]
    relay = [r for r in runs if r["deployment_id"] == relay_id][:1]
    done = [r for r in (*scheduled, *triggered, *relay) if r["state"]["type"] in TERMINAL]
    if len(triggered) < 2 or not scheduled or len(done) < len(scheduled) + len(triggered) + 1:
        return None
    last = max(r["end_time"] for r in done)
    after = [
        r
        for r in runs
        if r["deployment_id"] == dispatch_id and r["state"]["type"] in TERMINAL and r["start_time"] > last
    ]
    if not after:
        return None
    running = [r for r in runs if r["state"]["type"] not in TERMINAL]
    return {"all": [r for r in runs if r not in running], "scheduled": scheduled, "triggered": triggered}


def _wait_for(
    check: Callable[[], dict[str, Any] | None],
    *,
    timeout: float,
    what: Callable[[], str],
    log: Path,
    alive: subprocess.Popen[bytes],
) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and alive.poll() is None:
        found = check()
        if found is not None:
            return found
        time.sleep(1)
    raise AssertionError(
        f"not within {timeout:.0f} s (worker exit code {alive.poll()}): {what()}\n--- worker log ---\n"
        + log.read_text("utf-8", errors="replace")[-4000:]
    )


def test_prefect_yaml_trigger_is_the_one_serve_registers() -> None:
    """deploy/prefect.yaml and `yorisoi serve` start the monitoring sweep on the same events,
    with the same parameters (the event's moment as the sweep's clock)."""
    config = yaml.safe_load((REPO / "deploy" / "prefect.yaml").read_text("utf-8"))
    assert config["pull"] == []
    [monitoring] = [d for d in config["deployments"] if d["name"] == "monitoring-due"]
    [trigger] = monitoring["triggers"]
    served = plan_approved_trigger().model_dump(mode="json")
    assert trigger["match"] == served["match"]
    assert set(trigger["expect"]) == set(served["expect"])
    assert trigger["parameters"] == served["parameters"]


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
        served = _wait_for_served(server.api_url, expected=8, timeout=120)
        by_flow = {d["flow_name"]: d for d in served}
        assert set(by_flow) == {
            "monitoring-due",
            "plan-review-due",
            "consent-review",
            "short-stay-ending",
            "half-year-progress",
            "dispatch-notifications",
            "relay-events",
            "audit-verify",
        }
        assert by_flow["monitoring-due"]["schedules"][0]["schedule"]["cron"] == "30 8 * * 1-5"
        assert by_flow["audit-verify"]["schedules"][0]["schedule"]["cron"] == "0 2 * * *"
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
