"""Verify the audit chains: every case's events, in order, hash to the case's head.

Also replays the stages: each event must start where the previous one ended, follow a
transition of the lifecycle version it ran under (recorded-only actions keep the stage; a
`migrate_lifecycle` event moves the case to the next version, to a stage that version has),
and the last one must end at the stage the case row holds.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass

from sqlalchemy import select
from sqlmodel import Session, col

from models import AuditEvent, Case
from models.audit import event_hash
from models.case import GENESIS_HASH
from states import LifecycleMachine
from yorisoi.service import lifecycles

_STREAM_BATCH = 5_000


@dataclass(frozen=True, slots=True)
class ChainProblem:
    case_number: str
    seq: int | None
    event_id: int | None
    ja: str
    en: str


@dataclass(frozen=True, slots=True)
class ChainReport:
    cases: int
    events: int
    problems: tuple[ChainProblem, ...]

    @property
    def ok(self) -> bool:
        return not self.problems


def verify_chains(
    session: Session,
    machine: LifecycleMachine,
    *,
    case_ids: list[int] | None = None,
    progress: Callable[[int], None] | None = None,
) -> ChainReport:
    """Check every case (or `case_ids`); report the first bad event of each broken case."""
    query = select(
        col(Case.id),
        col(Case.number),
        col(Case.stage),
        col(Case.version),
        col(Case.audit_head),
        col(Case.lifecycle_version),
    ).order_by(col(Case.id))
    if case_ids is not None:
        query = query.where(col(Case.id).in_(case_ids))
    cases = {row[0]: tuple(row) for row in session.execute(query)}
    versions = lifecycles.versions(session)
    total_cases = len(cases)
    problems: list[ChainProblem] = []
    events = 0
    for case_id, rows in _events_by_case(session, case_ids):
        events += len(rows)
        if case_id in cases:
            problem = _check_case(cases.pop(case_id), rows, _Versions(versions, machine))
            if problem:
                problems.append(problem)
        if progress:
            progress(1)
    for number_row in cases.values():  # cases with no events at all
        problems.append(
            ChainProblem(number_row[1], None, None, "監査記録がありません。", "The case has no audit events.")
        )
        if progress:
            progress(1)
    return ChainReport(cases=total_cases, events=events, problems=tuple(problems))


def _events_by_case(session: Session, case_ids: list[int] | None) -> Iterator[tuple[int, list[AuditEvent]]]:
    query = select(AuditEvent).order_by(AuditEvent.case_id, AuditEvent.seq)  # type: ignore[arg-type]
    if case_ids is not None:
        query = query.where(AuditEvent.case_id.in_(case_ids))  # type: ignore[attr-defined]
    current: int | None = None
    batch: list[AuditEvent] = []
    for (event,) in session.execute(query.execution_options(yield_per=_STREAM_BATCH)):
        if event.case_id != current and batch:
            yield current, batch  # type: ignore[misc]
            batch = []
        current = event.case_id
        batch.append(event)
    if batch:
        yield current, batch  # type: ignore[misc]


@dataclass(frozen=True, slots=True)
class _Versions:
    """The machine of each recorded lifecycle version; `fallback` where none was recorded."""

    by_id: dict[int, LifecycleMachine]
    fallback: LifecycleMachine

    def __getitem__(self, version: int) -> LifecycleMachine:
        return self.by_id.get(version, self.fallback)


def _start_version(events: list[AuditEvent], current: int) -> int:
    """The version a case's first event ran under: before its first migration, or the current."""
    first = next((e for e in events if e.action == lifecycles.MIGRATE), None)
    return int(first.payload.get("from_version", current)) if first is not None else current


def _check_case(
    case: tuple[int, str, str, int, str, int], events: list[AuditEvent], versions: _Versions
) -> ChainProblem | None:
    _case_id, number, stage, version, head, lifecycle_version = case
    prev_hash, prev_stage = GENESIS_HASH, ""
    running = _start_version(events, lifecycle_version)
    for expected_seq, event in enumerate(events, start=1):

        def bad(ja: str, en: str, e: AuditEvent = event) -> ChainProblem:
            return ChainProblem(number, e.seq, e.id, ja, en)

        if event.seq != expected_seq:
            return bad(
                f"第{expected_seq}番の記録が欠けているか、順序が入れ替わっています。",
                f"event {expected_seq} is missing or out of order",
            )
        if event.prev_hash != prev_hash:
            return bad(
                "直前の記録のハッシュと一致しません（削除・並べ替えの可能性）。",
                "prev_hash does not match the previous event (deleted or reordered)",
            )
        recomputed = event_hash(
            prev_hash=event.prev_hash,
            case_id=event.case_id,
            seq=event.seq,
            episode=event.episode,
            action=event.action,
            from_stage=event.from_stage,
            to_stage=event.to_stage,
            actor_id=event.actor_id,
            occurred_at=event.occurred_at,
            payload=event.payload,
        )
        if recomputed != event.hash:
            return bad(
                "記録の内容がハッシュと一致しません（改ざんの可能性）。",
                "the event's content does not match its hash (edited)",
            )
        if event.from_stage != prev_stage:
            return bad(
                f"段階の遷移が連続していません（{prev_stage} → {event.from_stage}）。",
                f"stage replay breaks: previous event ended at {prev_stage!r}, "
                f"this one starts at {event.from_stage!r}",
            )
        if event.action == lifecycles.MIGRATE:
            moved_to = int(event.payload.get("to_version", running))
            if event.to_stage not in {s.name for s in versions[moved_to].lifecycle.stages}:
                return bad(
                    f"ライフサイクル第{moved_to}版にない段階へ移行しています: {event.to_stage}",
                    f"migrated to a stage lifecycle version {moved_to} does not have: {event.to_stage!r}",
                )
            running = moved_to
        elif not _valid_step(versions[running], event):
            return bad(
                f"ライフサイクル（第{running}版）にない遷移です: "
                f"{event.from_stage} —{event.action}→ {event.to_stage}",
                f"not a transition of lifecycle version {running}: "
                f"{event.from_stage} --{event.action}--> {event.to_stage}",
            )
        prev_hash, prev_stage = event.hash, event.to_stage
    last = events[-1]
    if len(events) != version or head != prev_hash:
        return ChainProblem(
            number,
            last.seq,
            last.id,
            f"ケースの版（{version}）と記録の数（{len(events)}）または末尾のハッシュが"
            "一致しません（末尾の記録の削除の可能性）。",
            f"the case's version ({version}) or head hash does not match its "
            f"{len(events)} events (trailing events deleted?)",
        )
    if stage != prev_stage:
        return ChainProblem(
            number,
            last.seq,
            last.id,
            f"記録を再生した段階（{prev_stage}）とケースの段階（{stage}）が違います。",
            f"replayed stage {prev_stage!r} differs from the stored stage {stage!r}",
        )
    return None


def _valid_step(machine: LifecycleMachine, event: AuditEvent) -> bool:
    if event.action == "open_case":
        return event.seq == 1 and event.to_stage == machine.lifecycle.initial
    if event.action in machine.lifecycle.triggers:
        return machine.is_valid_step(event.from_stage, event.action, event.to_stage)
    return event.from_stage == event.to_stage
