"""Build what entry points need from settings: the engine and the lifecycle machine."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from sqlalchemy import Engine

from models.db import create_db_engine, migrate
from states import LifecycleMachine, load_lifecycle
from yorisoi.settings import Settings


@lru_cache(maxsize=4)
def machine_for(lifecycle_file: Path | None) -> LifecycleMachine:
    """The shared machine of a lifecycle file (the default one when `None`)."""
    from yorisoi.service.registry import RESERVED_NAMES

    return LifecycleMachine(load_lifecycle(lifecycle_file, reserved=RESERVED_NAMES))


def machine(settings: Settings) -> LifecycleMachine:
    return machine_for(settings.lifecycle.file)


def engine(settings: Settings, *, create: bool = False) -> Engine:
    """The database engine; `create=True` makes the data directory and migrates the schema."""
    url = settings.database_url()
    if url.startswith("sqlite") and create:
        settings.data_dir.mkdir(parents=True, exist_ok=True)
    db = create_db_engine(url)
    if create:
        migrate(db)
    return db
