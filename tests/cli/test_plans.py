"""支援プラン: draft, approve (four eyes, at a 重層的支援会議), revise, show; monitoring."""

from __future__ import annotations

from tests.cli.conftest import ELDERLY, POVERTY, Cli, open_case, to_monitoring, to_multilayer


def draft(town: Cli, number: str, *extra: str) -> dict[str, object]:
    return dict(
        town.json(
            "plan", "draft", number, "--goal", "ひきこもり=週1回外出できる", "--goal", "家計が安定する",
            "--role", f"{ELDERLY}=母の介護調整", "--role", f"{POVERTY}=家計相談", "--lead", POVERTY,
            "--external", f"ケアプラン@{ELDERLY}", "--household-goal", "世帯が安定して暮らせる",
            "--interval-days", "45", "--on", "2025-06-20", *extra, actor="tanaka",
        )
    )  # fmt: skip


def test_draft_plan_records_goals_roles_and_lead(town: Cli) -> None:
    number = open_case(town)
    to_multilayer(town, number)
    drafted = draft(town, number)
    assert (drafted["to_stage_ja"], drafted["plan_version"]) == ("支援プラン", 1)
    [plan] = town.json("plan", "show", number)["plans"]
    assert plan["goals"] == [["ひきこもり", "週1回外出できる"], ["", "家計が安定する"]]
    assert [(r["agency"], r["is_lead"]) for r in plan["roles"]] == [(ELDERLY, False), (POVERTY, True)]
    assert plan["external_plans"] == [["ケアプラン", ELDERLY, ""]]
    assert (plan["status"], plan["monitoring_interval_days"]) == ("draft", 45)
    shown = town("plan", "show", number).stdout
    assert "支援プラン 第1版（承認待ち、第1期）" in shown and "【主担当】" in shown


def test_draft_plan_with_lead_outside_roles_changes_nothing(town: Cli) -> None:
    number = open_case(town)
    to_multilayer(town, number)
    before = town.state(number)
    failed = town.json("plan", "draft", number, "--goal", "外出", "--role", f"{ELDERLY}=介護",
                       "--lead", POVERTY, actor="tanaka", ok=False)  # fmt: skip
    assert failed["code"] == "invalid_input" and "主担当" in failed["message_ja"]
    assert town.state(number) == before


def test_approve_plan_by_its_author_is_refused(town: Cli) -> None:
    number = open_case(town)
    meeting = to_multilayer(town, number)
    town.json("plan", "draft", number, "--goal", "外出できる", "--role", f"{POVERTY}=家計相談",
              "--on", "2025-06-20", actor="suzuki")  # fmt: skip
    before = town.state(number)
    failed = town.json("plan", "approve", number, "--meeting", str(meeting), actor="suzuki", ok=False)
    assert failed["code"] == "guard_failed" and "approver_is_not_plan_author" in failed["guards"]
    assert town.state(number) == before
    approved = town("plan", "approve", number, "--meeting", str(meeting), "--on", "2025-06-25", actor="sato")
    assert approved.stdout.strip() == f"{number}: 支援プラン → 支援・モニタリング（支援プラン承認）"


def test_approve_plan_by_coordinator_is_not_permitted(town: Cli) -> None:
    number = open_case(town)
    meeting = to_multilayer(town, number)
    draft(town, number)
    failed = town.json("plan", "approve", number, "--meeting", str(meeting), actor="kato", ok=False)
    assert failed["code"] == "permission_denied"


def test_revise_plan_makes_a_new_version_to_approve_again(town: Cli) -> None:
    number = open_case(town)
    to_monitoring(town, number)
    revised = town.json("plan", "revise", number, "--goal", "就労体験に参加できる", "--on", "2025-09-01",
                        actor="tanaka")  # fmt: skip
    assert (revised["from_stage_ja"], revised["to_stage_ja"], revised["plan_version"]) == (
        "支援・モニタリング",
        "支援プラン",
        2,
    )
    held = town.json("meeting", "hold", number, "--kind", "multilayer", "--on", "2025-09-05",
                     "--attendee", f"渡辺@{POVERTY}", actor="tanaka")  # fmt: skip
    town(
        "plan", "approve", number, "--meeting", str(held["meeting_id"]), "--on", "2025-09-05", actor="suzuki"
    )
    plans = town.json("plan", "show", number)["plans"]
    assert [(p["version"], p["status"]) for p in plans] == [(1, "superseded"), (2, "approved")]
    assert [r["agency"] for r in plans[1]["roles"]] == [ELDERLY, POVERTY]  # carried over


def test_plan_show_without_plan_says_so(town: Cli) -> None:
    number = open_case(town)
    assert town("plan", "show", number).stdout.strip() == f"{number}: 支援プランはまだありません。"


def test_record_monitoring_sets_the_next_date(town: Cli) -> None:
    number = open_case(town)
    to_monitoring(town, number)
    result = town("monitoring", "record", number, "--summary", "外出できた", "--on", "2025-07-20",
                  actor="tanaka")  # fmt: skip
    assert result.stdout.splitlines() == [
        f"{number}: モニタリング記録（段階: 支援・モニタリング）",
        "  次回モニタリング 2025-08-19",
    ]
    town("monitoring", "record", number, "--summary", "順調", "--on", "2025-08-19", "--next", "2025-10-01",
         actor="tanaka")  # fmt: skip
    assert town.json("case", "show", number)["case"]["next_monitoring_on"] == "2025-10-01"


def test_record_monitoring_before_a_plan_is_refused(town: Cli) -> None:
    number = open_case(town)
    before = town.state(number)
    failed = town.json("monitoring", "record", number, "--summary", "x", actor="tanaka", ok=False)
    assert failed["code"] == "trigger_not_allowed" and failed["allowed"]
    assert town.state(number) == before
