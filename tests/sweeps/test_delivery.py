"""Sweep to inbox with real Apprise: a crashed and repeated sweep, a flaky endpoint, no duplicates."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pytest
from sqlalchemy import Engine
from sqlmodel import Session

from states import LifecycleMachine
from tests.factories import World
from tests.notifications.receiver import Receiver, apprise_yaml, receiver_fixture  # noqa: F401
from tests.sweeps.helpers import monitoring_case, reminders, settings, sweep
from yorisoi.dispatch import dispatch_outbox, notifier_for

TUESDAY_9 = dt.datetime(2025, 7, 1, 9, 0, tzinfo=dt.timezone(dt.timedelta(hours=9)))


def test_crashed_and_repeated_sweep_delivers_each_reminder_once(
    engine: Engine,
    session: Session,
    world: World,
    machine: LifecycleMachine,
    receiver: Receiver,
    tmp_path: Path,
) -> None:
    cases = [monitoring_case(session, world, machine, dt.date(2025, 7, 3)) for _ in range(3)]
    cases += [monitoring_case(session, world, machine, dt.date(2025, 6, 23)) for _ in range(2)]  # overdue
    config_file = tmp_path / "apprise.yaml"
    config_file.write_text(
        apprise_yaml(receiver, {"tanaka": ["coordinator"], "sato": ["supervisor"], "suzuki": ["supervisor"]}),
        "utf-8",
    )
    config = settings(batch_size=2)
    config.notifications.apprise_config = config_file

    def crash(batch: object) -> None:
        raise RuntimeError("killed after the first batch")

    with pytest.raises(RuntimeError):
        sweep(engine, machine, TUESDAY_9.date(), config=config, progress=crash, now=TUESDAY_9)
    sweep(engine, machine, TUESDAY_9.date(), config=config, now=TUESDAY_9)
    sweep(engine, machine, TUESDAY_9.date(), config=config, now=TUESDAY_9)
    queued = reminders(session)
    # 3 due + 2 overdue reminders to tanaka; the overdue cases are 6 business days late: escalated.
    assert sorted((r.topic, r.recipient) for r in queued) == sorted(
        [("reminder.monitoring_due", "staff:tanaka")] * 3
        + [("reminder.monitoring_overdue", "staff:tanaka")] * 2
        + [("escalation.monitoring_overdue", "staff:sato")] * 2
        + [("escalation.monitoring_overdue", "staff:suzuki")] * 2
    )

    receiver.fail_next("tanaka", 2)  # the coordinator's endpoint is down for two requests
    notifier = notifier_for(config)
    moment = TUESDAY_9
    for _ in range(4):  # retries come after back-off: run the dispatcher again later
        dispatch_outbox(engine, notifier, now=moment, settings=config)
        moment += dt.timedelta(minutes=10)

    assert receiver.refused["tanaka"] == 2
    assert len(receiver.at("tanaka")) == 5
    assert len(receiver.at("sato")) == len(receiver.at("suzuki")) == 2
    keys = receiver.keys()
    assert len(keys) == len(set(keys)) == len(queued)
    assert {r.status for r in reminders(session)} == {"sent"}
    assert {r.case_id for r in queued} == set(cases)
    delivered = sorted(re.search(r"R7-\d{4}", r.title).group() for r in receiver.at("tanaka"))  # type: ignore[union-attr]
    assert delivered == sorted(r.payload["case_number"] for r in queued if r.recipient == "staff:tanaka")
