"""`yorisoi sweep` through the real app: dry run, progress, JSON, re-run, closed days."""

from __future__ import annotations

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
