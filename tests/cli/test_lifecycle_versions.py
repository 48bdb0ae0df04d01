"""`yorisoi lifecycle apply|versions` and the CLI on a municipality's own lifecycle."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from tests.cli.conftest import DESK, Cli, _build_town, open_case, to_monitoring
from yorisoi.service.lifecycles import file_text

SHIPPED = Path(__file__).resolve().parents[2] / "states" / "lifecycles"


def _default_with_monitoring_renamed(tmp_path: Path) -> Path:
    text, _ = file_text(None)
    doc = yaml.safe_load(text)
    doc["name"] = "city-2026"
    for stage in doc["stages"]:
        if stage["name"] == "monitoring":
            stage["name"], stage["ja"] = "shien", "支援実施"
    for t in doc["transitions"]:
        sources = t["source"] if isinstance(t["source"], list) else [t["source"]]
        t["source"] = ["shien" if s == "monitoring" else s for s in sources]
        if t.get("dest") == "monitoring":
            t["dest"] = "shien"
    path = tmp_path / "city-2026.yaml"
    path.write_text(yaml.safe_dump(doc, allow_unicode=True, sort_keys=False), "utf-8")
    return path


def test_apply_refused_without_map_then_migrated_and_audited_with_it(town: Cli, tmp_path: Path) -> None:
    monitored = open_case(town)
    to_monitoring(town, monitored)
    waiting = open_case(town)
    new = _default_with_monitoring_renamed(tmp_path)

    refused = town("lifecycle", "apply", str(new), actor="sato", ok=False)
    assert "段階 monitoring（支援・モニタリング）に 1 件のケースがあります" in refused.stderr
    assert town.json("lifecycle", "versions")[-1]["version"] == 1

    dry = town.json("lifecycle", "apply", str(new), "--map", "monitoring=shien", "--dry-run", actor="sato")
    assert dry["to_version"] is None and dry["cases"] == 2
    assert {(m["from_stage"], m["to_stage"], m["cases"]) for m in dry["moves"]} == {
        ("intake", "intake", 1),
        ("monitoring", "shien", 1),
    }
    assert town.json("case", "show", monitored)["case"]["stage"] == "monitoring"  # nothing written

    coordinator = town("lifecycle", "apply", str(new), "--map", "monitoring=shien", actor="tanaka", ok=False)
    assert "権限がありません" in coordinator.stderr

    applied = town("lifecycle", "apply", str(new), "--map", "monitoring=shien", actor="sato")
    assert "第2版として適用し、2 件のケースを移行しました" in applied.stdout
    shown = town.json("case", "show", monitored)
    assert shown["case"]["stage"] == "shien"
    migration = shown["timeline"][-1]
    assert (migration["action"], migration["from_stage"], migration["to_stage"]) == (
        "migrate_lifecycle",
        "monitoring",
        "shien",
    )
    assert migration["actor_login"] == "sato"
    assert town.json("case", "show", waiting)["case"]["lifecycle_version"] == 2
    versions = town.json("lifecycle", "versions")
    assert [(v["version"], v["name"], v["applied_by"], v["in_force"]) for v in versions] == [
        (1, "default", None, False),
        (2, "city-2026", "sato", True),
    ]
    assert versions[1]["stage_map"] == {"monitoring": "shien"}

    # Work continues under version 2; the replay checks each event against its own version.
    town("monitoring", "record", monitored, "--summary", "外出が定着", "--on", "2025-07-20", actor="tanaka")
    assert town.json("audit", "verify")["ok"] is True
    shown_text = town("case", "show", monitored).stdout
    assert "ライフサイクルの移行" in shown_text and "支援実施" in shown_text


@pytest.fixture(name="tsunagi_town")
def tsunagi_town_fixture(cli: Cli, monkeypatch: pytest.MonkeyPatch) -> Cli:
    """A town whose database was created with the tsunagi lifecycle configured."""
    from yorisoi.settings import get_settings

    monkeypatch.setenv("YORISOI_LIFECYCLE__FILE", str(SHIPPED / "tsunagi.yaml"))
    get_settings.cache_clear()
    _build_town(cli)
    return cli


def test_cli_walks_a_case_on_a_lifecycle_with_every_name_changed(tsunagi_town: Cli) -> None:
    cli = tsunagi_town
    number = open_case(cli)
    meeting = to_monitoring(cli, number)  # case assess, consent give, meeting hold, plan draft, plan approve
    shown = cli.json("case", "show", number)
    assert shown["case"]["stage"] == "shien_jisshi"
    assert [e["action"] for e in shown["timeline"]][1:] == [
        "seiri_kaishi",
        "give_consent",
        "doui_kaigi",
        "plan_an",
        "plan_kettei",
    ]
    cli("monitoring", "record", number, "--summary", "外出できた", "--on", "2025-07-20", actor="tanaka")
    # The municipality's own steps go through `case do`, by the trigger names of its file.
    cli("case", "do", number, "mimamori_ikou", "--set", "note=週1回の電話で見守り", actor="tanaka")
    assert cli.json("case", "show", number)["case"]["stage"] == "mimamori"
    cli(
        "case",
        "do",
        number,
        "hikitsugi",
        "--set",
        "agency_id=2",
        "--set",
        "note=包括へ引継ぎ",
        actor="tanaka",
    )
    assert cli.json("case", "show", number)["case"]["stage"] == "tsunagi"
    cli(
        "closure",
        "propose",
        number,
        "--reason",
        "referred_single_agency",
        "--evaluation",
        "包括へ移行",
        actor="tanaka",
    )
    cli("closure", "approve", number, actor="sato")
    assert cli.json("case", "show", number)["case"]["stage"] == "shuryo"
    listed = cli("case", "list").stdout
    assert "支援終了" in listed and number in listed
    assert cli.json("audit", "verify")["ok"] is True
    assert meeting > 0
    with_desk = cli("case", "show", number).stdout
    assert DESK in with_desk and "他機関へ引き継ぐ（つなぎ）" in with_desk
