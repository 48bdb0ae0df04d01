"""Where `yorisoi login` keeps its tokens: one JSON file in the user's config directory, mode 0600.

One entry per database (its URL without a password), so signing in to the demo database
leaves the sign-in to the real one alone. The file holds bearer tokens: it is created
owner-only (0600, in a 0700 directory) and rewritten atomically; a token is only valid while its
server-side session is (`yorisoi logout`, a password change or a deactivation end it).
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any


def load(path: Path, database: str) -> dict[str, Any] | None:
    """The saved sign-in for `database`, or None."""
    try:
        entries = json.loads(path.read_text("utf-8"))
    except (OSError, ValueError):
        return None
    entry = entries.get(database) if isinstance(entries, dict) else None
    return entry if isinstance(entry, dict) and isinstance(entry.get("token"), str) else None


def _write(path: Path, entries: dict[str, Any]) -> None:
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{os.getpid()}")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        json.dump(entries, handle, ensure_ascii=False, indent=2)
    os.chmod(temporary, 0o600)  # whatever the umask said
    os.replace(temporary, path)


def _entries(path: Path) -> dict[str, Any]:
    try:
        found = json.loads(path.read_text("utf-8"))
    except (OSError, ValueError):
        return {}
    return found if isinstance(found, dict) else {}


def save(path: Path, database: str, entry: dict[str, Any]) -> None:
    _write(path, {**_entries(path), database: entry})


def forget(path: Path, database: str) -> dict[str, Any] | None:
    """Drop the sign-in for `database`; the entry it had, if any."""
    entries = _entries(path)
    dropped = entries.pop(database, None)
    if dropped is not None:
        _write(path, entries)
    return dropped if isinstance(dropped, dict) else None
