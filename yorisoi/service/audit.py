"""Verify the audit trail: the hash chains, the stages, the records, and the signed checkpoints.

For every case, in batches of cases (memory stays bounded however many cases there are):

- **the chain**: the events, in order, hash to the case's head, each starting where the
  previous one ended and following a transition of the lifecycle version it ran under
  (recorded-only actions keep the stage, and so does a late entry on a closed case; a
  `migrate_lifecycle` event moves the case to the next version, to a stage that version
  has), the last one ending at the stage the case row holds;
- **the records** (`yorisoi.service.integrity`): the case row, its plans, closures, consents
  and meetings hold what the events that made them say — checked where the chain is intact;
- **the checkpoint** (`yorisoi.service.checkpoints`, when a key is configured): the case still
  has the events the newest signed checkpoint saw, so deleting a case's last events and
  rewinding its row is found although the chain left behind is consistent.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from sqlalchemy import Row, Table, select
from sqlmodel import Session

from models import AuditEvent, Case
from models.audit import event_hash
from models.case import GENESIS_HASH
from states import LifecycleMachine
from yorisoi.service import integrity, lifecycles
from yorisoi.service.journal import CASE_COLUMNS

if TYPE_CHECKING:
    from yorisoi.service.checkpoints import CheckpointCheck, CheckpointOutcome, CheckpointProblem

_CASE_BATCH = 1_000
_case: Table = Case.__table__  # type: ignore[attr-defined]
_event: Table = AuditEvent.__table__  # type: ignore[attr-defined]
_CASE_QUERY = select(
    _case.c.id,
    _case.c.number,
    _case.c.stage,
    _case.c.version,
    _case.c.audit_head,
    *(_case.c[name] for name in CASE_COLUMNS),
)


@dataclass(frozen=True, slots=True)
class ChainProblem:
    case_number: str
    seq: int | None
    event_id: int | None
    ja: str
    en: str
    code: str = "chain"
    """`chain` (events edited, deleted, reordered, impossible), `record` (a row disagrees with
    the events) or `checkpoint` (the case went back behind a signed checkpoint)."""


@dataclass(frozen=True, slots=True)
class ChainReport:
    cases: int
    events: int
    problems: tuple[ChainProblem, ...]
    not_compared: tuple[tuple[str, int], ...] = ()
    """Facts older events do not carry, with how many rows each: compared nowhere."""
    checkpoint: CheckpointOutcome | None = None
    """What the checkpoint comparison found (None: not asked for)."""

    @property
    def ok(self) -> bool:
        return not self.problems and not (self.checkpoint is not None and self.checkpoint.failed)

    @property
    def broken_cases(self) -> int:
        return len({p.case_number for p in self.problems})

    def notes(self) -> list[str]:
        """What the verification could not look at (old events' facts), and the checkpoint's word."""
        notes = []
        if self.not_compared:
            counted = "、".join(f"{label} {count:,} 件" for label, count in self.not_compared)
            notes.append(f"以前の版で書かれた監査記録には含まれないため照合していない項目: {counted}")
        if self.checkpoint is not None:
            notes.append(self.checkpoint.ja)
        return notes

    def as_dict(self) -> dict[str, Any]:
        """The report as `--json` prints it."""
        outcome = self.checkpoint
        return {
            "ok": self.ok,
            "cases": self.cases,
            "events": self.events,
            "problems": [
                {
                    "case": p.case_number,
                    "seq": p.seq,
                    "event_id": p.event_id,
                    "code": p.code,
                    "message_ja": p.ja,
                    "message_en": p.en,
                }
                for p in self.problems
            ],
            "not_compared": dict(self.not_compared),
            "checkpoint": None
            if outcome is None
            else {
                "status": outcome.status,
                "stale": outcome.stale,
                "sequence": outcome.header.sequence if outcome.header else None,
                "created_at": outcome.header.created_at.isoformat() if outcome.header else None,
                "file": str(outcome.header.path) if outcome.header else None,
                "message_ja": outcome.ja,
                "message_en": outcome.en,
            },
        }


@dataclass
class _Tally:
    events: int = 0
    problems: list[ChainProblem] = field(default_factory=list)
    not_compared: Counter[str] = field(default_factory=Counter)

    def checkpoint(self, found: list[CheckpointProblem], events: Sequence[Row[Any]]) -> None:
        ids = {e.seq: e.id for e in events}
        for number, seq, ja, en in found:
            event_id = ids.get(seq) if seq is not None else None  # a gone case has no event to name
            self.problems.append(ChainProblem(number, seq, event_id, ja, en, "checkpoint"))


def verify_chains(
    session: Session,
    machine: LifecycleMachine,
    *,
    case_ids: list[int] | None = None,
    progress: Callable[[int], None] | None = None,
    checkpoint: CheckpointCheck | None = None,
) -> ChainReport:
    """Check every case (or `case_ids`); report the first bad event of each broken chain, every
    record that disagrees with its events, and (with `checkpoint`) every case gone back."""
    versions = _Versions(lifecycles.versions(session), machine)
    staff = integrity.staff_logins(session)
    tally = _Tally()
    cases = 0
    wanted = sorted(set(case_ids)) if case_ids is not None else None
    if checkpoint is not None:
        checkpoint.limit_to(wanted)
    for batch, chunk in _case_batches(session, wanted):
        low, high = batch[0].id, batch[-1].id
        events = _events(session, low, high, chunk)
        rows = integrity.load_rows(session, low, high, chunk, staff)
        for case in batch:
            _verify_case(case, events.get(case.id, []), rows, versions, checkpoint, tally)
        cases += len(batch)
        if progress:
            progress(len(batch))
    if checkpoint is not None:
        tally.checkpoint(checkpoint.rest(), ())
    return ChainReport(
        cases=cases,
        events=tally.events,
        problems=tuple(tally.problems),
        not_compared=tuple(sorted(tally.not_compared.items())),
        checkpoint=checkpoint.outcome if checkpoint is not None else None,
    )


def _verify_case(
    case: Row[Any],
    events: list[Row[Any]],
    rows: integrity.Rows,
    versions: _Versions,
    checkpoint: CheckpointCheck | None,
    tally: _Tally,
) -> None:
    tally.events += len(events)
    number = case.number
    problem, actions = _check_chain(case, events, versions)
    if problem is not None:
        tally.problems.append(problem)
    else:
        facts = [
            integrity.Event(e.seq, e.id, action, e.actor_id, e.episode, e.payload)
            for e, action in zip(events, actions, strict=True)
        ]
        compared = integrity.compare(case.id, dict(case._mapping), facts, rows)
        tally.problems += [
            ChainProblem(number, p.seq, p.event_id, p.ja, p.en, "record") for p in compared.problems
        ]
        tally.not_compared.update(compared.not_compared)
    if checkpoint is not None:
        tally.checkpoint(checkpoint.compare(case.id, number, {e.seq: e.hash for e in events}), events)


def _case_batches(
    session: Session, wanted: list[int] | None
) -> Iterator[tuple[Sequence[Row[Any]], list[int] | None]]:
    """The cases in id order, a batch at a time (with `wanted`: those ids only)."""
    if wanted is not None:
        for start in range(0, len(wanted), _CASE_BATCH):
            chunk = wanted[start : start + _CASE_BATCH]
            batch = session.execute(_CASE_QUERY.where(_case.c.id.in_(chunk)).order_by(_case.c.id)).all()
            if batch:
                yield batch, chunk
        return
    after = 0
    while True:
        query = _CASE_QUERY.where(_case.c.id > after).order_by(_case.c.id).limit(_CASE_BATCH)
        batch = session.execute(query).all()
        if not batch:
            return
        yield batch, None
        after = batch[-1].id


def _events(session: Session, low: int, high: int, chunk: list[int] | None) -> dict[int, list[Row[Any]]]:
    """The events of the cases with ids in [low, high] (only `chunk`, if given), in order."""
    query = select(_event).where(_event.c.case_id >= low, _event.c.case_id <= high)
    if chunk is not None:
        query = query.where(_event.c.case_id.in_(chunk))
    by_case: dict[int, list[Row[Any]]] = {}
    for event in session.execute(query.order_by(_event.c.case_id, _event.c.seq)):
        by_case.setdefault(event.case_id, []).append(event)
    return by_case


@dataclass(frozen=True, slots=True)
class _Versions:
    """The machine of each recorded lifecycle version; `fallback` where none was recorded."""

    by_id: dict[int, LifecycleMachine]
    fallback: LifecycleMachine

    def __getitem__(self, version: int) -> LifecycleMachine:
        return self.by_id.get(version, self.fallback)


def _start_version(events: list[Row[Any]], current: int) -> int:
    """The version a case's first event ran under: before its first migration, or the current."""
    first = next((e for e in events if e.action == lifecycles.MIGRATE), None)
    return int(first.payload.get("from_version", current)) if first is not None else current


def _check_chain(
    case: Row[Any], events: list[Row[Any]], versions: _Versions
) -> tuple[ChainProblem | None, list[str]]:
    """The first problem of the case's chain, or None and each event's action (a lifecycle
    trigger resolved to the action it is bound to in the version it ran under)."""
    number = case.number
    if not events:
        return ChainProblem(number, None, None, "監査記録がありません。", "The case has no audit events."), []
    prev_hash, prev_stage = GENESIS_HASH, ""
    running = _start_version(events, case.lifecycle_version)
    actions: list[str] = []
    for expected_seq, event in enumerate(events, start=1):

        def bad(ja: str, en: str, e: Row[Any] = event) -> tuple[ChainProblem, list[str]]:
            return ChainProblem(number, e.seq, e.id, ja, en), []

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
        machine = versions[running]
        if event.action == lifecycles.MIGRATE:
            moved_to = int(event.payload.get("to_version", running))
            if event.to_stage not in {s.name for s in versions[moved_to].lifecycle.stages}:
                return bad(
                    f"ライフサイクル第{moved_to}版にない段階へ移行しています: {event.to_stage}",
                    f"migrated to a stage lifecycle version {moved_to} does not have: {event.to_stage!r}",
                )
            running = moved_to
        elif not _valid_step(machine, event):
            return bad(
                f"ライフサイクル（第{running}版）にない遷移です: "
                f"{event.from_stage} —{event.action}→ {event.to_stage}",
                f"not a transition of lifecycle version {running}: "
                f"{event.from_stage} --{event.action}--> {event.to_stage}",
            )
        trigger = machine.lifecycle.triggers.get(event.action)
        actions.append(trigger.action if trigger is not None else event.action)
        prev_hash, prev_stage = event.hash, event.to_stage
    last = events[-1]
    if len(events) != case.version or case.audit_head != prev_hash:
        return ChainProblem(
            number,
            last.seq,
            last.id,
            f"ケースの版（{case.version}）と記録の数（{len(events)}）または末尾のハッシュが"
            "一致しません（末尾の記録の削除の可能性）。",
            f"the case's version ({case.version}) or head hash does not match its "
            f"{len(events)} events (trailing events deleted?)",
        ), []
    if case.stage != prev_stage:
        return ChainProblem(
            number,
            last.seq,
            last.id,
            f"記録を再生した段階（{prev_stage}）とケースの段階（{case.stage}）が違います。",
            f"replayed stage {prev_stage!r} differs from the stored stage {case.stage!r}",
        ), []
    return None, actions


def _valid_step(machine: LifecycleMachine, event: Row[Any]) -> bool:
    if event.action == "open_case":
        return bool(event.seq == 1 and event.to_stage == machine.lifecycle.initial)
    if event.action in machine.lifecycle.triggers:
        if event.payload.get("late_entry") is True:  # 後日入力: added to a closed case as it is
            return event.from_stage == event.to_stage and event.from_stage in machine.lifecycle.final_stages
        return machine.is_valid_step(event.from_stage, event.action, event.to_stage)
    return bool(event.from_stage == event.to_stage)
