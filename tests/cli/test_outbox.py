"""`yorisoi outbox list | retry | dispatch` through the real app, delivering with real Apprise."""

from __future__ import annotations

import datetime as dt
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest

from models.db import session_scope
from models.outbox_queries import Reminder, enqueue_reminders
from notifications import read_sink
from tests.cli.conftest import Cli
from tests.notifications.receiver import Receiver, apprise_yaml, receiver_fixture  # noqa: F401
from yorisoi import runtime
from yorisoi.dispatch import dispatch_outbox, notifier_for
from yorisoi.settings import get_settings

MONDAY_10 = "2025-06-02T10:00:00+09:00"
SUNDAY_10 = "2025-06-01T10:00:00+09:00"


def queue(*recipients: str) -> None:
    """Reminders queued by Saturday's sweep, as the sweep would queue them."""
    due = dt.datetime(2025, 5, 31, 0, 0, tzinfo=dt.UTC)
    engine = runtime.engine(get_settings())
    with session_scope(engine) as session:
        enqueue_reminders(
            session,
            [
                Reminder(
                    topic="reminder.monitoring_due",
                    case_id=None,
                    recipient=recipient,
                    due_on=dt.date(2025, 6, 5) + dt.timedelta(days=n),  # one key each
                    payload={"case_number": f"R7-000{n}", "due_on": "2025-06-05"},
                    available_at=due,
                )
                for n, recipient in enumerate(recipients, start=1)
            ],
        )
        session.commit()
    engine.dispose()


@pytest.fixture(name="configured")
def configured_fixture(receiver: Receiver, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Receiver:
    config = tmp_path / "apprise.yaml"
    config.write_text(apprise_yaml(receiver, {"tanaka": ["coordinator"]}), "utf-8")
    monkeypatch.setenv("YORISOI_NOTIFICATIONS__APPRISE_CONFIG", str(config))
    get_settings.cache_clear()
    return receiver


def test_dispatch_without_configuration_writes_the_local_sink(cli: Cli) -> None:
    cli("init")
    queue("staff:tanaka", "role:supervisor")

    shown = cli.json("outbox", "dispatch", "--now", MONDAY_10)

    assert (shown["sent"], shown["failed"], shown["deferred"]) == (2, 0, 0)
    sink = get_settings().data_dir / "notifications.jsonl"
    assert shown["delivered_via"] == str(sink)
    assert [m["recipient"] for m in read_sink(sink)] == ["staff:tanaka", "role:supervisor"]
    assert {m["status"] for m in cli.json("outbox", "list")} == {"sent"}


def test_dispatch_on_a_closed_day_waits(cli: Cli) -> None:
    cli("init")
    queue("staff:tanaka")

    result = cli("outbox", "dispatch", "--now", SUNDAY_10)

    assert "業務時間外のため送りません（2025-06-02 08:30 から送信）。1 件を保留しました" in result.stdout
    [message] = cli.json("outbox", "list", "--pending")
    assert message["available_at"].startswith("2025-06-01T23:30:00")


def test_failed_reminder_is_listed_and_retried(cli: Cli, configured: Receiver) -> None:
    cli("init")
    queue("staff:tanaka", "staff:nobody")

    shown = cli.json("outbox", "dispatch", "--now", MONDAY_10)
    [failed] = cli.json("outbox", "list", "--failed")
    table = cli("outbox", "list", "--failed").stdout
    sent_id = next(m["id"] for m in cli.json("outbox", "list") if m["status"] == "sent")
    refused = cli("outbox", "retry", str(sent_id), ok=False)
    requeued = cli.json("outbox", "retry", "--all-failed")
    pending = cli.json("outbox", "list", "--pending")

    assert (shown["sent"], shown["failed"]) == (1, 1)
    assert [r.path for r in configured.received] == ["tanaka"]
    assert failed["recipient"] == "staff:nobody" and "staff:nobody" in failed["last_error"]
    assert "失敗" in table and "モニタリング" in table
    assert "失敗したリマインダーだけを再送できます" in refused.stderr
    assert requeued == {"requeued": [failed["id"]]}
    assert [(m["id"], m["status"], m["attempts"]) for m in pending] == [(failed["id"], "pending", 0)]


def test_retry_needs_ids_or_all_failed(cli: Cli) -> None:
    cli("init")

    result = cli("outbox", "retry", ok=False)

    assert "--all-failed" in result.stderr


def test_dispatch_refuses_a_time_without_offset(cli: Cli) -> None:
    cli("init")

    result = cli("outbox", "dispatch", "--now", "2025-06-02T10:00", ok=False)

    assert result.exit_code == 2 and "UTC offset" in result.stderr


@pytest.mark.parametrize("stop", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_stopped_dispatch_gives_its_claims_back(
    cli: Cli, configured: Receiver, tmp_path: Path, stop: signal.Signals
) -> None:
    """A real `yorisoi outbox dispatch` process, stopped while a slow service holds a message:
    that one is finished, the other claimed ones are pending again at once (not after the lease),
    and the next run sends each of them once."""
    cli("init")
    queue(*["staff:tanaka"] * 6)
    configured.delay_seconds = 0.5
    env = {**os.environ, "COLUMNS": "200"}  # YORISOI_DATA_DIR and the Apprise file: set by the fixtures
    with (tmp_path / "dispatch.log").open("w+") as log:
        process = subprocess.Popen(
            [str(Path(sys.executable).with_name("yorisoi")), "outbox", "dispatch", "--now", MONDAY_10],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        try:
            deadline = time.monotonic() + 60
            while not configured.received and process.poll() is None and time.monotonic() < deadline:
                time.sleep(0.02)
            assert configured.received, "the dispatcher never delivered anything"
            process.send_signal(stop)
            code = process.wait(30)
        finally:
            if process.poll() is None:
                process.kill()
        log.seek(0)
        output = log.read()

    # The process ends as the signal would have ended it, only after giving the claims back.
    assert code == (-signal.SIGTERM if stop == signal.SIGTERM else 130), output
    assert "停止の指示を受けたため、未送信の" in output
    listed = cli.json("outbox", "list")
    statuses = Counter(m["status"] for m in listed)
    assert statuses["sending"] == 0
    assert statuses["sent"] == len(configured.received) < 6
    assert {m["attempts"] for m in listed if m["status"] == "pending"} == {0}

    configured.delay_seconds = 0
    settings = get_settings()
    engine = runtime.engine(settings)
    moment = dt.datetime.fromisoformat(MONDAY_10)
    rest = dispatch_outbox(engine, notifier_for(settings), now=moment, settings=settings)
    engine.dispose()
    assert rest.sent == statuses["pending"]
    assert len(configured.received) == 6 and configured.duplicates() == {}
