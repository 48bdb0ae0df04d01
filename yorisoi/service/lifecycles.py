"""The lifecycle in force, its versions, and moving cases in flight onto a new one.

The database holds every version a municipality applied (`models.lifecycle`); the newest is
in force and every case records the version it runs on. The first version is the configured
file (`YORISOI_LIFECYCLE__FILE`, or the shipped default), recorded the first time yorisoi
opens the database. Afterwards the file setting changes nothing by itself: a new lifecycle is
applied with `yorisoi lifecycle apply FILE` (a supervisor; `--map old=new` for stages that
disappear), which writes the version and moves every case onto it with one audited
`migrate_lifecycle` event each — all in one transaction, or nothing.
"""

from __future__ import annotations

import dataclasses
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from pathlib import Path

from sqlalchemy import Table
from sqlmodel import Session, col, select

from models import Case, LifecycleVersion, Staff
from models.lifecycle import all_versions, content_hash, current_version
from states import LifecycleError, LifecycleMachine, Role, parse_lifecycle
from yorisoi.errors import InvalidInput, PermissionDenied
from yorisoi.service.journal import CaseHead, append_event, head_query
from yorisoi.service.registry import RESERVED_NAMES, SYSTEM_EVENTS

MIGRATE = "migrate_lifecycle"
assert MIGRATE in SYSTEM_EVENTS

_case: Table = Case.__table__  # type: ignore[attr-defined]
_BATCH = 1_000


def file_text(path: Path | None) -> tuple[str, str]:
    """(text, source name) of a lifecycle file, or of the shipped default for `None`."""
    if path is None:
        default = resources.files("states").joinpath("lifecycles/default.yaml")
        return default.read_text("utf-8"), "default.yaml"
    try:
        return Path(path).read_text("utf-8"), str(path)
    except OSError as exc:
        raise LifecycleError(str(path), [(0, f"cannot read the file: {exc.strerror}")]) from exc


@lru_cache(maxsize=16)
def _machine(text: str, source: str, version: int | None) -> LifecycleMachine:
    lifecycle = parse_lifecycle(text, source, reserved=RESERVED_NAMES)
    return LifecycleMachine(dataclasses.replace(lifecycle, version=version))


_in_force: dict[tuple[int, str], LifecycleMachine] = {}


def _with_history(session: Session, found: LifecycleVersion) -> LifecycleMachine:
    """The version's machine, knowing the labels of stages and triggers earlier versions had."""
    assert found.id is not None
    known = _in_force.get((found.id, found.content_hash))
    if known is not None:
        return known
    machine = _machine(found.content, f"version {found.id}", found.id)
    former: dict[str, str] = {}
    for older in all_versions(session):
        if older.id is None or older.id >= found.id:
            continue
        lifecycle = _machine(older.content, f"version {older.id}", older.id).lifecycle
        former |= {s.name: s.ja for s in lifecycle.stages} | {
            t.name: t.ja for t in lifecycle.triggers.values()
        }
    current = machine.lifecycle
    for name in [s.name for s in current.stages] + list(current.triggers):
        former.pop(name, None)
    if former:
        machine = LifecycleMachine(dataclasses.replace(current, former_labels=former))
    _in_force[(found.id, found.content_hash)] = machine
    return machine


def parse(text: str, source: str) -> LifecycleMachine:
    """A lifecycle file's machine (checked against the case service's reserved names)."""
    return _machine(text, source, None)


def in_force(session: Session, configured: Path | None) -> LifecycleMachine:
    """The machine of the version in force; records the configured file first if none is.

    Commits when it records the first version (an empty database's first use).
    """
    head = session.execute(
        select(col(LifecycleVersion.id), col(LifecycleVersion.content_hash))
        .order_by(col(LifecycleVersion.id).desc())
        .limit(1)
    ).first()
    if head is not None and (head[0], head[1]) in _in_force:
        return _in_force[(head[0], head[1])]
    found = current_version(session)
    if found is None:
        text, source = file_text(configured)
        machine = parse(text, source)
        found = LifecycleVersion(
            id=1, name=machine.lifecycle.name, content=text, content_hash=content_hash(text), applied_by=None
        )
        session.add(found)
        session.commit()
    return _with_history(session, found)


def versions(session: Session) -> dict[int, LifecycleMachine]:
    """Every recorded version's machine, for replaying old events."""
    return {v.id: _machine(v.content, f"version {v.id}", v.id) for v in all_versions(session) if v.id}


@dataclass(frozen=True, slots=True)
class Move:
    """Where the cases in one stage go."""

    from_stage: str
    to_stage: str
    cases: int


@dataclass(frozen=True, slots=True)
class ApplyPlan:
    """What applying a file would do: the new machine, and each stage's cases and where they go."""

    machine: LifecycleMachine
    from_version: int
    moves: tuple[Move, ...]
    unchanged: bool

    @property
    def cases(self) -> int:
        return sum(m.cases for m in self.moves)


def plan_apply(
    session: Session, current: LifecycleMachine, text: str, source: str, mapping: Mapping[str, str]
) -> ApplyPlan:
    """Check a new lifecycle against the cases in flight; refuse what would strand one.

    A stage that disappears must be mapped (`old=new`) when any case is in it; a mapping names
    a stage the old version has and one the new version has, and never closes or reopens a
    case (final maps to final, open to open).
    """
    machine = parse(text, source)
    new, old = machine.lifecycle, current.lifecycle
    problems: list[str] = []
    old_stages = {s.name: s for s in old.stages}
    new_stages = {s.name: s for s in new.stages}
    for before, after in mapping.items():
        if before not in old_stages:
            problems.append(f"--map {before}={after}: 現在のライフサイクルに段階 {before} はありません")
        elif after not in new_stages:
            problems.append(f"--map {before}={after}: 新しいライフサイクルに段階 {after} はありません")
        elif old_stages[before].final != new_stages[after].final:
            problems.append(f"--map {before}={after}: 終結した段階と進行中の段階は対応させられません")
    counts = _stage_counts(session)
    moves: list[Move] = []
    for stage, count in sorted(counts.items()):
        target = mapping.get(stage, stage)
        if target not in new_stages:
            problems.append(
                f"段階 {stage}（{old.stage_label(stage)}）に {count} 件のケースがありますが、新しい"
                f"ライフサイクルにこの段階がありません: --map {stage}=新しい段階 で行き先を指定してください"
            )
            continue
        moves.append(Move(stage, target, count))
    if problems:
        raise InvalidInput(
            "ライフサイクルを適用できません:\n" + "\n".join(f"- {p}" for p in problems),
            f"Cannot apply the lifecycle: {len(problems)} problem(s); see the Japanese message.",
        )
    assert old.version is not None
    return ApplyPlan(machine, old.version, tuple(moves), content_hash(text) == _current_hash(session))


def apply(
    session: Session,
    *,
    actor: Staff,
    current: LifecycleMachine,
    text: str,
    source: str,
    mapping: Mapping[str, str],
    progress: Callable[[int], None] | None = None,
) -> tuple[ApplyPlan, int]:
    """Record `text` as the new version and move every case onto it; one transaction.

    Returns the plan carried out and the new version number.
    """
    if not actor.active or Role.SUPERVISOR not in actor.roles:
        raise PermissionDenied(
            f"{actor.name} さんにはライフサイクルを適用する権限がありません（スーパーバイザーのみ）。",
            f"{actor.login} may not apply a lifecycle (supervisors only).",
        )
    try:
        plan = plan_apply(session, current, text, source, mapping)
        if plan.unchanged and not mapping:
            raise InvalidInput(
                "このライフサイクルはすでに適用されています。", "This lifecycle is already in force."
            )
        used = {m.from_stage: m.to_stage for m in plan.moves if m.from_stage != m.to_stage}
        version = LifecycleVersion(
            # Numbered here, not by a sequence: versions count 1, 2, 3 … without gaps, and two
            # applications at once collide on the key instead of both going through.
            id=plan.from_version + 1,
            name=plan.machine.lifecycle.name,
            content=text,
            content_hash=content_hash(text),
            applied_by=actor.id,
            stage_map=used,
        )
        session.add(version)
        session.flush()
        assert version.id is not None
        _migrate_cases(session, plan.from_version, version.id, used, actor, progress)
        session.commit()
    except BaseException:
        session.rollback()
        raise
    return plan, version.id


def _migrate_cases(
    session: Session,
    from_version: int,
    to_version: int,
    mapping: Mapping[str, str],
    actor: Staff,
    progress: Callable[[int], None] | None,
) -> None:
    c = _case.c
    after = 0
    while True:
        rows = session.execute(
            head_query(c.lifecycle_version).where(c.id > after).order_by(c.id).limit(_BATCH)
        ).all()
        if not rows:
            return
        for row in rows:
            head, was = CaseHead(*row[:-1]), row[-1]
            append_event(
                session,
                head,
                action=MIGRATE,
                to_stage=mapping.get(head.stage, head.stage),
                actor_id=actor.id,
                payload={"from_version": was, "to_version": to_version},
                case_updates={"lifecycle_version": to_version},
            )
        after = rows[-1][0]
        if progress:
            progress(len(rows))


def _stage_counts(session: Session) -> Counter[str]:
    from sqlalchemy import func, select

    rows = session.execute(select(_case.c.stage, func.count()).group_by(_case.c.stage)).all()
    return Counter({stage: int(n) for stage, n in rows})


def _current_hash(session: Session) -> str | None:
    found = current_version(session)
    return found.content_hash if found else None
