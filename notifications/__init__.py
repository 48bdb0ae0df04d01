"""Reminders through Apprise: Japanese templates, recipients as Apprise tags, a local sink.

Knows Apprise and nothing else of yorisoi: no database, no case service, no Prefect.
"""

from notifications.notifier import (
    DeliveryResult,
    NotificationConfigError,
    Notifier,
    Target,
    build_notifier,
)
from notifications.sink import read_sink
from notifications.templates import ALLOWED_FIELDS, RenderedMessage, TemplateError, render

__all__ = [
    "ALLOWED_FIELDS",
    "DeliveryResult",
    "NotificationConfigError",
    "Notifier",
    "RenderedMessage",
    "Target",
    "TemplateError",
    "build_notifier",
    "read_sink",
    "render",
]
