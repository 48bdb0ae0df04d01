"""Send one rendered message to the Apprise services tagged with a recipient.

Recipients are Apprise tags: `staff:<login>` for one staff member, `role:<role>` for everyone
with a role. A municipality maps them to mail, Slack, Teams, LINE… in an Apprise YAML
configuration (see `example-apprise.yaml`); without one, messages go to the local sink.

Each matching service is notified on its own and reported by fingerprint, so when one of a
person's two services fails, the retry goes to that one only and the other does not get the
message twice. Where a service can carry it (json://, form://, xml://), the idempotency key
travels along — as an `Idempotency-Key` header, and for json:// also in the payload — so a
receiver can drop a message it has already seen.
"""

from __future__ import annotations

import hashlib
import logging
import re
import threading
from collections.abc import Collection
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import apprise

from notifications.sink import delivering, sink_url

RECIPIENT_TAG = re.compile(r"^(staff|role):[A-Za-z0-9_.@-]{1,150}$")
IDEMPOTENCY_HEADER = "Idempotency-Key"
_LOG_FORMAT = "%(thread)d|%(message)s"
_HEADER_SCHEMAS = frozenset({"json", "jsons", "form", "forms", "xml", "xmls"})
_PAYLOAD_SCHEMAS = frozenset({"json", "jsons"})


class NotificationConfigError(ValueError):
    """The Apprise configuration cannot be used (missing, unreadable, or no service in it)."""

    def __init__(self, ja: str, en: str) -> None:
        super().__init__(f"{ja} / {en}")
        self.ja = ja
        self.en = en


@dataclass(frozen=True, slots=True)
class DeliveryResult:
    """`delivered`: fingerprints of the services that got the message in this call.
    `permanent`: retrying cannot help (no service for the recipient) until someone fixes the
    configuration."""

    ok: bool
    error: str = ""
    delivered: tuple[str, ...] = ()
    permanent: bool = False


@dataclass(frozen=True, slots=True)
class Target:
    fingerprint: str
    service: str
    url: str  # with secrets masked


def service_url(service: apprise.NotifyBase, *, privacy: bool) -> str:
    """The service's Apprise URL; with `privacy`, passwords and tokens masked."""
    return str(service.url(privacy=privacy))  # type: ignore[no-untyped-call]


def fingerprint(service: apprise.NotifyBase) -> str:
    """A stable id of one configured service (its full URL, hashed; never stored in clear)."""
    return hashlib.sha256(service_url(service, privacy=False).encode()).hexdigest()[:16]


def _capture() -> Any:
    return apprise.LogCapture(level=logging.WARNING, fmt=_LOG_FORMAT)  # type: ignore[no-untyped-call]


def _own_log_lines(captured: str) -> list[str]:
    # LogCapture hears every thread; keep the lines this thread wrote.
    prefix = f"{threading.get_ident()}|"
    return [line[len(prefix) :] for line in captured.splitlines() if line.startswith(prefix)]


class Notifier:
    """A small wrapper around one `apprise.Apprise`; safe to share between threads."""

    def __init__(self, notifier: apprise.Apprise, *, source: str, warnings: tuple[str, ...] = ()) -> None:
        self._apprise = notifier
        self._lock = threading.Lock()
        self.source = source
        self.warnings = warnings

    @classmethod
    def from_config_file(cls, path: Path) -> Notifier:
        """Load a municipality's Apprise YAML; refuse one that yields no service at all."""
        try:
            text = path.read_text("utf-8")
        except OSError as exc:
            raise NotificationConfigError(
                f"通知先の設定ファイルを読めません: {path}（{exc.strerror}）",
                f"cannot read the Apprise configuration {path}: {exc.strerror}",
            ) from None
        config = apprise.AppriseConfig()
        with _capture() as log:
            added = config.add_config(text, format="yaml")
            services = config.servers() if added else []
        problems = tuple(_own_log_lines(log.getvalue()))
        if not services:
            detail = " ".join(problems) or "no URL entries"
            raise NotificationConfigError(
                f"通知先の設定ファイルに使える通知先がありません: {path}（{detail}）",
                f"the Apprise configuration {path} defines no usable service: {detail}",
            )
        notifier = apprise.Apprise()
        notifier.add(config)
        return cls(notifier, source=str(path), warnings=problems)

    @classmethod
    def local_sink(cls, path: Path) -> Notifier:
        """Every recipient's messages go to one JSON-lines file."""
        notifier = apprise.Apprise()
        if not notifier.add(sink_url(path), tag=apprise.common.MATCH_ALWAYS_TAG):
            raise NotificationConfigError(
                f"ローカルの通知ファイルを設定できません: {path}", f"cannot set up the local sink at {path}"
            )
        return cls(notifier, source=str(path))

    def targets(self, recipient_tag: str) -> list[Target]:
        """The services a message to `recipient_tag` would reach (secrets masked)."""
        return [
            Target(fingerprint(s), str(s.service_name or type(s).__name__), service_url(s, privacy=True))
            for s in self._services(recipient_tag)
        ]

    def _services(self, recipient_tag: str) -> list[apprise.NotifyBase]:
        with self._lock:  # the configuration is parsed on first use
            return list(self._apprise.find(tag=recipient_tag, match_always=True))

    def send(
        self,
        recipient_tag: str,
        title: str,
        body: str,
        idempotency_key: str,
        *,
        skip: Collection[str] = (),
    ) -> DeliveryResult:
        """Deliver to every service tagged `recipient_tag` except those in `skip` (fingerprints)."""
        if not RECIPIENT_TAG.match(recipient_tag):
            return DeliveryResult(
                False,
                f"宛先の形式が正しくありません: {recipient_tag!r} / "
                f"recipient must be staff:<login> or role:<role>: {recipient_tag!r}",
                permanent=True,
            )
        services = self._services(recipient_tag)
        if not services:
            return DeliveryResult(
                False,
                f"通知先の設定に {recipient_tag} の宛先がありません / "
                f"no service in {self.source} is tagged {recipient_tag}",
                permanent=True,
            )
        delivered: list[str] = []
        errors: list[str] = []
        for service in services:
            mark = fingerprint(service)
            if mark in skip:
                continue
            ok, error = self._send_one(service, recipient_tag, title, body, idempotency_key)
            if ok:
                delivered.append(mark)
            else:
                errors.append(f"{service_url(service, privacy=True)}: {error or '失敗 / failed'}")
        return DeliveryResult(not errors, "; ".join(errors), tuple(delivered))

    def _send_one(
        self, service: apprise.NotifyBase, recipient: str, title: str, body: str, key: str
    ) -> tuple[bool, str]:
        one = apprise.Apprise()
        with _capture() as log:
            try:
                one.add(_with_idempotency_key(service, key))
                with delivering(recipient, key):
                    ok = bool(one.notify(body=body, title=title, body_format=apprise.NotifyFormat.TEXT))
            except Exception as exc:  # a plugin bug must not stop the other messages
                ok = False
                apprise.logger.warning("%s: %s", type(exc).__name__, exc)
        return ok, " ".join(_own_log_lines(log.getvalue()))


def _with_idempotency_key(service: apprise.NotifyBase, key: str) -> apprise.NotifyBase:
    """The same service with the key attached where its protocol can carry it."""
    url = service_url(service, privacy=False)
    schema = url.partition("://")[0].lower()
    if schema not in _HEADER_SCHEMAS:
        return service
    extra = {f"+{IDEMPOTENCY_HEADER}": key}
    if schema in _PAYLOAD_SCHEMAS:
        extra[":idempotency_key"] = key
    keyed = apprise.Apprise.instantiate(f"{url}{'&' if '?' in url else '?'}{urlencode(extra)}")
    return keyed if keyed is not None else service


def build_notifier(apprise_config: Path | None, sink_file: Path) -> Notifier:
    """The municipality's Apprise configuration, or the local sink when there is none."""
    if apprise_config is None:
        return Notifier.local_sink(sink_file)
    return Notifier.from_config_file(apprise_config)
