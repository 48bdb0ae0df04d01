"""Signed checkpoints: deleting a case's last events and rewinding its row is found with the case
number; a checkpoint that cannot be trusted is a problem; without a key, verify says so."""

from __future__ import annotations

import datetime as dt
import gzip
import os
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from sqlmodel import Session, col, select

from models import AuditEvent, Case, Contact, ContactTopic, OutboxMessage, Plan
from models.audit import event_hash
from states import LifecycleMachine
from tests.factories import World, fire, open_case, to_monitoring
from yorisoi.errors import AuditKeyError, CheckpointRefused
from yorisoi.service import checkpoints
from yorisoi.service.audit import ChainReport, verify_chains
from yorisoi.service.checkpoints import AuditKey, for_verify, load_key, write_checkpoint
from yorisoi.settings import Settings, get_settings

KEY = "k" * 40


@pytest.fixture(name="settings")
def settings_fixture(monkeypatch: pytest.MonkeyPatch) -> Settings:
    monkeypatch.setenv("YORISOI_AUDIT__KEY", KEY)
    get_settings.cache_clear()
    return get_settings()


@pytest.fixture(name="key")
def key_fixture(settings: Settings) -> AuditKey:
    found = load_key(settings)
    assert found is not None
    return found


@pytest.fixture(name="cases")
def cases_fixture(session: Session, world: World, machine: LifecycleMachine) -> list[tuple[int, str]]:
    """Three cases: one in monitoring (6 events), one assessed, one just opened."""
    first = open_case(session, world, machine)
    to_monitoring(session, world, machine, first.case_id)
    second = open_case(session, world, machine)
    fire(session, machine, second.case_id, "start_assessment", world.coordinator)
    third = open_case(session, world, machine)
    return [(c.case_id, c.number) for c in (first, second, third)]


def _verify(session: Session, machine: LifecycleMachine, settings: Settings, **kw: Any) -> ChainReport:
    return verify_chains(session, machine, checkpoint=for_verify(settings), **kw)


def _rewind(session: Session, case_id: int, events: int, *undo: Any) -> None:
    """Delete the case's last `events` events, undo what they wrote (`undo`) and set the case
    row back to the event before: the chain left behind is consistent and the records agree
    with it (what someone with write access to the database can do)."""
    rows = session.exec(
        select(AuditEvent).where(AuditEvent.case_id == case_id).order_by(col(AuditEvent.seq))
    ).all()
    keep = rows[len(rows) - events - 1]
    for row in rows[len(rows) - events :]:
        key = f"case:{case_id}:event:{row.seq}"
        session.execute(sa.delete(OutboxMessage).where(col(OutboxMessage.idempotency_key) == key))
        session.execute(sa.delete(AuditEvent).where(col(AuditEvent.id) == row.id))
    for statement in undo:
        session.execute(statement)
    session.execute(
        sa.update(Case)
        .where(col(Case.id) == case_id)
        .values(version=keep.seq, audit_head=keep.hash, stage=keep.to_stage)
    )
    session.commit()
    session.expire_all()


def _unapprove(case_id: int) -> list[Any]:
    """What undoes a plan approval: the plan back to a draft, no monitoring date."""
    return [
        sa.update(Plan).where(col(Plan.case_id) == case_id)
        .values(status="draft", approved_by=None, approved_on=None, meeting_id=None),
        sa.update(Case).where(col(Case.id) == case_id).values(next_monitoring_on=None),
    ]  # fmt: skip


def test_verify_without_a_key_says_rewinds_were_not_checked(
    session: Session, machine: LifecycleMachine, cases: list[tuple[int, str]]
) -> None:
    report = _verify(session, machine, get_settings())
    assert report.ok and report.checkpoint is not None
    assert report.checkpoint.status == "no_key" and not report.checkpoint.checked
    assert "巻き戻しは確認していません" in report.checkpoint.ja
    assert "YORISOI_AUDIT__KEY" in report.checkpoint.en


def test_verify_with_a_key_and_no_checkpoint_yet_says_so(
    session: Session, machine: LifecycleMachine, settings: Settings, cases: list[tuple[int, str]]
) -> None:
    report = _verify(session, machine, settings)
    assert report.ok and report.checkpoint is not None and report.checkpoint.status == "none"
    assert "`yorisoi audit checkpoint`" in report.checkpoint.ja


def test_deleted_last_event_with_the_case_row_rewound_is_reported_with_the_case_number(
    session: Session,
    machine: LifecycleMachine,
    settings: Settings,
    key: AuditKey,
    cases: list[tuple[int, str]],
) -> None:
    written = write_checkpoint(session, key, settings.checkpoint_dir())
    assert written.cases == 3 and written.sequence == 1
    clean = _verify(session, machine, settings)
    assert (
        clean.ok and clean.checkpoint is not None and clean.checkpoint.checked and not clean.checkpoint.stale
    )
    (case_id, number), *_ = cases
    _rewind(session, case_id, 1)  # the approval's event is gone, but the plan still says approved
    assert {p.code for p in verify_chains(session, machine).problems} == {"record"}
    _rewind(session, case_id, 0, *_unapprove(case_id))  # and now the records agree
    assert verify_chains(session, machine).ok  # neither the chain nor the records can tell
    report = _verify(session, machine, settings)
    assert [(p.case_number, p.seq, p.code) for p in report.problems] == [(number, 6, "checkpoint")]
    assert "第5番までしかありません" in report.problems[0].ja and "第6番まで" in report.problems[0].ja
    assert "trailing events deleted" in report.problems[0].en


def test_a_chain_rewritten_from_the_checkpoint_on_is_reported(
    session: Session,
    machine: LifecycleMachine,
    settings: Settings,
    key: AuditKey,
    cases: list[tuple[int, str]],
) -> None:
    """Someone who knows how the chain is hashed rewrites an event and every hash after it."""
    write_checkpoint(session, key, settings.checkpoint_dir())
    (case_id, number), *_ = cases
    events = session.exec(
        select(AuditEvent).where(AuditEvent.case_id == case_id).order_by(col(AuditEvent.seq))
    ).all()
    prev = events[4].prev_hash
    for event in events[4:]:
        payload = {**event.payload, "note": "書き換え"} if event.seq == 5 else event.payload
        digest = event_hash(
            prev_hash=prev, case_id=case_id, seq=event.seq, episode=event.episode, action=event.action,
            from_stage=event.from_stage, to_stage=event.to_stage, actor_id=event.actor_id,
            occurred_at=event.occurred_at, payload=payload,
        )  # fmt: skip
        session.execute(
            sa.update(AuditEvent)
            .where(col(AuditEvent.id) == event.id)
            .values(payload=payload, prev_hash=prev, hash=digest)
        )
        prev = digest
    session.execute(sa.update(Case).where(col(Case.id) == case_id).values(audit_head=prev))
    session.commit()
    assert verify_chains(session, machine).ok
    report = _verify(session, machine, settings)
    assert [(p.case_number, p.seq, p.code) for p in report.problems] == [(number, 6, "checkpoint")]
    assert "第6番の記録がチェックポイント" in report.problems[0].ja


def test_a_case_deleted_with_its_events_is_reported(
    session: Session,
    machine: LifecycleMachine,
    settings: Settings,
    key: AuditKey,
    cases: list[tuple[int, str]],
) -> None:
    write_checkpoint(session, key, settings.checkpoint_dir())
    case_id, number = cases[2]  # the newest, only opened
    contacts = select(Contact.id).where(Contact.case_id == case_id)
    for statement in (
        sa.delete(ContactTopic).where(col(ContactTopic.contact_id).in_(contacts)),
        sa.delete(Contact).where(col(Contact.case_id) == case_id),
        sa.delete(OutboxMessage).where(col(OutboxMessage.case_id) == case_id),
        sa.delete(AuditEvent).where(col(AuditEvent.case_id) == case_id),
        sa.delete(Case).where(col(Case.id) == case_id),
    ):
        session.execute(statement)
    session.commit()
    report = _verify(session, machine, settings)
    assert [(p.case_number, p.seq, p.code) for p in report.problems] == [(number, None, "checkpoint")]
    assert "ケースごと削除された可能性" in report.problems[0].ja
    # Verifying some cases only asks about those.
    assert _verify(session, machine, settings, case_ids=[cases[0][0]]).ok


def test_a_new_checkpoint_is_refused_while_a_case_is_behind_the_last_one_until_accepted(
    session: Session,
    machine: LifecycleMachine,
    settings: Settings,
    key: AuditKey,
    cases: list[tuple[int, str]],
) -> None:
    directory = settings.checkpoint_dir()
    write_checkpoint(session, key, directory)
    (case_id, number), (other_id, _other), _ = cases
    _rewind(session, case_id, 1, *_unapprove(case_id))
    _rewind(session, other_id, 1)  # back to 受付 from アセスメント
    with pytest.raises(CheckpointRefused) as refused:
        write_checkpoint(session, key, directory)
    assert sorted(n for n, _ja, _en in refused.value.problems) == sorted([number, _other])
    assert len(checkpoints.checkpoint_files(directory)) == 1  # nothing written
    accepted = write_checkpoint(session, key, directory, accept_rewind="バックアップから復元", by="admin")
    assert accepted.sequence == 2 and sorted(n for n, _ja, _en in accepted.went_back) == sorted(
        [number, _other]
    )
    report = _verify(session, machine, settings)
    assert report.ok and report.checkpoint is not None and report.checkpoint.header is not None
    assert report.checkpoint.header.accepted_rewind == {
        "reason": "バックアップから復元", "by": "admin", "cases": sorted([number, _other])
    }  # fmt: skip


def test_cases_that_moved_on_extend_the_checkpoint(
    session: Session,
    world: World,
    machine: LifecycleMachine,
    settings: Settings,
    key: AuditKey,
    cases: list[tuple[int, str]],
) -> None:
    directory = settings.checkpoint_dir()
    write_checkpoint(session, key, directory)
    fire(session, machine, cases[1][0], "propose_closure", world.coordinator, reason="goals_met",
         evaluation="目標を達成した", proposed_on=dt.date(2025, 9, 1))  # fmt: skip
    open_case(session, world, machine)
    assert _verify(session, machine, settings).ok
    second = write_checkpoint(session, key, directory)
    assert (second.sequence, second.cases) == (2, 4)
    header = checkpoints.read_header(second.path, key)
    assert header.sequence == 2 and header.key_id == key.key_id


def test_a_tampered_checkpoint_or_one_signed_with_another_key_is_a_problem(
    session: Session,
    machine: LifecycleMachine,
    settings: Settings,
    key: AuditKey,
    cases: list[tuple[int, str]],
) -> None:
    written = write_checkpoint(session, key, settings.checkpoint_dir())
    lines = gzip.decompress(written.path.read_bytes()).decode().splitlines(keepends=True)
    lines[1] = lines[1].replace(",6,", ",4,")  # "the first case had 4 events"
    written.path.write_bytes(gzip.compress("".join(lines).encode()))
    report = _verify(session, machine, settings)
    assert not report.ok and report.problems == ()
    assert report.checkpoint is not None and report.checkpoint.failed
    assert "署名が内容と一致しません" in report.checkpoint.ja
    with pytest.raises(CheckpointRefused, match="--accept-rewind"):
        write_checkpoint(session, key, settings.checkpoint_dir())
    # Someone looked into it and starts anew: the next checkpoint is the one verify trusts.
    anew = write_checkpoint(session, key, settings.checkpoint_dir(), accept_rewind="破損のため作り直し")
    assert anew.sequence == 2 and _verify(session, machine, settings).ok
    anew.path.unlink()
    written.path.unlink()
    write_checkpoint(session, AuditKey(b"x" * 40, "another"), settings.checkpoint_dir())
    other = _verify(session, machine, settings)
    assert other.checkpoint is not None and other.checkpoint.failed and not other.ok
    assert "別の鍵で署名されています" in other.checkpoint.ja


def test_an_old_checkpoint_is_pointed_out(
    session: Session,
    machine: LifecycleMachine,
    settings: Settings,
    key: AuditKey,
    cases: list[tuple[int, str]],
) -> None:
    written = write_checkpoint(
        session, key, settings.checkpoint_dir(), now=dt.datetime(2025, 7, 1, tzinfo=dt.UTC)
    )
    check = for_verify(settings, now=written.created_at + dt.timedelta(hours=49))
    assert check.outcome.checked and check.outcome.stale
    assert "49 時間前" in check.outcome.ja
    assert not for_verify(settings, now=written.created_at + dt.timedelta(hours=47)).outcome.stale


def test_the_key_is_refused_when_short_shared_or_set_twice(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def settings(**env: str) -> Settings:
        for name in ("YORISOI_AUDIT__KEY", "YORISOI_AUDIT__KEY_FILE"):
            monkeypatch.delenv(name, raising=False)
        for name, value in env.items():
            monkeypatch.setenv(name, value)
        get_settings.cache_clear()
        return get_settings()

    assert load_key(settings()) is None
    with pytest.raises(AuditKeyError, match="too short"):
        load_key(settings(YORISOI_AUDIT__KEY="short"))
    path = tmp_path / "audit.key"
    path.write_text(checkpoints.new_key() + "\n")
    os.chmod(path, 0o644)
    with pytest.raises(AuditKeyError, match="chmod 600"):
        load_key(settings(YORISOI_AUDIT__KEY_FILE=str(path)))
    os.chmod(path, 0o600)
    from_file = load_key(settings(YORISOI_AUDIT__KEY_FILE=str(path)))
    assert from_file is not None and len(from_file.secret) == 64
    with pytest.raises(AuditKeyError, match="set one"):
        load_key(settings(YORISOI_AUDIT__KEY_FILE=str(path), YORISOI_AUDIT__KEY=KEY))
    with pytest.raises(AuditKeyError, match="Cannot read"):
        load_key(settings(YORISOI_AUDIT__KEY_FILE=str(tmp_path / "missing")))
