"""The demo's last morning: the sweeps and the dispatcher on the demo database.

`yorisoi demo` builds a 年度 that ends on 2025-03-31; this runs that Monday's 08:30 sweep
(plain Python, as `yorisoi sweep` does) and then the dispatcher at 09:00, delivering to a
local JSON-lines sink next to the demo database — always the sink, never the municipality's
Apprise services, whatever the settings say: a demo messages nobody.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import Engine

from notifications import build_notifier, read_sink
from states import Lifecycle
from yorisoi.dispatch import dispatch_outbox
from yorisoi.jpdates import TOKYO
from yorisoi.settings import Settings
from yorisoi.sweeps.runner import run_day

MORNING = dt.datetime(2025, 3, 31, 9, 0, tzinfo=TOKYO)
"""The last business morning of 令和6年度, the demo's year."""


@dataclass(frozen=True, slots=True)
class Delivered:
    recipient: str
    title: str


@dataclass(frozen=True)
class DemoReminders:
    on: dt.date
    queued: dict[str, int]
    marked_overdue: list[str]
    sink: Path
    delivered: list[Delivered] = field(default_factory=list)


def sink_for(database: Path) -> Path:
    return database.with_name(f"{database.stem}-notifications.jsonl")


def sweep_and_deliver(
    engine: Engine, lifecycle: Lifecycle, settings: Settings, *, database: Path
) -> DemoReminders:
    """Run the sweeps for the demo's last morning, deliver to the sink, say what arrived."""
    sink = sink_for(database)
    sink.unlink(missing_ok=True)
    moment = MORNING.astimezone(dt.UTC)
    day = run_day(engine, settings, lifecycle, on=MORNING.date(), now=moment)
    dispatch_outbox(engine, build_notifier(None, sink), now=moment, settings=settings, limit=100_000)
    queued: dict[str, int] = {}
    for result in day.sweeps:
        for topic, count in result.queued.items():
            queued[str(topic)] = queued.get(str(topic), 0) + count
    return DemoReminders(
        on=MORNING.date(),
        queued=queued,
        marked_overdue=[number for result in day.sweeps for number in result.marked],
        sink=sink,
        delivered=[Delivered(str(m["recipient"]), str(m["title"])) for m in read_sink(sink)],
    )
