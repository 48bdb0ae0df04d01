"""Lifecycle files: the shipped ones are sound; broken ones are refused, naming the line."""

from __future__ import annotations

import datetime as dt
import textwrap
from collections import deque
from importlib import resources
from pathlib import Path

import pytest

from states import GUARDS, Lifecycle, LifecycleError, LifecycleMachine, Role, load_lifecycle
from states.definition import parse_lifecycle
from states.guards import Actor, PlanFacts
from tests.lifecycle_names import Stage

LIFECYCLE_DIR = Path(str(resources.files("states").joinpath("lifecycles")))
SHIPPED = sorted(LIFECYCLE_DIR.glob("*.yaml"))


def _edges(lifecycle: Lifecycle) -> dict[str, set[str]]:
    """Stage-changing edges, computed here rather than trusting the validator."""
    edges: dict[str, set[str]] = {s.name: set() for s in lifecycle.stages}
    for t in lifecycle.transitions:
        for source in t.sources:
            if t.dest is not None and t.dest != source:
                edges[source].add(t.dest)
    return edges


def _reachable(start: set[str], edges: dict[str, set[str]]) -> set[str]:
    seen, queue = set(start), deque(start)
    while queue:
        for nxt in edges[queue.popleft()] - seen:
            seen.add(nxt)
            queue.append(nxt)
    return seen


def test_shipped_lifecycles_are_the_default_and_the_tsunagi_example() -> None:
    assert {p.name for p in SHIPPED} == {"default.yaml", "tsunagi.yaml"}


@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: p.name)
def test_shipped_lifecycle_every_stage_reachable(path: Path) -> None:
    lifecycle = load_lifecycle(path)
    assert _reachable({lifecycle.initial}, _edges(lifecycle)) == {s.name for s in lifecycle.stages}


@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: p.name)
def test_shipped_lifecycle_every_open_stage_has_a_way_out(path: Path) -> None:
    lifecycle = load_lifecycle(path)
    edges = _edges(lifecycle)
    back: dict[str, set[str]] = {s: set() for s in edges}
    for source, dests in edges.items():
        for dest in dests:
            back[dest].add(source)
    can_finish = _reachable(set(lifecycle.final_stages), back)
    for stage in lifecycle.open_stages:
        assert edges[stage], f"{stage} has no transition out"
        assert stage in can_finish, f"{stage} can never reach a final stage"


@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: p.name)
def test_shipped_lifecycle_names_only_existing_guards_roles_and_triggers(path: Path) -> None:
    lifecycle = load_lifecycle(path)
    named = {g for t in lifecycle.transitions for g in t.guards}
    assert named <= set(GUARDS)
    assert {r for t in lifecycle.triggers.values() for r in t.roles} <= {r.value for r in Role}
    assert {t.trigger for t in lifecycle.transitions} == set(lifecycle.triggers)
    assert lifecycle.final_stages and lifecycle.initial not in lifecycle.final_stages


def test_default_lifecycle_has_exactly_the_built_in_stages() -> None:
    lifecycle = load_lifecycle()
    assert [s.name for s in lifecycle.stages] == [s.value for s in Stage]
    assert lifecycle.initial == Stage.INTAKE
    assert lifecycle.final_stages == {Stage.CLOSED}
    assert lifecycle.monitoring_interval_days == 90


def test_default_lifecycle_only_supervisors_approve() -> None:
    lifecycle = load_lifecycle()
    for trigger in ("approve_plan", "approve_closure", "reject_closure"):
        assert lifecycle.triggers[trigger].roles == {Role.SUPERVISOR}


class _NoFacts:
    """Facts for transitions without guards; any question is a test failure."""

    case_id = 1
    actor = Actor(1, frozenset({"supervisor"}))

    def __getattr__(self, name: str) -> object:
        raise AssertionError(f"an unguarded transition asked for {name}")


def test_tsunagi_example_renames_every_stage_and_trigger_of_the_default() -> None:
    default, tsunagi = load_lifecycle(), load_lifecycle(LIFECYCLE_DIR / "tsunagi.yaml")
    assert not {s.name for s in default.stages} & {s.name for s in tsunagi.stages}
    assert not set(default.triggers) & set(tsunagi.triggers)
    assert tsunagi.monitoring_interval_days == 60
    assert tsunagi.monitoring_stages == {"shien_jisshi", "mimamori"}
    # Every action the default binds, the example binds too, under its own names.
    assert {t.action for t in default.triggers.values()} <= {t.action for t in tsunagi.triggers.values()}


def test_tsunagi_example_pauses_and_resumes_through_the_assessment() -> None:
    machine = LifecycleMachine(load_lifecycle(LIFECYCLE_DIR / "tsunagi.yaml"))
    assert "chudan_suru" in machine.triggers_from("mimamori")
    assert machine.triggers_from("chudan") == (
        "chudan_kaijo",
        "doui_tekkai",
        "shuryo_kettei",
        "shuryo_modoshi",
        "shuryo_teian",
    )
    resumed = machine.attempt("chudan", "chudan_kaijo", _NoFacts(), {})  # type: ignore[arg-type]
    assert resumed.accepted and resumed.stage == "kadai_seiri"
    assert machine.trigger_for("mimamori", "record_monitoring") == "kiroku"
    assert machine.trigger_for("tsunagi", "record_monitoring") is None


# --- invalid files ------------------------------------------------------------------------

TINY = textwrap.dedent(
    """\
    # a minimal valid lifecycle; each test breaks one thing
    name: tiny
    initial: intake
    stages:
      - name: intake
        ja: 受付
        en: Intake
      - name: assessment
        ja: アセスメント
        en: Assessment
      - name: support
        ja: 支援
        en: Support
        kind: monitoring
      - name: closed
        ja: 終結
        en: Closed
        final: true
    triggers:
      start_assessment:
        action: start_assessment
        ja: アセスメント開始
        en: Start assessment
        roles: [coordinator]
      meet:
        action: hold_multilayer_meeting
        ja: 会議
        en: Meet
        roles:
          - coordinator
      plan:
        action: draft_plan
        ja: プラン
        en: Plan
        roles:
          - coordinator
      approve_plan:
        action: approve_plan
        ja: プラン承認
        en: Approve plan
        roles:
          - supervisor
      monitor:
        action: record_monitoring
        ja: モニタリング
        en: Monitor
        roles:
          - coordinator
      withdraw:
        action: withdraw_consent
        ja: 撤回
        en: Withdraw
        roles:
          - coordinator
      propose:
        action: propose_closure
        ja: 終結提案
        en: Propose
        roles:
          - coordinator
      reject:
        action: reject_closure
        ja: 差戻し
        en: Reject
        roles:
          - supervisor
      approve_closure:
        action: approve_closure
        ja: 終結の承認
        en: Approve closure
        roles: [supervisor]
    transitions:
      - trigger: start_assessment
        source: intake
        dest: assessment
      - trigger: meet
        source: assessment
        guards:
          - consent_covers_attendees
          - meeting_has_attendees
      - trigger: plan
        source: assessment
        guards:
          - consent_covers_plan_agencies
      - trigger: approve_plan
        source: assessment
        dest: support
        guards:
          - plan_drafted
          - approver_is_not_plan_author
          - plan_decided_at_meeting
          - consent_covers_current_plan
      - trigger: monitor
        source: support
      - trigger: withdraw
        source: support
        dest: intake
        guards:
          - has_active_consent
      - trigger: propose
        source: [intake, assessment, support]
        guards:
          - no_pending_closure
          - closure_reason_complete
      - trigger: reject
        source: [intake, assessment, support]
        guards:
          - closure_pending
          - closure_decided_after_proposal
      - trigger: approve_closure
        source: [intake, assessment]
        dest: closed
        guards: [closure_pending, approver_is_not_closure_proposer, closure_decided_after_proposal]
    """
)


def _line_of(text: str, needle: str) -> int:
    hits = [n for n, line in enumerate(text.splitlines(), start=1) if needle in line]
    assert len(hits) == 1, f"{needle!r} must occur on exactly one line, found {hits}"
    return hits[0]


def _problems(text: str) -> list[tuple[int, str]]:
    with pytest.raises(LifecycleError) as caught:
        parse_lifecycle(text, "city.yaml")
    for line, _message in caught.value.problems:
        assert f"city.yaml:{line}:" in str(caught.value)
    return caught.value.problems


def _add_stage(text: str, block: str) -> str:
    return text.replace("triggers:\n", textwrap.indent(textwrap.dedent(block), "  ") + "triggers:\n")


def _add_trigger(text: str, block: str) -> str:
    return text.replace("transitions:\n", textwrap.indent(textwrap.dedent(block), "  ") + "transitions:\n")


def _add_transition(text: str, block: str) -> str:
    return text + textwrap.indent(textwrap.dedent(block), "  ")


def test_tiny_lifecycle_is_valid() -> None:
    lifecycle = parse_lifecycle(TINY)
    assert lifecycle.name == "tiny" and len(lifecycle.transitions) == 9
    assert lifecycle.monitoring_stages == {"support"}


def test_invalid_file_unknown_source_stage_names_its_line() -> None:
    text = TINY.replace("source: [intake, assessment]", "source: [intake, asessment]")
    (line, message), *_ = _problems(text)
    assert line == _line_of(text, "asessment") and "unknown stage 'asessment'" in message


def test_invalid_file_transition_to_nowhere_names_its_line() -> None:
    text = TINY.replace("dest: assessment", "dest: assesment")
    assert _problems(text) == [
        (
            _line_of(text, "dest: assesment"),
            "transition 'start_assessment' goes to nowhere: unknown stage 'assesment'",
        )
    ]


def test_invalid_file_unreachable_stage_names_its_line() -> None:
    text = _add_stage(TINY, "- name: orphan\n  ja: 孤立\n  en: Orphan\n")
    text = _add_transition(
        text,
        "- trigger: approve_closure\n  source: orphan\n  dest: closed\n"
        "  guards: [closure_pending, approver_is_not_closure_proposer, closure_decided_after_proposal]\n",
    )
    assert _problems(text) == [
        (_line_of(text, "name: orphan"), "stage 'orphan' is unreachable from 'intake'")
    ]


def test_invalid_file_dead_end_stage_names_its_line() -> None:
    text = _add_stage(TINY, "- name: waiting\n  ja: 待機\n  en: Waiting\n")
    text = _add_trigger(text, "wait:\n  action: note\n  ja: 待機\n  en: Wait\n  roles: [coordinator]\n")
    text = _add_transition(text, "- trigger: wait\n  source: assessment\n  dest: waiting\n")
    ((line, message),) = _problems(text)
    assert line == _line_of(text, "name: waiting")
    assert "'waiting' is a dead end" in message and "no transition leads out" in message


def test_invalid_file_loop_without_path_to_final_names_each_stage() -> None:
    text = _add_stage(TINY, "- name: ping\n  ja: 往\n  en: Ping\n- name: pong\n  ja: 復\n  en: Pong\n")
    text = _add_trigger(text, "bounce:\n  action: note\n  ja: 往復\n  en: Bounce\n  roles: [coordinator]\n")
    text = _add_transition(
        text,
        """\
        - trigger: bounce
          source: assessment
          dest: ping
        - trigger: bounce
          source: ping
          dest: pong
        - trigger: bounce
          source: pong
          dest: ping
        """,
    )
    problems = _problems(text)
    assert [line for line, _ in problems] == [_line_of(text, "name: ping"), _line_of(text, "name: pong")]
    assert all("no path leads from it to a final stage" in message for _, message in problems)


def test_invalid_file_unknown_guard_names_its_line() -> None:
    text = TINY.replace("approver_is_not_closure_proposer,", "approver_is_not_closure_proposr,")
    problems = _problems(text)
    line, message = problems[-1]
    assert line == _line_of(text, "guards: [closure_pending")
    assert "'approver_is_not_closure_proposr', which does not exist" in message
    assert "approver_is_not_closure_proposer" in message  # the known names are listed


def test_invalid_file_undeclared_trigger_names_its_line() -> None:
    text = TINY.replace("- trigger: approve_closure", "- trigger: approve_closur")
    assert _problems(text) == [
        (
            _line_of(text, "  approve_closure:"),
            "trigger 'approve_closure' is declared but no transition uses it",
        ),
        (
            _line_of(text, "- trigger: approve_closur"),
            "transition uses trigger 'approve_closur', which is not declared under 'triggers'",
        ),
    ]


def test_invalid_file_unknown_key_names_the_key_line() -> None:
    text = TINY.replace("guards: [closure_pending", "gaurds: [closure_pending")
    line, message = _problems(text)[-1]
    assert line == _line_of(text, "gaurds:")
    assert message == "unknown key 'gaurds' in a transition (allowed: dest, guards, source, trigger)"


def test_invalid_file_unknown_keys_in_stage_trigger_and_top_level() -> None:
    text = TINY.replace("    en: Assessment\n", "    en: Assessment\n    label: x\n")
    text = text.replace("    roles: [coordinator]\n", "    role: [coordinator]\n")
    text = text.replace("name: tiny\n", "name: tiny\nmonitoring_days: 30\n")
    lines = dict(_problems(text))
    assert "unknown key 'monitoring_days' in the lifecycle" in lines[_line_of(text, "monitoring_days")]
    assert "unknown key 'label' in a stage" in lines[_line_of(text, "label: x")]
    assert "unknown key 'role' in trigger 'start_assessment'" in lines[_line_of(text, "role: [coord")]


def test_invalid_file_no_final_stage_names_the_stages_line() -> None:
    text = TINY.replace("    final: true\n", "")
    problems = _problems(text)
    assert (
        _line_of(text, "stages:"),
        "no stage is marked 'final: true' (a case could never close)",
    ) in problems


def test_invalid_file_unknown_role_names_its_line() -> None:
    text = TINY.replace("roles: [supervisor]", "roles: [superviser]")
    ((line, message),) = _problems(text)
    assert line == _line_of(text, "superviser") and "unknown role 'superviser'" in message


def test_invalid_file_unused_trigger_names_the_trigger_line() -> None:
    text = _add_trigger(
        TINY, "forgotten:\n  action: note\n  ja: 未使用\n  en: Unused\n  roles: [coordinator]\n"
    )
    assert _problems(text) == [
        (_line_of(text, "forgotten:"), "trigger 'forgotten' is declared but no transition uses it")
    ]


def test_invalid_file_bad_monitoring_interval_is_reported_not_defaulted() -> None:
    text = TINY.replace("name: tiny\n", "name: tiny\nmonitoring_interval_days: 0\n")
    assert _problems(text) == [
        (
            _line_of(text, "monitoring_interval_days"),
            "'monitoring_interval_days' must be a whole number of days between 1 and 3660",
        )
    ]


def test_invalid_file_unknown_initial_stage_names_its_line() -> None:
    text = TINY.replace("initial: intake", "initial: intak")
    assert (_line_of(text, "initial: intak"), "'initial' names unknown stage 'intak'") in _problems(text)


@pytest.mark.parametrize(
    ("broken", "bad_line_text"),
    [
        ("    ja: 受付\n   en: Intake\n", "   en: Intake"),  # one space short
        ("    ja: 受付: 窓口\n    en: Intake\n", "ja: 受付: 窓口"),  # a colon in a plain value
        ("    ja: [受付\n    en: Intake\n", "    en: Intake"),  # unclosed flow list, seen on the next line
    ],
    ids=["indentation", "colon", "unclosed-list"],
)
def test_invalid_file_invalid_yaml_names_its_line(broken: str, bad_line_text: str) -> None:
    text = TINY.replace("    ja: 受付\n    en: Intake\n", broken)
    ((line, message),) = _problems(text)
    assert line == _line_of(text, bad_line_text) and message.startswith("not valid YAML")


def test_invalid_file_not_a_mapping() -> None:
    assert _problems("- just\n- a list\n") == [
        (1, "the file must be a mapping with stages, triggers and transitions")
    ]


def test_invalid_file_reports_every_problem_at_once_in_line_order() -> None:
    text = TINY.replace("dest: assessment", "dest: assesment")
    text = text.replace("guards: [closure_pending", "gaurds: [closure_pending")
    text = text.replace("roles: [supervisor]", "roles: [superviser]")
    problems = _problems(text)
    assert [line for line, _ in problems] == sorted(
        [
            _line_of(text, "superviser"),
            _line_of(text, "dest: assesment"),
            _line_of(text, "gaurds"),
            _line_of(text, "- trigger: approve_closure"),  # the guards it lost with `gaurds`
        ]
    )


def test_load_lifecycle_missing_file_is_a_lifecycle_error(tmp_path: Path) -> None:
    with pytest.raises(LifecycleError, match="cannot read the file"):
        load_lifecycle(tmp_path / "nope.yaml")


def test_load_lifecycle_reads_a_municipality_file(tmp_path: Path) -> None:
    path = tmp_path / "city.yaml"
    path.write_text(TINY.replace("guards: [closure", "gaurds: [closure"), "utf-8")
    with pytest.raises(LifecycleError) as caught:
        load_lifecycle(path)
    assert f"{path}:{_line_of(TINY, 'guards: [closure')}: unknown key 'gaurds'" in str(caught.value)


# --- what the engine relies on: kinds, actions and their rules -------------------------------


def test_invalid_file_without_a_required_action_names_the_triggers_line() -> None:
    text = TINY.replace("    action: approve_plan\n", "    action: note\n")
    problems = _problems(text)
    assert (
        _line_of(text, "triggers:"),
        "no trigger has 'action: approve_plan' (支援プラン承認): the engine needs one",
    ) in problems


def test_invalid_file_without_a_monitoring_stage_names_the_stages_line() -> None:
    text = TINY.replace("    kind: monitoring\n", "")
    problems = _problems(text)
    assert (
        _line_of(text, "stages:"),
        "no stage has 'kind: monitoring': the engine needs one (the stage where monitoring runs)",
    ) in problems


def test_invalid_file_unknown_kind_and_action_name_their_lines() -> None:
    text = TINY.replace("kind: monitoring", "kind: monitorng").replace("action: draft_plan", "action: draft")
    lines = dict(_problems(text))
    assert "unknown kind 'monitorng'" in lines[_line_of(text, "kind: monitorng")]
    assert "needs an 'action' the engine knows, got 'draft'" in lines[_line_of(text, "action: draft")]


def test_invalid_file_trigger_without_action_is_refused() -> None:
    text = TINY.replace("    action: start_assessment\n", "")
    line, message = _problems(text)[0]
    assert line == _line_of(text, "  start_assessment:")
    assert "trigger 'start_assessment' needs an 'action' the engine knows, got None" in message


def test_invalid_file_dropping_the_four_eyes_guard_names_the_transition() -> None:
    text = TINY.replace("      - approver_is_not_plan_author\n", "")
    assert _problems(text) == [
        (
            _line_of(text, "- trigger: approve_plan"),
            "transition 'approve_plan' (approve_plan) must carry the guard(s) approver_is_not_plan_author",
        )
    ]


def test_invalid_file_plan_approval_must_lead_where_monitoring_runs() -> None:
    text = TINY.replace("    dest: support\n", "    dest: closed\n")
    problems = dict(_problems(text))
    assert problems[_line_of(text, "- trigger: approve_plan")] == (
        "transition 'approve_plan' (approve_plan) must lead to a stage of kind 'monitoring', not 'closed'"
    )


def test_invalid_file_monitoring_that_moves_the_case_is_refused() -> None:
    text = TINY.replace(
        "  - trigger: monitor\n    source: support\n",
        "  - trigger: monitor\n    source: support\n    dest: assessment\n",
    )
    assert (
        _line_of(text, "- trigger: monitor"),
        "transition 'monitor' (record_monitoring) never changes the stage: remove 'dest'",
    ) in _problems(text)


def test_invalid_file_approval_given_to_coordinators_names_the_roles_line() -> None:
    text = TINY.replace("roles: [supervisor]", "roles: [coordinator, supervisor]")
    assert _problems(text) == [
        (
            _line_of(text, "roles: [coordinator, supervisor]"),
            "trigger 'approve_closure' (approve_closure) may only be given to supervisor, not coordinator",
        )
    ]


def test_invalid_file_trigger_named_like_a_record_action_is_refused() -> None:
    text = TINY.replace("  meet:\n", "  add_contact:\n").replace(
        "- trigger: meet\n", "- trigger: add_contact\n"
    )
    with pytest.raises(LifecycleError) as caught:
        parse_lifecycle(text, "city.yaml", reserved={"add_contact"})
    assert caught.value.problems == [
        (
            _line_of(text, "  add_contact:"),
            "trigger name 'add_contact' is taken by the case service's own action of that name",
        )
    ]


def test_explain_reports_every_failing_guard_where_attempt_stops_at_the_first() -> None:
    machine = LifecycleMachine(load_lifecycle())

    class Facts:
        case_id = 1
        actor = Actor(7, frozenset({"supervisor"}))
        today = dt.date(2025, 7, 1)

        def active_consent(self) -> None:
            return None

        def plan_awaiting_approval(self) -> PlanFacts:
            return PlanFacts(1, 1, author_id=7, drafted_on=dt.date(2025, 6, 1))

        def meeting(self, meeting_id: int) -> None:
            return None

    data = {"meeting_id": None}
    attempted = machine.attempt("planning", "approve_plan", Facts(), data)  # type: ignore[arg-type]
    explained = machine.explain("planning", "approve_plan", Facts(), data)  # type: ignore[arg-type]
    assert not attempted.accepted and len(attempted.refusals) == 1
    assert not explained.accepted and explained.stage == "planning"
    assert [r.guard for r in explained.refusals] == [
        "approver_is_not_plan_author",
        "plan_decided_at_meeting",
        "consent_covers_current_plan",
    ]


def test_explain_leaves_input_guards_to_the_form_when_asked() -> None:
    machine = LifecycleMachine(load_lifecycle())

    class Facts:
        case_id = 1
        actor = Actor(7, frozenset({"coordinator"}))
        today = dt.date(2025, 7, 1)

        def active_consent(self) -> None:
            return None

    explained = machine.explain(
        "assessment",
        "hold_support_meeting",
        Facts(),  # type: ignore[arg-type]
        {"attendees": []},
        skip_input_guards=True,
    )
    assert explained.accepted and explained.stage == "support_meeting"
    strict = machine.explain("assessment", "hold_support_meeting", Facts(), {"attendees": []})  # type: ignore[arg-type]
    assert [r.guard for r in strict.refusals] == ["attendees_bound_to_confidentiality"]


def test_invalid_file_trigger_named_after_another_action_is_refused() -> None:
    text = TINY.replace("  plan:\n    action: draft_plan\n", "  approve_closure_x:\n    action: draft_plan\n")
    text = text.replace("- trigger: plan\n", "- trigger: approve_closure_x\n")
    parse_lifecycle(text)  # a name of one's own is fine
    text = text.replace("approve_closure_x", "record_monitoring")
    problems = _problems(text)
    assert (
        _line_of(text, "action: draft_plan"),
        "trigger 'record_monitoring' has the name of the action 'record_monitoring' but is bound to "
        "'draft_plan': rename it, or bind it to its namesake",
    ) in problems
