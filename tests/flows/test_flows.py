"""Real flow runs against a temporary Prefect server and a temporary yorisoi database."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from sqlalchemy import Engine, select, text
from sqlmodel import Session, col

from models import Case, OutboxMessage
from states import default_machine
from tests.factories import build_world
from tests.sweeps.helpers import monitoring_case, reminders
from yorisoi.jpdates import TOKYO
from yorisoi.settings import get_settings

pytestmark = pytest.mark.usefixtures("prefect_harness")

OVERDUE_DAY = dt.date(2025, 7, 9)  # 6 business days after 7/1: past the escalation threshold


def _overdue_case(engine: Engine) -> int:
    with Session(engine, expire_on_commit=False) as session:
        world = build_world(session)
        return monitoring_case(session, world, default_machine(), dt.date(2025, 7, 1))


def test_monitoring_flow_queues_reminders_and_marks_overdue(flow_db: Engine) -> None:
    from flows.common import SweepParams
    from flows.monitoring_due import monitoring_due

    case_id = _overdue_case(flow_db)

    state = monitoring_due(SweepParams(on=OVERDUE_DAY), return_state=True)

    assert state.is_completed()
    outcome = state.result()
    assert outcome.queued == {"reminder.monitoring_overdue": 1, "escalation.monitoring_overdue": 2}
    assert outcome.batches == 1
    with Session(flow_db) as session:
        assert session.get(Case, case_id).overdue is True  # type: ignore[union-attr]
        assert {(r.topic, r.recipient) for r in reminders(session)} == {
            ("reminder.monitoring_overdue", "staff:tanaka"),
            ("escalation.monitoring_overdue", "staff:sato"),
            ("escalation.monitoring_overdue", "staff:suzuki"),
        }
    # The same day again: a flow run that queues nothing.
    assert monitoring_due(SweepParams(on=OVERDUE_DAY)).queued == {}


def test_sweep_flow_skips_closed_days_and_dry_run_writes_nothing(flow_db: Engine) -> None:
    from flows.common import SweepParams
    from flows.monitoring_due import monitoring_due

    _overdue_case(flow_db)

    assert monitoring_due(SweepParams(on=dt.date(2025, 7, 21))).closed_reason == "海の日"
    dry = monitoring_due(SweepParams(on=OVERDUE_DAY, dry_run=True))

    assert dry.queued == {"reminder.monitoring_overdue": 1, "escalation.monitoring_overdue": 2}
    with Session(flow_db) as session:
        assert reminders(session) == []


def test_replayed_morning_sweeps_and_dispatches_on_one_clock(flow_db: Engine) -> None:
    """Both flows take `now`: the sweep runs for its day and its reminders are due from it, so the
    dispatch flow with a moment of that same morning sends them (the real clock plays no part)."""
    from flows.common import SweepParams
    from flows.dispatch_notifications import DispatchParams, dispatch_notifications
    from flows.monitoring_due import monitoring_due

    _overdue_case(flow_db)
    morning = dt.datetime(2025, 7, 9, 8, 30, tzinfo=TOKYO)

    swept = monitoring_due(SweepParams(now=morning))
    outcome = dispatch_notifications(DispatchParams(now=morning + dt.timedelta(minutes=5)))

    assert swept.on == OVERDUE_DAY and sum(swept.queued.values()) == 3
    assert outcome.sent == 3
    sink = get_settings().data_dir / "notifications.jsonl"
    delivered = [json.loads(line) for line in sink.read_text("utf-8").splitlines()]
    assert len(delivered) == 3
    assert all("山田" not in json.dumps(d, ensure_ascii=False) for d in delivered)  # no names
    assert any("開庁日超過" in d["title"] for d in delivered)
    with Session(flow_db) as session:
        statuses = {r.status for r in reminders(session)}
    assert statuses == {"sent"}
    # Nothing left: a second run sends nothing.
    assert dispatch_notifications(DispatchParams(now=morning + dt.timedelta(minutes=10))).sent == 0


def test_relay_flow_emits_case_events_and_marks_them_sent(flow_db: Engine) -> None:
    from prefect.events.clients import AssertingEventsClient
    from prefect.events.worker import EventsWorker

    from flows.relay_events import RelayParams, relay_events

    with Session(flow_db, expire_on_commit=False) as session:
        world = build_world(session)
        from tests import factories

        case = factories.open_case(session, world, default_machine())
        factories.fire(session, default_machine(), case.case_id, "start_assessment", world.coordinator)

    assert relay_events(RelayParams(dry_run=True)).waiting == 2
    EventsWorker.set_client_override(AssertingEventsClient)
    try:
        outcome = relay_events(RelayParams(batch_size=1))
        events = [e for client in AssertingEventsClient.all for e in client.events]
    finally:
        EventsWorker.drain_all()
        EventsWorker.set_client_override(None)
        AssertingEventsClient.reset()

    assert (outcome.relayed, outcome.batches) == (2, 3)
    ours = [e for e in events if e.event.startswith("yorisoi.case.")]
    assert [(e.event, e.resource.id, e.payload["to_stage"]) for e in ours] == [
        ("yorisoi.case.stage-changed", f"yorisoi.case.{case.number}", "intake"),
        ("yorisoi.case.stage-changed", f"yorisoi.case.{case.number}", "assessment"),
    ]
    with Session(flow_db) as session:
        rows = session.execute(
            select(col(OutboxMessage.status)).where(col(OutboxMessage.recipient) == "prefect-events")
        )
        assert {status for (status,) in rows} == {"sent"}
    assert relay_events(RelayParams()).relayed == 0


def test_audit_checkpoint_flow_writes_then_fails_on_a_rewound_case(
    flow_db: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    from prefect.events.clients import AssertingEventsClient
    from prefect.events.worker import EventsWorker

    from flows.audit_checkpoint import REFUSED, WRITTEN, audit_checkpoint
    from tests import factories

    monkeypatch.setenv("YORISOI_AUDIT__KEY", "k" * 40)
    monkeypatch.setenv("YORISOI_AUDIT__NOTIFY", "role:auditor")
    get_settings.cache_clear()
    with Session(flow_db, expire_on_commit=False) as session:
        world = build_world(session)
        case = factories.open_case(session, world, default_machine())
        factories.fire(session, default_machine(), case.case_id, "start_assessment", world.coordinator)

    EventsWorker.set_client_override(AssertingEventsClient)
    try:
        written = audit_checkpoint()
        with flow_db.begin() as connection:  # back to 受付: the assessment's event deleted, the row rewound
            connection.execute(text("DELETE FROM outbox_message WHERE idempotency_key LIKE '%:event:2'"))
            connection.execute(text("DELETE FROM audit_event WHERE seq = 2"))
            connection.execute(
                text("UPDATE \"case\" SET version = 1, stage = 'intake', "
                     "audit_head = (SELECT hash FROM audit_event WHERE seq = 1)")
            )  # fmt: skip
        refused = audit_checkpoint(return_state=True)
        events = [e for client in AssertingEventsClient.all for e in client.events]
    finally:
        EventsWorker.drain_all()
        EventsWorker.set_client_override(None)
        AssertingEventsClient.reset()

    assert written.written and written.summary["sequence"] == 1 and written.summary["cases"] == 1
    assert refused.is_failed()
    ours = [(e.event, e.payload) for e in events if e.event.startswith("yorisoi.audit.")]
    assert [name for name, _payload in ours] == [WRITTEN, REFUSED]
    assert ours[0][1]["hmac"] == written.summary["hmac"] and ours[1][1] == {
        "count": 1,
        "cases": [case.number],
    }
    files = sorted(p.name for p in get_settings().checkpoint_dir().iterdir())
    assert len(files) == 1 and files[0].startswith("checkpoint-000001-")
    told = [
        json.loads(line)
        for line in (get_settings().data_dir / "notifications.jsonl").read_text().splitlines()
    ]
    assert [m["title"] for m in told] == [
        "監査チェックポイント第1号",
        "監査チェックポイントを作成できません（要確認）",
    ]


def test_serve_schedules_audit_checkpoints_only_with_a_key(monkeypatch: pytest.MonkeyPatch) -> None:
    from yorisoi.serve import deployments

    names = {d.flow_name for d in deployments(get_settings())}
    assert "audit-checkpoint" not in names and "audit-verify" in names and len(names) == 8
    monkeypatch.setenv("YORISOI_AUDIT__KEY", "k" * 40)
    monkeypatch.setenv("YORISOI_AUDIT__CHECKPOINT_CRON", "30 20 * * *")
    get_settings.cache_clear()
    [served] = [d for d in deployments(get_settings()) if d.flow_name == "audit-checkpoint"]
    assert served.schedules is not None
    assert served.schedules[0].schedule.cron == "30 20 * * *"  # type: ignore[union-attr]
