"""Load and validate a lifecycle file (YAML) into a `Lifecycle`.

Validation collects every problem with the line it is on, so a municipality editing its own
file sees all mistakes at once: unknown keys, unknown stages, unreachable stages, dead ends,
guard names that do not exist, transitions to nowhere.
"""

from __future__ import annotations

import re
from collections import deque
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

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


@dataclass(frozen=True, slots=True)
class TriggerDef:
    name: str
    ja: str
    en: str
    roles: frozenset[str]


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
        return found[0].ja if found else name


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
_STAGE_KEYS = {"name", "ja", "en", "final"}
_TRIGGER_KEYS = {"ja", "en", "roles"}
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


def parse_lifecycle(text: str, source: str = "<lifecycle>") -> Lifecycle:
    """Parse and validate lifecycle YAML; raise `LifecycleError` listing every problem."""
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
    triggers = _parse_triggers(doc, check)
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
        stage = StageDef(
            name,
            check.text(item, "ja", f"stage '{name}'"),
            check.text(item, "en", f"stage '{name}'"),
            bool(item.get("final", False)),
        )
        stages[stage] = item[_LINE]
    return stages


def _parse_triggers(doc: dict[str, Any], check: _Checker) -> dict[str, tuple[TriggerDef, int]]:
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
        roles = _as_list(item.get("roles", []))
        for role in roles:
            if role not in known_roles:
                check.add(
                    _line(item, "roles"),
                    f"trigger '{name}' names unknown role {role!r} (known: {', '.join(sorted(known_roles))})",
                )
        if not roles:
            check.add(_line(item, "roles"), f"trigger '{name}' needs at least one role in 'roles'")
        triggers[name] = (
            TriggerDef(
                name,
                check.text(item, "ja", f"trigger '{name}'"),
                check.text(item, "en", f"trigger '{name}'"),
                frozenset(roles),
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


def load_lifecycle(path: Path | None = None) -> Lifecycle:
    """Load a lifecycle file, or the default lifecycle shipped with yorisoi."""
    if path is None:
        text = resources.files("states").joinpath("lifecycles/default.yaml").read_text("utf-8")
        return parse_lifecycle(text, "default.yaml")
    try:
        text = Path(path).read_text("utf-8")
    except OSError as exc:
        raise LifecycleError(str(path), [(0, f"cannot read the file: {exc.strerror}")]) from exc
    return parse_lifecycle(text, str(path))
