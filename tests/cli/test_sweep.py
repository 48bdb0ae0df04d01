"""`yorisoi sweep` through the real app: dry run, progress, JSON, re-run, closed days."""

from __future__ import annotations

import sqlite3
from contextlib import closing
from pathlib import Path

import pytest

from tests.cli.conftest import Cli, open_case, to_monitoring


def _case_due_friday(town: Cli) -> str:
    number = open_case(town)
    to_monitoring(town, number)  # approved 2025-06-25, 30-day interval: due Friday 2025-07-25
    return number


def test_sweep_dry_run_then_real_then_rerun(town: Cli) -> None:
    number = _case_due_friday(town)

    dry = town("sweep", "--on", "2025-07-22", "--dry-run")
    assert "試行" in dry.stdout and "モニタリング期限: 1 件を確認、1 件を送信待ちに" in dry.stdout
    assert town.json("outbox", "list") == []

    real = town("sweep", "--on", "2025-07-22")
    assert number in real.stdout and "staff:tanaka" in real.stdout
    listed = town.json("outbox", "list")
    assert [(m["topic"], m["case_number"], m["recipient"]) for m in listed] == [
        ("reminder.monitoring_due", number, "staff:tanaka")
    ]

    again = town.json("sweep", "--on", "2025-07-22")
    assert again["queued"] == 0
    assert [s["sweep"] for s in again["sweeps"]] == [
        "monitoring_due",
        "plan_review_due",
        "consent_review",
        "short_stay_ending",
        "half_year_progress",
    ]


def test_sweep_marks_overdue_visible_in_case_list(town: Cli) -> None:
    number = _case_due_friday(town)

    result = town.json("sweep", "--on", "2025-08-04", "--only", "monitoring_due")  # 6 business days late

    assert result["sweeps"][0]["marked_overdue"] == [number]
    assert result["sweeps"][0]["queued"] == {
        "reminder.monitoring_overdue": 1,
        "escalation.monitoring_overdue": 2,
    }
    shown = town.json("case", "show", number)
    assert shown["case"]["overdue"] is True


def test_sweep_on_closed_day_does_nothing(town: Cli) -> None:
    _case_due_friday(town)

    result = town("sweep", "--on", "2025-07-21")  # 海の日

    assert "閉庁日（海の日）" in result.stdout
    assert town.json("outbox", "list") == []


def test_sweep_refuses_unknown_name(town: Cli) -> None:
    result = town("sweep", "--only", "monitoring", ok=False)
    assert result.exit_code == 1
    assert "不明な処理です: monitoring" in result.stderr


def test_demo_ends_with_the_sweep_and_delivery_to_its_own_sink(
    cli: Cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from notifications import read_sink
    from yorisoi.settings import get_settings

    # A municipality's Apprise file is configured: the demo must still message nobody.
    apprise = tmp_path / "apprise.yaml"
    apprise.write_text("version: 1\nurls:\n  - json://127.0.0.1:9/never:\n      - tag: staff:x\n", "utf-8")
    monkeypatch.setenv("YORISOI_NOTIFICATIONS__APPRISE_CONFIG", str(apprise))
    get_settings.cache_clear()
    path = tmp_path / "demo.db"

    report = cli.json("demo", "--cases", "31", "--path", str(path))["reminders"]

    sink = tmp_path / "demo-notifications.jsonl"
    assert report["sink"] == str(sink) and report["on"] == "2025-03-31"
    delivered = read_sink(sink)
    assert [(d["recipient"], d["title"]) for d in delivered] == [
        (d["recipient"], d["title"]) for d in report["delivered"]
    ]
    assert sum(report["queued"].values()) == len(delivered) > 0
    assert report["queued"]["escalation.monitoring_overdue"] > 0
    assert all(d["recipient"].startswith("staff:") for d in delivered)
    with closing(sqlite3.connect(path)) as db:
        overdue = [n for (n,) in db.execute('SELECT number FROM "case" WHERE overdue ORDER BY number')]
    assert overdue == sorted(report["marked_overdue"])


def test_sweep_names_in_help_are_the_sweeps() -> None:
    # The CLI lists them without importing the sweeps (`yorisoi --help` stays light).
    from yorisoi.cli.schedule import SWEEP_NAMES
    from yorisoi.sweeps import SWEEPS

    assert SWEEP_NAMES == tuple(SWEEPS)


def test_a_day_replayed_with_now_is_delivered_as_of_that_day(town: Cli) -> None:
    """`sweep --now T` then `outbox dispatch --now T'`: the reminders are due from T, not from the
    real clock, so a past morning is replayed end to end (issue 14)."""
    from notifications import read_sink
    from yorisoi.settings import get_settings

    number = _case_due_friday(town)

    swept = town.json("sweep", "--now", "2025-07-22T08:30:00+09:00")
    sent = town.json("outbox", "dispatch", "--now", "2025-07-22T09:00:00+09:00")
    again = town.json("outbox", "dispatch", "--now", "2025-07-22T09:05:00+09:00")

    assert swept["on"] == "2025-07-22" and swept["queued"] == 1
    [queued] = town.json("outbox", "list")
    assert queued["available_at"].startswith("2025-07-21T23:30:00")  # 08:30 in Tokyo, that day
    assert (sent["sent"], again["sent"]) == (1, 0)
    [message] = read_sink(get_settings().data_dir / "notifications.jsonl")
    assert number in message["title"] and message["recipient"] == "staff:tanaka"


def test_sweep_refuses_a_day_that_is_not_the_day_of_now(town: Cli) -> None:
    result = town("sweep", "--on", "2025-07-23", "--now", "2025-07-22T08:30:00+09:00", ok=False)

    assert "--on 2025-07-23 と --now の日付（2025-07-22、Asia/Tokyo）が違います" in result.stderr
    assert town.json("outbox", "list") == []


@pytest.mark.parametrize("command", [("sweep",), ("outbox", "dispatch")])
def test_now_is_documented_in_help(cli: Cli, command: tuple[str, ...]) -> None:
    shown = cli(*command, "--help").stdout

    assert "--now" in shown and "DATETIME" in shown
