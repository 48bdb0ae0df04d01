"""`yorisoi demo`: a fictional year walked through the real case service."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text

from models.db import create_db_engine, sqlite_url
from states import load_lifecycle
from tests.cli.conftest import Cli
from yorisoi import demo
from yorisoi.settings import get_settings

SMALL = "45"


def rows(path: Path, sql: str) -> list[Any]:
    engine = create_db_engine(sqlite_url(path))
    with engine.connect() as connection:
        found = list(connection.execute(text(sql)))
    engine.dispose()
    return found


def scalar(path: Path, sql: str) -> Any:
    return rows(path, sql)[0][0]


@pytest.fixture(name="built", scope="module")
def built_fixture(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any]]:
    """One small demo for the module's tests (the scenario is the same at any size)."""
    from typer.testing import CliRunner

    from yorisoi.cli.app import app

    path = tmp_path_factory.mktemp("demo") / "demo.db"
    get_settings.cache_clear()
    result = CliRunner().invoke(app, ["--json", "demo", "--cases", SMALL, "--path", str(path)])
    get_settings.cache_clear()
    assert result.exit_code == 0, result.output
    return path, json.loads(result.stdout)


def test_demo_counts_match_the_municipal_reports(built: tuple[Path, dict[str, Any]]) -> None:
    path, report = built
    assert scalar(path, 'SELECT count(*) FROM "case"') == int(SMALL) == report["records"]["cases"]
    kinds = dict(rows(path, "SELECT kind, count(*) FROM meeting GROUP BY kind"))
    assert kinds == {"support_meeting": 18, "multilayer_meeting": 16}
    assert scalar(path, "SELECT count(DISTINCT case_id) FROM plan WHERE approved_on IS NOT NULL") == 13
    assert scalar(path, "SELECT count(*) FROM plan WHERE approved_on IS NOT NULL") == 14  # one revision
    closures = dict(rows(path, "SELECT status, count(*) FROM closure GROUP BY status"))
    assert closures == {"approved": 11, "rejected": 1}
    reasons = {r for (r,) in rows(path, "SELECT DISTINCT reason FROM closure WHERE status = 'approved'")}
    assert reasons == {"goals_met", "referred_single_agency", "moved_away", "declined", "died", "other"}
    assert scalar(path, "SELECT count(*) FROM audit_event WHERE action = 'withdraw_consent'") == 2
    assert scalar(path, 'SELECT count(*) FROM "case" WHERE episode = 2') == 1
    assert report["actions"]["hold_support_meeting"] == 18 and report["actions"]["approve_closure"] == 11
    contacts = scalar(path, "SELECT count(*) FROM contact")
    assert contacts == report["records"]["contacts"] and contacts > 4 * int(SMALL)
    assert scalar(path, "SELECT count(*) FROM contact_topic") > contacts  # several topics per contact
    assert scalar(path, "SELECT count(*) FROM outreach_activity WHERE kind = 'home_visit'") > 0


def test_demo_represents_every_stage_of_the_default_lifecycle(built: tuple[Path, dict[str, Any]]) -> None:
    path, report = built
    stages = dict(rows(path, 'SELECT stage, count(*) FROM "case" GROUP BY stage'))
    assert set(stages) == {s.name for s in load_lifecycle().stages}
    assert stages == report["stages"]


def test_demo_has_a_masked_dv_household_and_a_short_stay(built: tuple[Path, dict[str, Any]]) -> None:
    path, report = built
    [(household, members)] = rows(
        path,
        "SELECT h.id, count(p.id) FROM household h JOIN person p ON p.household_id = h.id "
        "WHERE h.dv_protected GROUP BY h.id",
    )
    assert members == 2  # the parent's case and the child's share the (masked) address
    [(start, end, program)] = rows(path, "SELECT start_on, end_on, program FROM program_enrolment")
    assert program == "program_short_stay"
    assert dt.date.fromisoformat(end) - dt.date.fromisoformat(start) <= dt.timedelta(days=31)
    assert set(report["examples"]) >= {"dv", "revised", "reopened", "withdrawn"}


def test_demo_ends_with_a_clean_audit(built: tuple[Path, dict[str, Any]]) -> None:
    path, report = built
    assert report["audit_ok"] is True
    assert report["audit_events"] == scalar(path, "SELECT count(*) FROM audit_event")
    assert scalar(path, 'SELECT sum(version) FROM "case"') == report["audit_events"]


def test_demo_stays_inside_fiscal_year_2024(built: tuple[Path, dict[str, Any]]) -> None:
    path, _report = built
    first, last = rows(path, "SELECT min(contacted_on), max(contacted_on) FROM contact")[0]
    assert first >= "2024-04-01" and last <= "2025-03-31"
    assert {n[:3] for (n,) in rows(path, 'SELECT number FROM "case"')} == {"R6-"}


def test_demo_rerun_replaces_the_file_with_the_same_year(
    cli: Cli, tmp_path: Path, built: tuple[Path, dict[str, Any]]
) -> None:
    path = tmp_path / "again.db"
    path.write_text("an old file that is not even a database", "utf-8")
    Path(f"{path}-wal").write_text("stale", "utf-8")
    cli("demo", "--cases", SMALL, "--path", str(path))
    fingerprint = (
        'SELECT c.number, c.stage, p.name FROM "case" c JOIN person p ON p.id = c.person_id ORDER BY 1'
    )
    assert rows(path, fingerprint) == rows(built[0], fingerprint)  # same seed, same year


def test_demo_prints_a_japanese_summary_and_never_touches_the_real_database(cli: Cli) -> None:
    cli("init")
    result = cli("demo", "--cases", "31")
    data_dir = get_settings().data_dir
    assert f"デモ用データベースを作成しました: {data_dir / 'demo.db'}" in result.stdout
    for line in (
        "支援・モニタリング",
        "重層的支援会議",
        "監査記録の検証: OK",
        f"sqlite:///{data_dir / 'demo.db'}",
    ):
        assert line in result.stdout
    assert scalar(data_dir / "yorisoi.db", 'SELECT count(*) FROM "case"') == 0


def test_demo_refuses_the_configured_database_and_too_few_cases(cli: Cli) -> None:
    cli("init")
    real = get_settings().data_dir / "yorisoi.db"
    refused = cli.json("demo", "--path", str(real), "--cases", "40", ok=False)
    assert refused["code"] == "invalid_input" and "設定されたデータベース" in refused["message_ja"]
    too_few = cli("demo", "--cases", "10", ok=False)
    assert f"{demo.STORY_CASES} 件以上" in too_few.stderr
    assert real.exists() and not (real.parent / "demo.db").exists()


def test_demo_cli_defaults_are_the_scenario_defaults(cli: Cli) -> None:
    shown = cli("demo", "--help").stdout
    assert f"default: {demo.DEFAULT_CASES}" in shown and f"default: {demo.DEFAULT_SEED}" in shown
