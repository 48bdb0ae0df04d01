"""An HTTP receiver on 127.0.0.1 for Apprise's json:// to deliver to, started by the test.

It records every accepted POST (path, idempotency key, JSON payload) and can be told to answer
500 to the next N requests on a path, like a service that is briefly down, or to take
`delay_seconds` before answering, like a slow one (the request is recorded when it arrives).
"""

from __future__ import annotations

import json
import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest


@dataclass(frozen=True)
class Received:
    path: str
    idempotency_key: str | None
    payload: dict[str, Any]

    @property
    def title(self) -> str:
        return str(self.payload.get("title", ""))

    @property
    def message(self) -> str:
        return str(self.payload.get("message", ""))


class Receiver:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._failures: dict[str, int] = {}
        self.received: list[Received] = []
        self.refused: Counter[str] = Counter()
        self.port = 0
        self.delay_seconds = 0.0

    def url(self, path: str) -> str:
        return f"json://127.0.0.1:{self.port}/{path}"

    def fail_next(self, path: str, times: int) -> None:
        with self._lock:
            self._failures[path] = times

    def at(self, path: str) -> list[Received]:
        with self._lock:
            return [r for r in self.received if r.path == path]

    def keys(self, path: str | None = None) -> list[str | None]:
        with self._lock:
            return [r.idempotency_key for r in self.received if path is None or r.path == path]

    def handle(self, path: str, key: str | None, body: bytes) -> int:
        with self._lock:
            if self._failures.get(path, 0) > 0:
                self._failures[path] -= 1
                self.refused[path] += 1
                return 500
            self.received.append(Received(path, key, json.loads(body)))
            delay = self.delay_seconds
        if delay:
            time.sleep(delay)
        return 200

    def duplicates(self) -> dict[tuple[str, str | None], int]:
        """(path, idempotency key) received more than once, with how often."""
        with self._lock:
            counts = Counter((r.path, r.idempotency_key) for r in self.received)
        return {key: n for key, n in counts.items() if n > 1}


def _handler(receiver: Receiver) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 - http.server's naming
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            status = receiver.handle(self.path.strip("/"), self.headers.get("Idempotency-Key"), body)
            self.send_response(status)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: Any) -> None:
            pass

    return Handler


@contextmanager
def running_receiver() -> Iterator[Receiver]:
    receiver = Receiver()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(receiver))
    server.daemon_threads = True
    receiver.port = server.server_address[1]
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield receiver
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


@pytest.fixture(name="receiver")
def receiver_fixture() -> Iterator[Receiver]:
    with running_receiver() as receiver:
        yield receiver


def apprise_yaml(receiver: Receiver, people: dict[str, list[str]]) -> str:
    """An Apprise YAML config: one json:// service per login, tagged staff:<login> and its roles."""
    lines = ["version: 1", "urls:"]
    for login, roles in people.items():
        tags = ", ".join([f"staff:{login}", *(f"role:{r}" for r in roles)])
        lines += [f"  - {receiver.url(login)}:", f"      - tag: {tags}"]
    return "\n".join(lines) + "\n"
