"""The local sink: an Apprise notification service that appends each message to a JSON-lines file.

It needs no set-up, so yorisoi delivers somewhere useful before a municipality has written its
Apprise configuration (`<data_dir>/notifications.jsonl`). A configuration may also list it, e.g.
`yorisoisink://?file=/var/log/yorisoi/notifications.jsonl` tagged `always`, to keep a local copy
of everything sent. (Apprise schemas are letters and digits only, hence no hyphen.)

Apprise's `notify()` has no room for per-message metadata, so the notifier puts the recipient and
the idempotency key in a context variable for the duration of one delivery; Apprise calls a
single service in the calling thread, so the sink sees it.
"""

from __future__ import annotations

import contextvars
import datetime as dt
import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

import apprise

from notifications.plugins import load_apprise_plugins

load_apprise_plugins()  # before registering the sink, so Apprise's own plugins load quietly

SCHEMA = "yorisoisink"

_lock = threading.Lock()


@dataclass(frozen=True, slots=True)
class Delivery:
    recipient: str
    idempotency_key: str


_current: contextvars.ContextVar[Delivery | None] = contextvars.ContextVar("yorisoi_delivery", default=None)


@contextmanager
def delivering(recipient: str, idempotency_key: str) -> Iterator[None]:
    """Tell the sink which recipient and key the message being sent belongs to."""
    token = _current.set(Delivery(recipient, idempotency_key))
    try:
        yield
    finally:
        _current.reset(token)


def sink_url(path: Path) -> str:
    return f"{SCHEMA}://?file={quote(str(path), safe='')}"


# Apprise is untyped.
@apprise.decorators.notify(on=SCHEMA, name="yorisoi local sink (JSON lines)")  # type: ignore[untyped-decorator,no-untyped-call]
def _write(body: str, title: str, notify_type: str, meta: dict[str, Any], *args: Any, **kwargs: Any) -> bool:
    target = (meta.get("qsd") or {}).get("file")
    if not target:
        apprise.logger.warning("%s:// needs ?file=/path/to/notifications.jsonl", SCHEMA)
        return False
    delivery = _current.get()
    record = {
        "at": dt.datetime.now(dt.UTC).isoformat(),
        "recipient": delivery.recipient if delivery else None,
        "idempotency_key": delivery.idempotency_key if delivery else None,
        "type": notify_type,
        "title": title,
        "body": body,
    }
    path = Path(target)
    line = json.dumps(record, ensure_ascii=False) + "\n"
    with _lock:
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("a", encoding="utf-8") as handle:
            handle.write(line)
    return True


def read_sink(path: Path) -> list[dict[str, Any]]:
    """Every message the sink has written to `path` (none if the file does not exist yet)."""
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text("utf-8").splitlines() if line.strip()]
