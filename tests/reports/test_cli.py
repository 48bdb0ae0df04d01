"""`yorisoi report annual|trend` and `yorisoi audit report` through the real CLI app."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from openpyxl import load_workbook
from sqlmodel import Session, col
from typer.testing import CliRunner, Result

from models import Plan
from states import default_machine
from tests.factories import World, build_world, open_case, to_monitoring
from yorisoi import runtime
from yorisoi.cli.app import app
from yorisoi.settings import get_settings


@pytest.fixture(name="town")
def town_fixture() -> Iterator[tuple[Session, World]]:
    """The configured database (as `yorisoi init` makes it) with two cases of 令和7年度."""
    engine = runtime.engine(get_settings(), create=True)
    machine = default_machine()
    with Session(engine, expire_on_commit=False) as session:
        world = build_world(session)
        case = open_case(session, world, machine, on=dt.date(2025, 6, 2))
        to_monitoring(session, world, machine, case.case_id)
        open_case(session, world, machine, on=dt.date(2026, 3, 31))
        yield session, world
    engine.dispose()


def _run(*args: str, code: int = 0) -> Result:
    result = CliRunner(env={"COLUMNS": "200"}).invoke(app, list(args))
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    assert result.exit_code == code, result.output
    return result


def test_report_annual_table_json_and_xlsx(town: tuple[Session, World], tmp_path: Path) -> None:
    shown = _run("report", "annual", "--fy", "R7", "--as-of", "2026-03-31").stdout
    assert "令和7年度 相談実績（全体）" in shown and "相談延件数" in shown
    data = json.loads(_run("--json", "report", "annual", "--fy", "令和7年度", "--as-of", "2026-03-31").stdout)
    assert (data["consultation"]["total"]["contacts"], data["meetings"]["plans_new"]) == (2, 1)
    early = json.loads(
        _run("report", "annual", "--fy", "2025", "--as-of", "2025-12-31", "--format", "json").stdout
    )
    assert early["consultation"]["total"]["contacts"] == 1  # 2026-03-31 is after the 基準日
    out = tmp_path / "r7.xlsx"
    assert (
        "出力しました"
        in _run("report", "annual", "--fy", "R7", "--format", "xlsx", "--output", str(out)).stdout
    )
    ws = load_workbook(out)["会議・プラン・終結"]
    assert [[ws.cell(r, c).value for c in range(1, 5)] for r in (4, 5)] == [
        ["重層的支援会議", 1, 1, 0],
        ["支援会議", 0, "—", "—"],
    ]


def test_report_annual_for_one_desk_and_csv(town: tuple[Session, World], tmp_path: Path) -> None:
    _, world = town
    files = json.loads(
        _run(
            "--json", "report", "annual", "--fy", "R7", "--desk", world.desk.name,
            "--format", "csv", "--output", str(tmp_path / "csv"),
        ).stdout
    )["files"]  # fmt: skip
    assert [Path(f).name for f in files][0] == "yorisoi-R7-annual-consultation.csv"
    assert world.desk.name in Path(files[0]).read_text("utf-8-sig")


def test_report_trend_with_targets_and_chart(
    town: tuple[Session, World], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    targets = tmp_path / "targets.yaml"
    targets.write_text("targets:\n  plans.new: {R7: 2}\n", encoding="utf-8")
    monkeypatch.setenv("YORISOI_REPORTS__TARGETS_FILE", str(targets))
    get_settings.cache_clear()
    chart = tmp_path / "trend.svg"
    shown = _run(
        "report", "trend", "--from", "R6", "--to", "R7", "--as-of", "2026-03-31", "--chart", str(chart)
    )
    assert "R7（目標）" in shown.stdout and "50.0" in shown.stdout
    assert chart.read_text("utf-8").startswith('<?xml version="1.0" encoding="utf-8"?>\n<svg')
    data = json.loads(
        _run("--json", "report", "trend", "--from", "R6", "--to", "R7", "--as-of", "2026-03-31").stdout
    )
    assert data["targets"][0] == {
        "indicator": "plans.new", "fiscal_year": 2025, "short": "R7", "label": "令和7年度",
        "target": 2, "actual": 1, "rate_percent": 50.0,
    }  # fmt: skip


def test_report_refuses_bad_input(
    town: tuple[Session, World], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert "年度を読み取れません" in _run("report", "annual", "--fy", "X30", code=2).output
    assert "年度を読み取れません" in _run("report", "annual", "--fy", "令和0年度", code=2).output
    # Years before 令和 are 年度 like any other: 平成 in the titles.
    assert "平成30年度 相談実績" in _run("report", "annual", "--fy", "H30", "--as-of", "2019-03-31").stdout
    assert (
        "登録されていません"
        in _run("report", "annual", "--fy", "R7", "--desk", "どこにもない窓口", code=1).output
    )
    assert "より前" in _run("report", "trend", "--from", "R7", "--to", "R6", code=1).output
    bad = tmp_path / "targets.yaml"
    bad.write_text("targets:\n  no.such.indicator: {R7: 1}\n", encoding="utf-8")
    monkeypatch.setenv("YORISOI_REPORTS__TARGETS_FILE", str(bad))
    get_settings.cache_clear()
    assert "不明な指標" in _run("report", "annual", "--fy", "R7", code=1).output


def test_audit_report_clean_then_forged(town: tuple[Session, World]) -> None:
    session, world = town
    clean = _run("audit", "report", "--from", "2025-04-01", "--to", "2026-03-31")
    assert "指摘事項はありません" in clean.stdout and "ハッシュチェーン 異常なし" in clean.stdout
    session.execute(sa.update(Plan).values(approved_by=Plan.author_id, meeting_id=None))
    session.commit()
    forged = _run("--json", "audit", "report", "--from", "2025-04-01", "--to", "2026-03-31", code=1)
    data = json.loads(forged.stdout)
    assert not data["clean"] and not data["chain"]["ok"]
    # The approve_plan events still name the real approver and meeting.
    assert {p["code"] for p in data["chain"]["problems"]} == {"record"}
    assert {f["code"] for f in data["findings"]} == {"four_eyes_plan", "plan_without_meeting"}
    assert (
        data["plan_approvals"][0]["author"] == data["plan_approvals"][0]["approver"] == "田中 花子 (tanaka)"
    )
    assert world.coordinator.id is not None
    assert session.execute(sa.select(col(Plan.approved_by))).scalar() == world.coordinator.id
