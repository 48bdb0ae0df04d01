"""Load and validate a lifecycle file (YAML) into a `Lifecycle`.

Validation collects every problem with the line it is on, so a municipality editing its own
file sees all mistakes at once: unknown keys, unknown stages, unreachable stages, dead ends,
guard names that do not exist, transitions to nowhere — and what the engine relies on: every
trigger's `action` known, the actions and stage kinds the engine needs present, and each
action's rules kept (`states.actions`: guards that cannot be dropped, where it may lead, who
may take it).
"""

from __future__ import annotations

import re
from collections import deque
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from states.actions import ACTION_RULES, REQUIRED_STAGE_KINDS, ActionRule, StageKind
from states.guards import GUARDS
from states.stages import Role

_IDENTIFIER = re.compile(r"^[a-z][a-z0-9_]*$")
_LINE = "__line__"
_KEY_LINES = "__key_lines__"
_META = {_LINE, _KEY_LINES}


class LifecycleError(ValueError):
    """A lifecycle file is invalid; `problems` holds (line, message) pairs."""

    def __init__(self, source: str, problems: list[tuple[int, str]]) -> None:
        self.source = source
        self.problems = sorted(problems)
        lines = [f"{source}:{line}: {message}" for line, message in self.problems]
        super().__init__("ライフサイクル定義に誤りがあります / invalid lifecycle:\n" + "\n".join(lines))


@dataclass(frozen=True, slots=True)
class StageDef:
    name: str
    ja: str
    en: str
    final: bool = False
    kind: str | None = None


@dataclass(frozen=True, slots=True)
class TriggerDef:
    name: str
    ja: str
    en: str
    roles: frozenset[str]
    action: str = "note"


@dataclass(frozen=True, slots=True)
class TransitionDef:
    trigger: str
    sources: tuple[str, ...]
    dest: str | None
    guards: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Lifecycle:
    name: str
    initial: str
    stages: tuple[StageDef, ...]
    triggers: dict[str, TriggerDef]
    transitions: tuple[TransitionDef, ...]
    monitoring_interval_days: int = 90
    consent_review_days: int = 365
    version: int | None = None
    """The version in force this lifecycle is (None: read from a file, not from the database)."""
    former_labels: Mapping[str, str] = field(default_factory=dict)
    """Japanese labels of stages and triggers only earlier versions had, for old events."""

    def stage(self, name: str) -> StageDef:
        return next(s for s in self.stages if s.name == name)

    @property
    def final_stages(self) -> frozenset[str]:
        return frozenset(s.name for s in self.stages if s.final)

    @property
    def open_stages(self) -> tuple[str, ...]:
        return tuple(s.name for s in self.stages if not s.final)

    def stage_label(self, name: str) -> str:
        found = [s for s in self.stages if s.name == name]
        return found[0].ja if found else self.former_labels.get(name, name)

    def stages_of_kind(self, kind: str) -> frozenset[str]:
        """The stages the engine treats as `kind` (e.g. where monitoring runs)."""
        return frozenset(s.name for s in self.stages if s.kind == kind)

    @property
    def monitoring_stages(self) -> frozenset[str]:
        return self.stages_of_kind(StageKind.MONITORING)

    def triggers_of(self, *actions: str) -> tuple[str, ...]:
        """The triggers bound to any of `actions`, in file order."""
        return tuple(name for name, t in self.triggers.items() if t.action in actions)

    def action_of(self, trigger: str) -> str | None:
        found = self.triggers.get(trigger)
        return found.action if found else None


class _LineLoader(yaml.SafeLoader):
    """A SafeLoader that remembers the line of every mapping and of each of its keys.

    Errors point at the key at fault (`gaurds:`, `dest:`), not at the first line of the
    mapping, which for a trigger is the line after its name.
    """

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        mapping = super().construct_mapping(node, deep=deep)
        mapping[_LINE] = node.start_mark.line + 1
        mapping[_KEY_LINES] = {
            key.value: key.start_mark.line + 1
            for key, _value in node.value
            if isinstance(key, yaml.ScalarNode)
        }
        return mapping


def _line(mapping: dict[str, Any], key: str) -> int:
    """The line of `key` in `mapping` if it is there, else the mapping's first line."""
    lines: dict[str, int] = mapping.get(_KEY_LINES, {})
    return int(lines.get(str(key), mapping[_LINE]))


_TOP_KEYS = {
    "name",
    "initial",
    "stages",
    "triggers",
    "transitions",
    "monitoring_interval_days",
    "consent_review_days",
}
_STAGE_KEYS = {"name", "ja", "en", "final", "kind"}
_TRIGGER_KEYS = {"ja", "en", "roles", "action"}
_TRANSITION_KEYS = {"trigger", "source", "dest", "guards"}


class _Checker:
    def __init__(self) -> None:
        self.problems: list[tuple[int, str]] = []

    def add(self, line: int, message: str) -> None:
        self.problems.append((line, message))

    def keys(self, mapping: dict[str, Any], allowed: set[str], what: str) -> None:
        for key in mapping:
            if key not in _META and key not in allowed:
                self.add(
                    _line(mapping, key),
                    f"unknown key '{key}' in {what} (allowed: {', '.join(sorted(allowed))})",
                )

    def text(self, mapping: dict[str, Any], key: str, what: str) -> str:
        value = mapping.get(key)
        if not isinstance(value, str) or not value.strip():
            self.add(_line(mapping, key), f"{what} needs a non-empty '{key}'")
            return ""
        return value

    def positive_int(self, mapping: dict[str, Any], key: str, default: int) -> int:
        value = mapping.get(key, default)
        if not isinstance(value, int) or isinstance(value, bool) or not 1 <= value <= 3660:
            self.add(_line(mapping, key), f"'{key}' must be a whole number of days between 1 and 3660")
            return default
        return value


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def parse_lifecycle(text: str, source: str = "<lifecycle>", *, reserved: Collection[str] = ()) -> Lifecycle:
    """Parse and validate lifecycle YAML; raise `LifecycleError` listing every problem.

    `reserved`: names a trigger may not have (the case service's record actions and events).
    """
    try:
        doc = yaml.load(text, Loader=_LineLoader)  # noqa: S506 - a SafeLoader subclass
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        raise LifecycleError(source, [((mark.line + 1) if mark else 1, f"not valid YAML: {exc}")]) from None
    if not isinstance(doc, dict):
        raise LifecycleError(
            source, [(1, "the file must be a mapping with stages, triggers and transitions")]
        )
    check = _Checker()
    check.keys(doc, _TOP_KEYS, "the lifecycle")
    stages = _parse_stages(doc, check)
    stage_names = {s.name for s in stages}
    stage_lines = {s.name: line for s, line in stages.items()}
    triggers = _parse_triggers(doc, check, frozenset(reserved))
    transitions, used_triggers = _parse_transitions(doc, check, stage_names, triggers)
    # Checked here, not when building the result: a bad value must be reported, not defaulted.
    monitoring_interval_days = check.positive_int(doc, "monitoring_interval_days", 90)
    consent_review_days = check.positive_int(doc, "consent_review_days", 365)

    initial = str(doc.get("initial", ""))
    if initial not in stage_names:
        check.add(_line(doc, "initial"), f"'initial' names unknown stage {initial!r}")
    elif initial in {s.name for s in stages if s.final}:
        check.add(stage_lines[initial], f"the initial stage '{initial}' cannot be final")
    if stages and not any(s.final for s in stages):
        check.add(_line(doc, "stages"), "no stage is marked 'final: true' (a case could never close)")
    for name, line in triggers.values():
        if name.name not in used_triggers:
            check.add(line, f"trigger '{name.name}' is declared but no transition uses it")

    _check_kinds(doc, stages, check)
    _check_actions(doc, stages, triggers, transitions, check)
    if not check.problems:
        _check_graph(initial, stages, transitions, check)
    if check.problems:
        raise LifecycleError(source, check.problems)
    return Lifecycle(
        name=str(doc.get("name", "custom")),
        initial=initial,
        stages=tuple(stages),
        triggers={name: t for name, (t, _line) in triggers.items()},
        transitions=tuple(t for t, _line in transitions),
        monitoring_interval_days=monitoring_interval_days,
        consent_review_days=consent_review_days,
    )


def _parse_stages(doc: dict[str, Any], check: _Checker) -> dict[StageDef, int]:
    stages: dict[StageDef, int] = {}
    seen: set[str] = set()
    raw = doc.get("stages")
    if not isinstance(raw, list) or not raw:
        check.add(_line(doc, "stages"), "'stages' must be a non-empty list")
        return stages
    for item in raw:
        if not isinstance(item, dict):
            check.add(_line(doc, "stages"), f"each stage must be a mapping, got {item!r}")
            continue
        check.keys(item, _STAGE_KEYS, "a stage")
        name = check.text(item, "name", "a stage")
        if name and not _IDENTIFIER.match(name):
            check.add(_line(item, "name"), f"stage name '{name}' must be lower_snake_case ASCII")
        if name in seen:
            check.add(_line(item, "name"), f"stage '{name}' is defined twice")
        seen.add(name)
        kind = item.get("kind")
        if kind is not None and kind not in {k.value for k in StageKind}:
            check.add(
                _line(item, "kind"),
                f"stage '{name}' has unknown kind {kind!r} (known: {', '.join(k.value for k in StageKind)})",
            )
        final = bool(item.get("final", False))
        if kind is not None and final:
            check.add(_line(item, "kind"), f"stage '{name}' is final, so it cannot be a '{kind}' stage")
        stage = StageDef(
            name,
            check.text(item, "ja", f"stage '{name}'"),
            check.text(item, "en", f"stage '{name}'"),
            final,
            None if kind is None else str(kind),
        )
        stages[stage] = item[_LINE]
    return stages


def _parse_triggers(
    doc: dict[str, Any], check: _Checker, reserved: frozenset[str]
) -> dict[str, tuple[TriggerDef, int]]:
    triggers: dict[str, tuple[TriggerDef, int]] = {}
    raw = doc.get("triggers")
    if not isinstance(raw, dict):
        check.add(_line(doc, "triggers"), "'triggers' must be a mapping of trigger name to labels and roles")
        return triggers
    known_roles = {r.value for r in Role}
    for name, item in raw.items():
        if name in _META:
            continue
        line = _line(raw, name)
        if not isinstance(item, dict):
            check.add(line, f"trigger '{name}' must be a mapping with ja, en and roles")
            continue
        check.keys(item, _TRIGGER_KEYS, f"trigger '{name}'")
        if not _IDENTIFIER.match(str(name)):
            check.add(line, f"trigger name '{name}' must be lower_snake_case ASCII")
        if name in reserved:
            check.add(line, f"trigger name '{name}' is taken by the case service's own action of that name")
        roles = _as_list(item.get("roles", []))
        for role in roles:
            if role not in known_roles:
                check.add(
                    _line(item, "roles"),
                    f"trigger '{name}' names unknown role {role!r} (known: {', '.join(sorted(known_roles))})",
                )
        if not roles:
            check.add(_line(item, "roles"), f"trigger '{name}' needs at least one role in 'roles'")
        action = item.get("action")
        if action not in ACTION_RULES:
            check.add(
                _line(item, "action") if "action" in item else line,
                f"trigger '{name}' needs an 'action' the engine knows, got {action!r} "
                f"(known: {', '.join(ACTION_RULES)})",
            )
        elif name in ACTION_RULES and action != name:
            check.add(
                _line(item, "action"),
                f"trigger '{name}' has the name of the action '{name}' but is bound to '{action}': "
                "rename it, or bind it to its namesake",
            )
        else:
            within = ACTION_RULES[action].roles_within
            given = set(map(str, roles)) & known_roles  # unknown ones are reported above
            beyond = sorted(given - within) if within is not None else []
            if beyond:
                check.add(
                    _line(item, "roles"),
                    f"trigger '{name}' ({action}) may only be given to {', '.join(sorted(within or ()))}, "
                    f"not {', '.join(beyond)}",
                )
        triggers[name] = (
            TriggerDef(
                name,
                check.text(item, "ja", f"trigger '{name}'"),
                check.text(item, "en", f"trigger '{name}'"),
                frozenset(roles),
                str(action) if action in ACTION_RULES else "note",
            ),
            line,
        )
    return triggers


def _parse_transitions(
    doc: dict[str, Any],
    check: _Checker,
    stage_names: set[str],
    triggers: dict[str, tuple[TriggerDef, int]],
) -> tuple[list[tuple[TransitionDef, int]], set[str]]:
    result: list[tuple[TransitionDef, int]] = []
    used: set[str] = set()
    raw = doc.get("transitions")
    if not isinstance(raw, list) or not raw:
        check.add(_line(doc, "transitions"), "'transitions' must be a non-empty list")
        return result, used
    for item in raw:
        if not isinstance(item, dict):
            check.add(_line(doc, "transitions"), f"each transition must be a mapping, got {item!r}")
            continue
        line = item[_LINE]
        check.keys(item, _TRANSITION_KEYS, "a transition")
        trigger = item.get("trigger")
        if trigger not in triggers:
            check.add(
                _line(item, "trigger"),
                f"transition uses trigger {trigger!r}, which is not declared under 'triggers'",
            )
        used.add(str(trigger))
        sources = [str(s) for s in _as_list(item.get("source"))]
        for source in sources:
            if source not in stage_names:
                check.add(
                    _line(item, "source"), f"transition '{trigger}' starts from unknown stage {source!r}"
                )
        dest = item.get("dest")
        if dest is not None and dest not in stage_names:
            check.add(_line(item, "dest"), f"transition '{trigger}' goes to nowhere: unknown stage {dest!r}")
        guards = [str(g) for g in _as_list(item.get("guards", []))]
        for guard in guards:
            if guard not in GUARDS:
                check.add(
                    _line(item, "guards"),
                    f"transition '{trigger}' names guard {guard!r}, which does not "
                    f"exist (known: {', '.join(sorted(GUARDS))})",
                )
        result.append((TransitionDef(str(trigger), tuple(sources), dest, tuple(guards)), line))
    return result, used


def _check_kinds(doc: dict[str, Any], stages: dict[StageDef, int], check: _Checker) -> None:
    present = {s.kind for s in stages}
    for kind in sorted(REQUIRED_STAGE_KINDS - present):
        check.add(
            _line(doc, "stages"),
            f"no stage has 'kind: {kind}': the engine needs one (the stage where monitoring runs)",
        )


def _check_actions(
    doc: dict[str, Any],
    stages: dict[StageDef, int],
    triggers: dict[str, tuple[TriggerDef, int]],
    transitions: list[tuple[TransitionDef, int]],
    check: _Checker,
) -> None:
    """Hold every trigger to its action's rules; the engine's required actions must be bound."""
    if not triggers:
        return
    bound = {t.action for t, _line in triggers.values()}
    for rule in ACTION_RULES.values():
        if rule.required and rule.name not in bound:
            check.add(
                _line(doc, "triggers"),
                f"no trigger has 'action: {rule.name}' ({rule.ja}): the engine needs one",
            )
    by_name = {s.name: s for s in stages}
    sources_of: dict[str, set[str]] = {}
    for transition, line in transitions:
        found = triggers.get(transition.trigger)
        if found is None:
            continue
        rule = ACTION_RULES[found[0].action]
        sources_of.setdefault(rule.name, set()).update(transition.sources)
        _check_transition(transition, line, rule, by_name, check)
    for rule in ACTION_RULES.values():
        if rule.from_every_of_kind and rule.source_kind and rule.name in bound:
            missing = sorted(
                s.name
                for s in stages
                if s.kind == rule.source_kind and s.name not in sources_of.get(rule.name, ())
            )
            if missing:
                check.add(
                    _line(doc, "transitions"),
                    f"'{rule.name}' must be possible from every '{rule.source_kind}' stage; "
                    f"missing from: {', '.join(missing)}",
                )


def _check_transition(
    t: TransitionDef, line: int, rule: ActionRule, stages: dict[str, StageDef], check: _Checker
) -> None:
    what = f"transition '{t.trigger}' ({rule.name})"
    missing = sorted(rule.guards - set(t.guards))
    if missing:
        check.add(line, f"{what} must carry the guard(s) {', '.join(missing)}")
    dest = stages.get(t.dest) if t.dest is not None else None
    moves = dest is not None and any(source != dest.name for source in t.sources)
    if rule.stays and moves:
        check.add(line, f"{what} never changes the stage: remove 'dest'")
    if dest is not None and moves:
        if rule.dest_kind is not None and dest.kind != rule.dest_kind:
            check.add(line, f"{what} must lead to a stage of kind '{rule.dest_kind}', not '{dest.name}'")
        if rule.dest_final is True and not dest.final:
            check.add(line, f"{what} must lead to a final stage, not '{dest.name}'")
        if rule.dest_final is False and dest.final:
            check.add(line, f"{what} cannot lead to the final stage '{dest.name}'")
    elif rule.dest_final is True or rule.dest_kind is not None:
        check.add(line, f"{what} must change the stage: give it a 'dest'")
    for source in t.sources:
        stage = stages.get(source)
        if stage is None:
            continue
        if rule.source_kind is not None and stage.kind != rule.source_kind:
            check.add(line, f"{what} may only start from a '{rule.source_kind}' stage, not '{source}'")
        if rule.source_final is True and not stage.final:
            check.add(line, f"{what} may only start from a final stage, not '{source}'")
        if rule.source_final is False and stage.final:
            check.add(line, f"{what} cannot start from the final stage '{source}'")


def _check_graph(
    initial: str, stages: dict[StageDef, int], transitions: list[tuple[TransitionDef, int]], check: _Checker
) -> None:
    edges: dict[str, set[str]] = {s.name: set() for s in stages}
    back: dict[str, set[str]] = {s.name: set() for s in stages}
    for t, _line in transitions:
        if t.dest is not None:
            for source in t.sources:
                if source != t.dest:
                    edges[source].add(t.dest)
                    back[t.dest].add(source)
    reached = _closure({initial}, edges)
    # Stages that can still end: a loop with no way to a final stage traps cases as surely
    # as a stage with no transition out.
    can_finish = _closure({s.name for s in stages if s.final}, back)
    for stage, line in stages.items():
        if stage.name not in reached:
            check.add(line, f"stage '{stage.name}' is unreachable from '{initial}'")
        elif not stage.final and not edges[stage.name]:
            check.add(
                line, f"stage '{stage.name}' is a dead end: it is not final and no transition leads out of it"
            )
        elif stage.name not in can_finish:
            check.add(line, f"stage '{stage.name}' is a dead end: no path leads from it to a final stage")


def _closure(start: set[str], edges: dict[str, set[str]]) -> set[str]:
    """Every stage reachable from `start` along `edges` (including `start`)."""
    reached = set(start)
    queue = deque(start)
    while queue:
        for nxt in edges[queue.popleft()] - reached:
            reached.add(nxt)
            queue.append(nxt)
    return reached


def load_lifecycle(path: Path | None = None, *, reserved: Collection[str] = ()) -> Lifecycle:
    """Load a lifecycle file, or the default lifecycle shipped with yorisoi."""
    if path is None:
        text = resources.files("states").joinpath("lifecycles/default.yaml").read_text("utf-8")
        return parse_lifecycle(text, "default.yaml", reserved=reserved)
    try:
        text = Path(path).read_text("utf-8")
    except OSError as exc:
        raise LifecycleError(str(path), [(0, f"cannot read the file: {exc.strerror}")]) from exc
    return parse_lifecycle(text, str(path), reserved=reserved)
