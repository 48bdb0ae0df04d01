"""Real Apprise delivering over HTTP to a receiver on 127.0.0.1, and to the local JSONL sink."""

from __future__ import annotations

from pathlib import Path

import apprise
import pytest

from notifications import NotificationConfigError, Notifier, build_notifier, read_sink
from tests.notifications.receiver import Receiver, apprise_yaml, receiver_fixture  # noqa: F401

PEOPLE = {"tanaka": ["coordinator"], "sato": ["supervisor"], "suzuki": ["supervisor", "coordinator"]}
EXAMPLE = Path(__file__).parents[2] / "notifications" / "example-apprise.yaml"


@pytest.fixture(name="notifier")
def notifier_fixture(receiver: Receiver, tmp_path: Path) -> Notifier:
    config = tmp_path / "apprise.yaml"
    config.write_text(apprise_yaml(receiver, PEOPLE), "utf-8")
    return Notifier.from_config_file(config)


def test_send_to_staff_reaches_only_that_person(notifier: Notifier, receiver: Receiver) -> None:
    result = notifier.send("staff:tanaka", "件名", "本文", "key-1")

    assert result.ok, result.error
    assert [(r.path, r.title, r.message) for r in receiver.received] == [("tanaka", "件名", "本文")]
    assert len(result.delivered) == 1


def test_send_to_role_reaches_everyone_with_it(notifier: Notifier, receiver: Receiver) -> None:
    result = notifier.send("role:supervisor", "件名", "本文", "key-2")

    assert result.ok, result.error
    assert sorted(r.path for r in receiver.received) == ["sato", "suzuki"]
    assert len(set(result.delivered)) == 2


def test_idempotency_key_travels_as_header_and_in_payload(notifier: Notifier, receiver: Receiver) -> None:
    notifier.send("staff:sato", "件名", "本文", "reminder.monitoring_due:7:2025-06-02:staff:sato")

    [got] = receiver.received
    assert got.idempotency_key == "reminder.monitoring_due:7:2025-06-02:staff:sato"
    assert got.payload["idempotency_key"] == "reminder.monitoring_due:7:2025-06-02:staff:sato"


def test_failed_service_reports_apprise_error(notifier: Notifier, receiver: Receiver) -> None:
    receiver.fail_next("tanaka", 1)

    result = notifier.send("staff:tanaka", "件名", "本文", "key-3")

    assert not result.ok and not result.permanent
    assert "error=500" in result.error
    assert result.delivered == ()


def test_partial_failure_keeps_what_was_delivered(notifier: Notifier, receiver: Receiver) -> None:
    receiver.fail_next("sato", 1)

    first = notifier.send("role:supervisor", "件名", "本文", "key-4")
    second = notifier.send("role:supervisor", "件名", "本文", "key-4", skip=first.delivered)

    assert not first.ok and second.ok
    assert sorted(r.path for r in receiver.received) == ["sato", "suzuki"]  # suzuki once only
    assert len(first.delivered) == len(second.delivered) == 1


def test_unknown_recipient_fails_permanently(notifier: Notifier, receiver: Receiver) -> None:
    result = notifier.send("staff:nobody", "件名", "本文", "key-5")

    assert not result.ok and result.permanent
    assert "staff:nobody" in result.error
    assert receiver.received == []


def test_malformed_recipient_refused(notifier: Notifier) -> None:
    result = notifier.send("staff:tanaka, role:supervisor", "件名", "本文", "key-6")

    assert result.permanent and "staff:<login>" in result.error


def test_targets_lists_services_for_a_role(notifier: Notifier) -> None:
    targets = notifier.targets("role:coordinator")

    assert len(targets) == 2
    assert all(t.url.startswith("json://127.0.0.1:") for t in targets)


def test_local_sink_receives_messages_without_configuration(tmp_path: Path) -> None:
    sink = tmp_path / "data" / "notifications.jsonl"
    notifier = build_notifier(None, sink)

    first = notifier.send("staff:tanaka", "件名1", "本文1", "key-a")
    second = notifier.send("role:supervisor", "件名2", "本文2", "key-b")

    assert first.ok and second.ok
    lines = read_sink(sink)
    assert [(x["recipient"], x["idempotency_key"], x["title"], x["body"]) for x in lines] == [
        ("staff:tanaka", "key-a", "件名1", "本文1"),
        ("role:supervisor", "key-b", "件名2", "本文2"),
    ]


def test_missing_config_file_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(NotificationConfigError, match="cannot read"):
        build_notifier(tmp_path / "absent.yaml", tmp_path / "sink.jsonl")


def test_config_without_services_is_refused(tmp_path: Path) -> None:
    config = tmp_path / "apprise.yaml"
    config.write_text("version: 1\nurls:\n  - notascheme://nothing\n", "utf-8")

    with pytest.raises(NotificationConfigError, match="no usable service"):
        Notifier.from_config_file(config)


def test_example_config_maps_staff_and_roles_to_services() -> None:
    config = apprise.AppriseConfig()
    assert config.add_config(EXAMPLE.read_text("utf-8"), format="yaml")
    notifier = apprise.Apprise()
    notifier.add(config)

    schemas = {s.url().partition("://")[0] for s in notifier.find(tag="role:supervisor")}
    assert {s.url().partition("://")[0] for s in notifier.find(tag="staff:tanaka")} == {"mailtos"}
    assert schemas >= {"slack", "workflow"}  # workflows:// prints itself as workflow://
    assert any(s.url().startswith("line://") for s in notifier.find(tag="staff:kato"))
