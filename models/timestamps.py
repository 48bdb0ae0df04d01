"""Time helpers for the storage layer: store UTC, show Asia/Tokyo."""

from __future__ import annotations

import datetime as dt


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)
