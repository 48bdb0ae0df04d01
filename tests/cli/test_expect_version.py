"""`--expect-version N`: a lifecycle command acts only if the case is still at version N."""

from __future__ import annotations

import pytest

from tests.cli.conftest import Cli, open_case

# Every command that fires a lifecycle trigger on a case.
LIFECYCLE_COMMANDS = [
    ("case", "assess"),
    ("case", "reopen"),
    ("closure", "propose"),
    ("closure", "approve"),
    ("closure", "reject"),
    ("consent", "withdraw"),
    ("meeting", "hold"),
    ("plan", "draft"),
    ("plan", "revise"),
    ("plan", "approve"),
    ("monitoring", "record"),
]


@pytest.mark.parametrize("command", LIFECYCLE_COMMANDS, ids=" ".join)
def test_every_lifecycle_command_offers_expect_version(cli: Cli, command: tuple[str, str]) -> None:
    assert "--expect-version" in cli(*command, "--help").stdout


def test_case_show_tells_the_version(town: Cli) -> None:
    number = open_case(town)
    _, version, events = town.state(number)
    assert version == events
    assert f"版 {version}）" in town("case", "show", number).stdout.splitlines()[0]


def test_assess_with_the_current_version_succeeds(town: Cli) -> None:
    number = open_case(town)
    _, version, events = town.state(number)
    fired = town.json("case", "assess", number, "--expect-version", str(version), actor="tanaka")
    assert (fired["to_stage"], fired["version"]) == ("assessment", version + 1)
    assert town.state(number) == ("assessment", version + 1, events + 1)


def test_assess_with_a_stale_version_changes_nothing(town: Cli) -> None:
    number = open_case(town)
    _, stale, _ = town.state(number)
    # Someone else records a contact first: the version tanaka read is now stale.
    town("case", "contact", number, "--referrer", "self", "--method", "phone", "--topic", "debt",
         actor="kato")  # fmt: skip
    before = town.state(number)
    assert before[1] == stale + 1

    result = town("case", "assess", number, "--expect-version", str(stale), actor="tanaka", ok=False)
    assert result.exit_code == 1
    assert f"エラー: ケース {number} は表示後に更新されています（版 {stale} → {stale + 1}）" in result.stderr
    assert "Error: " in result.stderr
    assert town.state(number) == before

    failed = town.json("case", "assess", number, "--expect-version", str(stale), actor="tanaka", ok=False)
    assert failed["code"] == "version_conflict"
    assert "表示後に更新されています" in failed["message_ja"]
    assert f"now {stale + 1}" in failed["message_en"]
    assert town.state(number) == before


def test_closure_approve_checks_the_version(town: Cli) -> None:
    number = open_case(town)
    town("closure", "propose", number, "--reason", "goals_met", "--evaluation", "週1回の外出が定着",
         "--expect-version", "1", actor="tanaka")  # fmt: skip
    before = town.state(number)
    stage, version, _ = before

    failed = town.json(
        "closure", "approve", number, "--expect-version", str(version - 1), actor="sato", ok=False
    )
    assert failed["code"] == "version_conflict"
    assert town.state(number) == before
    assert town.json("case", "show", number)["case"]["closures"][0]["status"] == "proposed"

    fired = town.json("closure", "approve", number, "--expect-version", str(version), actor="sato")
    assert (fired["from_stage"], fired["to_stage"], fired["version"]) == (stage, "closed", version + 1)


def test_expect_version_must_be_positive(town: Cli) -> None:
    number = open_case(town)
    result = town("case", "assess", number, "--expect-version", "0", actor="tanaka", ok=False)
    assert result.exit_code == 2
    assert town.state(number)[0] == "intake"
