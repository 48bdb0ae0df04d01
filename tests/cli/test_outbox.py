"""`yorisoi outbox list | retry | dispatch` through the real app, delivering with real Apprise."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from models.db import session_scope
from models.outbox_queries import Reminder, enqueue_reminders
from notifications import read_sink
from tests.cli.conftest import Cli
from tests.notifications.receiver import Receiver, apprise_yaml, receiver_fixture  # noqa: F401
from yorisoi import runtime
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
                    due_on=dt.date(2025, 6, 5),
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
